// The shape of a receipt's text: its keys and what lies between them, the values replaced by `{field}`, so that
// receipts of one SMSC read alike whatever their ids, dates and states, and a simulator can write them again.

/// Receipt texts as templates.
public enum ReceiptTemplate {
    /// The keys a receipt text may hold, longest spellings first; the placeholder names them with `_` for spaces.
    static let keys = [
        "submit date", "submit_date", "submitdate", "done date", "done_date", "donedate", "dlvrd", "stat", "text",
        "imsi", "rnet", "sub", "err", "msc", "mcc", "mnc", "rcn", "net", "cn", "id",
    ]

    /// The placeholder of a key spelling: `submit date` → `submit_date`.
    static func field(_ key: String) -> String {
        switch key {
        case "submit date", "submitdate": "submit_date"
        case "done date", "donedate": "done_date"
        default: key
        }
    }

    /// `id:123 sub:001 ... text:Hello` → `id:{id} sub:{sub} ... text:{text}`; a text without keys stays as it is.
    public static func of(_ text: String) -> String {
        let characters = Array(text)
        let lower = characters.map { Character($0.lowercased()) }
        var matches: [(start: Int, valueStart: Int, field: String)] = []
        var index = 0
        while index < lower.count {
            if index == 0 || lower[index - 1] == " " {
                for key in keys {
                    let keyCharacters = Array(key)
                    let end = index + keyCharacters.count
                    if end < lower.count, lower[end] == ":", Array(lower[index..<end]) == keyCharacters {
                        matches.append((index, end + 1, field(key)))
                        index = end
                        break
                    }
                }
            }
            if matches.last?.field == "text" { break }
            index += 1
        }
        guard !matches.isEmpty else { return text }
        var template = String(characters[0..<matches[0].start])
        for (position, match) in matches.enumerated() {
            template += String(characters[match.start..<match.valueStart]) + "{\(match.field)}"
            if match.field == "text" { break }
            let valueEnd = position + 1 < matches.count ? matches[position + 1].start : characters.count
            // What separates the value from the next key: the spaces at its end.
            var separator = valueEnd
            while separator > match.valueStart, characters[separator - 1] == " " { separator -= 1 }
            template += String(characters[separator..<valueEnd])
        }
        return template
    }

    /// Fills a template's placeholders; those not given are left empty.
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            result += rest[rest.startIndex..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                result += rest[open...]
                return result
            }
            let name = String(rest[rest.index(after: open)..<close])
            result += values[name] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}

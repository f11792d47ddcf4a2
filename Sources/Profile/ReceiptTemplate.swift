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

    /// The keys as lower-case bytes, with their placeholders.
    static let keyBytes: [(bytes: [UInt8], field: String)] = keys.map { (Array($0.utf8), field($0)) }

    /// `id:123 sub:001 ... text:Hello` → `id:{id} sub:{sub} ... text:{text}`; a text without keys stays as it is.
    /// Keys are ASCII: they are found on the bytes, in any case, at the start or after a space.
    public static func of(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var matches: [(start: Int, valueStart: Int, field: String)] = []
        var index = 0
        scan: while index < bytes.count {
            if index == 0 || bytes[index - 1] == UInt8(ascii: " ") {
                for (key, field) in keyBytes {
                    let end = index + key.count
                    guard end < bytes.count, bytes[end] == UInt8(ascii: ":") else { continue }
                    var same = true
                    for offset in 0..<key.count where Self.lower(bytes[index + offset]) != key[offset] {
                        same = false
                        break
                    }
                    guard same else { continue }
                    matches.append((index, end + 1, field))
                    if field == "text" { break scan }
                    index = end
                    break
                }
            }
            index += 1
        }
        guard let first = matches.first else { return text }
        var template = Array(bytes[0..<first.start])
        for (position, match) in matches.enumerated() {
            template += bytes[match.start..<match.valueStart]
            template += Array("{\(match.field)}".utf8)
            if match.field == "text" { break }
            let valueEnd = position + 1 < matches.count ? matches[position + 1].start : bytes.count
            // What separates the value from the next key: the spaces at its end.
            var separator = valueEnd
            while separator > match.valueStart, bytes[separator - 1] == UInt8(ascii: " ") { separator -= 1 }
            template += bytes[separator..<valueEnd]
        }
        return String(decoding: template, as: UTF8.self)
    }

    /// An ASCII letter in lower case; other bytes as they are.
    static func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
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

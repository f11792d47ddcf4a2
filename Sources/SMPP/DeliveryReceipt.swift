// Delivery receipts: the TLVs (receipted_message_id, message_state, network_error_code) and the text
// "id: sub: dlvrd: submit date: done date: stat: err: text:", read leniently, with SMSC.kz's HLR fields.

/// A delivery receipt, from a deliver_sm or data_sm.
public struct DeliveryReceipt: Hashable, Sendable {
    public var id: String?
    public var sub: String?
    public var dlvrd: String?
    public var submitDate: String?
    public var doneDate: String?
    public var stat: String?
    public var err: String?
    public var text: String?
    /// HLR fields of SMSC.kz (imsi, msc, mcc, mnc, cn, net, rcn, rnet), URL-decoded, in the order found.
    public var hlr: [(key: String, value: String)]

    /// receipted_message_id TLV.
    public var receiptedMessageID: String?
    /// message_state TLV.
    public var messageState: UInt8?
    /// network_error_code TLV.
    public var networkErrorCode: (networkType: UInt8, errorCode: UInt16)?

    public init() {
        hlr = []
    }

    /// The id of the message this receipt is about: the TLV first, then the text.
    public var messageID: String? { receiptedMessageID ?? id }

    /// The final state: the text's stat, else the name of message_state.
    public var state: String? {
        if let stat, !stat.isEmpty { return stat.uppercased() }
        if let messageState { return DeliveryReceipt.stateName(messageState) }
        return nil
    }

    /// The text's short name for a message_state value (`DELIVRD` for 2).
    public static func stateName(_ state: UInt8) -> String {
        switch state {
        case 0: return "SCHEDULED"
        case 1: return "ENROUTE"
        case 2: return "DELIVRD"
        case 3: return "EXPIRED"
        case 4: return "DELETED"
        case 5: return "UNDELIV"
        case 6: return "ACCEPTD"
        case 7: return "UNKNOWN"
        case 8: return "REJECTD"
        case 9: return "SKIPPED"
        default: return "STATE_\(state)"
        }
    }

    /// True for states after which nothing more will happen to the message.
    public var isFinal: Bool {
        switch state {
        case "ENROUTE", "ACCEPTD", "SCHEDULED", nil: return false
        default: return true
        }
    }

    /// The field a key fills.
    private enum Field {
        case id, sub, dlvrd, submitDate, doneDate, stat, err, text
        case imsi, msc, mcc, mnc, rnet, rcn, net, cn

        /// The key of an HLR field, as the receipt's ``hlr`` list names it; nil for the others.
        var hlrName: String? {
            switch self {
            case .imsi: return "imsi"
            case .msc: return "msc"
            case .mcc: return "mcc"
            case .mnc: return "mnc"
            case .rnet: return "rnet"
            case .rcn: return "rcn"
            case .net: return "net"
            case .cn: return "cn"
            default: return nil
            }
        }
    }

    /// Keys (lowercase) and the field they fill, longest spellings first so "submit date" wins over a bare "date".
    private static let keys: [(spelling: StaticString, field: Field)] = [
        ("submit date", .submitDate), ("submit_date", .submitDate), ("submitdate", .submitDate),
        ("done date", .doneDate), ("done_date", .doneDate), ("donedate", .doneDate),
        ("dlvrd", .dlvrd), ("stat", .stat), ("text", .text), ("sub", .sub), ("err", .err), ("id", .id),
        ("imsi", .imsi), ("msc", .msc), ("mcc", .mcc), ("mnc", .mnc), ("rnet", .rnet), ("rcn", .rcn),
        ("net", .net), ("cn", .cn),
    ]

    /// Bit n set when some key starts with the byte 0x60 + n (all keys start with a lowercase letter).
    private static let keyInitials: UInt32 = keys.reduce(0) { $0 | 1 << UInt32($1.spelling.utf8Start[0] - 0x60) }

    /// Reads the receipt text. Keys in any order and case, missing ones allowed, `text:` running to the end.
    /// Nil when the text has neither `id:` nor `stat:`.
    public static func parse(text: String) -> DeliveryReceipt? {
        var text = text
        return text.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0)) }
    }

    private static func parse(utf8 bytes: UnsafeRawBufferPointer) -> DeliveryReceipt? {
        var receipt = DeliveryReceipt()
        var hasIDOrStat = false
        // The key whose value runs until the next key (or the end).
        var open: (valueStart: Int, field: Field)?

        func close(at end: Int) {
            guard let (valueStart, field) = open else { return }
            var start = valueStart
            var stop = max(valueStart, end)
            if field != .text {
                while start < stop, isASCIISpace(bytes[start]) { start += 1 }
                while stop > start, isASCIISpace(bytes[stop - 1]) { stop -= 1 }
            }
            var value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<stop]), as: UTF8.self)
            // Other (Unicode) spaces are rare: trim them the slow way.
            if field != .text, start < stop, bytes[start] >= 0x80 || bytes[stop - 1] >= 0x80 {
                value = value.trimmingSpaces()
            }
            switch field {
            case .id: receipt.id = receipt.id ?? value
            case .sub: receipt.sub = value
            case .dlvrd: receipt.dlvrd = value
            case .submitDate: receipt.submitDate = value
            case .doneDate: receipt.doneDate = value
            case .stat: receipt.stat = value
            case .err: receipt.err = value
            case .text: receipt.text = value
            default: receipt.hlr.append((field.hlrName ?? "", percentDecoded(value)))
            }
        }

        // Find every "key:" that starts the text or follows whitespace.
        let keys = Self.keys
        let keyInitials = Self.keyInitials
        var index = 0
        var atWordStart = true
        scan: while index < bytes.count {
            let byte = bytes[index]
            if atWordStart {
                let initial = lowercased(byte)
                if initial > 0x60, initial < 0x80, keyInitials & 1 << UInt32(initial - 0x60) != 0 {
                    for key in keys
                    where key.spelling.utf8Start[0] == initial && matches(bytes, at: index, key.spelling) {
                        close(at: index)
                        let colon = index + key.spelling.utf8CodeUnitCount
                        open = (colon + 1, key.field)
                        if key.field == .id || key.field == .stat { hasIDOrStat = true }
                        if key.field == .text { break scan }
                        // The byte before the next one is the colon: not a word start.
                        index = colon + 1
                        atWordStart = false
                        continue scan
                    }
                }
            }
            atWordStart = isSpace(byte)
            index += 1
        }
        guard hasIDOrStat else { return nil }
        close(at: bytes.count)
        return receipt
    }

    @inline(__always)
    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// True when `key` (lowercase) and a colon are at `index`, in any case.
    private static func matches(_ bytes: UnsafeRawBufferPointer, at index: Int, _ key: StaticString) -> Bool {
        let length = key.utf8CodeUnitCount
        let colon = index + length
        guard colon < bytes.count, bytes[colon] == UInt8(ascii: ":") else { return false }
        for offset in 0..<length where lowercased(bytes[index + offset]) != key.utf8Start[offset] { return false }
        return true
    }

    private static func isASCIISpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Seconds since the epoch of a receipt date, `YYMMDDhhmm` or `YYMMDDhhmmss`, read as UTC.
    public static func epochSeconds(ofDate date: String) -> Int? {
        var date = date
        return date.withUTF8 { epochSeconds(ofDate: UnsafeRawBufferPointer($0)) }
    }

    /// The submit and done dates of a receipt's text (``ReceiptDates``), found without reading the rest: every
    /// `date:` is looked at, the word before it says which. Nil fields for dates missing or not `YYMMDDhhmm[ss]`.
    @_spi(Lent) public static func dates(in text: UnsafeRawBufferPointer) -> ReceiptDates {
        var dates = ReceiptDates()
        guard text.count >= 15 else { return dates }
        var index = 4
        while index < text.count {
            // "date:" ends at a colon: look at colons only, eight bytes at a time past those without one.
            if index + 8 <= text.count {
                let word = text.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ 0x3A3A_3A3A_3A3A_3A3A
                if (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            guard text[index] == UInt8(ascii: ":") else {
                index += 1
                continue
            }
            defer { index += 1 }
            guard lowercased(text[index - 1]) == 0x65, lowercased(text[index - 2]) == 0x74,
                lowercased(text[index - 3]) == 0x61, lowercased(text[index - 4]) == 0x64, index >= 6,
                isSpace(text[index - 5]) || text[index - 5] == UInt8(ascii: "_")
            else { continue }
            // "submit date:" or "done date:": the letter before the space tells them apart.
            let before = lowercased(text[index - 6])
            guard before == 0x74 || before == 0x65 else { continue }
            var end = index + 1
            while end < text.count, end - index <= 12, (0x30...0x39).contains(text[end]) { end += 1 }
            if end < text.count, (0x30...0x39).contains(text[end]) { continue }
            let digits = UnsafeRawBufferPointer(rebasing: text[(index + 1)..<end])
            guard let seconds = epochSeconds(ofDate: digits) else { continue }
            if before == 0x74 {
                dates.submit = Int64(seconds)
            } else {
                dates.done = Int64(seconds)
                dates.doneResolution = digits.count == 12 ? 1 : 60
            }
        }
        return dates
    }

    /// Seconds since the epoch of a receipt date's digits, `YYMMDDhhmm` or `YYMMDDhhmmss`, read as UTC.
    @_spi(Lent) public static func epochSeconds(ofDate digits: UnsafeRawBufferPointer) -> Int? {
        guard digits.count == 10 || digits.count == 12,
            digits.allSatisfy({ (0x30...0x39).contains($0) })
        else { return nil }
        func pair(_ i: Int) -> Int { Int(digits[i] &- 0x30) * 10 + Int(digits[i + 1] &- 0x30) }
        let month = pair(2)
        let day = pair(4)
        let hour = pair(6)
        let minute = pair(8)
        let second = digits.count == 12 ? pair(10) : 0
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        return daysFromCivil(year: 2000 + pair(0), month: month, day: day) * 86_400 + hour * 3_600 + minute * 60
            + second
    }

    /// Decodes %XX escapes and '+' as space, as SMSC.kz encodes HLR strings.
    static func percentDecoded(_ value: String) -> String {
        guard value.contains("%") || value.contains("+") else { return value }
        var bytes: [UInt8] = []
        let source = Array(value.utf8)
        var index = 0
        while index < source.count {
            let byte = source[index]
            if byte == UInt8(ascii: "%"), index + 2 < source.count,
                let high = hexValue(source[index + 1]), let low = hexValue(source[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
                continue
            }
            bytes.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    public static func == (lhs: DeliveryReceipt, rhs: DeliveryReceipt) -> Bool {
        lhs.id == rhs.id && lhs.sub == rhs.sub && lhs.dlvrd == rhs.dlvrd && lhs.submitDate == rhs.submitDate
            && lhs.doneDate == rhs.doneDate && lhs.stat == rhs.stat && lhs.err == rhs.err && lhs.text == rhs.text
            && lhs.hlr.elementsEqual(rhs.hlr, by: { $0 == $1 }) && lhs.receiptedMessageID == rhs.receiptedMessageID
            && lhs.messageState == rhs.messageState
            && lhs.networkErrorCode?.networkType == rhs.networkErrorCode?.networkType
            && lhs.networkErrorCode?.errorCode == rhs.networkErrorCode?.errorCode
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(messageID)
        hasher.combine(stat)
    }
}

extension String {
    /// The text before and after the first occurrence of `separator`, or nil when it does not occur.
    func splitOnce(_ separator: String) -> (String, String)? {
        let haystack = Array(utf8)
        let needle = Array(separator.utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return (
                String(decoding: haystack[..<start], as: UTF8.self),
                String(decoding: haystack[(start + needle.count)...], as: UTF8.self)
            )
        }
        return nil
    }

    /// The string without leading and trailing spaces, tabs and line breaks.
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

/// The dates a receipt's text gives, in seconds since the epoch read as UTC (an SMSC may write its local time).
public struct ReceiptDates: Hashable, Sendable {
    /// `submit date:`: when the SMSC took the message.
    public var submit: Int64?
    /// `done date:`: when it reached its final state.
    public var done: Int64?
    /// Seconds one step of the done date stands for: 60 for `YYMMDDhhmm`, 1 for `YYMMDDhhmmss`.
    public var doneResolution: Int64 = 60

    public init(submit: Int64? = nil, done: Int64? = nil, doneResolution: Int64 = 60) {
        self.submit = submit
        self.done = done
        self.doneResolution = doneResolution
    }

    /// Seconds of 2000-01-01 since 1970: the dates are kept in one word as seconds from it (receipt years are
    /// two digits, 20YY).
    private static let epoch2000: Int64 = 946_684_800

    /// The dates in one word: the done date's seconds from 2000 plus one in bits 0-31 (0 for none), the submit
    /// date's in bits 32-62, bit 63 set for a done date with seconds.
    public var word: UInt64 {
        func field(_ seconds: Int64?, _ bits: Int64) -> UInt64 {
            guard let seconds, seconds >= Self.epoch2000, seconds - Self.epoch2000 + 1 < 1 << bits else { return 0 }
            return UInt64(seconds - Self.epoch2000 + 1)
        }
        return field(done, 32) | field(submit, 31) << 32 | (doneResolution == 1 ? 1 << 63 : 0)
    }

    /// The dates of a word made by ``word``.
    public init(word: UInt64) {
        let done = Int64(word & 0xFFFF_FFFF)
        let submit = Int64(word >> 32 & 0x7FFF_FFFF)
        self.done = done == 0 ? nil : done - 1 + Self.epoch2000
        self.submit = submit == 0 ? nil : submit - 1 + Self.epoch2000
        doneResolution = word >> 63 == 1 ? 1 : 60
    }
}

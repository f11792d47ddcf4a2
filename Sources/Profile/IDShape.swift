// How message ids look: digits or hex, letter case, width, zero padding, whether they count up.

import SMPP

struct IDShape {
    var count = 0
    var examples: [String] = []
    var minLength = Int.max
    var maxLength = 0
    var allDigits = true
    var allHex = true
    var anyHexLetter = false
    var allUUID = true
    var hasUpper = false
    var hasLower = false
    var leadingZero = false
    var previous: String?
    var pairs = 0
    var decimalSteps = 0
    var hexSteps = 0

    mutating func add(_ id: String) {
        count += 1
        if examples.count < 3 { examples.append(id) }
        let length = id.utf8.count
        minLength = min(minLength, length)
        maxLength = max(maxLength, length)
        var digits = true
        var hex = true
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): break
            case UInt8(ascii: "a")...UInt8(ascii: "f"):
                digits = false
                anyHexLetter = true
                hasLower = true
            case UInt8(ascii: "A")...UInt8(ascii: "F"):
                digits = false
                anyHexLetter = true
                hasUpper = true
            case UInt8(ascii: "g")...UInt8(ascii: "z"):
                digits = false
                hex = false
                hasLower = true
            case UInt8(ascii: "G")...UInt8(ascii: "Z"):
                digits = false
                hex = false
                hasUpper = true
            default:
                digits = false
                hex = false
            }
        }
        allDigits = allDigits && digits
        allHex = allHex && hex
        allUUID = allUUID && Self.looksLikeUUID(id)
        if length > 1, id.utf8.first == UInt8(ascii: "0") { leadingZero = true }
        if let previous {
            pairs += 1
            if let a = MessageID.decimalValue(previous), let b = MessageID.decimalValue(id), b == a &+ 1 {
                decimalSteps += 1
            }
            if let a = MessageID.hexValue(previous), let b = MessageID.hexValue(id), b == a &+ 1 { hexSteps += 1 }
        }
        previous = id
    }

    static func looksLikeUUID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                if byte != UInt8(ascii: "-") { return false }
            } else if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                && !(UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
            {
                return false
            }
        }
        return true
    }

    var format: String {
        if count == 0 { return "none" }
        if allDigits { return "decimal" }
        if allUUID { return "uuid" }
        if allHex { return "hex" }
        return "alphanumeric"
    }

    var summary: ProviderProfile.MessageIDs {
        let format = format
        let letterCase = hasUpper && hasLower ? "mixed" : hasUpper ? "upper" : hasLower ? "lower" : "none"
        let steps = format == "hex" ? hexSteps : decimalSteps
        return .init(
            seen: count, format: format, letterCase: letterCase, minLength: count == 0 ? 0 : minLength,
            maxLength: maxLength, zeroPadded: leadingZero && minLength == maxLength,
            sequentialShare: SMSCState.share(steps, of: pairs), examples: examples)
    }
}

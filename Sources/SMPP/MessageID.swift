// Message ids as SMSCs write them: the same id may come as hex in submit_sm_resp and as decimal in the receipt,
// with or without leading zeros.

/// Forms of a message id for linking receipts to submits.
public enum MessageID {
    /// The id trimmed, upper-cased, without leading zeros ("00a1f" -> "A1F").
    public static func canonical(_ id: String) -> String {
        let trimmed = id.trimmingSpaces().uppercased()
        let stripped = trimmed.drop { $0 == "0" }
        return stripped.isEmpty && !trimmed.isEmpty ? "0" : String(stripped)
    }

    /// The id read as a decimal number, when it is all decimal digits (and fits 64 bits).
    public static func decimalValue(_ id: String) -> UInt64? {
        let trimmed = id.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt64(trimmed)
    }

    /// The id read as a hexadecimal number, when it is all hex digits (and fits 64 bits).
    public static func hexValue(_ id: String) -> UInt64? {
        let trimmed = id.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.utf8.count <= 16 else { return nil }
        return UInt64(trimmed, radix: 16)
    }

    /// True when two ids name the same message in any of the forms SMSCs use: equal as text (case and leading
    /// zeros aside), equal as decimal numbers, or one the hex form of the other's decimal.
    public static func equivalent(_ a: String, _ b: String) -> Bool {
        if canonical(a) == canonical(b) { return true }
        if let x = decimalValue(a), let y = hexValue(b), x == y { return true }
        if let x = hexValue(a), let y = decimalValue(b), x == y { return true }
        return false
    }
}

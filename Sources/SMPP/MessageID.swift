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

extension MessageID {
    /// A compact key for linking ids: the number itself for a decimal id (leading zeros aside), else a 64-bit
    /// FNV-1a hash of the id upper-cased without leading zeros, with the high bit set. Stable across runs.
    public static func linkKey(_ id: String) -> UInt64 {
        var id = id
        return id.withUTF8 { linkKey(UnsafeRawBufferPointer($0)) }
    }

    /// ``linkKey(_:)-(String)`` of an id's bytes.
    @_spi(Lent) public static func linkKey(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 { end -= 1 }
        while start < end - 1, bytes[start] == 0x30 { start += 1 }
        var value: UInt64 = 0
        var decimal = end - start <= 18 && end > start
        if decimal {
            for index in start..<end {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else {
                    decimal = false
                    break
                }
                value = value * 10 + UInt64(byte - 0x30)
            }
        }
        if decimal { return value }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in start..<end {
            var byte = bytes[index]
            if byte >= 0x61, byte <= 0x7A { byte -= 0x20 }
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash | (1 << 63)
    }

    /// ``linkKey(_:)-(UnsafeRawBufferPointer)`` and how the id is written, in one pass over its bytes: the shape
    /// has the id's length (capped at 255) in its low byte, then flags: 0x100 only digits, 0x200 a leading zero,
    /// 0x400 a lower-case letter, 0x800 an upper-case letter (spaces around the id are not part of it).
    @_spi(Lent) public static func linkKeyAndShape(_ bytes: UnsafeRawBufferPointer) -> (key: UInt64, shape: UInt16) {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 { end -= 1 }
        var shape = UInt16(min(bytes.count, 255))
        if start < end, bytes[start] == 0x30 { shape |= 0x200 }
        var digitsFrom = start
        while digitsFrom < end - 1, bytes[digitsFrom] == 0x30 { digitsFrom += 1 }
        var value: UInt64 = 0
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var digits = start < end
        for index in start..<end {
            var byte = bytes[index]
            if byte < 0x30 || byte > 0x39 {
                digits = false
                if byte >= 0x61, byte <= 0x7A {
                    shape |= 0x400
                    byte -= 0x20
                } else if byte >= 0x41, byte <= 0x5A {
                    shape |= 0x800
                }
            } else if index >= digitsFrom {
                value = value &* 10 &+ UInt64(byte - 0x30)
            }
            if index >= digitsFrom { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        if digits { shape |= 0x100 }
        if digits, end - digitsFrom <= 18 { return (value, shape) }
        return (hash | (1 << 63), shape)
    }

    /// The keys of the id's other number form: the hex form of a decimal id and the decimal form of a hex one.
    @_spi(Lent) public static func alternativeLinkKeys(_ bytes: UnsafeRawBufferPointer) -> [UInt64] {
        let keys = alternativeLinkKeysByForm(bytes)
        return [keys.hexOfDecimal, keys.decimalOfHex].compactMap { $0 }
    }

    /// The keys of the id's other number form (``alternativeLinkKeys(_:)-(UnsafeRawBufferPointer)``), for an id as
    /// text.
    public static func alternativeLinkKeys(_ id: String) -> [UInt64] {
        [
            decimalValue(id).map { linkKey(String($0, radix: 16, uppercase: true)) },
            hexValue(id).map { linkKey(String($0)) },
        ]
        .compactMap { $0 }
    }

    /// ``alternativeLinkKeys(_:)`` one by one: the key of the hex form of the id read as decimal, and of the decimal
    /// form of the id read as hex (nil where the id cannot be read so).
    @_spi(Lent) public static func alternativeLinkKeysByForm(_ bytes: UnsafeRawBufferPointer) -> (
        hexOfDecimal: UInt64?, decimalOfHex: UInt64?
    ) {
        let text = String(decoding: bytes, as: UTF8.self)
        return (
            decimalValue(text).map { linkKey(String($0, radix: 16, uppercase: true)) },
            hexValue(text).map { linkKey(String($0)) }
        )
    }
}

/// Links receipt ids to response ids in whichever forms the SMSC wrote them (see ``MessageID``).
public struct MessageIDIndex<Value> {
    public init() {}

    private var values: [String: Value] = [:]

    public mutating func insert(_ id: String, _ value: Value) {
        values[MessageID.canonical(id)] = value
    }

    public func lookup(_ id: String) -> Value? {
        if let value = values[MessageID.canonical(id)] { return value }
        if let decimal = MessageID.decimalValue(id),
            let value = values[MessageID.canonical(String(decimal, radix: 16).uppercased())]
        {
            return value
        }
        if let hex = MessageID.hexValue(id), let value = values[MessageID.canonical(String(hex))] { return value }
        return nil
    }
}

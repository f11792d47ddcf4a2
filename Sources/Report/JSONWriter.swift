// A small, fast JSON writer that appends to a byte array: objects, arrays, escaped strings, numbers.

/// Appends JSON to a byte array. Keys and values are written in the order given.
public struct JSONWriter {
    public var bytes: [UInt8]
    private var needsComma: [Bool] = []

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    private var afterKey = false

    /// Before a value: a comma when it is not the first in its container, nothing right after a key.
    @inline(__always)
    private mutating func valuePrefix() {
        if afterKey {
            afterKey = false
            return
        }
        if let last = needsComma.last {
            if last { bytes.append(UInt8(ascii: ",")) }
            needsComma[needsComma.count - 1] = true
        }
    }

    public mutating func beginObject() {
        valuePrefix()
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma.removeLast()
    }

    public mutating func beginArray() {
        valuePrefix()
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma.removeLast()
    }

    /// Writes `"key":` inside an object for a key written in the source, which needs no escaping; the value
    /// written next belongs to it.
    public mutating func key(_ key: StaticString) {
        valuePrefix()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        afterKey = true
    }

    /// Writes `"key":` for a key made at run time, escaped as needed.
    public mutating func dynamicKey(_ key: String) {
        valuePrefix()
        appendString(key)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        valuePrefix()
        appendString(value)
    }

    public mutating func int<T: BinaryInteger>(_ value: T) {
        valuePrefix()
        if let unsigned = UInt64(exactly: value) {
            appendDigits(unsigned)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    /// Decimal digits of `value`, without going through String.
    @inline(__always)
    private mutating func appendDigits(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var remaining = value
            var index = 20
            while remaining > 0 {
                index -= 1
                raw[index] = UInt8(truncatingIfNeeded: remaining % 10) &+ 0x30
                remaining /= 10
            }
            return 20 - index
        }
        withUnsafeBytes(of: &digits) { raw in
            bytes.append(contentsOf: raw[(20 - count)..<20])
        }
    }

    public mutating func bool(_ value: Bool) {
        valuePrefix()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func null() {
        valuePrefix()
        bytes.append(contentsOf: "null".utf8)
    }

    /// A finite number; NaN and infinities are written as null.
    public mutating func double(_ value: Double, decimals: Int = 3) {
        valuePrefix()
        guard value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        bytes.append(contentsOf: formatFixed(value, decimals: decimals).utf8)
    }

    /// Pre-formatted number text (e.g. a timestamp with 6 decimals).
    public mutating func raw(_ text: String) {
        valuePrefix()
        bytes.append(contentsOf: text.utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// True when one of the eight bytes of `word` is below 0x20, '"', '\\' or 0x7F (bytes of 0x80 and above,
    /// UTF-8's multi-byte sequences, are never flagged).
    @inline(__always)
    static func needsEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let below0x20 = (word &- ones &* 0x20) & ~word & highs != 0
        return below0x20 || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
            || hasZeroByte(word ^ (ones &* 0x7F))
    }

    /// Hex of octets as a JSON string.
    public mutating func hexString<S: Sequence>(_ octets: S) where S.Element == UInt8 {
        valuePrefix()
        bytes.append(UInt8(ascii: "\""))
        for octet in octets {
            bytes.append(Self.hexDigits[Int(octet >> 4)])
            bytes.append(Self.hexDigits[Int(octet & 0x0F)])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            // Eight bytes at a time while none of them needs escaping (control characters, '"', '\\', DEL).
            if let base = UnsafeRawPointer(utf8.baseAddress) {
                while index + 8 <= utf8.count {
                    let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    guard !Self.needsEscaping(word) else { break }
                    index += 8
                }
            }
            while index < utf8.count {
                let byte = utf8[index]
                index += 1
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F else { continue }
                let at = index - 1
                if runStart < at { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<at])) }
                runStart = index
                switch byte {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                }
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// `value` with exactly `decimals` digits after the point, rounded half away from zero.
public func formatFixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let integer = UInt64(scaled)
    let divisor = UInt64(scale)
    let whole = integer / divisor
    let fraction = integer % divisor
    let sign = value < 0 && integer > 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(whole) }
    let digits = String(fraction)
    return sign + String(whole) + "." + String(repeating: "0", count: decimals - digits.count) + digits
}

// A small, fast JSON writer: objects, arrays, escaped strings, numbers, appended to storage of its own.
//
// Unsafe code, and its invariants: the writer owns its buffer (not copyable, freed in `deinit`); every append
// makes room first; `withBytes` lends the written bytes for the duration of its closure only.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes JSON to a growing buffer. Keys and values are written in the order given; containers nest at most 64
/// deep.
///
/// The writer owns its buffer and cannot be copied, so each byte goes straight to memory without the uniqueness
/// check an array makes on every append.
public struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written so far.
    public private(set) var count = 0
    /// One bit per open container, innermost lowest: set once the container holds a value.
    private var commaBits: UInt64 = 0
    private var depth = 0
    private var afterKey = false

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    /// What was written.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with what was written, without copying it.
    @_spi(Lent) public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Starts over with an empty output, keeping the storage.
    public mutating func reset() {
        truncate(to: 0)
    }

    /// Drops what was written after the first `length` bytes and starts a new top-level value there (for a value
    /// begun and then abandoned).
    public mutating func truncate(to length: Int) {
        count = min(max(length, 0), count)
        commaBits = 0
        depth = 0
        afterKey = false
    }

    /// A byte outside any value, such as the newline after a line of JSON Lines.
    public mutating func separator(_ byte: UInt8) {
        put(byte)
    }

    // MARK: Storage

    /// Room for `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if extra > capacity &- count { grow(extra) }
    }

    private mutating func grow(_ extra: Int) {
        var newCapacity = capacity * 2
        while newCapacity - count < extra { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count &+= 1
    }

    @inline(__always)
    private mutating func put(_ first: UInt8, _ second: UInt8) {
        reserve(2)
        base[count] = first
        base[count &+ 1] = second
        count &+= 2
    }

    @inline(__always)
    private mutating func put(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress, raw.count > 0 else { return }
        reserve(raw.count)
        memcpy(base + count, source, raw.count)
        count &+= raw.count
    }

    private mutating func put(_ text: StaticString) {
        text.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
    }

    private mutating func put(_ text: String) {
        var text = text
        text.withUTF8 { put(UnsafeRawBufferPointer($0)) }
    }

    // MARK: Structure

    /// Before a value: a comma when it is not the first in its container, nothing right after a key.
    @inline(__always)
    private mutating func valuePrefix() {
        if afterKey {
            afterKey = false
            return
        }
        guard depth > 0 else { return }
        if commaBits & 1 != 0 { put(UInt8(ascii: ",")) }
        commaBits |= 1
    }

    @inline(__always)
    private mutating func push() {
        depth += 1
        commaBits <<= 1
    }

    @inline(__always)
    private mutating func pop() {
        depth -= 1
        commaBits >>= 1
    }

    public mutating func beginObject() {
        valuePrefix()
        put(UInt8(ascii: "{"))
        push()
    }

    public mutating func endObject() {
        put(UInt8(ascii: "}"))
        pop()
    }

    public mutating func beginArray() {
        valuePrefix()
        put(UInt8(ascii: "["))
        push()
    }

    public mutating func endArray() {
        put(UInt8(ascii: "]"))
        pop()
    }

    /// Writes `"key":` inside an object for a key written in the source, which needs no escaping; the value
    /// written next belongs to it.
    @inline(__always)
    public mutating func key(_ key: StaticString) {
        valuePrefix()
        // Inlined where it is called, the key's length is a constant and the copy a few moves.
        let length = key.utf8CodeUnitCount
        reserve(length + 3)
        base[count] = UInt8(ascii: "\"")
        UnsafeMutableRawPointer(base + count + 1).copyMemory(from: key.utf8Start, byteCount: length)
        base[count + length + 1] = UInt8(ascii: "\"")
        base[count + length + 2] = UInt8(ascii: ":")
        count += length + 3
        afterKey = true
    }

    /// Writes `"key":` for a key made at run time, escaped as needed.
    public mutating func dynamicKey(_ key: String) {
        valuePrefix()
        appendString(key)
        put(UInt8(ascii: ":"))
        afterKey = true
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        valuePrefix()
        appendString(value)
    }

    /// A string given as UTF-8 bytes (valid UTF-8, e.g. ASCII), escaped as ``string(_:)`` escapes.
    @_spi(Lent) public mutating func string(utf8: UnsafeRawBufferPointer) {
        valuePrefix()
        appendEscaped(utf8)
    }

    public mutating func int<T: BinaryInteger>(_ value: T) {
        valuePrefix()
        if let unsigned = UInt64(exactly: value) {
            appendDigits(unsigned)
        } else {
            put(String(value))
        }
    }

    /// Decimal digits of `value`, without going through String.
    @inline(__always)
    private mutating func appendDigits(_ value: UInt64) {
        if value < 10 {
            put(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        if value < 100 {
            put(UInt8(truncatingIfNeeded: value / 10) &+ 0x30, UInt8(truncatingIfNeeded: value % 10) &+ 0x30)
            return
        }
        var digitCount = 1
        var bound: UInt64 = 10
        while digitCount < 20, value >= bound {
            digitCount += 1
            bound = bound &* 10
        }
        putDigits(value, width: digitCount)
    }

    /// Exactly `width` decimal digits of `value` (at most 20), zero-padded, continuing the value written last (the
    /// fraction after the point of a number).
    public mutating func digits(_ value: UInt64, width: Int) {
        putDigits(value, width: min(max(width, 1), 20))
    }

    /// The last `width` decimal digits of `value`, zero-padded.
    @inline(__always)
    private mutating func putDigits(_ value: UInt64, width: Int) {
        reserve(width)
        var remaining = value
        var index = count + width - 1
        while index >= count {
            base[index] = UInt8(truncatingIfNeeded: remaining % 10) &+ 0x30
            remaining /= 10
            index -= 1
        }
        count += width
    }

    public mutating func bool(_ value: Bool) {
        valuePrefix()
        put(value ? "true" : "false")
    }

    public mutating func null() {
        valuePrefix()
        put("null")
    }

    /// A finite number; NaN and infinities are written as null.
    public mutating func double(_ value: Double, decimals: Int = 3) {
        valuePrefix()
        guard value.isFinite else {
            put("null")
            return
        }
        put(formatFixed(value, decimals: decimals))
    }

    /// Pre-formatted number text (e.g. a timestamp with 6 decimals).
    public mutating func raw(_ text: String) {
        valuePrefix()
        put(text)
    }

    /// Bytes that are already JSON.
    public mutating func raw(_ bytes: [UInt8]) {
        valuePrefix()
        bytes.withUnsafeBytes { put($0) }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Hex of octets as a JSON string.
    public mutating func hexString<S: Sequence>(_ octets: S) where S.Element == UInt8 {
        valuePrefix()
        put(UInt8(ascii: "\""))
        Self.hexDigits.withUTF8Buffer { digits in
            for octet in octets { put(digits[Int(octet >> 4)], digits[Int(octet & 0x0F)]) }
        }
        put(UInt8(ascii: "\""))
    }

    /// Hex of octets as a JSON string.
    @_spi(Lent) public mutating func hexString(octets: UnsafeRawBufferPointer) {
        valuePrefix()
        reserve(2 * octets.count + 2)
        base[count] = UInt8(ascii: "\"")
        var index = count + 1
        Self.hexPairs.withUnsafeBufferPointer { pairs in
            for octet in octets {
                UnsafeMutableRawPointer(base + index).storeBytes(of: pairs[Int(octet)], as: UInt16.self)
                index += 2
            }
        }
        base[index] = UInt8(ascii: "\"")
        count = index + 1
    }

    /// The two hex digits of each octet, in memory order.
    private static let hexPairs: [UInt16] = (0..<256).map { octet in
        hexDigits.withUTF8Buffer { digits in
            let pair = [digits[octet >> 4], digits[octet & 0x0F]]
            return pair.withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
        }
    }

    // MARK: Strings

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

    private mutating func appendString(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped(UnsafeRawBufferPointer($0)) }
    }

    /// `"`, the UTF-8 bytes with control characters, '"', '\\' and DEL escaped, `"`.
    private mutating func appendEscaped(_ utf8: UnsafeRawBufferPointer) {
        guard !utf8.isEmpty else {
            put(UInt8(ascii: "\""), UInt8(ascii: "\""))
            return
        }
        put(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        // Eight bytes at a time while none of them needs escaping (control characters, '"', '\\', DEL).
        if let source = utf8.baseAddress {
            while index + 8 <= utf8.count {
                let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                guard !Self.needsEscaping(word) else { break }
                index += 8
            }
        }
        while index < utf8.count {
            let byte = utf8[index]
            index += 1
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F else { continue }
            let at = index - 1
            if runStart < at { put(UnsafeRawBufferPointer(rebasing: utf8[runStart..<at])) }
            runStart = index
            switch byte {
            case 0x22: put(0x5C, 0x22)
            case 0x5C: put(0x5C, 0x5C)
            case 0x0A: put(0x5C, UInt8(ascii: "n"))
            case 0x0D: put(0x5C, UInt8(ascii: "r"))
            case 0x09: put(0x5C, UInt8(ascii: "t"))
            default:
                put(0x5C, UInt8(ascii: "u"))
                put(0x30, 0x30)
                Self.hexDigits.withUTF8Buffer { digits in put(digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]) }
            }
        }
        if runStart < utf8.count { put(UnsafeRawBufferPointer(rebasing: utf8[runStart...])) }
        put(UInt8(ascii: "\""))
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

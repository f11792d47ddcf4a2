// The check of an anonymized output: every address, login, password and text the input held is searched for in the
// output's bytes, as it was, as UCS-2 and as hexadecimal text.

/// What the input held that the output must not: collected while anonymizing.
public final class SecretSet: SecretSink {
    /// Secrets kept (each in up to four spellings); past it, later ones are not kept and ``isComplete`` is false.
    public static let limit = 1_000_000
    /// The shortest secret searched for: shorter strings occur by chance in any binary file.
    public static let minimumLength = 5
    /// Secrets are searched for by their first bytes, at most this many.
    static let searchedLength = 24

    private(set) var needles: Set<[UInt8]> = []
    /// False when secrets were left out for the bound.
    public private(set) var isComplete = true
    /// The number of distinct secrets kept.
    public private(set) var count = 0

    public init() {}

    @_spi(Lent) public func add(_ secret: UnsafeRawBufferPointer, wide: Bool) {
        var bytes = [UInt8](secret.prefix(wide ? 2 * Self.searchedLength : Self.searchedLength))
        if wide {
            // UCS-2: also as one byte per character when it is ASCII.
            let narrow = stride(from: 1, to: bytes.count, by: 2).map { bytes[$0] }
            if stride(from: 0, to: bytes.count, by: 2).allSatisfy({ bytes[$0] == 0 }) {
                insert(narrow)
            }
            insert(bytes)
            return
        }
        // Secrets that are only spaces or punctuation are not personal, and fillers keep them.
        guard bytes.filter({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || (0x30...0x39).contains($0) }).count >= 3
        else { return }
        insert(bytes)
        if bytes.allSatisfy({ $0 < 0x80 }) {
            insert(bytes.flatMap { [0, $0] })
        }
        let hexDigits = Array("0123456789abcdef".utf8)
        let upperDigits = Array("0123456789ABCDEF".utf8)
        let half = Array(bytes.prefix(Self.searchedLength / 2))
        insert(half.flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 15)]] })
        insert(half.flatMap { [upperDigits[Int($0 >> 4)], upperDigits[Int($0 & 15)]] })
        count += 1
        bytes.removeAll()
    }

    private func insert(_ bytes: [UInt8]) {
        guard bytes.count >= Self.minimumLength else { return }
        guard needles.count < Self.limit else {
            isComplete = false
            return
        }
        needles.insert(bytes)
    }
}

/// One secret found in the output.
public struct Leak: Hashable, Sendable {
    /// Byte offset in the output file.
    public var offset: Int
    /// The bytes found (the secret's searched prefix).
    public var bytes: [UInt8]
}

/// Searches bytes for any of a set's secrets, chunk by chunk.
public struct LeakScanner {
    /// Secrets of at least 8 bytes, by their first 8 bytes; shorter ones by their first 5.
    private var long: [UInt64: [[UInt8]]] = [:]
    private var short: [UInt64: [[UInt8]]] = [:]
    /// A bit per hash of a first-8 or first-5 gram, to pass over most positions with one load.
    private var filter: [UInt64]
    private static let filterBits = 22
    /// Bytes carried from one chunk to the next, so that a secret across the boundary is found.
    private var carry: [UInt8] = []
    private var carryOffset = 0
    public private(set) var leaks: [Leak] = []
    /// The most leaks kept.
    public static let leakLimit = 100
    public private(set) var leakCount = 0

    public init(_ secrets: SecretSet) {
        filter = [UInt64](repeating: 0, count: (1 << Self.filterBits) / 64)
        for needle in secrets.needles {
            if needle.count >= 8 {
                let gram = Self.gram(needle, 0, 8)
                long[gram, default: []].append(needle)
                setBit(gram)
            } else {
                let gram = Self.gram(needle, 0, 5)
                short[gram, default: []].append(needle)
                setBit(gram)
            }
        }
    }

    @inline(__always)
    static func gram(_ bytes: [UInt8], _ at: Int, _ length: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<length { value |= UInt64(bytes[at + index]) << (8 * UInt64(index)) }
        return value
    }

    @inline(__always)
    static func bit(_ gram: UInt64) -> Int {
        Int(truncatingIfNeeded: (gram &* 0x9E37_79B9_7F4A_7C15) >> (64 - UInt64(filterBits)))
    }

    private mutating func setBit(_ gram: UInt64) {
        let bit = Self.bit(gram)
        filter[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    @inline(__always)
    private func isSet(_ gram: UInt64) -> Bool {
        let bit = Self.bit(gram)
        return filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    /// Scans the next chunk of the output (chunks in order, from offset 0).
    /// Scans the next chunk of the file (``scan(_:)-(UnsafeRawBufferPointer)``).
    public mutating func scan(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { scan($0) }
    }

    @_spi(Lent) public mutating func scan(_ chunk: UnsafeRawBufferPointer) {
        process(carry + chunk, final: false)
    }

    /// Scans what is left at the end.
    public mutating func finish() {
        process(carry, final: true)
        carry = []
    }

    /// Scans positions up to the last `2 * searchedLength` bytes (all of them when `final`); those are carried to
    /// the next chunk, so that a secret across two chunks is found once.
    private mutating func process(_ bytes: [UInt8], final: Bool) {
        let limit = final ? bytes.count : max(0, bytes.count - 2 * SecretSet.searchedLength)
        let base = carryOffset
        let hasShort = !short.isEmpty
        var index = 0
        while index < limit, index + 5 <= bytes.count {
            var eight: UInt64 = 0
            let available = min(8, bytes.count - index)
            for n in 0..<available { eight |= UInt64(bytes[index + n]) << (8 * UInt64(n)) }
            if available == 8, isSet(eight), let candidates = long[eight] {
                for needle in candidates where Self.matches(bytes, index, needle) { record(base + index, needle) }
            }
            if hasShort {
                let five = eight & 0xFF_FFFF_FFFF
                if isSet(five), let candidates = short[five] {
                    for needle in candidates where Self.matches(bytes, index, needle) { record(base + index, needle) }
                }
            }
            index += 1
        }
        carry = Array(bytes[limit...])
        carryOffset = base + limit
    }

    static func matches(_ bytes: [UInt8], _ at: Int, _ needle: [UInt8]) -> Bool {
        guard at + needle.count <= bytes.count else { return false }
        for (n, byte) in needle.enumerated() where bytes[at + n] != byte { return false }
        return !withinLongerNumber(bytes, at, needle)
    }

    /// A secret made of digits (an address, a numeric login) leaks where it stands as a number of its own, not
    /// where it is part of a longer run of digits: the pseudonyms of other addresses are random digits, and any
    /// five of them are a given five one time in 100,000. As UCS-2 the same, a character (two bytes) on each side.
    static func withinLongerNumber(_ bytes: [UInt8], _ at: Int, _ needle: [UInt8]) -> Bool {
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        let end = at + needle.count
        if needle.allSatisfy(isDigit) {
            // A needle cut to its first bytes goes on past its end.
            let whole = needle.count < SecretSet.searchedLength
            return (at > 0 && isDigit(bytes[at - 1])) || (whole && end < bytes.count && isDigit(bytes[end]))
        }
        let wide = needle.count % 2 == 0 && stride(from: 0, to: needle.count, by: 2).allSatisfy { needle[$0] == 0 }
        guard wide, stride(from: 1, to: needle.count, by: 2).allSatisfy({ isDigit(needle[$0]) }) else { return false }
        let whole = needle.count < 2 * SecretSet.searchedLength
        let before = at >= 2 && bytes[at - 2] == 0 && isDigit(bytes[at - 1])
        let after = whole && end + 1 < bytes.count && bytes[end] == 0 && isDigit(bytes[end + 1])
        return before || after
    }

    private mutating func record(_ offset: Int, _ needle: [UInt8]) {
        leakCount += 1
        if leaks.count < Self.leakLimit { leaks.append(Leak(offset: offset, bytes: needle)) }
    }
}

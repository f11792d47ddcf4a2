// Pseudonyms for what identifies people: addresses and logins keep their length, their kind of characters and a
// prefix of their digits; texts become filler of the same length, encoding and layout; IP addresses keep their
// shared prefixes. All of it keyed: the same key gives the same pseudonyms in every file.

import Capture
import Crypto

/// The keys derived from one secret (the key file), one per kind of pseudonym.
public struct AnonymizationKey: Sendable {
    let addresses: SipKey
    let texts: SipKey
    let ipAddresses: SipKey

    /// Derives the keys with HMAC-SHA256 of the secret over a label per kind.
    public init(secret: [UInt8]) {
        func derive(_ label: String) -> SipKey {
            let code = HMAC<SHA256>.authenticationCode(
                for: Array("smppscope anonymize \(label)".utf8), using: SymmetricKey(data: secret))
            return SipKey(bytes: Array(code))
        }
        addresses = derive("addresses")
        texts = derive("texts")
        ipAddresses = derive("ip addresses")
    }
}

/// Maps addresses (MSISDNs, alphanumeric senders), logins and other identifiers to pseudonyms of the same shape.
public struct AddressPseudonyms {
    let permutation: ShapePreservingPermutation
    /// Leading digits kept as they are (country and network), for numeric addresses.
    public let keptDigits: Int
    /// Pseudonyms already worked out, for values of up to 24 bytes: a direct-mapped table (a slot per hash of the
    /// value and its kind, the newer value taking the slot), no allocation on a hit. Longer values by their bytes,
    /// in a dictionary emptied when it reaches ``cacheLimit`` entries.
    private var slots: [Slot]
    private var longCache: [[UInt8]: [UInt8]] = [:]
    /// The number of slots, and the bound on the dictionary.
    public static let cacheLimit = 1 << 15

    struct Slot {
        var key: ShortValue
        var value: ShortValue
    }

    /// Up to 24 bytes (and a kind), packed in words: a key and a value that need no allocation.
    struct ShortValue: Hashable {
        var a: UInt64 = 0
        var b: UInt64 = 0
        var c: UInt64 = 0
        var lengthAndKind: UInt16

        init?(_ value: UnsafeRawBufferPointer, kind: UInt8) {
            guard value.count <= 24 else { return nil }
            lengthAndKind = UInt16(value.count) | UInt16(kind) << 8
            var index = 0
            while index + 8 <= value.count {
                let word = value.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                switch index {
                case 0: a = word
                case 8: b = word
                default: c = word
                }
                index += 8
            }
            while index < value.count {
                let shifted = UInt64(value[index]) << (8 * UInt64(index & 7))
                switch index >> 3 {
                case 0: a |= shifted
                case 1: b |= shifted
                default: c |= shifted
                }
                index += 1
            }
        }

        init(_ bytes: [UInt8]) {
            lengthAndKind = UInt16(bytes.count)
            for (index, byte) in bytes.enumerated() {
                let shifted = UInt64(byte) << (8 * UInt64(index & 7))
                switch index >> 3 {
                case 0: a |= shifted
                case 1: b |= shifted
                default: c |= shifted
                }
            }
        }

        var count: Int { Int(lengthAndKind & 0xFF) }

        /// No value has this length: the mark of an empty slot.
        static let empty = ShortValue(lengthAndKind: 0xFFFF)

        private init(lengthAndKind: UInt16) {
            self.lengthAndKind = lengthAndKind
        }

        /// A slot among `1 << bits`.
        @inline(__always)
        func slot(bits: Int) -> Int {
            var h = a &* 0x9E37_79B9_7F4A_7C15
            h ^= b &* 0xC2B2_AE3D_27D4_EB4F
            h ^= c &* 0x1656_67B1_9E37_79F9
            h ^= UInt64(lengthAndKind) &* 0x27D4_EB2F_1656_67C5
            h ^= h >> 29
            h &*= 0xBF58_476D_1CE4_E5B9
            return Int(truncatingIfNeeded: h >> UInt64(64 - bits))
        }

        /// Appends the packed bytes.
        func append(to out: inout [UInt8]) {
            withUnsafeBytes(of: (a, b, c)) { words in
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: words[0..<count]))
            }
        }
    }

    public init(key: AnonymizationKey, keptDigits: Int) {
        permutation = ShapePreservingPermutation(key: key.addresses)
        self.keptDigits = keptDigits
        slots = [Slot](repeating: Slot(key: .empty, value: .empty), count: Self.cacheLimit)
    }

    static let slotBits = 15

    /// The pseudonym of `value` (the bytes of an address, without its NUL): digits stay digits and letters stay
    /// letters of the same case, other characters (`+`, spaces, punctuation) stay where they are; a numeric
    /// address keeps its first ``keptDigits`` digits, an alphanumeric one none. `kind` separates namespaces that
    /// must not meet (a login and a phone number that happen to be spelt alike).
    @_spi(Lent) public mutating func pseudonym(of value: UnsafeRawBufferPointer, kind: UInt8 = 0) -> [UInt8] {
        var out: [UInt8] = []
        appendPseudonym(of: value, kind: kind, to: &out)
        return out
    }

    /// ``pseudonym(of:kind:)`` appended to `out`, without allocating when it is known already.
    @_spi(Lent) public mutating func appendPseudonym(
        of value: UnsafeRawBufferPointer, kind: UInt8, to out: inout [UInt8]
    ) {
        if let short = ShortValue(value, kind: kind) {
            let slot = short.slot(bits: Self.slotBits)
            if slots[slot].key == short {
                slots[slot].value.append(to: &out)
                return
            }
            let result = Self.permute([UInt8](value), kind: kind, keptDigits: keptDigits, permutation: permutation)
            slots[slot] = Slot(key: short, value: ShortValue(result))
            out.append(contentsOf: result)
            return
        }
        var cacheKey = [UInt8](value)
        cacheKey.append(kind)
        if let known = longCache[cacheKey] {
            out.append(contentsOf: known)
            return
        }
        let result = Self.permute([UInt8](value), kind: kind, keptDigits: keptDigits, permutation: permutation)
        if longCache.count >= Self.cacheLimit { longCache.removeAll(keepingCapacity: true) }
        longCache[cacheKey] = result
        out.append(contentsOf: result)
    }

    static func permute(_ original: [UInt8], kind: UInt8, keptDigits: Int, permutation: ShapePreservingPermutation)
        -> [UInt8]
    {
        let alphanumeric = original.contains { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
        var keep = alphanumeric ? 0 : keptDigits
        var result = original
        // The tweak: the length, the kind, each character's class, and the kept characters themselves, hashed
        // eight bytes at a time.
        let key = permutation.key
        var tweak = key.hash(UInt64(kind) << 8 | UInt64(truncatingIfNeeded: original.count), 0x5eed)
        var word: UInt64 = 0
        var wordBytes = 0
        @inline(__always) func absorb(_ byte: UInt8) {
            word |= UInt64(byte) << (8 * UInt64(wordBytes))
            wordBytes += 1
            if wordBytes == 8 {
                tweak = key.hash(tweak, word)
                word = 0
                wordBytes = 0
            }
        }
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 2 * max(original.count, 1)) { storage in
            let values = UnsafeMutableBufferPointer(rebasing: storage[0..<original.count])
            let radices = UnsafeMutableBufferPointer(rebasing: storage[original.count..<(2 * original.count)])
            var count = 0
            for (index, byte) in original.enumerated() {
                switch byte {
                case 0x30...0x39 where keep > 0:
                    keep -= 1
                    absorb(byte)
                case 0x30...0x39:
                    values[count] = UInt16(byte - 0x30)
                    radices[count] = 10
                    count += 1
                    absorb(0xF0)
                case 0x41...0x5A:
                    values[count] = UInt16(byte - 0x41)
                    radices[count] = 26
                    count += 1
                    absorb(0xF1)
                case 0x61...0x7A:
                    values[count] = UInt16(byte - 0x61)
                    radices[count] = 26
                    count += 1
                    absorb(0xF2)
                default:
                    absorb(UInt8(truncatingIfNeeded: index))
                    absorb(byte)
                }
            }
            guard count > 0 else { return }
            tweak = key.hash(tweak, word ^ UInt64(wordBytes) << 56)
            permutation.derange(
                UnsafeMutableBufferPointer(rebasing: values[0..<count]),
                radices: UnsafeBufferPointer(UnsafeMutableBufferPointer(rebasing: radices[0..<count])), tweak: tweak)
            var n = 0
            var keptAgain = alphanumeric ? 0 : keptDigits
            for index in result.indices {
                let byte = original[index]
                switch byte {
                case 0x30...0x39 where keptAgain > 0:
                    keptAgain -= 1
                case 0x30...0x39:
                    result[index] = 0x30 + UInt8(truncatingIfNeeded: values[n])
                    n += 1
                case 0x41...0x5A:
                    result[index] = 0x41 + UInt8(truncatingIfNeeded: values[n])
                    n += 1
                case 0x61...0x7A:
                    result[index] = 0x61 + UInt8(truncatingIfNeeded: values[n])
                    n += 1
                default:
                    break
                }
            }
        }
        return result
    }

    /// A keyed permutation of arbitrary octets (a subaddress): every byte may become any byte.
    @_spi(Lent) public func octets(_ value: UnsafeRawBufferPointer, kind: UInt8) -> [UInt8] {
        var values = value.map { UInt16($0) }
        guard !values.isEmpty else { return [] }
        let radices = [UInt16](repeating: 256, count: values.count)
        permutation.derange(
            &values, radices: radices, tweak: permutation.key.hash(kind == 0 ? 7 : UInt64(kind), UInt64(values.count)))
        return values.map { UInt8(truncatingIfNeeded: $0) }
    }
}

/// Filler for texts: each character is replaced by one of the same class (a digit by a digit, a Cyrillic capital by
/// a Cyrillic capital) through a permutation keyed by everything before it. Equal texts give equal fillers and
/// different texts different ones, and a text's first characters always give the same first characters of filler,
/// so that the `text:` of a receipt (the message's first 20 characters) matches the filler of its message.
public struct TextFiller {
    let key: SipKey

    public init(key: AnonymizationKey) {
        self.key = key.texts
    }

    /// The state a text starts from.
    public var initialState: UInt64 { key.hash(0x7465_7874, 0) }

    /// A character class as a range of code points.
    struct CharacterClass {
        var lower: UInt32
        var count: UInt32
    }

    /// The classes of one-byte encodings (GSM 03.38 unpacked, ASCII, ISO-8859-x): ASCII digits and letters, and the
    /// upper halves' letter blocks.
    @inline(__always)
    static func byteClass(_ unit: UInt32) -> CharacterClass? {
        switch unit {
        case 0x30...0x39: return CharacterClass(lower: 0x30, count: 10)
        case 0x41...0x5A: return CharacterClass(lower: 0x41, count: 26)
        case 0x61...0x7A: return CharacterClass(lower: 0x61, count: 26)
        case 0xC0...0xDF: return CharacterClass(lower: 0xC0, count: 32)
        case 0xE0...0xFF: return CharacterClass(lower: 0xE0, count: 32)
        default: return nil
        }
    }

    /// The classes of UCS-2: ASCII digits and letters, Latin-1 letters, Greek, Cyrillic, Hebrew, Arabic,
    /// Devanagari, Thai, CJK ideographs, Hangul. Other characters (spaces, punctuation, emoji) stay.
    @inline(__always)
    static func wideClass(_ unit: UInt32) -> CharacterClass? {
        if unit < 0x100 { return byteClass(unit) }
        switch unit {
        case 0x0391...0x03A9: return CharacterClass(lower: 0x0391, count: 0x19)
        case 0x03B1...0x03C9: return CharacterClass(lower: 0x03B1, count: 0x19)
        case 0x0410...0x042F: return CharacterClass(lower: 0x0410, count: 32)
        case 0x0430...0x044F: return CharacterClass(lower: 0x0430, count: 32)
        case 0x0450...0x04FF: return CharacterClass(lower: 0x0450, count: 0xB0)
        case 0x05D0...0x05EA: return CharacterClass(lower: 0x05D0, count: 27)
        case 0x0621...0x064A: return CharacterClass(lower: 0x0621, count: 42)
        case 0x0905...0x0939: return CharacterClass(lower: 0x0905, count: 53)
        case 0x0E01...0x0E2E: return CharacterClass(lower: 0x0E01, count: 46)
        case 0x4E00...0x9FFF: return CharacterClass(lower: 0x4E00, count: 0x5200)
        case 0xAC00...0xD7A3: return CharacterClass(lower: 0xAC00, count: 0x2BA4)
        default: return nil
        }
    }

    /// Primes below 64: one of them, not dividing a class's size, is the multiplier of its permutation.
    static let primes: [UInt64] = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59]

    /// The multiplier of a class of `n` characters's permutation under `state`: a prime below 64 not dividing `n`,
    /// chosen by the state's top four bits.
    @inline(__always)
    static func multiplier(_ n: UInt64, _ state: UInt64) -> UInt64 {
        var pick = Int(truncatingIfNeeded: state >> 60)
        var multiplier = primes[pick]
        while n % multiplier == 0 {
            pick = (pick + 1) & 15
            multiplier = primes[pick]
        }
        return multiplier
    }

    /// The same, looked up for the sizes of the one-byte classes (digits, Latin letters, upper-half blocks).
    static let multipliers10 = (0..<16).map { multiplier(10, UInt64($0) << 60) }
    static let multipliers26 = (0..<16).map { multiplier(26, UInt64($0) << 60) }
    static let multipliers32 = (0..<16).map { multiplier(32, UInt64($0) << 60) }

    /// The affine permutation of a class of `n` under `state`, applied to position `x`: `(m·x + b) mod n`, with the
    /// multiplier `m` prime to `n` and the offset `b` drawn from the state's low half.
    @inline(__always)
    static func affine(_ x: UInt64, _ n: UInt64, multiplier: UInt64, state: UInt64) -> UInt64 {
        let offset = ((state & 0xFFFF_FFFF) &* n) >> 32
        return (multiplier &* x &+ offset) % n
    }

    /// The unit that replaces `unit` of class `characterClass` after a text whose state is `state`.
    @inline(__always)
    static func replace(_ unit: UInt32, in characterClass: CharacterClass, state: UInt64) -> UInt32 {
        let n = UInt64(characterClass.count)
        let position = UInt64(unit - characterClass.lower)
        return characterClass.lower + UInt32(affine(position, n, multiplier: multiplier(n, state), state: state))
    }

    /// The state after `unit`.
    @inline(__always)
    func advance(_ state: UInt64, _ unit: UInt32) -> UInt64 {
        key.step(state ^ (UInt64(unit) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Fills `bytes[range]` in place, one unit per byte (a one-byte encoding), from `state`; kept ranges (markers)
    /// pass through but still advance the state. A GSM escape (0x1B) keeps the character it escapes.
    /// Returns the state after the text.
    @discardableResult
    func fillBytes(
        _ bytes: UnsafeMutableRawBufferPointer, _ range: Range<Int>, state start: UInt64, binary: Bool,
        kept: [Range<Int>] = []
    ) -> UInt64 {
        if kept.isEmpty, !binary {
            return fillPlainBytes(bytes, range, state: start)
        }
        var state = start
        var index = range.lowerBound
        var keptIndex = 0
        while index < range.upperBound {
            while keptIndex < kept.count, kept[keptIndex].upperBound <= index { keptIndex += 1 }
            let unit = UInt32(bytes[index])
            let isKept = keptIndex < kept.count && kept[keptIndex].contains(index)
            if !isKept {
                if binary {
                    bytes[index] = UInt8(
                        truncatingIfNeeded: Self.replace(unit, in: CharacterClass(lower: 0, count: 256), state: state))
                } else if unit == 0x1B, index + 1 < range.upperBound {
                    state = advance(state, unit)
                    index += 1
                    state = advance(state, UInt32(bytes[index]) | 0x1B00)
                    index += 1
                    continue
                } else if let characterClass = Self.byteClass(unit) {
                    bytes[index] = UInt8(truncatingIfNeeded: Self.replace(unit, in: characterClass, state: state))
                }
            }
            state = advance(state, unit)
            index += 1
        }
        return state
    }

    /// ``fillBytes(_:_:state:binary:kept:)`` for a text with nothing kept, the classes' sizes known in the loop.
    func fillPlainBytes(_ bytes: UnsafeMutableRawBufferPointer, _ range: Range<Int>, state start: UInt64) -> UInt64 {
        Self.multipliers10.withUnsafeBufferPointer { m10 in
            Self.multipliers26.withUnsafeBufferPointer { m26 in
                Self.multipliers32.withUnsafeBufferPointer { m32 in
                    var state = start
                    var index = range.lowerBound
                    let end = range.upperBound
                    @inline(__always) func replaced(_ x: UInt8, _ n: UInt64, _ table: UnsafeBufferPointer<UInt64>)
                        -> UInt8
                    {
                        let multiplier = table[Int(truncatingIfNeeded: state >> 60)]
                        return UInt8(
                            truncatingIfNeeded: Self.affine(UInt64(x), n, multiplier: multiplier, state: state))
                    }
                    while index < end {
                        let unit = bytes[index]
                        switch unit {
                        case 0x30...0x39: bytes[index] = 0x30 &+ replaced(unit &- 0x30, 10, m10)
                        case 0x41...0x5A: bytes[index] = 0x41 &+ replaced(unit &- 0x41, 26, m26)
                        case 0x61...0x7A: bytes[index] = 0x61 &+ replaced(unit &- 0x61, 26, m26)
                        case 0xC0...0xDF: bytes[index] = 0xC0 &+ replaced(unit &- 0xC0, 32, m32)
                        case 0xE0...0xFF: bytes[index] = 0xE0 &+ replaced(unit &- 0xE0, 32, m32)
                        case 0x1B where index + 1 < end:
                            state = advance(state, 0x1B)
                            index += 1
                            state = advance(state, UInt32(bytes[index]) | 0x1B00)
                            index += 1
                            continue
                        default:
                            break
                        }
                        state = advance(state, UInt32(unit))
                        index += 1
                    }
                    return state
                }
            }
        }
    }

    /// Fills `bytes[range]` in place as UCS-2 (big-endian pairs); a trailing odd byte is filled as a byte.
    @discardableResult
    func fillWide(
        _ bytes: UnsafeMutableRawBufferPointer, _ range: Range<Int>, state start: UInt64, kept: [Range<Int>] = []
    ) -> UInt64 {
        var state = start
        var index = range.lowerBound
        var keptIndex = 0
        while index + 1 < range.upperBound {
            while keptIndex < kept.count, kept[keptIndex].upperBound <= index { keptIndex += 1 }
            let unit = UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            let isKept = keptIndex < kept.count && kept[keptIndex].contains(index)
            if !isKept, let characterClass = Self.wideClass(unit) {
                let replaced = Self.replace(unit, in: characterClass, state: state)
                bytes[index] = UInt8(truncatingIfNeeded: replaced >> 8)
                bytes[index + 1] = UInt8(truncatingIfNeeded: replaced)
            }
            state = advance(state, unit)
            index += 2
        }
        if index < range.upperBound {
            state = fillBytes(bytes, index..<range.upperBound, state: state, binary: true)
        }
        return state
    }
}

/// Maps IP addresses so that two addresses sharing their first n bits map to two sharing their first n bits
/// (prefix-preserving, as Crypto-PAn does): subnets stay subnets.
public struct IPAddressMap {
    let key: SipKey
    private var cache: [[UInt8]: [UInt8]] = [:]
    public static let cacheLimit = 1 << 16

    public init(key: AnonymizationKey) {
        self.key = key.ipAddresses
    }

    /// The mapped address of `bytes` (4 or 16 bytes).
    public mutating func map(_ bytes: [UInt8]) -> [UInt8] {
        if let known = cache[bytes] { return known }
        var result = bytes
        var prefix: UInt64 = 0
        for bit in 0..<(bytes.count * 8) {
            let byteIndex = bit / 8
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            let flip = key.hash(prefix ^ UInt64(bit) << 56, UInt64(bytes.count)) & 1 == 1
            let original = bytes[byteIndex] & mask != 0
            if flip { result[byteIndex] ^= mask }
            // The prefix folds in the original bits (a running hash for addresses longer than 56 bits).
            prefix = key.hash(prefix, UInt64(bit) << 1 | (original ? 1 : 0))
        }
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[bytes] = result
        return result
    }
}

extension IPAddressMap {
    /// The mapped address.
    public mutating func map(_ address: IPAddress) -> IPAddress {
        if address.isIPv4 {
            let value = UInt32(truncatingIfNeeded: address.low)
            let bytes = map([
                UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF),
            ])
            return IPAddress(
                ipv4: UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]))
        }
        var bytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8((address.high >> UInt64(shift)) & 0xFF))
        }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((address.low >> UInt64(shift)) & 0xFF)) }
        let mapped = map(bytes)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(mapped[index])
            low = low << 8 | UInt64(mapped[8 + index])
        }
        return IPAddress(ipv6: high, low)
    }
}

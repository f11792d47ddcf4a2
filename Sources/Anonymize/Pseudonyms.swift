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
    /// Pseudonyms already worked out; emptied when it reaches ``cacheLimit`` entries.
    private var cache: [[UInt8]: [UInt8]] = [:]
    /// The bound on the cache.
    public static let cacheLimit = 1 << 18

    public init(key: AnonymizationKey, keptDigits: Int) {
        permutation = ShapePreservingPermutation(key: key.addresses)
        self.keptDigits = keptDigits
    }

    /// The pseudonym of `value` (the bytes of an address, without its NUL): digits stay digits and letters stay
    /// letters of the same case, other characters (`+`, spaces, punctuation) stay where they are; a numeric
    /// address keeps its first ``keptDigits`` digits, an alphanumeric one none. `kind` separates namespaces that
    /// must not meet (a login and a phone number that happen to be spelt alike).
    public mutating func pseudonym(of value: UnsafeRawBufferPointer, kind: UInt8 = 0) -> [UInt8] {
        let original = [UInt8](value)
        var cacheKey = original
        cacheKey.append(kind)
        if let known = cache[cacheKey] { return known }
        let result = Self.permute(original, kind: kind, keptDigits: keptDigits, permutation: permutation)
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[cacheKey] = result
        return result
    }

    static func permute(_ original: [UInt8], kind: UInt8, keptDigits: Int, permutation: ShapePreservingPermutation)
        -> [UInt8]
    {
        let alphanumeric = original.contains { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
        var keep = alphanumeric ? 0 : keptDigits
        var positions: [Int] = []
        var values: [UInt16] = []
        var radices: [UInt16] = []
        // The tweak: the length, the kind, the kept characters and where they are.
        var shape: [UInt8] = [kind, UInt8(truncatingIfNeeded: original.count)]
        for (index, byte) in original.enumerated() {
            switch byte {
            case 0x30...0x39 where keep > 0:
                keep -= 1
                shape += [UInt8(truncatingIfNeeded: index), byte]
            case 0x30...0x39:
                positions.append(index)
                values.append(UInt16(byte - 0x30))
                radices.append(10)
                shape.append(0xF0)
            case 0x41...0x5A:
                positions.append(index)
                values.append(UInt16(byte - 0x41))
                radices.append(26)
                shape.append(0xF1)
            case 0x61...0x7A:
                positions.append(index)
                values.append(UInt16(byte - 0x61))
                radices.append(26)
                shape.append(0xF2)
            default:
                shape += [UInt8(truncatingIfNeeded: index), byte]
            }
        }
        guard !positions.isEmpty else { return original }
        permutation.derange(&values, radices: radices, tweak: permutation.key.hash(bytes: shape, seed: 1))
        var result = original
        for (n, index) in positions.enumerated() {
            let base: UInt16 = radices[n] == 10 ? 0x30 : (original[index] < 0x60 ? 0x41 : 0x61)
            result[index] = UInt8(truncatingIfNeeded: base + values[n])
        }
        return result
    }

    /// A keyed permutation of arbitrary octets (a subaddress): every byte may become any byte.
    public func octets(_ value: UnsafeRawBufferPointer, kind: UInt8) -> [UInt8] {
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

    /// The unit that replaces `unit` of class `characterClass` after a text whose state is `state`: an affine
    /// permutation of the class (a multiplier prime to its size, an offset), both drawn from the state.
    @inline(__always)
    static func replace(_ unit: UInt32, in characterClass: CharacterClass, state: UInt64) -> UInt32 {
        let n = UInt64(characterClass.count)
        var multiplier = (state >> 32) % n
        if multiplier == 0 { multiplier = 1 }
        while gcd(multiplier, n) != 1 { multiplier = multiplier == n - 1 ? 1 : multiplier + 1 }
        let offset = (state & 0xFFFF_FFFF) % n
        let position = UInt64(unit - characterClass.lower)
        return characterClass.lower + UInt32((multiplier * position + offset) % n)
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    /// The state after `unit`.
    @inline(__always)
    func advance(_ state: UInt64, _ unit: UInt32) -> UInt64 {
        key.hash(state, UInt64(unit))
    }

    /// Fills `bytes[range]` in place, one unit per byte (a one-byte encoding), from `state`; kept ranges (markers)
    /// pass through but still advance the state. A GSM escape (0x1B) keeps the character it escapes.
    /// Returns the state after the text.
    @discardableResult
    func fillBytes(
        _ bytes: UnsafeMutableRawBufferPointer, _ range: Range<Int>, state start: UInt64, binary: Bool,
        kept: [Range<Int>] = []
    ) -> UInt64 {
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

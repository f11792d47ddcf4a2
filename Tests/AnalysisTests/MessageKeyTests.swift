// The identity of a submitted message (duplicate rule, resubmissions) is a hash of its fields read eight bytes at a
// time, the last bytes of a field in one read of its final word. It must equal the definition byte by byte for
// every field length and content.

import TestSupport
import Testing

@testable import Analysis

@Suite("Message key")
struct MessageKeyTests {
    /// The definition: each field as little-endian words, the last 0-7 bytes as one more word, then its length.
    static func definition(seed: UInt64, _ fields: [[UInt8]]) -> UInt64 {
        var state = seed ^ 0x9E37_79B9_7F4A_7C15
        func mix(_ word: UInt64) {
            state = (state ^ word) &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 29
        }
        for field in fields {
            var index = 0
            while index + 8 <= field.count {
                var word: UInt64 = 0
                for byte in 0..<8 { word |= UInt64(field[index + byte]) << (8 * UInt64(byte)) }
                mix(word)
                index += 8
            }
            var tail: UInt64 = 0
            for (shift, byte) in field[index...].enumerated() { tail |= UInt64(byte) << (8 * UInt64(shift)) }
            mix(tail)
            mix(UInt64(field.count) | 0xA5 << 56)
        }
        return IntegerTable<Int>.mix(state)
    }

    static func key(seed: UInt64, _ fields: [[UInt8]]) -> UInt64 {
        var key = MessageKey(seed: seed)
        for field in fields { field.withUnsafeBytes { key.add($0) } }
        return key.value
    }

    @Test func equalsTheDefinitionForEveryLength() {
        var random = SplitMix64(seed: 0x4E55)
        for length in 0...70 {
            for _ in 0..<20 {
                let field = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                let other = (0..<Int(random.next() % 20)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                let seed = random.next()
                #expect(
                    Self.key(seed: seed, [field, other]) == Self.definition(seed: seed, [field, other]),
                    "length \(length)")
            }
        }
    }

    @Test func fieldBoundariesAndEveryByteCount() {
        // ("ab", "c") and ("a", "bc") differ; so does one byte changed anywhere in a long field.
        #expect(Self.key(seed: 1, [[0x61, 0x62], [0x63]]) != Self.key(seed: 1, [[0x61], [0x62, 0x63]]))
        let text = [UInt8](repeating: 0x41, count: 29)
        for index in text.indices {
            var changed = text
            changed[index] = 0x42
            #expect(Self.key(seed: 7, [changed]) != Self.key(seed: 7, [text]), "byte \(index)")
        }
    }

    /// A message's key in an account: the account's seed, then the content key (made with seed 0) as one word.
    @Test func accountsKeepTheSameContentApart() {
        var random = SplitMix64(seed: 0xACC0)
        for _ in 0..<200 {
            let fields = (0..<3).map { _ in
                (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            let content = Self.key(seed: 0, fields)
            #expect(content == Self.definition(seed: 0, fields))
            let seed = random.next()
            var state = seed ^ 0x9E37_79B9_7F4A_7C15
            state = (state ^ content) &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 29
            #expect(MessageKey.forAccount(seed, content: content) == IntegerTable<Int>.mix(state))
            #expect(MessageKey.forAccount(seed, content: content) != MessageKey.forAccount(seed ^ 1, content: content))
        }
    }
}

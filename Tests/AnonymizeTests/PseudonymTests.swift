// Pseudonyms and fillers: shapes kept, keyed, never two inputs on one output.

import Capture
import Testing

@testable import Anonymize

@Suite("Pseudonyms")
struct PseudonymTests {
    static let key = AnonymizationKey(secret: Array("a test secret of some length".utf8))
    static let otherKey = AnonymizationKey(secret: Array("another test secret, not the same".utf8))

    func pseudonym(_ value: String, key: AnonymizationKey = key, digits: Int = 4) -> String {
        var pseudonyms = PDUAnonymizer(key: key, options: AnonymizeOptions(keptDigits: digits))
        return pseudonyms.pseudonym(ofAddress: value)
    }

    @Test func numbersKeepTheirLengthAndLeadingDigits() {
        let number = "77012345678"
        let replaced = pseudonym(number)
        #expect(replaced != number)
        #expect(replaced.count == number.count)
        #expect(replaced.hasPrefix("7701"))
        #expect(replaced.allSatisfy { $0.isNumber })
        let international = pseudonym("+77012345678")
        #expect(international.hasPrefix("+7701") && international.count == 12)
        #expect(pseudonym(number, digits: 0).count == 11)
        // A short code no longer than the kept prefix stays.
        #expect(pseudonym("1234") == "1234")
    }

    @Test func alphanumericSendersKeepLengthAndCase() {
        let replaced = pseudonym("Info-24")
        #expect(replaced.count == 7)
        let characters = Array(replaced)
        #expect(characters[0].isUppercase && characters[1].isLowercase && characters[2].isLowercase)
        #expect(characters[4] == "-")
        #expect(characters[5].isNumber && characters[6].isNumber)
        #expect(replaced != "Info-24")
        #expect(pseudonym("SMSCKZ").allSatisfy { $0.isUppercase })
    }

    @Test func theSameKeyGivesTheSamePseudonymAndAnotherKeyAnother() {
        #expect(pseudonym("77011112233") == pseudonym("77011112233"))
        #expect(pseudonym("77011112233") != pseudonym("77011112233", key: Self.otherKey))
    }

    @Test func noTwoNumbersShareAPseudonym() {
        var pseudonyms = PDUAnonymizer(key: Self.key, options: AnonymizeOptions())
        var seen = Set<String>()
        for n in 0..<30_000 {
            let number = "7701" + String(5_000_000 + n * 37)
            let replaced = pseudonyms.pseudonym(ofAddress: number)
            #expect(replaced.hasPrefix("7701") && replaced.count == 11)
            seen.insert(replaced)
        }
        #expect(seen.count == 30_000)
    }

    @Test func thePermutationIsABijectionOfEachShape() {
        let permutation = ShapePreservingPermutation(key: SipKey(k0: 1, k1: 2))
        for radices in [[10, 10, 10], [26, 10, 26], [256, 256], [10]] as [[UInt16]] {
            let size = radices.reduce(1) { $0 * Int($1) }
            var outputs = Set<[UInt16]>()
            for value in 0..<size {
                var digits: [UInt16] = []
                var rest = value
                for radix in radices.reversed() {
                    digits.insert(UInt16(rest % Int(radix)), at: 0)
                    rest /= Int(radix)
                }
                permutation.permute(&digits, radices: radices, tweak: 9)
                for (digit, radix) in zip(digits, radices) { #expect(digit < radix) }
                outputs.insert(digits)
            }
            #expect(outputs.count == size)
        }
        // Long vectors go by blocks, each depending on the ones before.
        var long = [UInt16](repeating: 3, count: 40)
        var other = long
        other[39] = 4
        permutation.permute(&long, radices: [UInt16](repeating: 10, count: 40), tweak: 1)
        permutation.permute(&other, radices: [UInt16](repeating: 10, count: 40), tweak: 1)
        #expect(long != other)
    }

    @Test func ipAddressesKeepTheirSharedPrefixes() {
        var map = IPAddressMap(key: Self.key)
        func bits(_ bytes: [UInt8]) -> [Bool] { bytes.flatMap { byte in (0..<8).map { byte & (0x80 >> $0) != 0 } } }
        func shared(_ a: [UInt8], _ b: [UInt8]) -> Int { zip(bits(a), bits(b)).prefix { $0 == $1 }.count }
        let a: [UInt8] = [10, 1, 2, 3]
        let b: [UInt8] = [10, 1, 2, 200]
        let c: [UInt8] = [192, 168, 0, 1]
        let (ma, mb, mc) = (map.map(a), map.map(b), map.map(c))
        #expect(ma != a)
        #expect(shared(ma, mb) == shared(a, b))
        #expect(shared(ma, mc) == shared(a, c))
        #expect(map.map(a) == ma)
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        let v6b: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
        #expect(shared(map.map(v6), map.map(v6b)) == shared(v6, v6b))
        let address = IPAddress(ipv4: 0x7F00_0001)
        #expect(map.map(address) != address && map.map(address).isIPv4)
    }
}

@Suite("Keyed permutation")
struct KeyedPermutationTests {
    @Test func invertUndoesPermuteAndDerangeLeavesNothingInPlace() {
        let permutation = ShapePreservingPermutation(key: SipKey(k0: 3, k1: 4))
        for radices in [[10], [10, 10], [26, 10, 26], [256, 256, 256], [UInt16](repeating: 26, count: 30)] as [[UInt16]]
        {
            for seed in 0..<200 {
                var values = radices.enumerated().map { UInt16(($0.offset * 7 + seed * 13) % Int($0.element)) }
                let original = values
                permutation.permute(&values, radices: radices, tweak: 5)
                permutation.invert(&values, radices: radices, tweak: 5)
                #expect(values == original)
                permutation.derange(&values, radices: radices, tweak: 5)
                #expect(values != original)
            }
        }
        // A derangement is still a bijection: over all 1,000 three-digit values, 1,000 outputs, none in place.
        var outputs = Set<[UInt16]>()
        for value in 0..<1_000 {
            var digits: [UInt16] = [UInt16(value / 100), UInt16(value / 10 % 10), UInt16(value % 10)]
            let original = digits
            permutation.derange(&digits, radices: [10, 10, 10], tweak: 1)
            #expect(digits != original)
            outputs.insert(digits)
        }
        #expect(outputs.count == 1_000)
    }
}

@Suite("Text filler")
struct TextFillerTests {
    @Test func theFastLoopAndTheGeneralOneGiveTheSameFiller() {
        let filler = TextFiller(key: AnonymizationKey(secret: Array("filler test key".utf8)))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let length = Int.random(in: 1...160, using: &generator)
            let text = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var fast = text
            var general = text
            let a = fast.withUnsafeMutableBytes {
                filler.fillBytes($0, 0..<length, state: filler.initialState, binary: false)
            }
            // A kept range that holds nothing sends the text through the general loop.
            let b = general.withUnsafeMutableBytes {
                filler.fillBytes($0, 0..<length, state: filler.initialState, binary: false, kept: [length..<length])
            }
            #expect(fast == general)
            #expect(a == b)
        }
    }
}

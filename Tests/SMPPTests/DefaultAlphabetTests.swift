// Which alphabets read data_coding 0 octets cleanly, on hand-built octets; septets unpacked from the packed form
// of 3GPP TS 23.038's own kind of example.

@_spi(Lent) import SMPP
import Testing

@Suite("What data_coding 0 carries")
struct DefaultAlphabetTests {
    private func clean(_ octets: [UInt8]) -> Set<DefaultAlphabet> {
        let bits = octets.withUnsafeBytes { DefaultAlphabetScore.clean($0) }
        return Set(DefaultAlphabet.allCases.filter { bits & $0.bit != 0 })
    }

    @Test func plainTextReadsAlikeInEveryOneSeptetAlphabet() {
        #expect(clean(Array("Hello world, 42!".utf8)) == [.gsm7, .latin1, .ascii])
    }

    @Test func eachAlphabetByTheOctetsOnlyItReadsWell() {
        // GSM 03.38: "@" is 0x00, "$" is 0x02, "€" the escape 0x1B then 0x65.
        #expect(clean([0x00, 0x20, 0x02, 0x35, 0x20, 0x1B, 0x65]) == [.gsm7])
        // An escape followed by no character of the extension table, or at the end: not clean.
        #expect(!clean([0x41, 0x1B, 0x41]).contains(.gsm7))
        #expect(!clean([0x41, 0x1B]).contains(.gsm7))
        // ASCII: "a@b.c $5 a_b" has @ $ _ where GSM 03.38 has ¡ ¤ §.
        #expect(clean(Array("a@b.c $5 a_b".utf8)) == [.ascii, .latin1])
        // ISO-8859-1: "Café" with é as 0xE9.
        #expect(clean([0x43, 0x61, 0x66, 0xE9]) == [.latin1])
        // C1 controls (0x80-0x9F) are no text in any of them.
        #expect(clean([0x41, 0x85, 0x42]).isEmpty)
    }

    @Test func packedSeptets() {
        // "hellohello" packed: e8 32 9b fd 46 97 d9 ec 37 (the usual worked example of 23.038 packing).
        let packed: [UInt8] = [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        #expect(GSM0338.unpack(packed) == Array("hellohello".utf8))
        #expect(DefaultAlphabet.gsm7Packed.decode(packed) == "hellohello")
        #expect(clean(packed) == [.gsm7Packed])
        // Seven octets hold eight septets; a last septet of zeros only fills the octet.
        let seven: [UInt8] = [0xC1, 0x60, 0x30, 0x18, 0x0C, 0x06, 0x01]
        #expect(GSM0338.unpack(seven) == Array("AAAAAAA".utf8))
        // Text in another alphabet does not unpack to text: ISO-8859-1 (not one septet an octet, so tried).
        #expect(clean(Array("Café crème brûlée à la carte".unicodeScalars.map { UInt8($0.value) })) == [.latin1])
        // Octets that read as one septet each are not tried as packed.
        #expect(!clean(Array("coalesced #0".utf8)).contains(.gsm7Packed))
        #expect(!clean(Array("Meeting moved to 10:30, see you there".utf8)).contains(.gsm7Packed))
    }
}

@Suite("What data_coding 0 carries, eight octets at a time")
struct DefaultAlphabetWordTests {
    /// The documented rule, one octet at a time, written out here on its own.
    private func reference(_ octets: [UInt8]) -> UInt8 {
        let extensionTable: Set<UInt8> = [0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65]
        func printable(_ octet: UInt8) -> Bool { (0x20...0x7E).contains(octet) || [0x09, 0x0A, 0x0D].contains(octet) }
        let ascii = octets.allSatisfy(printable)
        let latin1 = octets.allSatisfy { printable($0) || $0 >= 0xA0 }
        var gsm = true
        var index = 0
        while index < octets.count {
            let octet = octets[index]
            if octet == 0x1B {
                if index + 1 < octets.count, extensionTable.contains(octets[index + 1]) {
                    index += 2
                    continue
                }
                gsm = false
                break
            }
            if octet > 0x7F || [0x24, 0x40, 0x5F, 0x60].contains(octet) { gsm = false }
            index += 1
        }
        return (gsm ? DefaultAlphabet.gsm7.bit : 0) | (latin1 ? DefaultAlphabet.latin1.bit : 0)
            | (ascii ? DefaultAlphabet.ascii.bit : 0)
    }

    @Test func theWordPathAgreesWithTheRuleOctetByOctet() {
        var random = SystemRandomNumberGenerator()
        // Mostly plain text, with now and then an octet that is not: every path through the eight-octet test.
        let plain = Array(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?()".utf8)
        let odd: [UInt8] = [
            0x00, 0x09, 0x0A, 0x0D, 0x1B, 0x1F, 0x24, 0x40, 0x5F, 0x60, 0x65, 0x7E, 0x7F, 0x80, 0x9F, 0xA0, 0xE9, 0xFF,
        ]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...40, using: &random)
            let octets = (0..<length).map { _ in
                Int.random(in: 0..<12, using: &random) == 0
                    ? odd.randomElement(using: &random)! : plain.randomElement(using: &random)!
            }
            let bits = octets.withUnsafeBytes { DefaultAlphabetScore.clean($0) } & ~DefaultAlphabet.gsm7Packed.bit
            #expect(bits == reference(octets), "\(octets)")
        }
    }
}

// Which alphabets read data_coding 0 octets cleanly, on hand-built octets; septets unpacked from the packed form
// of 3GPP TS 23.038's own kind of example.

import SMPP
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

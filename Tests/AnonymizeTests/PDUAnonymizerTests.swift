// One PDU at a time, on hand-built bytes: what changes, what stays, what shrinks; the result decodes.

@_spi(Lent) import Anonymize
import NIOCore
@_spi(Lent) import SMPP
import Testing

/// Builds a PDU's bytes field by field.
struct Bytes {
    var body: [UInt8] = []

    mutating func c(_ string: String) { body += Array(string.utf8) + [0] }
    mutating func u8(_ value: UInt8) { body.append(value) }
    mutating func raw(_ bytes: [UInt8]) { body += bytes }
    mutating func message(_ octets: [UInt8]) {
        body.append(UInt8(octets.count))
        body += octets
    }
    mutating func tlv(_ tag: UInt16, _ value: [UInt8]) {
        body += [UInt8(tag >> 8), UInt8(tag & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
    }

    func pdu(_ id: UInt32, sequence: UInt32 = 7, status: UInt32 = 0) -> [UInt8] {
        var out: [UInt8] = []
        for word in [UInt32(16 + body.count), id, status, sequence] {
            out += [UInt8(word >> 24), UInt8((word >> 16) & 0xFF), UInt8((word >> 8) & 0xFF), UInt8(word & 0xFF)]
        }
        return out + body
    }

    /// A submit_sm or deliver_sm.
    static func shortMessage(
        id: UInt32 = 4, source: String = "SMSCKZ", destination: String = "77012345678", esmClass: UInt8 = 0,
        dataCoding: UInt8 = 0, message: [UInt8], tlvs: [(UInt16, [UInt8])] = []
    ) -> [UInt8] {
        var b = Bytes()
        b.c("")
        b.u8(5)
        b.u8(0)
        b.c(source)
        b.u8(1)
        b.u8(1)
        b.c(destination)
        b.u8(esmClass)
        b.u8(0)
        b.u8(0)
        b.c("")
        b.c("")
        b.u8(1)
        b.u8(0)
        b.u8(dataCoding)
        b.u8(0)
        b.message(message)
        for (tag, value) in tlvs { b.tlv(tag, value) }
        return b.pdu(id)
    }
}

func ucs2(_ text: String) -> [UInt8] { text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } }

@Suite("PDU anonymizer")
struct PDUAnonymizerTests {
    static let key = AnonymizationKey(secret: Array("the key used by the PDU tests".utf8))

    func anonymize(_ bytes: [UInt8], options: AnonymizeOptions = AnonymizeOptions()) -> [UInt8] {
        var anonymizer = PDUAnonymizer(key: Self.key, options: options)
        var out: [UInt8] = []
        bytes.withUnsafeBytes { anonymizer.anonymize($0, into: &out) }
        return out
    }

    func decode(_ bytes: [UInt8]) throws -> PDU {
        let pdu = try PDU.decode(ByteBuffer(bytes: bytes))
        #expect(pdu.diagnostics.isEmpty, "\(pdu.diagnostics)")
        return pdu
    }

    func shortMessage(_ pdu: PDU) -> PDU.ShortMessage? {
        if case .shortMessage(let message) = pdu.body { return message }
        return nil
    }

    @Test func aLongUCS2PartKeepsItsUDHCodingLengthAndSARButNotItsText() throws {
        let udh: [UInt8] = [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01]
        let text = "Привет, Алия! Код 4512"
        let original = Bytes.shortMessage(
            esmClass: 0x40, dataCoding: 8, message: udh + ucs2(text),
            tlvs: [(0x020C, [0x00, 0x2A]), (0x020E, [2]), (0x020F, [1]), (0x1400, Array("+77017654321".utf8))])
        let out = anonymize(original)
        // The vendor TLV is dropped: 4 + 12 bytes shorter.
        #expect(out.count == original.count - 16)
        let pdu = try decode(out)
        let message = try #require(shortMessage(pdu))
        let before = try #require(shortMessage(try decode(original)))
        #expect(message.dataCoding == 8 && message.esmClass == 0x40)
        #expect(message.shortMessage.readableBytes == before.shortMessage.readableBytes)
        let octets = Array(message.shortMessage.readableBytesView)
        #expect(Array(octets.prefix(6)) == udh)
        let filled = String(
            decoding: stride(from: 6, to: octets.count, by: 2).map { UInt16(octets[$0]) << 8 | UInt16(octets[$0 + 1]) },
            as: UTF16.self)
        #expect(filled != text)
        #expect(filled.count == text.count)
        for (a, b) in zip(filled.unicodeScalars, text.unicodeScalars) {
            // Cyrillic capitals stay Cyrillic capitals, digits digits, punctuation and spaces as they were.
            switch b.value {
            case 0x0410...0x042F: #expect((0x0410...0x042F).contains(a.value))
            case 0x0430...0x044F: #expect((0x0430...0x044F).contains(a.value))
            case 0x30...0x39: #expect((0x30...0x39).contains(a.value))
            default: #expect(a == b)
            }
        }
        #expect(pdu.tlvs.map(\.tag.rawValue) == [0x020C, 0x020E, 0x020F])
        #expect(message.source.address.count == 6 && message.source.address != "SMSCKZ")
        #expect(message.destination.address.hasPrefix("7701") && message.destination.address != "77012345678")
        // Kept when asked.
        let kept = anonymize(original, options: AnonymizeOptions(unknownTLVs: .keep))
        #expect(kept.count == original.count)
        #expect(try decode(kept).tlvs.last?.value == .octets(Array("+77017654321".utf8)))
    }

    @Test func aBindLosesItsPasswordAndKeepsItsFlags() throws {
        var b = Bytes()
        b.c("acme_login")
        b.c("s3cret!!")
        b.c("MCON3,ISO")
        b.u8(0x34)
        b.u8(0)
        b.u8(0)
        b.c("")
        let original = b.pdu(0x09)
        let out = anonymize(original)
        #expect(out.count == original.count - 8)
        guard case .bind(let bind) = try decode(out).body else {
            Issue.record("not a bind")
            return
        }
        #expect(bind.password.isEmpty)
        #expect(bind.systemType == "MCON3,ISO")
        #expect(bind.systemID.count == "acme_login".count && bind.systemID != "acme_login")
        #expect(bind.systemID.contains("_"))
        #expect(!out.windowsContain(Array("s3cret".utf8)))
    }

    @Test func aReceiptKeepsItsIdStateDatesAndErrorAndItsTextMatchesTheMessage() throws {
        let text = "Hello from Almaty, your code is 4512"
        let submit = anonymize(Bytes.shortMessage(message: Array(text.utf8)))
        let receiptText =
            "id:0A1B2C sub:001 dlvrd:001 submit date:2612061200 done date:2612061201 stat:DELIVRD err:000 text:"
            + String(text.prefix(20))
        let receipt = anonymize(
            Bytes.shortMessage(
                id: 5, source: "77012345678", destination: "SMSCKZ", esmClass: 0x04, message: Array(receiptText.utf8),
                tlvs: [(0x001E, Array("0A1B2C".utf8) + [0]), (0x0427, [2])]))
        let filledSubmit = try #require(shortMessage(try decode(submit)))
        let filledReceipt = try #require(shortMessage(try decode(receipt)))
        let submitText = String(decoding: filledSubmit.shortMessage.readableBytesView, as: UTF8.self)
        let rebuilt = String(decoding: filledReceipt.shortMessage.readableBytesView, as: UTF8.self)
        #expect(submitText != text && submitText.count == text.count)
        let parts = rebuilt.components(separatedBy: " text:")
        #expect(parts.count == 2)
        #expect(
            parts[0] == "id:0A1B2C sub:001 dlvrd:001 submit date:2612061200 done date:2612061201 stat:DELIVRD err:000")
        #expect(parts[1] == String(submitText.prefix(20)))
        #expect(parts[1] != String(text.prefix(20)))
        // The addresses of the receipt are the submit's, swapped.
        #expect(filledReceipt.source.address == filledSubmit.destination.address)
        #expect(filledReceipt.destination.address == filledSubmit.source.address)
    }

    @Test func anHLRAnswerLosesItsIMSI() throws {
        let text = "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79031234567"
        let out = anonymize(Bytes.shortMessage(id: 5, esmClass: 0x04, message: Array(text.utf8)))
        let rebuilt = String(
            decoding: try #require(shortMessage(try decode(out))).shortMessage.readableBytesView, as: UTF8.self)
        #expect(rebuilt.hasPrefix("id:855469 stat:DELIVRD err:000 imsi:2500"))
        #expect(!rebuilt.contains("250023012345678") && !rebuilt.contains("79031234567"))
        #expect(rebuilt.count == text.count)
    }

    @Test func equalTextsGiveEqualFillersAndDifferentTextsDifferentOnes() throws {
        func filled(_ text: String) throws -> String {
            let out = anonymize(Bytes.shortMessage(message: Array(text.utf8)))
            return String(
                decoding: try #require(shortMessage(try decode(out))).shortMessage.readableBytesView, as: UTF8.self)
        }
        let again = try filled("Your code is 1234")
        #expect(try filled("Your code is 1234") == again)
        let a = try filled("Your code is 1234")
        let b = try filled("Your code is 1235")
        #expect(a != b)
        #expect(a.dropLast() == b.dropLast())
        #expect(a.hasSuffix(" ") == false && a.last?.isNumber == true)
    }

    @Test func smsckzMarkersAndTheCommentSeparatorStay() throws {
        let text = "__MMS__: Hello Aliya\nsubj:Greeting\n~~~\nprivate note"
        func filled(_ options: AnonymizeOptions, dataCoding: UInt8 = 1) throws -> String {
            let out = anonymize(Bytes.shortMessage(dataCoding: dataCoding, message: Array(text.utf8)), options: options)
            return String(
                decoding: try #require(shortMessage(try decode(out))).shortMessage.readableBytesView, as: UTF8.self)
        }
        let result = try filled(AnonymizeOptions())
        #expect(result.hasPrefix("__MMS__: "))
        #expect(result.contains("\nsubj:"))
        #expect(result.contains("\n~~~\n"))
        #expect(!result.contains("Aliya") && !result.contains("private note") && !result.contains("Greeting"))
        let commented = try filled(AnonymizeOptions(keepComments: true))
        #expect(commented.hasSuffix("\n~~~\nprivate note"))
        let unmarked = try filled(AnonymizeOptions(keepMarkers: false))
        #expect(!unmarked.hasPrefix("__MMS__"))
        // GSM 03.38: `_` is 0x11.
        let gsm = GSM0338.encode("__HLR__")!
        let out = anonymize(Bytes.shortMessage(message: gsm))
        #expect(Array(try #require(shortMessage(try decode(out))).shortMessage.readableBytesView) == gsm)
    }

    @Test func aBodyThatDoesNotDecodeIsZeroedAndItsHeaderKept() throws {
        var b = Bytes()
        b.c("")
        b.u8(5)
        b.u8(0)
        b.raw(Array("SMSCKZ77012345678".utf8))  // no NUL: the body ends inside source_addr
        let original = b.pdu(4)
        let out = anonymize(original)
        #expect(out.count == original.count)
        #expect(Array(out.prefix(16)) == Array(original.prefix(16)))
        #expect(out.dropFirst(16).allSatisfy { $0 == 0 })
    }

    @Test func theOriginalsOfWhatIsReplacedAreCollectedForTheCheck() {
        let secrets = SecretSet()
        var anonymizer = PDUAnonymizer(key: Self.key, options: AnonymizeOptions())
        anonymizer.secrets = secrets
        var out: [UInt8] = []
        let bytes = Bytes.shortMessage(message: Array("Meet me at the station".utf8))
        bytes.withUnsafeBytes { anonymizer.anonymize($0, into: &out) }
        #expect(secrets.count == 3)
        var scanner = LeakScanner(secrets)
        bytes.withUnsafeBytes { scanner.scan($0) }
        scanner.finish()
        #expect(scanner.leakCount >= 3)
        var clean = LeakScanner(secrets)
        out.withUnsafeBytes { clean.scan($0) }
        clean.finish()
        #expect(clean.leakCount == 0)
    }

    /// A number leaks where it stands on its own, as it is or as UCS-2; inside a longer run of digits (another
    /// address's pseudonym) it is chance, not a leak.
    @Test func aNumberIsFoundOnItsOwnNotInsideALongerNumber() {
        let secrets = SecretSet()
        Array("77011234567".utf8).withUnsafeBytes { secrets.add($0, wide: false) }
        func leaks(_ text: [UInt8]) -> Int {
            var scanner = LeakScanner(secrets)
            scanner.scan(text)
            scanner.finish()
            return scanner.leakCount
        }
        func wide(_ text: String) -> [UInt8] { text.utf8.flatMap { [0, $0] } }
        #expect(leaks(Array("to 77011234567.".utf8)) == 1)
        #expect(leaks(Array("77011234567".utf8)) == 1)
        #expect(leaks([0x00, 0x01] + Array("77011234567".utf8) + [0x00]) == 1)
        #expect(leaks(Array("3773656277011234567".utf8)) == 0)
        #expect(leaks(Array("7701123456790".utf8)) == 0)
        #expect(leaks(wide("to 77011234567.")) == 1)
        #expect(leaks(wide("4477011234567")) == 0)
        #expect(leaks(wide("770112345670")) == 0)
        // Its hexadecimal text on its own, and inside the hexadecimal text of a longer number.
        let hex = Array("77011234567".utf8).map { String($0, radix: 16) }.joined()
        #expect(leaks(Array("=\(hex);".utf8)) == 1)
        #expect(leaks(Array("39\(hex)".utf8)) == 0)
        // Not a number: found wherever it is.
        let words = SecretSet()
        Array("esme001".utf8).withUnsafeBytes { words.add($0, wide: false) }
        var scanner = LeakScanner(words)
        scanner.scan(Array("12esme00123".utf8))
        scanner.finish()
        #expect(scanner.leakCount == 1)
    }
}

extension Array where Element == UInt8 {
    func windowsContain(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

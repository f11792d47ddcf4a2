// `decode --format jsonl` renders most PDUs straight from their bytes. Whatever it renders that way must be the
// line the general path (decode the PDU, then write its values) gives, byte for byte: on every PDU of the bundled
// and fixture captures, on crafted PDUs that touch each rule (text encodings, UDH, receipts, TLV kinds, field
// limits, time fields), and on many thousands of mutations of them.

import Capture
import Foundation
import Ingest
import NIOCore
import Reassembly
import Report
import SMPP
import TestSupport
import Testing
import Timeline

@Suite("Rendering from the wire")
struct WireRenderingTests {
    struct Outcome {
        var handled = 0
        var declined = 0
    }

    /// Renders `item` both ways; when the wire path renders it, the bytes must be the general path's.
    static func check(_ item: TimelinePDU, options: RenderOptions = RenderOptions(), _ outcome: inout Outcome) {
        var names = DecodeJSON.Names()
        check(item, options: options, names: &names, &outcome)
    }

    /// As above, with names (and the last timestamp's seconds) remembered from the PDUs rendered before.
    static func check(
        _ item: TimelinePDU, options: RenderOptions = RenderOptions(), names: inout DecodeJSON.Names,
        _ outcome: inout Outcome
    ) {
        var general = JSONWriter()
        DecodeJSON.write(item, into: &general, options: options)
        var wire = JSONWriter()
        guard DecodeJSON.writeFromWire(item, into: &wire, names: &names, options: options) else {
            let leftBehind = wire.count
            #expect(leftBehind == 0, "a declined PDU left output behind: \(hex(item.raw))")
            outcome.declined += 1
            return
        }
        outcome.handled += 1
        // Compared as text, so that a difference reads as two lines of JSON.
        let wireLine = String(decoding: wire.bytes, as: UTF8.self)
        let generalLine = String(decoding: general.bytes, as: UTF8.self)
        #expect(wireLine == generalLine, "\(hex(item.raw))")
    }

    static func hex(_ buffer: ByteBuffer) -> String {
        buffer.readableBytesView.map { String(format: "%02x", $0) }.joined()
    }

    static func item(_ bytes: [UInt8], isoDefault: Bool = false, timestamp: Int64 = 1_709_287_200_123_456_000)
        -> TimelinePDU?
    {
        let raw = ByteBuffer(bytes: bytes)
        guard let header = PDUHeader.peek(in: raw), let address = IPAddress("10.1.0.3") else { return nil }
        return TimelinePDU(
            session: 3, timestamp: Timestamp(nanoseconds: timestamp), frame: 42,
            source: Endpoint(address: address, port: 49_433), destination: Endpoint(address: address, port: 2_775),
            fromClient: true, streamOffset: 1_234, header: header, raw: raw, digest: PDUDigest(frame: raw), pdu: nil,
            isoDefault: isoDefault)
    }

    static func encoded(_ pdu: PDU) -> [UInt8] { Array(pdu.encoded.readableBytesView) }

    static func shortMessage(
        _ id: CommandID = .submitSM, status: CommandStatus = .ok, serviceType: String = "",
        source: String = "SHOP", destination: String = "77011234567", esmClass: UInt8 = 0, validity: String = "",
        schedule: String = "", dataCoding: UInt8 = 0, message: [UInt8], tlvs: [TLV] = []
    ) -> [UInt8] {
        encoded(
            PDU(
                id, status: status, sequence: 7,
                body: .shortMessage(
                    .init(
                        serviceType: serviceType, source: Address(ton: 5, address: source),
                        destination: Address(ton: 1, npi: 1, address: destination), esmClass: esmClass,
                        scheduleDeliveryTime: schedule, validityPeriod: validity, registeredDelivery: 1,
                        dataCoding: dataCoding, shortMessage: ByteBuffer(bytes: message))),
                tlvs: tlvs))
    }

    static func ucs2(_ text: String) -> [UInt8] { MessageText.encode(text, dataCoding: 8) ?? [] }

    /// PDUs that touch each rule of the wire path, and some it leaves to the general path.
    static let crafted: [(name: String, bytes: [UInt8], isoDefault: Bool)] = {
        let receiptText = Array(
            "id:1086410B sub:001 dlvrd:001 submit date:2403011000 done date:2403011000 stat:DELIVRD err:000 text:Hi"
                .utf8)
        let receiptTLVs = [
            TLV(tag: .receiptedMessageID, cString: "1086410B"), TLV(tag: .messageState, integer: 2, width: 1),
            TLV(tag: .networkErrorCode, octets: [3, 0, 17]),
        ]
        let udh: [UInt8] = [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01]
        var cases: [(String, [UInt8], Bool)] = [
            ("plain text", shortMessage(message: Array("Hello, world 42".utf8)), false),
            (
                "GSM characters that are not ASCII",
                shortMessage(message: MessageText.encode("Price: 5$ @home [x] Ää €", dataCoding: 0) ?? []), false
            ),
            ("GSM escape at the end", shortMessage(message: [0x41, 0x1B]), false),
            ("octets above 0x7F in GSM", shortMessage(message: [0x41, 0xC8, 0x42]), false),
            (
                "quotes, backslashes, control characters",
                shortMessage(message: Array("a\"b\\c\r\nd\u{7F}".utf8) + [0x01, 0x1F]), false
            ),
            ("UCS-2", shortMessage(dataCoding: 8, message: ucs2("Привет, мир 😀")), false),
            ("UCS-2 of odd length", shortMessage(dataCoding: 8, message: ucs2("Жук") + [0x04]), false),
            ("UCS-2 lone surrogate", shortMessage(dataCoding: 8, message: [0xD8, 0x3D, 0x00, 0x41]), false),
            ("IA5", shortMessage(dataCoding: 1, message: Array("plain ascii {}[]".utf8)), false),
            ("Latin-1", shortMessage(dataCoding: 3, message: [0x63, 0x61, 0x66, 0xE9]), false),
            ("ISO default of SMSC.kz", shortMessage(message: [0x63, 0x61, 0x66, 0xE9, 0x40, 0x24]), true),
            ("ISO default, ASCII", shortMessage(message: Array("hello $ @".utf8)), true),
            ("binary", shortMessage(dataCoding: 4, message: [0x00, 0xFF, 0x10]), false),
            ("Cyrillic ISO-8859-5", shortMessage(dataCoding: 6, message: [0xB0, 0xB1, 0x20, 0x41]), false),
            ("empty message", shortMessage(message: []), false),
            ("UDH concatenation", shortMessage(esmClass: 0x40, message: udh + Array("part one".utf8)), false),
            ("UDH damaged", shortMessage(esmClass: 0x40, message: [0x09, 0x00]), false),
            (
                "sar TLVs",
                shortMessage(
                    message: Array("part two".utf8),
                    tlvs: [
                        TLV(tag: .sarMsgRefNum, integer: 300, width: 2),
                        TLV(tag: .sarTotalSegments, integer: 2, width: 1),
                        TLV(tag: .sarSegmentSeqnum, integer: 2, width: 1),
                    ]),
                false
            ),
            (
                "message_payload",
                shortMessage(message: [], tlvs: [TLV(tag: .messagePayload, octets: Array("from the payload".utf8))]),
                false
            ),
            (
                "message_payload beside a short message",
                shortMessage(message: Array("sm".utf8), tlvs: [TLV(tag: .messagePayload, octets: [0x41])]), false
            ),
            (
                "valid times",
                shortMessage(validity: "000001000000000R", schedule: "240301100000004+", message: Array("x".utf8)),
                false
            ),
            ("invalid time", shortMessage(validity: "tomorrow", message: Array("x".utf8)), false),
            ("service_type over its maximum", shortMessage(serviceType: "TOOLONG", message: Array("x".utf8)), false),
            (
                "address over its maximum",
                shortMessage(source: String(repeating: "9", count: 21), message: Array("x".utf8)), false
            ),
            ("UTF-8 address", shortMessage(source: "Жук", message: Array("x".utf8)), false),
            (
                "receipt with TLVs", shortMessage(.deliverSM, esmClass: 0x04, message: receiptText, tlvs: receiptTLVs),
                false
            ),
            ("receipt marked, no text", shortMessage(.deliverSM, esmClass: 0x04, message: []), false),
            ("unmarked receipt", shortMessage(.deliverSM, message: Array("ID:77 stat:UNDELIV err:001".utf8)), false),
            (
                "unmarked receipt-like text without stat",
                shortMessage(.deliverSM, message: Array("id:77 is my id".utf8)), false
            ),
            ("mobile-originated message", shortMessage(.deliverSM, message: Array("stop".utf8)), false),
            (
                "receipt in UCS-2",
                shortMessage(.deliverSM, esmClass: 0x04, dataCoding: 8, message: ucs2("id:5 stat:DELIVRD")), false
            ),
            (
                "receipt with HLR fields",
                shortMessage(
                    .deliverSM, esmClass: 0x04,
                    message: Array("id:9 stat:DELIVRD err:0 imsi:401770 net:Beeline+KZ cn:%D0%9A".utf8)),
                false
            ),
            (
                "TLV of a wrong length",
                shortMessage(message: Array("x".utf8), tlvs: [TLV(tag: .messageState, octets: [0, 2])]), false
            ),
            (
                "presence TLV, empty",
                shortMessage(message: Array("x".utf8), tlvs: [TLV(tag: TLVTag(0x130C), octets: [])]), false
            ),
            (
                "presence TLV, one byte",
                shortMessage(message: Array("x".utf8), tlvs: [TLV(tag: TLVTag(0x130C), octets: [1])]), false
            ),
            (
                "vendor TLV",
                shortMessage(message: Array("x".utf8), tlvs: [TLV(tag: TLVTag(0x1401), octets: [0xDE, 0xAD])]), false
            ),
            (
                "C-string TLV without its NUL",
                shortMessage(message: Array("x".utf8), tlvs: [TLV(tag: .receiptedMessageID, octets: [0x41, 0x42])]),
                false
            ),
            (
                "broadcast TLV",
                shortMessage(message: Array("x".utf8), tlvs: [TLV(tag: .broadcastContentType, octets: [0, 0, 1])]),
                false
            ),
            ("submit_sm_resp", encoded(PDU(.submitSMResp, sequence: 7, body: .messageID("1086410B"))), false),
            (
                "submit_sm_resp, id not ASCII",
                encoded(PDU(.submitSMResp, sequence: 7, body: .messageID("идентификатор"))), false
            ),
            (
                "submit_sm_resp, id too long",
                encoded(PDU(.submitSMResp, sequence: 7, body: .messageID(String(repeating: "7", count: 70)))), false
            ),
            (
                "submit_sm_resp with a TLV",
                encoded(
                    PDU(
                        .submitSMResp, status: .throttled, sequence: 7, body: .messageID(""),
                        tlvs: [TLV(tag: .additionalStatusInfoText, cString: "slow down")])),
                false
            ),
            ("submit_sm_resp, error without body", encoded(PDU(.submitSMResp, status: .throttled, sequence: 7)), false),
            ("submit_sm_resp, ESME_ROK without body", encoded(PDU(.submitSMResp, sequence: 7)), false),
            ("deliver_sm_resp", encoded(PDU(.deliverSMResp, sequence: 7, body: .messageID(""))), false),
            ("data_sm_resp", encoded(PDU(.dataSMResp, sequence: 7, body: .messageID("d1"))), false),
            ("enquire_link", encoded(PDU(.enquireLink, sequence: 7)), false),
            ("enquire_link_resp", encoded(PDU(.enquireLinkResp, sequence: 7)), false),
            ("unbind", encoded(PDU(.unbind, sequence: 7)), false),
            ("generic_nack", encoded(PDU(.genericNack, status: CommandStatus(0x03), sequence: 7)), false),
            ("unknown status", encoded(PDU(.enquireLinkResp, status: CommandStatus(0x4A1), sequence: 7)), false),
            ("unknown command", encoded(PDU(CommandID(0x0000_0777), sequence: 7)), false),
            (
                "bind",
                encoded(
                    PDU(
                        .bindTransmitter, sequence: 1,
                        body: .bind(.init(systemID: "esme", password: "secret", systemType: "MCON1")))),
                false
            ),
        ]
        // A submit_sm_resp whose command_length says more than there is.
        var short = encoded(PDU(.submitSMResp, sequence: 7, body: .messageID("1")))
        short[3] &+= 4
        cases.append(("command_length past the end", short, false))
        return cases
    }()

    @Test func everyPDUOfTheCapturesRendersTheSameFromTheWire() throws {
        let root = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
        let captures = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Captures").path)
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
            .map { root.appendingPathComponent("Captures").appendingPathComponent($0).path }
        let fixtures =
            [
                "generated/clean_ethernet.pcap", "generated/clean_sll.pcapng", "generated/stress_ethernet.pcapng",
                "generated/stress_sll.pcap",
            ].map(Fixtures.path) + Fixtures.referenceCaptures.map { Fixtures.path("reference/" + $0) }
        #expect(captures.count >= 3)
        for path in captures + fixtures {
            var outcome = Outcome()
            var names = DecodeJSON.Names()
            try CaptureIngest(source: try PacketSource.open(path: path)).run { event in
                guard case .pdu(let item) = event else { return }
                Self.check(item, names: &names, &outcome)
                Self.check(item, options: RenderOptions(showSecrets: true), &outcome)
            }
            // Nearly all traffic is submits, delivers, their responses and enquire_links.
            #expect(outcome.handled > 0 && outcome.handled >= outcome.declined, "\(path): \(outcome)")
        }
    }

    @Test func craftedPDUsRenderTheSameOrAreLeftToTheGeneralPath() throws {
        var outcome = Outcome()
        var declined: [String] = []
        for (name, bytes, isoDefault) in Self.crafted {
            let item = try #require(Self.item(bytes, isoDefault: isoDefault), "\(name)")
            let before = outcome.declined
            Self.check(item, &outcome)
            if outcome.declined > before { declined.append(name) }
        }
        // What the decoder reports, and what only the general path writes, is left to it; the rest is rendered.
        #expect(
            declined.sorted()
                == [
                    "TLV of a wrong length", "address over its maximum", "bind", "broadcast TLV",
                    "command_length past the end", "invalid time", "service_type over its maximum",
                    "submit_sm_resp, ESME_ROK without body", "submit_sm_resp, id too long", "unknown command",
                ].sorted())
    }

    @Test func timestampsAreWrittenAsTheirDescription() throws {
        var random = SplitMix64(seed: 0x7157)
        var values: [Int64] = [0, 1, 999, 1_000, 999_999_999, 1_000_000_000, -1, -1_000, -1_500_000_000, .max, .min]
        for _ in 0..<2_000 { values.append(Int64(bitPattern: random.next()) >> Int64(random.next() % 40)) }
        // Neighbours within one second, rendered in a row, share the seconds already written.
        for _ in 0..<500 { values.append(1_709_287_200_000_000_000 + Int64(random.next() % 3_000_000_000)) }
        var names = DecodeJSON.Names()
        var outcome = Outcome()
        for value in values {
            guard let item = Self.item(Self.encoded(PDU(.enquireLink, sequence: 1)), timestamp: value) else { continue }
            Self.check(item, names: &names, &outcome)
        }
        #expect(outcome.handled == values.count)
    }

    @Test func mutationsRenderTheSameOrAreLeftToTheGeneralPath() throws {
        var random = SplitMix64(seed: 0x31E0)
        var outcome = Outcome()
        for (_, seed, isoDefault) in Self.crafted where seed.count > PDUHeader.size {
            for _ in 0..<1_500 {
                var bytes = seed
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    // Mostly in the body, where the rules are; the header's id, status and length now and then.
                    let bodyLength = UInt64(bytes.count - 16)
                    let position =
                        random.next() % 8 == 0 || bodyLength == 0
                        ? Int(random.next() % 16) : 16 + Int(random.next() % bodyLength)
                    switch random.next() % 4 {
                    case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes[position] ^= 1 << UInt8(random.next() % 8)
                    case 2: bytes[position] = [0x00, 0x1B, 0x40, 0x80, 0xFF, 0x3A, 0x20][Int(random.next() % 7)]
                    default:
                        if bytes.count > 17 { bytes.removeLast(Int(random.next() % 3)) }
                    }
                }
                // Keep command_length true most of the time, so that the mutation is a candidate for the wire path.
                if random.next() % 4 != 0 {
                    let length = UInt32(bytes.count)
                    bytes[0] = UInt8(length >> 24)
                    bytes[1] = UInt8(length >> 16 & 0xFF)
                    bytes[2] = UInt8(length >> 8 & 0xFF)
                    bytes[3] = UInt8(length & 0xFF)
                }
                guard let item = Self.item(bytes, isoDefault: isoDefault) else { continue }
                Self.check(item, &outcome)
            }
        }
        #expect(outcome.handled > 10_000 && outcome.declined > 1_000, "\(outcome)")
    }
}

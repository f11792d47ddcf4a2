// The framer fed one byte at a time and in bursts, and malformed PDUs, each with its own diagnostic.

import NIOCore
import SMPP
import TestSupport
import Testing

@Suite("Framing")
struct FramingTests {
    /// A stream of real PDUs of several operations, back to back.
    static let stream: [[UInt8]] = operationCases.map(\.wire)

    private func frames(feeding chunks: [[UInt8]], framer: SMPPFramer = SMPPFramer()) -> [[UInt8]] {
        var buffer = ByteBuffer()
        var out: [[UInt8]] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            loop: while true {
                switch framer.step(&buffer) {
                case .frame(let frame): out.append(Array(frame.readableBytesView))
                case .needMoreData: break loop
                case .invalid(let error): Issue.record("unexpected \(error)"); break loop
                }
            }
        }
        #expect(buffer.readableBytes == 0)
        return out
    }

    @Test func oneByteAtATime() {
        let all = Self.stream.flatMap { $0 }
        #expect(frames(feeding: all.map { [$0] }) == Self.stream)
    }

    @Test(arguments: [2, 3, 7, 15, 16, 17, 64, 1000])
    func inBursts(size: Int) {
        let all = Self.stream.flatMap { $0 }
        let chunks = stride(from: 0, to: all.count, by: size).map { Array(all[$0..<min($0 + size, all.count)]) }
        #expect(frames(feeding: chunks) == Self.stream)
    }

    @Test func randomBurstsDecodeToTheSamePDUs() throws {
        var generator = SplitMix64(seed: 42)
        let all = Self.stream.flatMap { $0 }
        for _ in 0..<200 {
            var chunks: [[UInt8]] = []
            var index = 0
            while index < all.count {
                let size = Int(generator.next() % 90) + 1
                chunks.append(Array(all[index..<min(index + size, all.count)]))
                index += size
            }
            #expect(frames(feeding: chunks) == Self.stream)
        }
    }

    @Test func reportsMissingBytes() {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 40, 0, 0, 0, 4])
        guard case .needMoreData(let missing) = SMPPFramer().step(&buffer) else {
            Issue.record("expected needMoreData")
            return
        }
        #expect(missing == 32)
        var short = ByteBuffer(bytes: [0, 0])
        guard case .needMoreData(let missingHeader) = SMPPFramer().step(&short) else {
            Issue.record("expected needMoreData")
            return
        }
        #expect(missingHeader == 2)
    }

    @Test func rejectsLengthBelowTheHeader() {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 15] + [UInt8](repeating: 0, count: 20))
        guard case .invalid(let error) = SMPPFramer().step(&buffer) else {
            Issue.record("expected invalid")
            return
        }
        #expect(error.code == .lengthTooSmall)
        #expect(buffer.readableBytes == 24, "nothing consumed")
    }

    @Test func rejectsLengthOverTheMaximum() {
        var buffer = ByteBuffer(bytes: [0, 0, 0x10, 0x01, 0, 0, 0, 4])
        guard case .invalid(let error) = SMPPFramer(maximumLength: 4096).step(&buffer) else {
            Issue.record("expected invalid")
            return
        }
        #expect(error.code == .lengthTooLarge)
        #expect(error.description.contains("4096"))
    }

    @Test func nioDecoderFramesAndRejects() throws {
        var decoder = SMPPFrameDecoder()
        var buffer = ByteBuffer(bytes: Self.stream[0] + Self.stream[1].prefix(5))
        #expect(try decoder.decode(buffer: &buffer).map { Array($0.readableBytesView) } == Self.stream[0])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        var bad = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: SMPPDecodingError.self) { try decoder.decode(buffer: &bad) }
    }
}

@Suite("Malformed PDUs")
struct MalformedTests {
    @Test func shortHeader() {
        let error = #expect(throws: SMPPDecodingError.self) { try decode([0, 0, 0, 16, 0, 0]) }
        #expect(error?.code == .shortHeader)
    }

    @Test func commandLengthBelowSixteenInADecodedFrame() throws {
        let pdu = try decode(bytes(hex: "0000000a 00000015 00000000 00000001"))
        #expect(pdu.diagnostics.first?.code == .lengthTooSmall)
    }

    @Test func missingNulInCString() throws {
        var b = WireBuilder()
        b.octets(Array("no-terminator".utf8))
        let pdu = try decode(b.pdu(id: 0x8000_0004, sequence: 1))
        #expect(pdu.diagnostics.map(\.code) == [.unterminatedCString])
        #expect(pdu.diagnostics[0].field == "message_id")
        #expect(pdu.diagnostics[0].offset == 16)
        #expect(pdu.body == .undecodable(ByteBuffer(bytes: Array("no-terminator".utf8))))
        #expect(Array(pdu.encoded.readableBytesView) == b.pdu(id: 0x8000_0004, sequence: 1))
    }

    @Test func cStringOverItsMaximumDecodesWithAWarning() throws {
        var b = WireBuilder()
        b.cstr("a-system-id-of-20-ch")
        b.cstr("pw"); b.cstr(""); b.u8(0x34); b.u8(0); b.u8(0); b.cstr("")
        let wire = b.pdu(id: 0x0000_0009, sequence: 1)
        let pdu = try decode(wire)
        #expect(pdu.diagnostics.map(\.code) == [.fieldTooLong])
        #expect(pdu.diagnostics[0].field == "system_id")
        #expect(fieldMap(pdu)["system_id"] == "a-system-id-of-20-ch")
        #expect(Array(pdu.encoded.readableBytesView) == wire)
    }

    @Test func smLengthPastTheEnd() throws {
        var b = WireBuilder()
        b.cstr(""); b.u8(0); b.u8(0); b.cstr("A"); b.u8(1); b.u8(1); b.cstr("7701")
        b.u8(0); b.u8(0); b.u8(0); b.cstr(""); b.cstr(""); b.u8(0); b.u8(0); b.u8(0); b.u8(0)
        b.u8(200); b.octets(Array("short".utf8))
        let pdu = try decode(b.pdu(id: 4, sequence: 1))
        #expect(pdu.diagnostics.map(\.code) == [.smLengthPastEnd])
        #expect(pdu.diagnostics[0].field == "sm_length")
        #expect(pdu.diagnostics[0].description.contains("sm_length 200"))
    }

    @Test func tlvLengthPastTheEnd() throws {
        var b = WireBuilder()
        b.cstr("m1")
        b.u16(0x0424); b.u16(300); b.octets([1, 2, 3])
        let wire = b.pdu(id: 0x8000_0103, sequence: 1)
        let pdu = try decode(wire)
        #expect(pdu.diagnostics.map(\.code) == [.tlvLengthPastEnd])
        #expect(pdu.diagnostics[0].offset == 19)
        #expect(pdu.trailingBytes?.readableBytes == 7)
        #expect(Array(pdu.encoded.readableBytesView) == wire)
    }

    @Test func trailingBytesAfterABodyWithoutOptionalPart() throws {
        let wire = bytes(hex: "00000013 00000015 00000000 00000001 aabbcc")
        let pdu = try decode(wire)
        #expect(pdu.diagnostics.map(\.code) == [.trailingBytes])
        #expect(Array(pdu.encoded.readableBytesView) == wire)
    }

    @Test func trailingBytesTooFewForATLV() throws {
        var b = WireBuilder()
        b.cstr("m1"); b.octets([0x02, 0x10])
        let wire = b.pdu(id: 0x8000_0004, sequence: 1)
        let pdu = try decode(wire)
        #expect(pdu.diagnostics.map(\.code) == [.trailingBytes])
        #expect(Array(pdu.encoded.readableBytesView) == wire)
    }

    @Test func tlvWithTheWrongLengthForItsType() throws {
        var b = WireBuilder()
        b.cstr("m1"); b.tlv(0x0427, [0, 2])
        let pdu = try decode(b.pdu(id: 0x8000_0103, sequence: 1))
        #expect(pdu.diagnostics.map(\.code) == [.tlvBadLength])
        #expect(pdu.tlvs[0].value == .octets([0, 2]))
    }

    @Test func invalidTimeIsKeptRawWithADiagnostic() throws {
        var b = WireBuilder()
        b.cstr("m1"); b.cstr("2611260834"); b.u8(2); b.u8(0)
        let pdu = try decode(b.pdu(id: 0x8000_0003, sequence: 1))
        #expect(pdu.diagnostics.map(\.code) == [.invalidTime])
        #expect(fieldMap(pdu)["final_date"] == "2611260834")
    }

    @Test func okResponseWithoutItsBody() throws {
        let pdu = try decode(bytes(hex: "00000010 80000004 00000000 00000001"))
        #expect(pdu.diagnostics.map(\.code) == [.missingBody])
        let throttled = try decode(bytes(hex: "00000010 80000004 00000058 00000001"))
        #expect(throttled.diagnostics.isEmpty)
    }

    @Test func frameShorterThanItsCommandLength() throws {
        let pdu = try decode(bytes(hex: "00000030 00000015 00000000 00000001"))
        #expect(pdu.diagnostics.first?.code == .fieldPastEnd)
    }
}

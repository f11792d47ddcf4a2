// A hand-built TCP conversation through the capture anonymizer: a bind split in two with an acknowledgement between
// its halves, a submit whose halves come in reverse order and once more, a UDP packet. The output keeps every
// packet at its time, moves sequence and acknowledgement numbers by the bytes the blanked password took, and
// decodes to the same PDUs.

import Anonymize
import Capture
import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

@Suite("Stream anonymizer")
struct StreamTests {
    static let esme: UInt32 = 0x0A00_0001
    static let smsc: UInt32 = 0x0A00_0002

    func segment(
        fromESME: Bool, sequence: UInt32, ack: UInt32, flags: UInt8 = Flag.ack | Flag.psh, payload: [UInt8] = [],
        port: UInt16 = 40_000
    ) -> [UInt8] {
        let tcp = PacketBuilder.tcp(
            sourcePort: fromESME ? port : 3_700, destinationPort: fromESME ? 3_700 : port, sequence: sequence,
            acknowledgment: ack, flags: flags, payload: payload)
        return PacketBuilder.ethernet(
            payload: PacketBuilder.ipv4(
                source: fromESME ? Self.esme : Self.smsc, destination: fromESME ? Self.smsc : Self.esme, payload: tcp))
    }

    /// The packets of the output, by the anonymizer over a capture of `packets`.
    func anonymized(_ packets: [[UInt8]], limits: AnonymizeLimits = AnonymizeLimits()) throws -> (
        packets: [AnonymizedPacket], report: AnonymizeReport
    ) {
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(
                linkType: 1,
                packets: packets.enumerated().map { TestPacket(seconds: 100 + UInt32($0.offset), data: $0.element) }))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try CaptureFileReader(path: path)
        let anonymizer = CaptureAnonymizer(
            key: AnonymizationKey(secret: Array("stream test key".utf8)), options: AnonymizeOptions(),
            mapIPAddresses: false, limits: limits)
        var out: [AnonymizedPacket] = []
        while let packet = try reader.next() { anonymizer.add(packet) { out.append($0) } }
        anonymizer.finish { out.append($0) }
        return (out, anonymizer.report)
    }

    func tcpNumbers(_ packet: AnonymizedPacket) -> (sequence: UInt32, ack: UInt32, payload: [UInt8]) {
        let b = packet.bytes
        let tcp = 14 + 20
        func word(_ at: Int) -> UInt32 {
            UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
        }
        let total = Int(b[16]) << 8 | Int(b[17])
        let payloadStart = tcp + Int(b[tcp + 12] >> 4) * 4
        return (word(tcp + 4), word(tcp + 8), Array(b[payloadStart..<(14 + total)]))
    }

    @Test func sequenceNumbersFollowTheBlankedPasswordAndThePDUsStayWhole() throws {
        var bind = Bytes()
        bind.c("acme")
        bind.c("secret12")
        bind.c("")
        bind.u8(0x34)
        bind.u8(0)
        bind.u8(0)
        bind.c("")
        let bindBytes = bind.pdu(0x09, sequence: 1)
        var response = Bytes()
        response.c("SMSC")
        let bindResponse = response.pdu(0x8000_0009, sequence: 1)
        let submit = Bytes.shortMessage(message: Array("Meet me at the station at noon".utf8))
        var submitResponseBody = Bytes()
        submitResponseBody.c("4F2A")
        let submitResponse = submitResponseBody.pdu(0x8000_0004)
        let e: UInt32 = 1_001  // the ESME's first data byte
        let s: UInt32 = 5_001
        let bindLength = UInt32(bindBytes.count)
        let submitStart = e + bindLength
        let half = submit.count / 2
        let packets: [[UInt8]] = [
            segment(fromESME: true, sequence: e - 1, ack: 0, flags: Flag.syn),
            segment(fromESME: false, sequence: s - 1, ack: e, flags: Flag.syn | Flag.ack),
            segment(fromESME: true, sequence: e, ack: s, flags: Flag.ack),
            segment(fromESME: true, sequence: e, ack: s, payload: Array(bindBytes.prefix(20))),
            segment(fromESME: false, sequence: s, ack: e + 20, flags: Flag.ack),
            segment(fromESME: true, sequence: e + 20, ack: s, payload: Array(bindBytes.dropFirst(20))),
            segment(fromESME: false, sequence: s, ack: submitStart, payload: bindResponse),
            // The submit's second half comes first, then the first half, then the first half again.
            segment(
                fromESME: true, sequence: submitStart + UInt32(half), ack: s + UInt32(bindResponse.count),
                payload: Array(submit.dropFirst(half))),
            segment(
                fromESME: true, sequence: submitStart, ack: s + UInt32(bindResponse.count),
                payload: Array(submit.prefix(half))),
            segment(
                fromESME: true, sequence: submitStart, ack: s + UInt32(bindResponse.count),
                payload: Array(submit.prefix(half))),
            segment(
                fromESME: false, sequence: s + UInt32(bindResponse.count), ack: submitStart + UInt32(submit.count),
                payload: submitResponse),
            PacketBuilder.ethernet(
                payload: PacketBuilder.ipv4(
                    source: Self.esme, destination: Self.smsc, proto: 17,
                    payload: [0x30, 0x39, 0x00, 0x35, 0x00, 0x13, 0x00, 0x00] + Array("77012345678".utf8))),
        ]
        let (out, report) = try anonymized(packets)
        #expect(out.count == packets.count)
        #expect(out.map(\.timestamp.nanoseconds) == (0..<packets.count).map { Int64(100 + $0) * 1_000_000_000 })
        let removed: UInt32 = 8  // "secret12"
        let numbers = out.prefix(11).map(tcpNumbers)
        #expect(numbers[0].sequence == e - 1 && numbers[1].sequence == s - 1 && numbers[1].ack == e)
        // The bind's bytes removed are taken from its start: its first segment shrinks, its last keeps its end.
        #expect(numbers[3].sequence == e && numbers[3].payload.count == 20 - Int(removed))
        #expect(numbers[4].ack == e + 20 - removed)
        #expect(numbers[5].sequence == e + 20 - removed)
        #expect(numbers[6].ack == submitStart - removed)
        #expect(numbers[7].sequence == submitStart - removed + UInt32(half))
        #expect(numbers[8].sequence == submitStart - removed && numbers[9].payload == numbers[8].payload)
        #expect(numbers[10].ack == submitStart - removed + UInt32(submit.count))
        #expect(numbers[6].payload.count == bindResponse.count)
        // The ESME's bytes, in sequence order, are the anonymized PDUs, whole.
        let stream = numbers[3].payload + numbers[5].payload + numbers[8].payload + numbers[7].payload
        let bindOut = try PDU.decode(ByteBuffer(bytes: Array(stream.prefix(bindBytes.count - Int(removed)))))
        guard case .bind(let decodedBind) = bindOut.body else {
            Issue.record("no bind")
            return
        }
        #expect(decodedBind.password.isEmpty && decodedBind.systemID.count == 4 && decodedBind.systemID != "acme")
        let submitOut = try PDU.decode(ByteBuffer(bytes: Array(stream.dropFirst(bindBytes.count - Int(removed)))))
        #expect(submitOut.commandID == .submitSM && submitOut.diagnostics.isEmpty)
        #expect(!stream.windowsContain(Array("station".utf8)) && !stream.windowsContain(Array("77012345678".utf8)))
        // The UDP payload is zeroed behind its header.
        let udp = out[11].bytes
        #expect(udp.suffix(11).allSatisfy { $0 == 0 })
        #expect(report.otherPayloadsZeroed == 1 && report.fields.passwords == 1)
    }

    @Test func bytesThatNeverComeAreZeroedAndTheStreamResumes() throws {
        let first = Bytes.shortMessage(message: Array("first message text".utf8))
        let second = Bytes.shortMessage(message: Array("second message text".utf8))
        let third = Bytes.shortMessage(message: Array("third message text".utf8))
        let e: UInt32 = 1
        // The capture starts mid-stream (no SYN) with what is not SMPP, and loses the middle of the second submit.
        let garbage = Array("GET / HTTP/1.1\r\nHost: 77012345678\r\n".utf8)
        var offset = e
        func next(_ payload: [UInt8], skipping: Int = 0) -> [UInt8] {
            defer { offset += UInt32(payload.count + skipping) }
            return segment(fromESME: true, sequence: offset, ack: 1, payload: payload)
        }
        let packets: [[UInt8]] = [
            next(garbage), next(first), next(Array(second.prefix(10)), skipping: second.count - 10), next(third),
        ]
        let (out, report) = try anonymized(packets)
        #expect(out.count == 4)
        let payloads = out.map { tcpNumbers($0).payload }
        #expect(payloads[0].allSatisfy { $0 == 0 })
        for index in [1, 3] {
            let decoded = try PDU.decode(ByteBuffer(bytes: payloads[index]))
            #expect(decoded.commandID == .submitSM && decoded.diagnostics.isEmpty)
        }
        // The cut submit keeps what it has of its header (length, command, status, sequence): no personal data.
        #expect(payloads[2] == Array(second.prefix(10)))
        #expect(report.streamBytesZeroed == garbage.count)
        #expect(report.fields.pdus == 2)
    }

    @Test func aNewConnectionOnTheSamePortsStartsAfresh() throws {
        let submit = Bytes.shortMessage(message: Array("first connection text".utf8))
        let again = Bytes.shortMessage(message: Array("second connection text".utf8))
        var bind = Bytes()
        bind.c("acme")
        bind.c("password")
        bind.c("")
        bind.u8(0x34)
        bind.u8(0)
        bind.u8(0)
        bind.c("")
        let bindBytes = bind.pdu(0x09, sequence: 1)
        let packets: [[UInt8]] = [
            segment(fromESME: true, sequence: 99, ack: 0, flags: Flag.syn),
            segment(fromESME: false, sequence: 499, ack: 100, flags: Flag.syn | Flag.ack),
            segment(fromESME: true, sequence: 100, ack: 500, payload: bindBytes + submit),
            segment(
                fromESME: true, sequence: 100 + UInt32(bindBytes.count + submit.count), ack: 500,
                flags: Flag.fin | Flag.ack),
            // The same ports again, other initial sequence numbers.
            segment(fromESME: true, sequence: 7_999, ack: 0, flags: Flag.syn),
            segment(fromESME: false, sequence: 90_000, ack: 8_000, flags: Flag.syn | Flag.ack),
            segment(fromESME: true, sequence: 8_000, ack: 90_001, payload: again),
        ]
        let (out, report) = try anonymized(packets)
        #expect(out.count == packets.count)
        let numbers = out.map(tcpNumbers)
        // The second connection's numbers are its own, untouched by the first one's blanked password.
        #expect(numbers[4].sequence == 7_999 && numbers[5].sequence == 90_000 && numbers[5].ack == 8_000)
        #expect(numbers[6].sequence == 8_000 && numbers[6].ack == 90_001)
        #expect(numbers[3].sequence == 100 + UInt32(bindBytes.count + submit.count) - 8)
        let second = try PDU.decode(ByteBuffer(bytes: numbers[6].payload))
        #expect(second.commandID == .submitSM && second.diagnostics.isEmpty && numbers[6].payload.count == again.count)
        #expect(report.connections == 2 && report.fields.pdus == 3)
    }

    @Test func packetsWaitingBehindAnotherConnectionKeepTheirBytes() throws {
        // Connection A loses a segment: its next packet waits (for bytes that never come) at the head of the queue,
        // and connection B's packets wait behind it, while B's stream goes on far past the bytes kept per direction.
        let submit = Bytes.shortMessage(message: Array("a message on connection B".utf8))
        let first = Bytes.shortMessage(message: Array("connection A".utf8))
        var packets: [[UInt8]] = [
            segment(fromESME: true, sequence: 1, ack: 1, payload: Array(first.prefix(20)), port: 41_000)
        ]
        // The rest of A's submit is missing; B sends 60 submits.
        for n in 0..<60 {
            packets.append(segment(fromESME: true, sequence: 1 + UInt32(n * submit.count), ack: 1, payload: submit))
        }
        var limits = AnonymizeLimits()
        limits.keptBytesPerDirection = 256
        let (out, report) = try anonymized(packets, limits: limits)
        #expect(out.count == packets.count)
        #expect(report.retransmittedBytesZeroed == 0)
        for packet in out.dropFirst() {
            let decoded = try PDU.decode(ByteBuffer(bytes: tcpNumbers(packet).payload))
            #expect(decoded.commandID == .submitSM && decoded.diagnostics.isEmpty)
        }
    }

    @Test func aGapOfGigabytesCostsNoMemoryAndKeepsTheBytesWaitingPacketsNeed() throws {
        // B's sequence numbers jump by 1.5 GB (bytes the capture never had) while B's first submit waits behind a
        // packet of A that waits for bytes that never come; the SMSC acknowledges past the gap.
        let submit = Bytes.shortMessage(message: Array("a message on connection B".utf8))
        let first = Bytes.shortMessage(message: Array("connection A".utf8))
        let jump: UInt32 = 1_500_000_000
        let length = UInt32(submit.count)
        let after = 1 + length + jump
        let packets: [[UInt8]] = [
            segment(fromESME: true, sequence: 1, ack: 1, payload: Array(first.prefix(20)), port: 41_000),
            segment(fromESME: true, sequence: 1, ack: 1, payload: submit),
            segment(fromESME: true, sequence: after, ack: 1, payload: submit),
            segment(fromESME: false, sequence: 1, ack: after + length, flags: Flag.ack),
            segment(fromESME: true, sequence: after + length, ack: 1, payload: submit),
        ]
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakBefore = usage.ru_maxrss
        let (out, report) = try anonymized(packets)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        // ru_maxrss is in KiB: the gap was not written out in memory.
        #expect(usage.ru_maxrss - peakBefore < 256 << 10)
        #expect(out.count == packets.count)
        #expect(report.retransmittedBytesZeroed == 0)
        let numbers = out.map(tcpNumbers)
        for index in [1, 2, 4] {
            let decoded = try PDU.decode(ByteBuffer(bytes: numbers[index].payload))
            #expect(decoded.commandID == .submitSM && decoded.diagnostics.isEmpty)
            #expect(numbers[index].payload != submit)
        }
        #expect(numbers[2].sequence == after && numbers[4].sequence == after + length)
        #expect(numbers[3].ack == after + length)
    }
}

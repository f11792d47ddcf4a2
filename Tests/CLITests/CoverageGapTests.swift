// Behaviours nothing ran before: pcapng's obsolete packet blocks, Hebrew text, the latency-bound window verdict,
// and a replay of several sessions at once — each on bytes built here or against a peer nobody here wrote.

import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

@Suite("Coverage gaps", .serialized, .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct CoverageGapTests {
    /// An obsolete packet block (type 2: a 16-bit interface, a drop count, then as an enhanced one) is read.
    @Test func obsoletePcapngPacketBlocksAreRead() throws {
        let scratch = try Scratch()
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        var bytes: [UInt8] = []
        func block(_ type: UInt32, _ body: [UInt8]) {
            var padded = body
            while padded.count % 4 != 0 { padded.append(0) }
            bytes.le32(type)
            bytes.le32(UInt32(12 + padded.count))
            bytes += padded
            bytes.le32(UInt32(12 + padded.count))
        }
        var section: [UInt8] = []
        section.le32(0x1A2B_3C4D)
        section.le16(1)
        section.le16(0)
        section.le64(UInt64.max)
        block(0x0A0D_0D0A, section)
        var interface: [UInt8] = []
        interface.le16(1)
        interface.le16(0)
        interface.le32(262_144)
        block(1, interface)
        for packet in conversation.packets {
            let units = UInt64(packet.seconds) * 1_000_000 + UInt64(packet.nanoseconds / 1_000)
            var body: [UInt8] = []
            body.le16(0)  // interface
            body.le16(0)  // drops
            body.le32(UInt32(units >> 32))
            body.le32(UInt32(units & 0xFFFF_FFFF))
            body.le32(UInt32(packet.data.count))
            body.le32(UInt32(packet.data.count))
            block(2, body + packet.data)
        }
        let path = scratch.path("obsolete.pcapng")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let pdus = try decodedPDUs([path])
        #expect(pdus.map { $0["command"] as? String } == ["bind_transceiver", "bind_transceiver_resp"])
        #expect((pdus.first?["ts"] as? Double).map { Int($0) } == Int(conversation.packets[0].seconds))
    }

    /// data_coding 7 is ISO-8859-8: Hebrew letters come out as text.
    @Test func hebrewTextIsDecoded() throws {
        let scratch = try Scratch()
        // "שלום" in ISO-8859-8: shin 0xF9, lamed 0xEC, vav 0xE5, final mem 0xED.
        let octets: [UInt8] = [0xF9, 0xEC, 0xE5, 0xED, 0x20, 0x31]
        let submit = PDU(
            .submitSM, sequence: 2,
            body: .shortMessage(
                .init(
                    source: Address(ton: 5, address: "SHOP"),
                    destination: Address(ton: 1, npi: 1, address: "972501234567"),
                    dataCoding: 7, shortMessage: ByteBuffer(bytes: octets))))
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bytes(submit), from: .client)
        let path = scratch.path("hebrew.pcap")
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets)).write(
            to: URL(fileURLWithPath: path))
        let pdus = try decodedPDUs([path])
        #expect(pdus.last?["text"] as? String == "שלום 1")
        #expect(pdus.last?["data_coding"] as? Int == 7)
        #expect(try smppscope(["decode", path]).output.contains("שלום 1"))
    }

    /// One request at a time, each answered before the next is sent: the verdict is latency-bound.
    @Test func oneRequestAtATimeIsLatencyBound() throws {
        let scratch = try Scratch()
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        for index in 0..<12 {
            conversation.wait(microseconds: 1_000)
            conversation.send(Sample.submit(sequence: UInt32(2 + index), text: "one at a time \(index)"), from: .client)
            conversation.wait(microseconds: 20_000)
            conversation.send(Sample.submitResponse(sequence: UInt32(2 + index), id: "L\(index)"), from: .server)
        }
        let path = scratch.path("serial.pcap")
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets)).write(
            to: URL(fileURLWithPath: path))
        let run = try smppscope(["analyze", path, "--format", "json"])
        let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        let session = (report?["sessions"] as? [[String: Any]])?.first
        #expect(session?["verdict"] as? String == "latency-bound")
        #expect((session?["verdict_reason"] as? String)?.contains("one request at a time") == true)
        #expect(try smppscope(["analyze", path]).output.contains("latency-bound"))
    }

    /// Two recorded sessions (two captures in one store) replayed at once to Net::SMPP: one connection each, each
    /// carrying its own session's requests.
    @Test(.enabled(if: FaultPeers.perlNetSMPP && TShark.available, "needs Perl Net::SMPP and tshark"))
    func severalSessionsAreReplayedAtOnce() throws {
        let scratch = try Scratch()
        let store = scratch.path("store.sqlite")
        #expect(try smppscope(["import", Bundled.smpplib, Bundled.kannel, "--store", store]).status == 0)
        let server = try NetSMPPServer(scratch: scratch)
        let (run, json) = try replay(
            [
                "--store", store, "--target", "127.0.0.1:\(server.port)", "--system-id", "tester", "--fast", "--window",
                "10", "--receipt-wait", "0",
            ])
        #expect(run.status == 0, "\(run.errors)")
        #expect(json["sessions"] as? Int == 2)
        let expected = [
            try TShark.pdus(Bundled.smpplib).filter { $0.commandID < 0x8000_0000 && $0.commandID != 5 }.count,
            try TShark.pdus(Bundled.kannel, decodeAs: 3701).filter { $0.commandID < 0x8000_0000 && $0.commandID != 5 }
                .count,
        ]
        let log = waitForLog({ server.peerLog }) {
            $0.connections.count == 2 && $0.lines.filter { $0.hasSuffix("closed") }.count == 2
        }
        let counts = log.connections.values.map { framesRead($0.received).count }.sorted()
        #expect(counts == expected.sorted(), "each connection read its session's bind and requests")
    }
}

// Scripted TCP conversations: every way a stream can arrive, and what reassembly must make of it.

import Capture
import Reassembly
import TestSupport
import Testing

/// bind, bind_resp, then submits and their responses.
private func standardSession(_ conversation: inout TCPConversation, submits: Int = 3, clientSizes: [Int] = []) {
    conversation.send(Sample.bind(), from: .client, sizes: clientSizes)
    conversation.send(Sample.bindResponse(), from: .server)
    for index in 0..<submits {
        conversation.send(Sample.submit(sequence: UInt32(2 + index)), from: .client)
        conversation.send(Sample.submitResponse(sequence: UInt32(2 + index), id: "id\(index)"), from: .server)
    }
}

@Suite("Reassembly of scripted streams")
struct ScriptedStreamTests {
    @Test func splitOneByteAtATimeAndCoalesced() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        let bind = Sample.bind()
        conversation.send(bind, from: .client, sizes: [Int](repeating: 1, count: bind.count))
        conversation.send(Sample.bindResponse(), from: .server)
        let many = (2..<27).flatMap { Sample.submit(sequence: UInt32($0)) }
        conversation.send(many, from: .client)
        // Split inside command_length, inside the header and inside a C-string.
        conversation.send(
            Sample.submit(sequence: 27) + Sample.submit(sequence: 28), from: .client, sizes: [2, 9, 20, 3])
        let result = try run(packets: conversation.packets)
        #expect(
            result.commands == ["bind_transceiver", "bind_transceiver_resp"] + Array(repeating: "submit_sm", count: 27))
        #expect(result.pdus.map(\.sequence).suffix(27) == Array(2...28).map(UInt32.init))
        #expect(result.diagnostics.isEmpty)
        #expect(result.gaps.isEmpty)
        // The bind is completed by the packet that carried its last byte.
        #expect(result.pdus[0].frame == 3 + bind.count)
    }

    @Test func retransmissionsIdenticalAndOverlappingAreDropped() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        let first = Sample.submit(sequence: 2)
        let second = Sample.submit(sequence: 3)
        let start = conversation.clientSequence
        let packets = conversation.send(first + second, from: .client, sizes: [first.count], record: false)
        conversation.record(packets[0])
        conversation.record(packets[0])
        // An overlapping retransmission: the last 10 bytes of the first PDU and the first 20 of the second.
        let overlap = Array((first + second)[(first.count - 10)..<(first.count + 20)])
        conversation.record(
            conversation.packet(
                from: .client, sequence: start &+ UInt32(first.count - 10), flags: Flag.ack | Flag.psh, payload: overlap
            ))
        conversation.record(packets[1])
        conversation.record(packets[1])
        let result = try run(packets: conversation.packets)
        #expect(result.commands == ["bind_transceiver", "bind_transceiver_resp", "submit_sm", "submit_sm"])
        #expect(result.pdus.last?.bytes == second)
        #expect(result.gaps.isEmpty)
    }

    @Test func outOfOrderSegmentsAreReordered() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        let stream = (2..<6).flatMap { Sample.submit(sequence: UInt32($0)) }
        let packets = conversation.send(stream, from: .client, sizes: [30, 30, 30, 30, 30, 30], record: false)
        for index in [1, 0, 3, 4, 2] + Array(5..<packets.count) { conversation.record(packets[index]) }
        let result = try run(packets: conversation.packets)
        #expect(result.pdus.suffix(4).map(\.sequence) == [2, 3, 4, 5])
        #expect(result.gaps.isEmpty)
        #expect(result.diagnostics.isEmpty)
    }

    @Test func aLateSegmentReleasesManyWaitingPDUsWholeAndInOrder() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        // One PDU per segment; the first is late, so its arrival completes all 21 in one step.
        let submits = (2..<23).map { Sample.submit(sequence: UInt32($0)) }
        let packets = conversation.send(
            submits.flatMap { $0 }, from: .client, sizes: submits.map(\.count), record: false)
        for packet in packets.dropFirst() { conversation.record(packet) }
        conversation.record(packets[0])
        let result = try run(packets: conversation.packets)
        #expect(result.pdus.suffix(21).map(\.sequence) == Array(2..<23).map(UInt32.init))
        #expect(result.pdus.suffix(21).map(\.bytes) == submits)
        // Each PDU keeps the packet that carried its last byte: the late one for the first, its own for the rest.
        let frames = result.pdus.suffix(21).map(\.frame)
        #expect(Array(frames.dropFirst()) == Array(frames.dropFirst()).sorted())
        #expect(Set(frames).count == 21)
        #expect(frames.first == frames.max())
        #expect(result.gaps.isEmpty)
        #expect(result.diagnostics.isEmpty)
    }

    @Test func waitingPDUsReleasedTogetherOutgrowTheStreamBuffer() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        // 48 PDUs of ~300 bytes, one per segment, the first late: released in one step, they are framed while the
        // stream's buffer grows several times under them.
        let submits = (2..<50).map {
            Sample.submit(
                sequence: UInt32($0), text: String(repeating: Character(UnicodeScalar(UInt8(63 + $0))), count: 250))
        }
        let packets = conversation.send(
            submits.flatMap { $0 }, from: .client, sizes: submits.map(\.count), record: false)
        for packet in packets.dropFirst() { conversation.record(packet) }
        conversation.record(packets[0])
        // Then a PDU split over two segments, and one whole: framing goes on in the same buffer.
        let after = [Sample.submit(sequence: 50), Sample.submit(sequence: 51)]
        conversation.send(after[0] + after[1], from: .client, sizes: [40, after[0].count - 40 + after[1].count])
        let result = try run(packets: conversation.packets)
        #expect(result.pdus.suffix(50).map(\.bytes) == submits + after)
        #expect(result.gaps.isEmpty)
        #expect(result.diagnostics.isEmpty)
    }

    @Test func sequenceNumbersWrapAround() throws {
        var conversation = TCPConversation(clientSequence: UInt32.max - 100, serverSequence: UInt32.max - 5)
        conversation.handshake()
        standardSession(&conversation, submits: 5)
        let result = try run(packets: conversation.packets)
        #expect(result.pdus.count == 12)
        #expect(result.gaps.isEmpty)
        #expect(
            result.pdus.filter { $0.command == "submit_sm_resp" }.map { $0.pdu.messageID } == [
                "id0", "id1", "id2", "id3", "id4",
            ])
    }

    @Test func lostSegmentBecomesAGapAndFramingResumes() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        let stream = (2..<8).flatMap { Sample.submit(sequence: UInt32($0)) }
        let packets = conversation.send(stream, from: .client, sizes: [50, 100, 60, 70], record: false)
        conversation.record(packets[0])
        // packets[1] is missing from the capture.
        for packet in packets.dropFirst(2) { conversation.record(packet) }
        conversation.ack(from: .server)
        conversation.send(Sample.submit(sequence: 8), from: .client)
        let result = try run(packets: conversation.packets)
        #expect(result.gaps.count == 1)
        #expect(result.gaps.first?.size == 100)
        #expect(result.gaps.first?.streamOffset == UInt64(Sample.bind().count + 50))
        #expect(result.gaps.first?.reason == .missingSegments)
        // The PDUs wholly after the gap are found; those it touched are not.
        let submits = result.pdus.filter { $0.command == "submit_sm" }.map(\.sequence)
        let length = Sample.submit(sequence: 2).count
        let firstUntouched = (150 + length - 1) / length + 2
        #expect(submits == Array(UInt32(firstUntouched)...8))
    }

    @Test func gapInsideAPDUSkipsExactlyToTheNext() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        let submit = Sample.submit(sequence: 2, text: "a longer message so the PDU spans three segments")
        let packets = conversation.send(
            submit + Sample.submit(sequence: 3), from: .client, sizes: [20, 30], record: false)
        conversation.record(packets[0])
        conversation.record(packets[2])
        conversation.ack(from: .server)
        let result = try run(packets: conversation.packets)
        #expect(result.commands == ["bind_transceiver", "submit_sm"])
        #expect(result.pdus.last?.sequence == 3)
        #expect(result.gaps.map(\.size) == [30])
    }

    @Test func captureStartingMidStreamAndMidPDU() throws {
        var conversation = TCPConversation()
        standardSession(&conversation, submits: 4)
        // Drop the handshake-free start: the capture begins 10 bytes into the bind.
        var packets = conversation.packets
        let bind = Sample.bind()
        packets[0] = conversation.packet(
            from: .client, sequence: 1_000 + 10, flags: Flag.ack | Flag.psh, payload: Array(bind.dropFirst(10)))
        let result = try run(packets: packets)
        #expect(result.commands.first == "bind_transceiver_resp")
        #expect(result.pdus.count == 9)
        #expect(result.opened.count == 1)
        #expect(result.sessions[1]?.client?.port == 41_310, "roles from the PDUs")
        #expect(result.pdus.allSatisfy { $0.fromClient == ($0.source.hasSuffix(":41310")) })
    }

    @Test func rolesFromTheServerSendingFirst() throws {
        var conversation = TCPConversation(clientPort: 50_000, serverPort: 9_999)
        conversation.send(Sample.deliver(sequence: 1, text: "id:1 stat:DELIVRD"), from: .server)
        conversation.send(Sample.bytes(.init(.deliverSMResp, sequence: 1, body: .messageID(""))), from: .client)
        let result = try run(packets: conversation.packets)
        #expect(result.pdus.map(\.fromClient) == [false, true])
    }

    @Test func otherProtocolsProduceNoPDUs() throws {
        var http = TCPConversation(clientPort: 51_000, serverPort: 80)
        http.handshake()
        http.send(Array("GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8), from: .client)
        http.send(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8), from: .server)
        // A binary protocol with 4-byte length prefixes and small type codes, like SMPP's framing.
        var binary = TCPConversation(clientPort: 52_000, serverPort: 7_000, clientSequence: 9_000)
        binary.handshake()
        for index in 0..<30 {
            var message: [UInt8] = []
            message.be32(24)
            message.be32(UInt32(index % 6 + 1))
            message.be32(0)
            message.be32(UInt32(index))
            message += [0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04]
            binary.send(message, from: index % 2 == 0 ? .client : .server)
        }
        var smpp = TCPConversation(clientPort: 53_000, serverPort: 3_700)
        smpp.handshake()
        standardSession(&smpp, submits: 2)
        let packets = (http.packets + binary.packets + smpp.packets).sorted {
            ($0.seconds, $0.nanoseconds) < ($1.seconds, $1.nanoseconds)
        }
        let result = try run(packets: packets)
        #expect(result.opened.count == 1)
        #expect(result.pdus.count == 6)
        #expect(result.pdus.allSatisfy { $0.source.hasSuffix(":53000") || $0.source.hasSuffix(":3700") })
        #expect(result.diagnostics.isEmpty)
    }

    @Test func forcedPortDecodesVendorTraffic() throws {
        var conversation = TCPConversation(serverPort: 9_000)
        conversation.handshake()
        let vendor = Sample.bytes(.init(.init(0x0001_0200), sequence: 1, body: .opaque(.init(bytes: [1, 2, 3]))))
        conversation.send(vendor, from: .client)
        conversation.send(Sample.bind(sequence: 2), from: .client)
        let plain = try run(packets: conversation.packets)
        #expect(plain.pdus.isEmpty, "an unknown command first is not SMPP by content")
        let forced = try run(
            packets: conversation.packets, configuration: ReassemblyConfiguration(forcedPorts: [9_000]))
        #expect(forced.commands == ["unknown_0x00010200", "bind_transceiver"])
    }

    @Test func vendorCommandsInsideAnSMPPStreamAreKept() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(
            Sample.bytes(.init(.init(0x0001_0200), sequence: 2, body: .opaque(.init(bytes: [9, 9])))), from: .client)
        conversation.send(Sample.enquireLink(sequence: 3), from: .client)
        let result = try run(packets: conversation.packets)
        #expect(result.commands == ["bind_transceiver", "unknown_0x00010200", "enquire_link"])
    }

    @Test func resetEndsTheSessionAndIsAttributed() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        standardSession(&conversation, submits: 1)
        conversation.send(Sample.submit(sequence: 9), from: .client)
        conversation.rst(from: .server)
        let result = try run(packets: conversation.packets)
        #expect(result.ends.count == 1)
        #expect(result.ends.first?.kind == .rst)
        #expect(result.ends.first?.by.port == 3_700)
        #expect(result.pdus.last?.sequence == 9)
    }

    @Test func finFromBothSidesAndPortReuse() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        standardSession(&conversation, submits: 1)
        conversation.send(Sample.unbind(sequence: 5), from: .client)
        conversation.send(Sample.unbindResponse(sequence: 5), from: .server)
        conversation.fin(from: .client)
        conversation.fin(from: .server)
        conversation.ack(from: .client)
        var again = TCPConversation(clientSequence: 77_000, serverSequence: 88_000)
        again.seconds = conversation.seconds + 1
        again.handshake()
        standardSession(&again, submits: 1)
        let result = try run(packets: conversation.packets + again.packets)
        #expect(result.opened.map(\.id) == [1, 2])
        #expect(result.ends.map(\.kind) == [.fin])
        #expect(result.ends.first?.by.port == 41_310)
        #expect(Set(result.pdus.map(\.session)) == [1, 2])
    }

    @Test func ipv6OnANonStandardPort() throws {
        let client: [UInt8] = [0xFD, 0] + [UInt8](repeating: 0, count: 13) + [2]
        let server: [UInt8] = [0xFD, 0] + [UInt8](repeating: 0, count: 13) + [1]
        var conversation = TCPConversation(network: .ipv6(client: client, server: server), serverPort: 12_345)
        conversation.handshake()
        standardSession(&conversation, submits: 2)
        let result = try run(packets: conversation.packets)
        #expect(result.pdus.count == 6)
        #expect(result.pdus.first?.source == "[fd00::2]:41310")
        #expect(result.pdus.first?.destination == "[fd00::1]:12345")
    }

    @Test func linuxCookedCaptures() throws {
        var conversation = TCPConversation(link: { ip, type in PacketBuilder.linuxSLL(protocol: type, payload: ip) })
        conversation.handshake()
        standardSession(&conversation, submits: 2)
        #expect(try run(packets: conversation.packets, linkType: 113).pdus.count == 6)
        var v2 = TCPConversation(link: { ip, type in PacketBuilder.linuxSLL2(protocol: type, payload: ip) })
        v2.handshake()
        standardSession(&v2, submits: 2)
        #expect(try run(packets: v2.packets, linkType: 276).pdus.count == 6)
    }

    @Test func snapLengthCutIsAGap() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        var packets = conversation.packets
        let long = Sample.submit(sequence: 2, text: String(repeating: "x", count: 150))
        let next = Sample.submit(sequence: 3)
        let sent = conversation.send(long + next, from: .client, sizes: [long.count], record: false)
        var cut = sent[0]
        cut.originalLength = cut.data.count
        cut.data = Array(cut.data.prefix(cut.data.count - 40))
        packets += [cut, sent[1]]
        let result = try run(packets: packets)
        #expect(result.gaps.map(\.reason) == [.snapLength])
        #expect(result.gaps.map(\.size) == [40])
        #expect(result.commands == ["bind_transceiver", "submit_sm"])
        #expect(result.pdus.last?.sequence == 3)
    }

    @Test func streamEndingInsideAPDUIsReported() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Array(Sample.submit(sequence: 2).prefix(30)), from: .client)
        let result = try run(packets: conversation.packets)
        #expect(result.commands == ["bind_transceiver"])
        #expect(result.diagnostics.contains { $0.contains("ends inside a PDU") })
    }

    @Test func damagedCommandLengthResynchronises() throws {
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        var damaged = Sample.submit(sequence: 2)
        damaged[2] = 0x01  // command_length + 256
        conversation.send(damaged, from: .client)
        for sequence in 3..<10 { conversation.send(Sample.submit(sequence: UInt32(sequence)), from: .client) }
        let result = try run(packets: conversation.packets)
        #expect(result.pdus.filter { $0.command == "submit_sm" }.map(\.sequence).suffix(5) == [5, 6, 7, 8, 9])
        #expect(result.diagnostics.contains { $0.contains("resynchronising") })
    }
}

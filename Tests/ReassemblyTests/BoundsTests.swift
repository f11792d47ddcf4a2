// What reassembly does at each of its bounds: the flow table's cap, flows idle in capture time, and the memory
// out-of-order segments may hold per direction and in all.

import Capture
import Reassembly
import TestSupport
import Testing

/// A session that only binds, on a given client port.
private func bindOnly(port: UInt16, start: UInt32 = 1_795_682_046) -> TCPConversation {
    var conversation = TCPConversation(clientPort: port)
    conversation.seconds = start
    conversation.handshake()
    conversation.send(Sample.bind(), from: .client)
    conversation.send(Sample.bindResponse(), from: .server)
    return conversation
}

@Suite("Reassembly bounds")
struct BoundsTests {
    @Test func theFlowTableIsCappedAndSMPPIsStillFound() throws {
        var packets: [TestPacket] = []
        // 500 SYNs that lead nowhere, as a scan does.
        for port in 0..<500 {
            var probe = TCPConversation(clientPort: UInt16(20_000 + port))
            packets.append(probe.packet(from: .client, sequence: 1, flags: Flag.syn, payload: [], acknowledgment: 0))
            probe.wait(microseconds: 1)
        }
        packets += bindOnly(port: 41_000).packets
        var configuration = ReassemblyConfiguration()
        configuration.maximumFlows = 64
        let result = try run(packets: packets, configuration: configuration)
        #expect(result.commands == ["bind_transceiver", "bind_transceiver_resp"])
        #expect(result.diagnostics.contains { $0.contains("TCP connections that carried no SMPP were let go") })
    }

    @Test func aFlowIdlePastTheLimitIsLetGoAndPickedUpAgainMidStream() throws {
        var first = bindOnly(port: 41_001)
        // Two hours of capture time later, the same connection goes on; another session talks in between.
        var other = bindOnly(port: 41_002, start: first.seconds + 3_600)
        first.seconds += 7_200
        first.send(Sample.submit(sequence: 2), from: .client)
        var configuration = ReassemblyConfiguration()
        configuration.flowIdleTimeout = 1_800 * 1_000_000_000
        // The other session's segments drive the clock past the limit.
        for _ in 0..<4 {
            other.wait(microseconds: 1_000_000_000)
            other.send(Sample.enquireLink(sequence: 9), from: .client)
        }
        let result = try run(
            packets: first.packets.prefix(5) + other.packets + first.packets.suffix(1), configuration: configuration)
        #expect(
            result.diagnostics.contains {
                $0.contains("connection no longer followed (no segment for 1800 s of capture time)")
            })
        // Picked up again: a new session, mid-stream, carrying the submit.
        #expect(result.opened.count == 3)
        #expect(result.pdus.last?.command == "submit_sm")
        #expect(result.pdus.last?.session == 3)
    }

    @Test func heldSegmentsAreBoundedByTheMemoryTheyTakeNotTheBytesTheyCarry() throws {
        var conversation = bindOnly(port: 41_003)
        // One byte missing, then 2,000 one-byte segments after it: 2,000 bytes, but far more memory.
        let start = conversation.clientSequence &+ 1
        for index in 0..<2_000 {
            conversation.record(
                conversation.packet(
                    from: .client, sequence: start &+ UInt32(index), flags: Flag.ack | Flag.psh, payload: [0xFF]))
        }
        var configuration = ReassemblyConfiguration()
        configuration.bufferLimit = 64 << 10
        let result = try run(packets: conversation.packets, configuration: configuration)
        #expect(result.gaps.contains { $0.reason == .bufferLimit && $0.size == 1 })
        #expect(result.commands == ["bind_transceiver", "bind_transceiver_resp"])
    }

    @Test func heldSegmentsOfEveryDirectionShareATotalBudget() throws {
        var packets: [TestPacket] = []
        for port in UInt16(41_010)..<41_014 {
            var conversation = bindOnly(port: port)
            let start = conversation.clientSequence &+ 1
            for index in 0..<100 {
                conversation.record(
                    conversation.packet(
                        from: .client, sequence: start &+ UInt32(index * 100), flags: Flag.ack | Flag.psh,
                        payload: [UInt8](repeating: 0xFF, count: 100)))
            }
            packets += conversation.packets
        }
        var configuration = ReassemblyConfiguration()
        configuration.totalBufferLimit = 32 << 10
        let result = try run(packets: packets, configuration: configuration)
        // Each direction alone is far below its own limit: the total is what gives.
        #expect(result.gaps.filter { $0.reason == .bufferLimit }.count >= 3)
        #expect(result.commands.filter { $0 == "bind_transceiver" }.count == 4)
    }
}

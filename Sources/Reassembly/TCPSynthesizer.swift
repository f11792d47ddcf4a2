// The inverse of reassembly: turns stream events back into TCP packets, so a stored timeline can be written as a
// capture that any tool opens.

import Capture
import NIOCore

/// Makes TCP packets for stream events: a handshake when a connection opens, data segments (at most `segmentSize`
/// bytes each) for every PDU, with its time, and FIN or RST when the connection ended. Sequence numbers run on
/// without holes, so the written stream holds exactly the PDUs given.
public struct TCPSynthesizer {
    struct State {
        var client: Endpoint
        var server: Endpoint
        var clientNext: UInt32
        var serverNext: UInt32
        var ended = false
    }

    public var segmentSize: Int
    private var connections: [Int: State] = [:]

    public init(segmentSize: Int = 1448) {
        self.segmentSize = max(1, segmentSize)
    }

    /// The packets that stand for `event` (none for gaps and diagnostics).
    public mutating func packets(for event: StreamEvent) -> [CapturedPacket] {
        switch event {
        case .opened(let connection):
            let client = connection.synSender ?? connection.first
            let server = client == connection.first ? connection.second : connection.first
            return open(id: connection.id, client: client, server: server, at: connection.firstSeen)
        case .pdu(let pdu):
            var packets: [CapturedPacket] = []
            if connections[pdu.session] == nil {
                packets += open(id: pdu.session, client: pdu.source, server: pdu.destination, at: pdu.timestamp)
            }
            guard var state = connections[pdu.session], !state.ended else { return packets }
            let fromClient = pdu.source == state.client
            let bytes = pdu.raw.getBytes(at: pdu.raw.readerIndex, length: pdu.raw.readableBytes) ?? []
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + segmentSize)
                let segment = bytes[offset..<end]
                let sequence = fromClient ? state.clientNext : state.serverNext
                let frame = TCPFrame.ethernet(
                    from: fromClient ? state.client : state.server, to: fromClient ? state.server : state.client,
                    sequence: sequence, acknowledgement: fromClient ? state.serverNext : state.clientNext,
                    flags: [.psh, .ack], payload: segment, fromClient: fromClient)
                packets.append(CapturedPacket(timestamp: pdu.timestamp, bytes: frame))
                let advanced = sequence &+ UInt32(truncatingIfNeeded: segment.count)
                if fromClient { state.clientNext = advanced } else { state.serverNext = advanced }
                offset = end
            }
            connections[pdu.session] = state
            return packets
        case .ended(let end):
            guard var state = connections[end.connection], !state.ended else { return [] }
            state.ended = true
            connections[end.connection] = state
            let byClient = end.by == state.client
            let closer = byClient ? state.client : state.server
            let peer = byClient ? state.server : state.client
            let closerNext = byClient ? state.clientNext : state.serverNext
            let peerNext = byClient ? state.serverNext : state.clientNext
            if end.kind == .rst {
                return [
                    packet(
                        end.timestamp, from: closer, to: peer, closerNext, peerNext, [.rst, .ack], fromClient: byClient)
                ]
            }
            return [
                packet(
                    end.timestamp, from: closer, to: peer, closerNext, peerNext, [.fin, .ack], fromClient: byClient),
                packet(
                    end.timestamp, from: peer, to: closer, peerNext, closerNext &+ 1, [.fin, .ack],
                    fromClient: !byClient),
                packet(
                    end.timestamp, from: closer, to: peer, closerNext &+ 1, peerNext &+ 1, [.ack], fromClient: byClient),
            ]
        case .gap, .diagnostic:
            return []
        }
    }

    private mutating func open(id: Int, client: Endpoint, server: Endpoint, at time: Timestamp) -> [CapturedPacket] {
        guard connections[id] == nil else { return [] }
        // Fixed initial sequence numbers, distinct per connection, so the output is reproducible.
        let clientISN = UInt32(truncatingIfNeeded: 0x1000_0000 &+ id &* 0x10000)
        let serverISN = UInt32(truncatingIfNeeded: 0x8000_0000 &+ id &* 0x10000)
        connections[id] = State(client: client, server: server, clientNext: clientISN &+ 1, serverNext: serverISN &+ 1)
        return [
            packet(time, from: client, to: server, clientISN, 0, [.syn], fromClient: true),
            packet(time, from: server, to: client, serverISN, clientISN &+ 1, [.syn, .ack], fromClient: false),
            packet(time, from: client, to: server, clientISN &+ 1, serverISN &+ 1, [.ack], fromClient: true),
        ]
    }

    private func packet(
        _ time: Timestamp, from source: Endpoint, to destination: Endpoint, _ sequence: UInt32,
        _ acknowledgement: UInt32,
        _ flags: TCPFlags, fromClient: Bool
    ) -> CapturedPacket {
        CapturedPacket(
            timestamp: time,
            bytes: TCPFrame.ethernet(
                from: source, to: destination, sequence: sequence, acknowledgement: acknowledgement, flags: flags,
                fromClient: fromClient))
    }
}

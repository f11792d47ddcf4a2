// Scripts a TCP connection between an ESME and an SMSC as capture packets: handshake, data in any split,
// reordering, retransmission, loss, FIN and RST.

/// Builds the packets of one TCP connection.
public struct TCPConversation {
    public enum Side {
        case client
        case server
    }

    public enum Network {
        case ipv4(client: UInt32, server: UInt32)
        case ipv6(client: [UInt8], server: [UInt8])
    }

    public var network: Network
    public var clientPort: UInt16
    public var serverPort: UInt16
    public var clientSequence: UInt32
    public var serverSequence: UInt32
    /// Wraps an IP packet in its link layer, given the IP packet and its EtherType.
    public var link: ([UInt8], UInt16) -> [UInt8]
    public var seconds: UInt32 = 1_795_682_046
    public var nanoseconds: UInt32 = 0
    public private(set) var packets: [TestPacket] = []

    public init(
        network: Network = .ipv4(client: 0x7F00_0001, server: 0x7F00_0001), clientPort: UInt16 = 41_310,
        serverPort: UInt16 = 3_700, clientSequence: UInt32 = 1_000, serverSequence: UInt32 = 5_000,
        link: @escaping ([UInt8], UInt16) -> [UInt8] = { PacketBuilder.ethernet(etherType: $1, payload: $0) }
    ) {
        self.network = network
        self.clientPort = clientPort
        self.serverPort = serverPort
        self.clientSequence = clientSequence
        self.serverSequence = serverSequence
        self.link = link
    }

    /// Moves the clock forward.
    public mutating func wait(microseconds: UInt32) {
        let total = UInt64(nanoseconds) + UInt64(microseconds) * 1_000
        seconds += UInt32(total / 1_000_000_000)
        nanoseconds = UInt32(total % 1_000_000_000)
    }

    /// A packet from a side with an explicit sequence number; nothing is advanced or recorded.
    public func packet(from side: Side, sequence: UInt32, flags: UInt8, payload: [UInt8], acknowledgment: UInt32? = nil)
        -> TestPacket
    {
        let tcp = PacketBuilder.tcp(
            sourcePort: side == .client ? clientPort : serverPort,
            destinationPort: side == .client ? serverPort : clientPort, sequence: sequence,
            acknowledgment: acknowledgment ?? (side == .client ? serverSequence : clientSequence), flags: flags,
            payload: payload)
        let ip: [UInt8]
        let etherType: UInt16
        switch network {
        case .ipv4(let client, let server):
            ip = PacketBuilder.ipv4(
                source: side == .client ? client : server, destination: side == .client ? server : client, payload: tcp)
            etherType = 0x0800
        case .ipv6(let client, let server):
            ip = PacketBuilder.ipv6(
                source: side == .client ? client : server, destination: side == .client ? server : client, payload: tcp)
            etherType = 0x86DD
        }
        return TestPacket(seconds: seconds, nanoseconds: nanoseconds, data: link(ip, etherType))
    }

    /// Records a packet as it is.
    public mutating func record(_ packet: TestPacket) {
        packets.append(packet)
    }

    /// SYN, SYN-ACK, ACK.
    public mutating func handshake() {
        record(packet(from: .client, sequence: clientSequence, flags: Flag.syn, payload: [], acknowledgment: 0))
        clientSequence &+= 1
        wait(microseconds: 50)
        record(packet(from: .server, sequence: serverSequence, flags: Flag.syn | Flag.ack, payload: []))
        serverSequence &+= 1
        wait(microseconds: 50)
        record(packet(from: .client, sequence: clientSequence, flags: Flag.ack, payload: []))
    }

    /// Sends bytes from a side in segments of the given sizes (the rest in one last segment); returns the
    /// packets, recorded unless `record` is false (to reorder or drop them).
    @discardableResult
    public mutating func send(
        _ bytes: [UInt8], from side: Side, sizes: [Int] = [], record shouldRecord: Bool = true,
        gapMicroseconds: UInt32 = 10
    ) -> [TestPacket] {
        var result: [TestPacket] = []
        var offset = 0
        var index = 0
        while offset < bytes.count {
            let size = index < sizes.count ? sizes[index] : bytes.count - offset
            let chunk = Array(bytes[offset..<min(bytes.count, offset + size)])
            let sequence = side == .client ? clientSequence : serverSequence
            result.append(packet(from: side, sequence: sequence, flags: Flag.ack | Flag.psh, payload: chunk))
            if side == .client {
                clientSequence &+= UInt32(chunk.count)
            } else {
                serverSequence &+= UInt32(chunk.count)
            }
            offset += chunk.count
            index += 1
            wait(microseconds: gapMicroseconds)
        }
        if shouldRecord { packets += result }
        return result
    }

    /// A pure ACK from a side, acknowledging everything the other side sent.
    public mutating func ack(from side: Side) {
        let sequence = side == .client ? clientSequence : serverSequence
        record(packet(from: side, sequence: sequence, flags: Flag.ack, payload: []))
        wait(microseconds: 10)
    }

    public mutating func fin(from side: Side) {
        let sequence = side == .client ? clientSequence : serverSequence
        record(packet(from: side, sequence: sequence, flags: Flag.fin | Flag.ack, payload: []))
        if side == .client { clientSequence &+= 1 } else { serverSequence &+= 1 }
        wait(microseconds: 10)
    }

    public mutating func rst(from side: Side) {
        let sequence = side == .client ? clientSequence : serverSequence
        record(packet(from: side, sequence: sequence, flags: Flag.rst | Flag.ack, payload: []))
        wait(microseconds: 10)
    }
}

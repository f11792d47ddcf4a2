// Anonymizes a capture packet by packet: each TCP direction's bytes are read as SMPP PDUs and rewritten; every
// packet is written in its place and at its time, carrying the rewritten bytes of the stream positions it carried,
// with sequence and acknowledgement numbers, lengths and checksums made consistent. What cannot be read as SMPP
// (other protocols, bytes lost to gaps, PDUs cut short) is zeroed, never copied.

@_spi(Lent) import Capture
import DequeModule
@_spi(Lent) import Reassembly
@_spi(Lent) import SMPP

/// A packet to write.
public struct AnonymizedPacket {
    public var timestamp: Timestamp
    public var linkType: LinkType
    /// The length on the wire (more than `bytes.count` when the capture cut the packet).
    public var originalLength: Int
    public var bytes: [UInt8]
}

/// Bounds on what anonymizing keeps in memory.
public struct AnonymizeLimits: Sendable {
    /// The largest PDU read (a larger command_length is not SMPP: the bytes are zeroed).
    public var maximumPDULength = SMPPFramer.defaultMaximumLength
    /// Early segments held per direction while waiting for the bytes before them.
    public var heldBytesPerDirection = 1 << 20
    /// Rewritten bytes kept per direction for the packets that carry them and for retransmissions.
    public var keptBytesPerDirection = 256 << 10
    /// Packets waiting to be written (their stream bytes not yet decided); past it, the oldest is forced out.
    public var pendingPackets = 65_536
    public var pendingBytes = 64 << 20
    /// Connections followed at once; past it, the least recently active one is finished and forgotten.
    public var connections = 4_096

    public init() {}
}

/// What anonymizing did, beyond the counts of fields.
public struct AnonymizeReport: Sendable {
    public var fields = AnonymizeCounts()
    public var packets = 0
    public var tcpSegments = 0
    public var connections = 0
    /// Stream bytes that could not be read as SMPP (other protocols, resynchronisation, PDUs cut by gaps): zeroed.
    public var streamBytesZeroed = 0
    /// Packets of other protocols whose payload was zeroed.
    public var otherPayloadsZeroed = 0
    /// IP fragments, whose payload was zeroed.
    public var fragmentsZeroed = 0
    /// Packets of link types that cannot be read, zeroed whole.
    public var unreadablePacketsZeroed = 0
    /// Bytes of retransmissions (or long-held packets) older than the bytes kept, written as zeros.
    public var retransmittedBytesZeroed = 0
    /// Waits given up because a bound was reached.
    public var forcedDecisions = 0
    /// Packets whose IP addresses were mapped.
    public var ipAddressesMapped = 0

    public var named: [(String, Int)] {
        fields.named + [
            ("packets", packets), ("tcp_segments", tcpSegments), ("connections", connections),
            ("stream_bytes_zeroed", streamBytesZeroed), ("other_payloads_zeroed", otherPayloadsZeroed),
            ("fragments_zeroed", fragmentsZeroed), ("unreadable_packets_zeroed", unreadablePacketsZeroed),
            ("retransmitted_bytes_zeroed", retransmittedBytesZeroed), ("forced_decisions", forcedDecisions),
            ("ip_addresses_mapped", ipAddressesMapped),
        ]
    }
}

/// Anonymizes the packets of a capture, in order.
public final class CaptureAnonymizer {
    public let limits: AnonymizeLimits
    private var pdus: PDUAnonymizer
    private var ipMap: IPAddressMap?
    public private(set) var report = AnonymizeReport()

    private final class Connection {
        var directions = (StreamDirection(), StreamDirection())
    }

    private struct Key: Hashable {
        var a: IPAddress
        var aPort: UInt16
        var b: IPAddress
        var bPort: UInt16
    }

    private struct Pending {
        var timestamp: Timestamp
        var linkType: LinkType
        var originalLength: Int
        var bytes: [UInt8]
        /// Set for TCP segments of a followed connection.
        var tcp: Segment?

        /// Every byte the packet carries is decided, and so are the peer's bytes its acknowledgement names (those
        /// the capture has; an acknowledgement of bytes never seen does not wait).
        var isReady: Bool {
            guard let tcp else { return true }
            if tcp.payload.upperBound > tcp.direction.decided { return false }
            if let ack = tcp.acknowledgmentOffset, ack > tcp.peer.decided, ack <= tcp.peer.bufferedEnd { return false }
            return true
        }
    }

    private struct Segment {
        var layout: PacketLayout
        var direction: StreamDirection
        var peer: StreamDirection
        var payloadStart: Int
        var capturedEnd: Int
        /// The payload's original offsets (the captured part).
        var payload: Range<Int64>
        var sequenceOffset: Int64?
        var acknowledgmentOffset: Int64?
        var wholeSegment: Bool
    }

    private var connections: [Key: Connection] = [:]
    /// The connection of the packet before (most packets follow one of the same connection).
    private var lastConnection: (key: Key, connection: Connection)?
    private var pending = Deque<Pending>()
    private var pendingBytes = 0
    private var scratch: [UInt8] = []
    private var frame = 0

    public init(
        key: AnonymizationKey, options: AnonymizeOptions, mapIPAddresses: Bool, limits: AnonymizeLimits = .init()
    ) {
        self.limits = limits
        pdus = PDUAnonymizer(key: key, options: options)
        ipMap = mapIPAddresses ? IPAddressMap(key: key) : nil
    }

    /// Where the originals of what is replaced go, for a check of the output.
    public var secrets: (any SecretSink)? {
        get { pdus.secrets }
        set { pdus.secrets = newValue }
    }

    /// Anonymizes a packet; `emit` receives every packet that is ready, in capture order.
    public func add(_ packet: Packet, emit: (AnonymizedPacket) throws -> Void) rethrows {
        report.packets += 1
        frame += 1
        var bytes = [UInt8](packet.data)
        guard packet.linkType.isSupported else {
            for index in bytes.indices { bytes[index] = 0 }
            report.unreadablePacketsZeroed += 1
            try queue(
                Pending(
                    timestamp: packet.timestamp, linkType: packet.linkType, originalLength: packet.originalLength,
                    bytes: bytes, tcp: nil), emit)
            return
        }
        guard let layout = PacketLayout.parse(packet.data, linkType: packet.linkType) else {
            // Not IP (ARP, LLDP): nothing of SMPP, kept.
            try queue(
                Pending(
                    timestamp: packet.timestamp, linkType: packet.linkType, originalLength: packet.originalLength,
                    bytes: bytes, tcp: nil), emit)
            return
        }
        let capturedEnd = min(bytes.count, layout.datagramEnd)
        if layout.isFragment || layout.transportProtocol != 6 || capturedEnd < layout.transportOffset + 20 {
            mapAddresses(&bytes, layout)
            zeroPayload(&bytes, layout, capturedEnd: capturedEnd)
            try queue(
                Pending(
                    timestamp: packet.timestamp, linkType: packet.linkType, originalLength: packet.originalLength,
                    bytes: bytes, tcp: nil), emit)
            return
        }
        report.tcpSegments += 1
        let t = layout.transportOffset
        let payloadStart = min(capturedEnd, t + max(20, Int(bytes[t + 12] >> 4) * 4))
        let sequence = be32(bytes, t + 4)
        let acknowledgment = be32(bytes, t + 8)
        let flags = bytes[t + 13]
        let (source, destination) = layout.addressRanges
        let sourceAddress = address(bytes, source)
        let destinationAddress = address(bytes, destination)
        let sourcePort = UInt16(be16(bytes, t))
        let destinationPort = UInt16(be16(bytes, t + 2))
        let forward = (sourceAddress, sourcePort) <= (destinationAddress, destinationPort)
        let key =
            forward
            ? Key(a: sourceAddress, aPort: sourcePort, b: destinationAddress, bPort: destinationPort)
            : Key(a: destinationAddress, aPort: destinationPort, b: sourceAddress, bPort: sourcePort)
        let connection = try self.connection(key, emit)
        if flags & 0x02 != 0, let origin = (forward ? connection.directions.0 : connection.directions.1).origin,
            origin != sequence &+ 1
        {
            // A new connection on the same addresses and ports: this side's stream is over (and, for a SYN that is
            // not an answer, the other side's too). Packets still waiting keep the old streams.
            let answer = flags & 0x10 != 0
            if forward || !answer {
                finishDirection(connection.directions.0)
                connection.directions.0 = StreamDirection()
            }
            if !forward || !answer {
                finishDirection(connection.directions.1)
                connection.directions.1 = StreamDirection()
            }
            if !answer { report.connections += 1 }
        }
        let direction = forward ? connection.directions.0 : connection.directions.1
        let peer = forward ? connection.directions.1 : connection.directions.0
        direction.lastFrame = frame
        peer.lastFrame = frame
        let wirePayload = max(0, layout.datagramEnd - payloadStart)
        let capturedPayload = max(0, capturedEnd - payloadStart)
        if flags & 0x02 != 0, direction.origin == nil {
            // SYN: the stream starts after it, at a PDU boundary.
            direction.start(at: sequence &+ 1, resync: false)
        } else if direction.origin == nil, capturedPayload > 0 {
            direction.start(at: sequence, resync: true)
        }
        var segment = Segment(
            layout: layout, direction: direction, peer: peer, payloadStart: payloadStart, capturedEnd: capturedEnd,
            payload: 0..<0, sequenceOffset: direction.offset(of: sequence), acknowledgmentOffset: nil,
            wholeSegment: capturedPayload == wirePayload && bytes.count >= capturedEnd)
        if flags & 0x10 != 0 {
            segment.acknowledgmentOffset = peer.offset(of: acknowledgment)
            // The peer acknowledges bytes past a hole in what the capture has of them: the hole's bytes were
            // received, and the capture will not have them. Waiting for them is given up now.
            if let ack = segment.acknowledgmentOffset, ack > peer.bufferedEnd, let held = peer.firstHeldOffset,
                held < ack
            {
                giveUp(peer)
            }
        }
        if capturedPayload > 0, let offset = segment.sequenceOffset {
            segment.payload = offset..<(offset + Int64(capturedPayload))
            let fits = bytes.withUnsafeBytes { raw in
                direction.receive(
                    UnsafeRawBufferPointer(rebasing: raw[payloadStart..<capturedEnd]), at: offset,
                    heldLimit: limits.heldBytesPerDirection)
            }
            read(direction)
            if !fits {
                report.forcedDecisions += 1
                giveUp(direction)
            }
            if wirePayload > capturedPayload, direction.bufferedEnd == segment.payload.upperBound {
                // Cut by the snapshot length: the rest never comes.
                let before = direction.zeroedBytes
                direction.hole(wirePayload - capturedPayload, keepHeader: startsWithHeader(direction))
                report.streamBytesZeroed += direction.zeroedBytes - before
                read(direction)
            }
        }
        if !segment.payload.isEmpty { direction.pin(segment.payload.lowerBound) }
        try queue(
            Pending(
                timestamp: packet.timestamp, linkType: packet.linkType, originalLength: packet.originalLength,
                bytes: bytes, tcp: segment), emit)
    }

    /// Gives up every wait and writes every packet left.
    public func finish(emit: (AnonymizedPacket) throws -> Void) rethrows {
        for connection in connections.values {
            finishDirection(connection.directions.0)
            finishDirection(connection.directions.1)
        }
        try release(emit, force: true)
        connections.removeAll()
        lastConnection = nil
    }

    private func finishDirection(_ direction: StreamDirection) {
        while direction.buffered > 0 || direction.heldBytes > 0 {
            giveUp(direction)
        }
    }

    private func giveUp(_ direction: StreamDirection) {
        let before = direction.zeroedBytes
        direction.giveUp(keepHeader: startsWithHeader(direction))
        report.streamBytesZeroed += direction.zeroedBytes - before
        read(direction)
    }

    /// The direction's buffered bytes start with a plausible SMPP header (a PDU still arriving).
    private func startsWithHeader(_ direction: StreamDirection) -> Bool {
        direction.withBuffered { bytes in
            if let header = PDUHeader.peek(in: bytes) {
                return SMPPHeuristics.isPlausible(header, maximumLength: limits.maximumPDULength)
            }
            // Fewer than 16 bytes: their command_length, at least.
            guard bytes.count >= 4 else { return false }
            let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            return (PDUHeader.size...limits.maximumPDULength).contains(length)
        }
    }

    private func connection(_ key: Key, _ emit: (AnonymizedPacket) throws -> Void) rethrows -> Connection {
        if let last = lastConnection, last.key == key { return last.connection }
        if let known = connections[key] {
            lastConnection = (key, known)
            return known
        }
        if connections.count >= limits.connections {
            // Forget the least recently active connection: what it waits for will not come in time.
            if let (oldKey, old) = connections.min(by: {
                max($0.value.directions.0.lastFrame, $0.value.directions.1.lastFrame)
                    < max($1.value.directions.0.lastFrame, $1.value.directions.1.lastFrame)
            }) {
                finishDirection(old.directions.0)
                finishDirection(old.directions.1)
                connections[oldKey] = nil
                if lastConnection?.key == oldKey { lastConnection = nil }
                report.forcedDecisions += 1
            }
        }
        let connection = Connection()
        connections[key] = connection
        lastConnection = (key, connection)
        report.connections += 1
        return connection
    }

    /// Reads and rewrites every whole PDU the direction has buffered; zeroes what is not SMPP.
    private func read(_ direction: StreamDirection) {
        while true {
            let available = direction.buffered
            if direction.resync {
                let found: Int? = direction.withBuffered { bytes in
                    var index = 0
                    while index + PDUHeader.size <= bytes.count {
                        if let header = PDUHeader.peek(in: bytes, at: index),
                            SMPPHeuristics.isPlausible(header, maximumLength: limits.maximumPDULength)
                        {
                            return index
                        }
                        index += 1
                    }
                    return nil
                }
                if let found {
                    direction.scrub(found)
                    report.streamBytesZeroed += found
                    direction.resync = false
                } else {
                    let drop = max(0, available - (PDUHeader.size - 1))
                    direction.scrub(drop)
                    report.streamBytesZeroed += drop
                    break
                }
                continue
            }
            guard available >= PDUHeader.size else { break }
            // One look at the buffered bytes: the header checked, the PDU rewritten when it is all there.
            scratch.removeAll(keepingCapacity: true)
            let length: Int? = direction.withBuffered { bytes in
                guard let header = PDUHeader.peek(in: bytes),
                    SMPPHeuristics.isPlausible(header, maximumLength: limits.maximumPDULength)
                else { return nil }
                let length = Int(header.commandLength)
                if length <= bytes.count {
                    pdus.anonymize(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), into: &scratch)
                }
                return length
            }
            guard let length else {
                direction.resync = true
                continue
            }
            guard available >= length else { break }
            direction.decide(scratch, replacing: length)
        }
        report.fields = pdus.counts
        direction.trim(keeping: limits.keptBytesPerDirection)
    }

    private func queue(_ packet: Pending, _ emit: (AnonymizedPacket) throws -> Void) rethrows {
        pending.append(packet)
        pendingBytes += packet.bytes.count
        try release(emit, force: false)
        while pending.count > limits.pendingPackets || pendingBytes > limits.pendingBytes, let head = pending.first {
            // The oldest packet waits too long: give up what it waits for.
            report.forcedDecisions += 1
            if let tcp = head.tcp {
                if tcp.payload.upperBound > tcp.direction.decided { forceUntil(tcp.direction, tcp.payload.upperBound) }
                if let ack = tcp.acknowledgmentOffset, ack > tcp.peer.decided { forceUntil(tcp.peer, ack) }
            }
            try release(emit, force: true, limit: 1)
            try release(emit, force: false)
        }
    }

    private func forceUntil(_ direction: StreamDirection, _ offset: Int64) {
        while direction.decided < offset, direction.buffered > 0 || direction.heldBytes > 0 {
            giveUp(direction)
        }
    }

    /// Writes the packets at the head of the queue that are ready (all of them, up to `limit`, when forced).
    private func release(_ emit: (AnonymizedPacket) throws -> Void, force: Bool, limit: Int = .max) rethrows {
        var released = 0
        while released < limit, !pending.isEmpty {
            if !force, !pending[pending.startIndex].isReady { break }
            // Taken out of the queue first: its bytes are then this function's alone, rewritten in place.
            var head = pending.removeFirst()
            pendingBytes -= head.bytes.count
            if let tcp = head.tcp, !tcp.payload.isEmpty { tcp.direction.unpin() }
            try emit(build(&head))
            released += 1
        }
    }

    private func build(_ packet: inout Pending) -> AnonymizedPacket {
        var bytes: [UInt8] = []
        swap(&bytes, &packet.bytes)
        var originalLength = packet.originalLength
        guard let tcp = packet.tcp else {
            // Made final when read.
            return AnonymizedPacket(
                timestamp: packet.timestamp, linkType: packet.linkType, originalLength: originalLength, bytes: bytes)
        }
        let layout = tcp.layout
        let t = layout.transportOffset
        let direction = tcp.direction
        // Sequence: where the segment starts in the rewritten stream.
        if let offset = tcp.sequenceOffset, direction.origin != nil {
            put32(&bytes, t + 4, direction.sequence(ofNew: direction.newOffset(offset)))
        }
        if let ack = tcp.acknowledgmentOffset, tcp.peer.origin != nil {
            put32(&bytes, t + 8, tcp.peer.sequence(ofNew: tcp.peer.newOffset(ack)))
        }
        mapSACK(&bytes, from: t + 20, to: tcp.payloadStart, peer: tcp.peer)
        let oldPayload = tcp.capturedEnd - tcp.payloadStart
        var delta = 0
        if !tcp.payload.isEmpty {
            let range = direction.newOffset(tcp.payload.lowerBound)..<direction.newOffset(tcp.payload.upperBound)
            if range.count == oldPayload {
                // As long as it was (nearly always): written over the original bytes.
                direction.copyRewritten(
                    range, into: &bytes, at: tcp.payloadStart, lost: &report.retransmittedBytesZeroed)
            } else {
                let newPayload = direction.rewritten(range, lost: &report.retransmittedBytesZeroed)
                delta = newPayload.count - oldPayload
                bytes.replaceSubrange(tcp.payloadStart..<tcp.capturedEnd, with: newPayload)
            }
        }
        if delta != 0 {
            let lengthAt = layout.ipOffset + (layout.isIPv6 ? 4 : 2)
            let old = be16(bytes, lengthAt)
            let new = max(0, old + delta)
            bytes[lengthAt] = UInt8(truncatingIfNeeded: new >> 8)
            bytes[lengthAt + 1] = UInt8(truncatingIfNeeded: new)
            originalLength += delta
        }
        mapAddresses(&bytes, layout)
        if !layout.isIPv6 { InternetChecksum.fixIPv4Header(&bytes, at: layout.ipOffset) }
        if tcp.wholeSegment {
            InternetChecksum.fixTransport(&bytes, layout: layout, end: tcp.capturedEnd + delta, checksumAt: 16)
        }
        return AnonymizedPacket(
            timestamp: packet.timestamp, linkType: packet.linkType, originalLength: originalLength, bytes: bytes)
    }

    /// Selective acknowledgement blocks name the peer's sequence numbers: moved as acknowledgements are.
    private func mapSACK(_ bytes: inout [UInt8], from start: Int, to end: Int, peer: StreamDirection) {
        guard peer.origin != nil else { return }
        var index = start
        while index < end {
            let kind = bytes[index]
            if kind == 0 { return }
            if kind == 1 {
                index += 1
                continue
            }
            guard index + 1 < end else { return }
            let length = Int(bytes[index + 1])
            guard length >= 2, index + length <= end else { return }
            if kind == 5 {
                var edge = index + 2
                while edge + 4 <= index + length {
                    if let offset = peer.offset(of: be32(bytes, edge)) {
                        put32(&bytes, edge, peer.sequence(ofNew: peer.newOffset(offset)))
                    }
                    edge += 4
                }
            }
            index += length
        }
    }

    /// Zeroes what follows the transport header of a packet that is not followed as TCP (UDP, ICMP, fragments),
    /// and fixes its checksums.
    private func zeroPayload(_ bytes: inout [UInt8], _ layout: PacketLayout, capturedEnd: Int) {
        let keep: Int
        switch layout.transportProtocol {
        case 17, 1, 58: keep = 8
        case 6: keep = 20
        default: keep = 0
        }
        let start = layout.isFragment ? layout.transportOffset : min(capturedEnd, layout.transportOffset + keep)
        if start < capturedEnd {
            for index in start..<capturedEnd { bytes[index] = 0 }
        }
        if layout.isFragment { report.fragmentsZeroed += 1 } else { report.otherPayloadsZeroed += 1 }
        guard !layout.isFragment, capturedEnd == layout.datagramEnd else { return }
        switch layout.transportProtocol {
        case 17 where !layout.isIPv6:
            if layout.transportOffset + 8 <= capturedEnd {
                bytes[layout.transportOffset + 6] = 0
                bytes[layout.transportOffset + 7] = 0
            }
        case 17, 58:
            InternetChecksum.fixTransport(
                &bytes, layout: layout, end: capturedEnd, checksumAt: layout.transportProtocol == 17 ? 6 : 2)
        case 1:
            InternetChecksum.fixTransport(&bytes, layout: layout, end: capturedEnd, checksumAt: 2, pseudoHeader: false)
        default:
            break
        }
    }

    private func mapAddresses(_ bytes: inout [UInt8], _ layout: PacketLayout) {
        guard var map = ipMap else { return }
        let (source, destination) = layout.addressRanges
        guard destination.upperBound <= bytes.count else { return }
        bytes.replaceSubrange(source, with: map.map(Array(bytes[source])))
        bytes.replaceSubrange(destination, with: map.map(Array(bytes[destination])))
        ipMap = map
        report.ipAddressesMapped += 1
        if !layout.isIPv6 { InternetChecksum.fixIPv4Header(&bytes, at: layout.ipOffset) }
    }

    private func address(_ bytes: [UInt8], _ range: Range<Int>) -> IPAddress {
        if range.count == 4 { return IPAddress(ipv4: be32(bytes, range.lowerBound)) }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(bytes[range.lowerBound + index])
            low = low << 8 | UInt64(bytes[range.lowerBound + 8 + index])
        }
        return IPAddress(ipv6: high, low)
    }
}

@inline(__always)
func be16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }

@inline(__always)
func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
}

@inline(__always)
func put32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
    bytes[at] = UInt8(truncatingIfNeeded: value >> 24)
    bytes[at + 1] = UInt8(truncatingIfNeeded: value >> 16)
    bytes[at + 2] = UInt8(truncatingIfNeeded: value >> 8)
    bytes[at + 3] = UInt8(truncatingIfNeeded: value)
}

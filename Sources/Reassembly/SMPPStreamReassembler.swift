// TCP connections -> SMPP PDUs: a flow table keyed by the two endpoints, the handshake and teardown, gaps found
// from the peer's acknowledgements, and SMPP found by content (or forced by port).

@_spi(Lent) import Capture
import NIOCore
@_spi(Lent) import SMPP

/// Settings of reassembly. Every table and buffer input can grow has its bound here (docs/capture-and-reassembly.md
/// gives the memory they add up to).
public struct ReassemblyConfiguration: Sendable {
    /// The largest command_length accepted.
    public var maximumPDULength: Int
    /// Memory the out-of-order segments of one direction may hold while waiting for missing ones (their bytes plus
    /// `HeldSegments.overhead` each); past it the missing bytes are given up as a gap.
    public var bufferLimit: Int
    /// The same, for every direction together.
    public var totalBufferLimit: Int
    /// Bytes searched for an SMPP header in a connection picked up mid-stream before deciding it is not SMPP.
    public var scanBudget: Int
    /// Connections on these ports are SMPP whatever their content.
    public var forcedPorts: Set<UInt16>
    /// Connections followed at once; past it the longest idle are let go.
    public var maximumFlows: Int
    /// A connection with no segment for this long (capture time, nanoseconds) is let go; a later segment of it is
    /// taken as a connection picked up mid-stream.
    public var flowIdleTimeout: Int64

    public init(
        maximumPDULength: Int = SMPPFramer.defaultMaximumLength, bufferLimit: Int = 1 << 20,
        totalBufferLimit: Int = 64 << 20, scanBudget: Int = 256 << 10, forcedPorts: Set<UInt16> = [],
        maximumFlows: Int = 65_536, flowIdleTimeout: Int64 = 3_600 * 1_000_000_000
    ) {
        self.maximumPDULength = maximumPDULength
        self.bufferLimit = bufferLimit
        self.totalBufferLimit = totalBufferLimit
        self.scanBudget = scanBudget
        self.forcedPorts = forcedPorts
        self.maximumFlows = max(1, maximumFlows)
        self.flowIdleTimeout = min(max(1, flowIdleTimeout), 1 << 62)
    }
}

/// Counts of what reassembly saw.
public struct ReassemblyStatistics: Hashable, Sendable {
    public var segments = 0
    public var tcpConnections = 0
    public var smppConnections = 0
    public var retransmittedSegments = 0
    public var outOfOrderSegments = 0
    /// Connections let go while idle, or to make room (`maximumFlows`).
    public var evictedFlows = 0
    public var gaps = 0
    public var gapBytes = 0
    public var pdus = 0
}

/// Turns TCP segments into SMPP PDUs and connection events, in capture order.
public final class SMPPStreamReassembler {
    struct FlowKey: Hashable {
        var low: Endpoint
        var high: Endpoint

        init(_ a: Endpoint, _ b: Endpoint) {
            if a < b {
                low = a
                high = b
            } else {
                low = b
                high = a
            }
        }

        /// One word for both endpoints, mixed, that picks the slot of the flow cache. Keys chosen to share a slot
        /// only cost cache misses: the table itself hashes every field with the process's seeded hasher.
        var word: UInt64 {
            func mix(_ value: UInt64) -> UInt64 {
                // The finalizer of SplitMix64: every input bit moves every output bit.
                var z = value &+ 0x9E37_79B9_7F4A_7C15
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            let ports = UInt64(low.port) << 16 | UInt64(high.port)
            return mix(low.address.low ^ mix(low.address.high ^ mix(high.address.low ^ mix(high.address.high ^ ports))))
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(low.address.high)
            hasher.combine(low.address.low)
            hasher.combine(low.port)
            hasher.combine(high.address.high)
            hasher.combine(high.address.low)
            hasher.combine(high.port)
        }
    }

    public let configuration: ReassemblyConfiguration
    private var flows: [FlowKey: Flow] = [:]
    /// Memory held by every direction's out-of-order segments.
    private let budget: HeldBudget
    /// Flows are looked over for idleness once capture time passes this, and once enough segments came.
    private var nextSweep: Timestamp?
    private var segmentsSinceSweep = 0
    /// Flows let go that never carried SMPP (a port scan, other traffic), reported together by the caller.
    public private(set) var evictedWithoutSMPP = 0
    /// Recently used flows by a few bits of their key's hash: the table is not consulted for most segments.
    private var cache = FlowCache(slots: SMPPStreamReassembler.cacheSlots)
    private static let cacheSlots = 256
    private var nextConnectionID = 1
    private var lastFrame = 0
    private var lastTimestamp = Timestamp(nanoseconds: 0)
    private var finishedStatistics = ReassemblyStatistics()

    public init(configuration: ReassemblyConfiguration = ReassemblyConfiguration()) {
        self.configuration = configuration
        budget = HeldBudget(limit: configuration.totalBufferLimit)
    }

    /// What was seen so far.
    public var statistics: ReassemblyStatistics {
        var result = finishedStatistics
        for flow in flows.values {
            result.retransmittedSegments += flow.forward.retransmittedSegments + flow.backward.retransmittedSegments
            result.outOfOrderSegments += flow.forward.outOfOrderSegments + flow.backward.outOfOrderSegments
        }
        return result
    }

    /// Connections being followed now.
    public var openFlows: Int { flows.count }

    /// A diagnostic for the connections that carried no SMPP and were let go, if any.
    public var evictionSummary: String? {
        evictedWithoutSMPP == 0
            ? nil
            : "\(evictedWithoutSMPP) TCP connections that carried no SMPP were let go while idle (no segment for "
                + "\(configuration.flowIdleTimeout / 1_000_000_000) s) or to make room (more than "
                + "\(configuration.maximumFlows) followed at once)"
    }

    /// Takes one TCP segment; emits what it completes.
    public func add(_ segment: TCPSegment, _ emit: (StreamEvent) -> Void) {
        add(segment, lent: { emit(.pdu($0.owned())) }, other: emit)
    }

    /// Takes one TCP segment; hands the PDUs it completes to `pdu`, their bytes lent for the call, and the other
    /// events to `other`, in order. PDUs are nearly every event: passed as they are, they are not wrapped in an
    /// event and unwrapped again, nor their bytes copied.
    @_spi(Lent) public func add(_ segment: TCPSegment, lent pdu: (LentPDU) -> Void, other emit: (StreamEvent) -> Void) {
        finishedStatistics.segments += 1
        lastFrame = segment.frame
        lastTimestamp = segment.timestamp
        let flags = segment.flags
        let key = FlowKey(segment.source, segment.destination)
        let slot = Self.slot(of: key)
        var found = cache.entry(for: key, slot: slot)
        if found == nil, let known = flows[key] {
            found = cache.keep(known, slot: slot)
        }
        if flags.contains(.syn), !flags.contains(.ack), let existing = found?.flow {
            let stream = segment.source == existing.first ? existing.forward : existing.backward
            if existing.ended || (stream.started && (!stream.sawSYN || stream.nextSequence != segment.sequence &+ 1)) {
                // The ports were reused for a new connection.
                close(existing, pdu: pdu, other: emit)
                found = nil
            }
        }
        if found == nil {
            guard flags.contains(.syn) || segment.payloadLength > 0 else { return }
            if flows.count >= configuration.maximumFlows { makeRoom(at: segment.timestamp, pdu: pdu, other: emit) }
            let created = Flow(
                first: segment.source, second: segment.destination, firstSeen: segment.timestamp,
                configuration: configuration, budget: budget)
            flows[key] = created
            found = cache.keep(created, slot: slot)
            finishedStatistics.tcpConnections += 1
        }
        // The table holds the flow until `close`, the last thing done with it.
        found?.withFlow {
            $0.lastSeen = segment.timestamp
            add(segment, to: $0, pdu: pdu, other: emit)
        }
        segmentsSinceSweep += 1
        if let nextSweep, segment.timestamp > nextSweep, segmentsSinceSweep >= flows.count / 4 {
            sweep(at: segment.timestamp, pdu: pdu, other: emit)
        } else if nextSweep == nil {
            nextSweep = Timestamp(nanoseconds: segment.timestamp.nanoseconds + configuration.flowIdleTimeout / 4)
        }
    }

    /// Lets go of flows idle longer than `flowIdleTimeout`. Run when capture time has moved a quarter of the
    /// timeout and at least a quarter of the table's size in segments came since the last time, so that its cost
    /// stays proportional to the segments, whatever the times.
    private func sweep(at time: Timestamp, pdu: (LentPDU) -> Void, other emit: (StreamEvent) -> Void) {
        segmentsSinceSweep = 0
        nextSweep = Timestamp(nanoseconds: time.nanoseconds + configuration.flowIdleTimeout / 4)
        let idle = flows.values.filter { time.nanoseconds - $0.lastSeen.nanoseconds > configuration.flowIdleTimeout }
        for flow in idle.sorted(by: { $0.lastSeen < $1.lastSeen }) {
            evict(
                flow, why: "no segment for \(configuration.flowIdleTimeout / 1_000_000_000) s of capture time",
                pdu: pdu, other: emit)
        }
    }

    /// The table is full: the longest idle eighth of it goes.
    private func makeRoom(at time: Timestamp, pdu: (LentPDU) -> Void, other emit: (StreamEvent) -> Void) {
        let count = max(1, flows.count / 8)
        let oldest = flows.values.sorted { $0.lastSeen < $1.lastSeen }.prefix(count)
        for flow in oldest {
            evict(
                flow, why: "\(configuration.maximumFlows) connections were followed at once, the most allowed",
                pdu: pdu, other: emit)
        }
    }

    private func evict(_ flow: Flow, why: String, pdu: (LentPDU) -> Void, other emit: (StreamEvent) -> Void) {
        finishedStatistics.evictedFlows += 1
        if let id = flow.connectionID {
            emit(
                .diagnostic(
                    StreamDiagnostic(
                        connection: id, source: flow.first, destination: flow.second, streamOffset: 0, frame: lastFrame,
                        timestamp: lastTimestamp,
                        message:
                            "connection no longer followed (\(why)); a later segment of it starts it again mid-stream"))
            )
        } else {
            evictedWithoutSMPP += 1
        }
        close(flow, pdu: pdu, other: emit)
    }

    /// A segment's work on its flow. `close` removes the flow from the table, which may free it: nothing uses the
    /// flow after that.
    @inline(__always)
    private func add(_ segment: TCPSegment, to flow: Flow, pdu: (LentPDU) -> Void, other emit: (StreamEvent) -> Void) {
        let flags = segment.flags
        let source = segment.source
        let destination = segment.destination
        let forward = source == flow.first
        if flags.contains(.syn) {
            flow.withStream(forward: forward) { $0.syn(sequence: segment.sequence) }
            if !flags.contains(.ack) {
                flow.synSender = source
            } else if flow.synSender == nil {
                flow.synSender = destination
            }
        }
        if flags.contains(.ack) {
            flow.withStream(forward: !forward) { other in
                guard other.hasPendingData else { return }
                other.acknowledged(upTo: segment.acknowledgment, frame: segment.frame, timestamp: segment.timestamp)
                other.takeOutputs(
                    frame: { relay($0, $1, flow: flow, source: destination, destination: source, pdu: pdu) },
                    other: { relay($0, flow: flow, source: destination, destination: source, emit) })
            }
        }
        let fin = flags.contains(.fin)
        if segment.payloadLength > 0 || fin {
            let sequence = flags.contains(.syn) ? segment.sequence &+ 1 : segment.sequence
            flow.withStream(forward: forward) { stream in
                stream.segment(
                    sequence: sequence, payload: segment.payload, declaredLength: segment.payloadLength, fin: fin,
                    frame: segment.frame, timestamp: segment.timestamp)
                stream.takeOutputs(
                    frame: { relay($0, $1, flow: flow, source: source, destination: destination, pdu: pdu) },
                    other: { relay($0, flow: flow, source: source, destination: destination, emit) })
            }
        }
        if flags.contains(.rst) {
            end(flow, kind: .rst, by: source, segment, emit)
            close(flow, pdu: pdu, other: emit)
            return
        }
        if fin { end(flow, kind: .fin, by: source, segment, emit) }
        if flow.forward.isFinished && flow.backward.isFinished {
            close(flow, pdu: pdu, other: emit)
        }
    }

    @inline(__always)
    private static func slot(of key: FlowKey) -> Int {
        Int(truncatingIfNeeded: key.word >> 56) & (cacheSlots - 1)
    }

    /// The end of the capture: what waits is delivered, what is missing reported. Connections stay open.
    public func finish(_ emit: (StreamEvent) -> Void) {
        let remaining = flows.sorted {
            ($0.value.connectionID ?? Int.max, $0.value.firstSeen) < (
                $1.value.connectionID ?? Int.max, $1.value.firstSeen
            )
        }
        for (_, flow) in remaining {
            close(flow, pdu: { emit(.pdu($0.owned())) }, other: emit)
        }
    }

    private func end(
        _ flow: Flow, kind: ConnectionEnd.Kind, by endpoint: Endpoint, _ segment: TCPSegment,
        _ emit: (StreamEvent) -> Void
    ) {
        guard !flow.ended else { return }
        flow.ended = true
        guard let id = flow.connectionID else { return }
        emit(
            .ended(
                ConnectionEnd(
                    connection: id, kind: kind, by: endpoint, frame: segment.frame, timestamp: segment.timestamp)))
    }

    /// Finishes both directions of a flow and forgets it.
    private func close(_ flow: Flow, pdu: (LentPDU) -> Void, other emit: (StreamEvent) -> Void) {
        flow.forward.finish(frame: lastFrame, timestamp: lastTimestamp)
        flow.forward.takeOutputs(
            frame: { relay($0, $1, flow: flow, source: flow.first, destination: flow.second, pdu: pdu) },
            other: { relay($0, flow: flow, source: flow.first, destination: flow.second, emit) })
        flow.backward.finish(frame: lastFrame, timestamp: lastTimestamp)
        flow.backward.takeOutputs(
            frame: { relay($0, $1, flow: flow, source: flow.second, destination: flow.first, pdu: pdu) },
            other: { relay($0, flow: flow, source: flow.second, destination: flow.first, emit) })
        finishedStatistics.retransmittedSegments +=
            flow.forward.retransmittedSegments + flow.backward.retransmittedSegments
        finishedStatistics.outOfOrderSegments += flow.forward.outOfOrderSegments + flow.backward.outOfOrderSegments
        let key = flow.key
        let slot = Self.slot(of: key)
        cache.forget(flow, slot: slot)
        // Last: this may free the flow.
        flows[key] = nil
    }

    @inline(__always)
    private func relay(
        _ framed: FrameOutput, _ bytes: UnsafeRawBufferPointer, flow: Flow, source: Endpoint, destination: Endpoint,
        pdu: (LentPDU) -> Void
    ) {
        guard let id = flow.connectionID else { return }
        finishedStatistics.pdus += 1
        // Frames are at least a header long (``SMPPHeuristics``).
        guard let header = PDUHeader.peek(in: bytes) else { return }
        pdu(
            LentPDU(
                session: id, timestamp: framed.timestamp, frame: framed.frame, source: source,
                destination: destination, fromClient: nil, streamOffset: framed.offset, header: header, bytes: bytes,
                digest: framed.digest ?? PDUDigest(bytes: bytes), decodedBox: nil, isoDefault: false, prepared: nil))
    }

    private func relay(
        _ output: DirectionOutput, flow: Flow, source: Endpoint, destination: Endpoint, _ emit: (StreamEvent) -> Void
    ) {
        switch output {
        case .detected:
            flow.forward.knownSMPP = true
            flow.backward.knownSMPP = true
            guard flow.connectionID == nil else { return }
            let id = nextConnectionID
            nextConnectionID += 1
            flow.connectionID = id
            finishedStatistics.smppConnections += 1
            emit(
                .opened(
                    Connection(
                        id: id, first: flow.first, second: flow.second, synSender: flow.synSender,
                        firstSeen: flow.firstSeen)))
        case .frame:
            // Frames go to the other closure of ``DirectionStream/takeOutputs(frame:other:)``.
            break
        case .gap(let offset, let size, let frame, let timestamp, let reason):
            finishedStatistics.gaps += 1
            finishedStatistics.gapBytes += size
            guard let id = flow.connectionID else { return }
            emit(
                .gap(
                    StreamGap(
                        connection: id, source: source, destination: destination, streamOffset: offset, size: size,
                        frame: frame, timestamp: timestamp, reason: reason)))
        case .diagnostic(let message, let offset, let frame, let timestamp):
            emit(
                .diagnostic(
                    StreamDiagnostic(
                        connection: flow.connectionID, source: source, destination: destination, streamOffset: offset,
                        frame: frame, timestamp: timestamp, message: message)))
        }
    }
}

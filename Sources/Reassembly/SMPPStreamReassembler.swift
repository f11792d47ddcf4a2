// TCP connections -> SMPP PDUs: a flow table keyed by the two endpoints, the handshake and teardown, gaps found
// from the peer's acknowledgements, and SMPP found by content (or forced by port).

import Capture
import NIOCore
import SMPP

/// Settings of reassembly.
public struct ReassemblyConfiguration: Sendable {
    /// The largest command_length accepted.
    public var maximumPDULength: Int
    /// Bytes of out-of-order segments kept per direction while waiting for missing ones.
    public var bufferLimit: Int
    /// Bytes searched for an SMPP header in a connection picked up mid-stream before deciding it is not SMPP.
    public var scanBudget: Int
    /// Connections on these ports are SMPP whatever their content.
    public var forcedPorts: Set<UInt16>

    public init(
        maximumPDULength: Int = SMPPFramer.defaultMaximumLength, bufferLimit: Int = 1 << 20, scanBudget: Int = 256 << 10,
        forcedPorts: Set<UInt16> = []
    ) {
        self.maximumPDULength = maximumPDULength
        self.bufferLimit = bufferLimit
        self.scanBudget = scanBudget
        self.forcedPorts = forcedPorts
    }
}

/// Counts of what reassembly saw.
public struct ReassemblyStatistics: Hashable, Sendable {
    public var segments = 0
    public var tcpConnections = 0
    public var smppConnections = 0
    public var retransmittedSegments = 0
    public var outOfOrderSegments = 0
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

        /// One word per endpoint instead of every field: the table is looked up for every segment.
        func hash(into hasher: inout Hasher) {
            func word(_ endpoint: Endpoint) -> UInt64 {
                (endpoint.address.low ^ endpoint.address.high.byteSwapped) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(endpoint.port)
            }
            hasher.combine(word(low) ^ word(high).byteSwapped)
        }
    }

    final class Flow {
        let first: Endpoint
        let second: Endpoint
        let firstSeen: Timestamp
        let forward: DirectionStream
        let backward: DirectionStream
        var connectionID: Int?
        var synSender: Endpoint?
        var ended = false

        init(first: Endpoint, second: Endpoint, firstSeen: Timestamp, configuration: ReassemblyConfiguration) {
            self.first = first
            self.second = second
            self.firstSeen = firstSeen
            let framer = SMPPFramer(maximumLength: configuration.maximumPDULength)
            let forced = configuration.forcedPorts.contains(first.port) || configuration.forcedPorts.contains(second.port)
            forward = DirectionStream(
                framer: framer, forced: forced, bufferLimit: configuration.bufferLimit, scanBudget: configuration.scanBudget)
            backward = DirectionStream(
                framer: framer, forced: forced, bufferLimit: configuration.bufferLimit, scanBudget: configuration.scanBudget)
        }

        func direction(from source: Endpoint) -> (stream: DirectionStream, other: DirectionStream) {
            source == first ? (forward, backward) : (backward, forward)
        }

        var isSMPP: Bool { connectionID != nil }
    }

    public let configuration: ReassemblyConfiguration
    private var flows: [FlowKey: Flow] = [:]
    /// The flow of the last segment.
    private var recent: (key: FlowKey, flow: Flow)?
    private var nextConnectionID = 1
    private var lastFrame = 0
    private var lastTimestamp = Timestamp(nanoseconds: 0)
    private var finishedStatistics = ReassemblyStatistics()

    public init(configuration: ReassemblyConfiguration = ReassemblyConfiguration()) {
        self.configuration = configuration
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

    /// Takes one TCP segment; emits what it completes.
    public func add(_ segment: TCPSegment, _ emit: (StreamEvent) -> Void) {
        finishedStatistics.segments += 1
        lastFrame = segment.frame
        lastTimestamp = segment.timestamp
        let flags = segment.flags
        let key = FlowKey(segment.source, segment.destination)
        // Consecutive segments are often of one connection (a request and its response): skip the table then.
        var flow: Flow?
        if let recent, recent.key == key {
            flow = recent.flow
        } else {
            flow = flows[key]
        }
        if let existing = flow, flags.contains(.syn), !flags.contains(.ack) {
            let (stream, _) = existing.direction(from: segment.source)
            if existing.ended || (stream.started && (!stream.sawSYN || stream.nextSequence != segment.sequence &+ 1)) {
                // The ports were reused for a new connection.
                close(existing, key: key, emit)
                flow = nil
            }
        }
        if flow == nil {
            guard flags.contains(.syn) || segment.payloadLength > 0 else { return }
            let created = Flow(
                first: segment.source, second: segment.destination, firstSeen: segment.timestamp,
                configuration: configuration)
            flows[key] = created
            finishedStatistics.tcpConnections += 1
            flow = created
        }
        guard let flow else { return }
        recent = (key, flow)
        let (stream, other) = flow.direction(from: segment.source)
        let source = segment.source
        let destination = segment.destination
        if flags.contains(.syn) {
            stream.syn(sequence: segment.sequence)
            if !flags.contains(.ack) {
                flow.synSender = source
            } else if flow.synSender == nil {
                flow.synSender = destination
            }
        }
        if flags.contains(.ack), other.hasPendingData {
            other.acknowledged(upTo: segment.acknowledgment, frame: segment.frame, timestamp: segment.timestamp) { output in
                relay(output, flow: flow, source: destination, destination: source, emit)
            }
        }
        let fin = flags.contains(.fin)
        if segment.payloadLength > 0 || fin {
            let sequence = flags.contains(.syn) ? segment.sequence &+ 1 : segment.sequence
            stream.segment(
                sequence: sequence, payload: segment.payload, declaredLength: segment.payloadLength, fin: fin,
                frame: segment.frame, timestamp: segment.timestamp
            ) { output in
                relay(output, flow: flow, source: source, destination: destination, emit)
            }
        }
        if flags.contains(.rst) {
            end(flow, kind: .rst, by: source, segment, emit)
            close(flow, key: key, emit)
            return
        }
        if fin { end(flow, kind: .fin, by: source, segment, emit) }
        if flow.forward.isFinished && flow.backward.isFinished {
            close(flow, key: key, emit)
        }
    }

    /// The end of the capture: what waits is delivered, what is missing reported. Connections stay open.
    public func finish(_ emit: (StreamEvent) -> Void) {
        let remaining = flows.sorted { ($0.value.connectionID ?? Int.max, $0.value.firstSeen) < ($1.value.connectionID ?? Int.max, $1.value.firstSeen) }
        for (key, flow) in remaining {
            close(flow, key: key, emit)
        }
    }

    private func end(_ flow: Flow, kind: ConnectionEnd.Kind, by endpoint: Endpoint, _ segment: TCPSegment, _ emit: (StreamEvent) -> Void) {
        guard !flow.ended else { return }
        flow.ended = true
        guard let id = flow.connectionID else { return }
        emit(.ended(ConnectionEnd(connection: id, kind: kind, by: endpoint, frame: segment.frame, timestamp: segment.timestamp)))
    }

    /// Finishes both directions of a flow and forgets it.
    private func close(_ flow: Flow, key: FlowKey, _ emit: (StreamEvent) -> Void) {
        flow.forward.finish(frame: lastFrame, timestamp: lastTimestamp) { output in
            relay(output, flow: flow, source: flow.first, destination: flow.second, emit)
        }
        flow.backward.finish(frame: lastFrame, timestamp: lastTimestamp) { output in
            relay(output, flow: flow, source: flow.second, destination: flow.first, emit)
        }
        finishedStatistics.retransmittedSegments += flow.forward.retransmittedSegments + flow.backward.retransmittedSegments
        finishedStatistics.outOfOrderSegments += flow.forward.outOfOrderSegments + flow.backward.outOfOrderSegments
        flows[key] = nil
        if recent?.key == key { recent = nil }
    }

    private func relay(_ output: DirectionOutput, flow: Flow, source: Endpoint, destination: Endpoint, _ emit: (StreamEvent) -> Void) {
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
                    Connection(id: id, first: flow.first, second: flow.second, synSender: flow.synSender, firstSeen: flow.firstSeen)))
        case .frame(let bytes, let offset, let frame, let timestamp, let wellFormed):
            guard let id = flow.connectionID else { return }
            finishedStatistics.pdus += 1
            emit(
                .pdu(
                    FramedPDU(
                        connection: id, source: source, destination: destination, timestamp: timestamp, frame: frame,
                        streamOffset: offset, bytes: bytes, digest: wellFormed.map { PDUDigest(frame: bytes, isWellFormed: $0) })))
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

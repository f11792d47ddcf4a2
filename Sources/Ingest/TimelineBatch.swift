// Timeline events in batches, for handing them from the thread that reads, reassembles and follows sessions to
// the thread that consumes them (analysis). PDU bytes are copied into one buffer per batch, which then belongs
// to the receiving thread alone.

import Capture
import NIOCore
@_spi(Lent) import Reassembly
import SMPP
@_spi(Lent) import Timeline

/// The session tracker of a run whose sessions are followed on the reading thread; handed back when it is over.
final class TrackerBox: @unchecked Sendable {
    var tracker: SessionTracker
    init(_ tracker: SessionTracker) { self.tracker = tracker }
}

/// A batch of timeline events, in order: reassembly's output goes through the session tracker on the way in.
struct TimelineBatch: IngestBatch, @unchecked Sendable {
    /// A timeline PDU whose bytes are at `start..<start + length` of the arena. Laid out compactly (widest fields
    /// first, the decoded PDU boxed, the length in 32 bits like command_length): the receiving thread reads every
    /// entry from memory the other thread wrote.
    struct Entry: ArenaEntry {
        var session: Int
        var timestamp: Timestamp
        var frame: Int
        var streamOffset: UInt64
        var decodedBox: DecodedPDUBox?
        var start: Int
        var header: PDUHeader
        var size: UInt32
        var source: Endpoint
        var destination: Endpoint
        var digest: PDUDigest
        var fromClient: Bool?
        var isoDefault: Bool
        var prepared: PreparedPDU?

        var length: Int { Int(size) }
    }

    private var events: ArenaBatch<Entry, TimelineEvent>
    /// PDUs that reassembly produced for this batch (those outside any session included).
    private(set) var framedPDUs = 0
    /// Progress of the reader when the batch was closed.
    var bytesRead = 0
    var packets = 0
    /// The sessions of the run, the same box for every batch.
    let sessions: TrackerBox
    /// The consumer's work on each PDU, done here (on the reading thread) when ``consumerIsBehind(_:)`` says so.
    let prepare: PDUPreparation?
    private var preparing = false

    init(capacity: Int, sessions: TrackerBox, prepare: PDUPreparation? = nil) {
        events = ArenaBatch(capacity: capacity)
        self.sessions = sessions
        self.prepare = prepare
    }

    var count: Int { events.count }

    /// With the consumer behind, the reading thread has time to spare: it prepares this batch's PDUs for it.
    mutating func consumerIsBehind(_ behind: Bool) {
        preparing = behind && prepare != nil
    }

    mutating func append(pdu framed: LentPDU) {
        framedPDUs += 1
        // The entry is made from the lent PDU and what its session adds, not from a PDU completed for it.
        guard let followed = sessions.tracker.follow(framed) else { return }
        let (start, length) = events.store(framed.bytes)
        var prepared: PreparedPDU?
        if preparing, let prepare {
            var pdu = framed
            pdu.fromClient = followed.fromClient
            pdu.isoDefault = followed.isoDefault
            pdu.decodedBox = followed.decoded
            prepared = withExtendedLifetime(followed.decoded) { prepare(pdu) }
        }
        events.append(
            entry: Entry(
                session: framed.session, timestamp: framed.timestamp, frame: framed.frame,
                streamOffset: framed.streamOffset, decodedBox: followed.decoded, start: start, header: framed.header,
                size: UInt32(truncatingIfNeeded: length), source: framed.source, destination: framed.destination,
                digest: framed.digest, fromClient: followed.fromClient, isoDefault: followed.isoDefault,
                prepared: prepared))
    }

    mutating func append(_ event: StreamEvent) {
        // PDUs left in the streams at the end of the capture come as events.
        if case .pdu(let framed) = event {
            framed.withLent { append(pdu: $0) }
            return
        }
        sessions.tracker.handle(event) { append(timeline: $0) }
    }

    mutating func append(_ diagnostic: CaptureDiagnostic) {
        append(timeline: .captureDiagnostic(diagnostic))
    }

    mutating func append(timeline event: TimelineEvent) {
        events.append(other: event)
    }

    /// Each event in order: PDUs (their bytes slices of the arena) to `pdu`, the others to `other`; and when
    /// `upcoming` is given, each PDU to it a few PDUs before it goes to `pdu`, with what it works out for a PDU
    /// that came unprepared given to the PDU as ``TimelinePDU/prepared``.
    func forEach(
        pdu: (TimelinePDU) throws -> Void, other: (TimelineEvent) throws -> Void,
        upcoming: ((LentPDU) -> PreparedPDU?)? = nil
    ) rethrows {
        try Self.withLookahead { ahead in
            try events.forEach(
                entry: { index, entry, arena, _ in
                    try pdu(
                        TimelinePDU(
                            session: entry.pointee.session, timestamp: entry.pointee.timestamp,
                            frame: entry.pointee.frame,
                            source: entry.pointee.source, destination: entry.pointee.destination,
                            fromClient: entry.pointee.fromClient, streamOffset: entry.pointee.streamOffset,
                            header: entry.pointee.header,
                            raw: arena.getSlice(at: entry.pointee.start, length: entry.pointee.length) ?? ByteBuffer(),
                            digest: entry.pointee.digest, decodedBox: entry.pointee.decodedBox,
                            isoDefault: entry.pointee.isoDefault,
                            prepared: entry.pointee.prepared ?? ahead[index & Self.ringMask]))
                }, other: other, ahead: Self.ahead(upcoming, into: ahead), distance: Self.lookahead)
        }
    }

    /// ``forEach(pdu:other:upcoming:)`` with each PDU's bytes lent from the batch: no reference counting per PDU.
    func forEach(
        lent pdu: (LentPDU) throws -> Void, other: (TimelineEvent) throws -> Void,
        upcoming: ((LentPDU) -> PreparedPDU?)? = nil
    ) rethrows {
        try Self.withLookahead { ahead in
            try events.forEach(
                entry: { index, entry, _, arena in
                    let start = entry.pointee.start
                    try pdu(
                        LentPDU(
                            session: entry.pointee.session, timestamp: entry.pointee.timestamp,
                            frame: entry.pointee.frame,
                            source: entry.pointee.source, destination: entry.pointee.destination,
                            fromClient: entry.pointee.fromClient, streamOffset: entry.pointee.streamOffset,
                            header: entry.pointee.header,
                            bytes: UnsafeRawBufferPointer(rebasing: arena[start..<(start + entry.pointee.length)]),
                            digest: entry.pointee.digest, decodedBox: entry.pointee.decodedBox,
                            isoDefault: entry.pointee.isoDefault,
                            prepared: entry.pointee.prepared ?? ahead[index & Self.ringMask]))
                }, other: other, ahead: Self.ahead(upcoming, into: ahead), distance: Self.lookahead)
        }
    }

    /// `upcoming` as the arena's look-ahead; what it works out for a PDU that came unprepared goes to `ring`, where
    /// the PDU's turn finds it (``withLookahead(_:)``).
    @inline(__always)
    private static func ahead(
        _ upcoming: ((LentPDU) -> PreparedPDU?)?, into ring: UnsafeMutableBufferPointer<PreparedPDU?>
    ) -> ((Int, UnsafePointer<Entry>, UnsafeRawBufferPointer) -> Void)? {
        upcoming.map { upcoming in
            { (index: Int, entry: UnsafePointer<Entry>, bytes: UnsafeRawBufferPointer) in
                let prepared = entry.pointee.prepared
                let worked = upcoming(
                    LentPDU(
                        session: entry.pointee.session, timestamp: entry.pointee.timestamp, frame: entry.pointee.frame,
                        source: entry.pointee.source, destination: entry.pointee.destination,
                        fromClient: entry.pointee.fromClient, streamOffset: entry.pointee.streamOffset,
                        header: entry.pointee.header, bytes: bytes, digest: entry.pointee.digest,
                        decodedBox: entry.pointee.decodedBox, isoDefault: entry.pointee.isoDefault,
                        prepared: prepared))
                ring[index & ringMask] = prepared == nil ? worked : nil
            }
        }
    }

    /// A ring of what the look-ahead worked out for the PDUs between it and their turn, all nil at first.
    private static func withLookahead<Result>(
        _ body: (UnsafeMutableBufferPointer<PreparedPDU?>) throws -> Result
    ) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: PreparedPDU?.self, capacity: ringMask + 1) { ring in
            ring.initialize(repeating: nil)
            defer { ring.deinitialize() }
            return try body(ring)
        }
    }

    /// Slots of the ring, less one: more than ``lookahead``, a power of two.
    private static let ringMask = 7

    /// How many PDUs before its turn a PDU goes to `upcoming`: a few hundred nanoseconds of handling each, enough
    /// for memory to arrive.
    static let lookahead = 4
}

// Timeline events in batches, for handing them from the thread that reads, reassembles and follows sessions to
// the thread that consumes them (analysis). PDU bytes are copied into one buffer per batch, which then belongs
// to the receiving thread alone.

import Capture
import NIOCore
import Reassembly
import SMPP
import Timeline

/// The session tracker of a run whose sessions are followed on the reading thread; handed back when it is over.
final class TrackerBox: @unchecked Sendable {
    var tracker: SessionTracker
    init(_ tracker: SessionTracker) { self.tracker = tracker }
}

/// A batch of timeline events, in order: reassembly's output goes through the session tracker on the way in.
///
/// PDUs (nearly every event) are kept apart from the rest in a compact form, their bytes in one arena; the other
/// events carry how many PDUs came before them, which gives back the order.
struct TimelineBatch: IngestBatch, @unchecked Sendable {
    /// A timeline PDU whose bytes are at `start..<start + length` of the arena.
    struct Entry {
        var session: Int
        var timestamp: Timestamp
        var frame: Int
        var source: Endpoint
        var destination: Endpoint
        var fromClient: Bool?
        var streamOffset: UInt64
        var header: PDUHeader
        var digest: PDUDigest
        var pdu: PDU?
        var isoDefault: Bool
        var start: Int
        var length: Int
    }

    private(set) var pdus: [Entry] = []
    /// Events other than PDUs, each after the first `pdusBefore` PDUs of the batch.
    private(set) var others: [(pdusBefore: Int, event: TimelineEvent)] = []
    private var arena = ByteBuffer()
    /// PDUs that reassembly produced for this batch (those outside any session included).
    private(set) var framedPDUs = 0
    /// Progress of the reader when the batch was closed.
    var bytesRead = 0
    var packets = 0
    /// Set by the reading thread for every batch of a run; the same box throughout.
    var sessions: TrackerBox?

    init(capacity: Int) {
        pdus.reserveCapacity(capacity)
        arena.reserveCapacity(capacity * 160)
    }

    var count: Int { pdus.count + others.count }

    mutating func append(pdu framed: FramedPDU) {
        framedPDUs += 1
        guard let sessions else { return }
        sessions.tracker.handlePDU(framed, pdu: { append(pdu: $0) })
    }

    mutating func append(_ event: StreamEvent) {
        // PDUs left in the streams at the end of the capture come as events.
        if case .pdu(let framed) = event {
            append(pdu: framed)
            return
        }
        guard let sessions else { return }
        sessions.tracker.handle(event) { append(timeline: $0) }
    }

    mutating func append(_ diagnostic: CaptureDiagnostic) {
        append(timeline: .captureDiagnostic(diagnostic))
    }

    mutating func append(timeline event: TimelineEvent) {
        others.append((pdus.count, event))
    }

    mutating func append(pdu item: TimelinePDU) {
        let start = arena.writerIndex
        // Copied through the writable region, which is cheaper than `writeImmutableBuffer`'s generic path in NIO.
        let length = item.raw.withUnsafeReadableBytes { bytes in
            arena.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count) { target in
                target.copyMemory(from: bytes)
                return bytes.count
            }
        }
        pdus.append(
            Entry(
                session: item.session, timestamp: item.timestamp, frame: item.frame, source: item.source,
                destination: item.destination, fromClient: item.fromClient, streamOffset: item.streamOffset,
                header: item.header, digest: item.digest, pdu: item.pdu, isoDefault: item.isoDefault, start: start,
                length: length))
    }

    /// Each event in order: PDUs (their bytes slices of the arena) to `pdu`, the others to `other`.
    func forEach(pdu: (TimelinePDU) throws -> Void, other: (TimelineEvent) throws -> Void) rethrows {
        var next = 0
        for index in pdus.indices {
            while next < others.count, others[next].pdusBefore <= index {
                try other(others[next].event)
                next += 1
            }
            let entry = pdus[index]
            try pdu(
                TimelinePDU(
                    session: entry.session, timestamp: entry.timestamp, frame: entry.frame, source: entry.source,
                    destination: entry.destination, fromClient: entry.fromClient, streamOffset: entry.streamOffset,
                    header: entry.header, raw: arena.getSlice(at: entry.start, length: entry.length) ?? ByteBuffer(),
                    digest: entry.digest, pdu: entry.pdu, isoDefault: entry.isoDefault))
        }
        while next < others.count {
            try other(others[next].event)
            next += 1
        }
    }
}

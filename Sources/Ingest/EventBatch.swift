// Reassembly events in batches, for handing them from the thread that reads and reassembles to the thread that
// tracks sessions and measures. PDU bytes are copied into one buffer per batch, which then belongs to the
// receiving thread alone.

import CHints
import Capture
import NIOCore
@_spi(Lent) import Reassembly
import SMPP

/// What the reading thread fills and hands over: reassembly's output and the capture's diagnostics go in, in
/// order.
protocol IngestBatch: Sendable {
    /// Events held, for deciding when to hand the batch over.
    var count: Int { get }
    /// PDUs reassembly produced for the batch, for progress.
    var framedPDUs: Int { get }
    var bytesRead: Int { get set }
    var packets: Int { get set }
    mutating func append(pdu framed: LentPDU)
    mutating func append(_ event: StreamEvent)
    mutating func append(_ diagnostic: CaptureDiagnostic)
    /// Told by the reading thread, for the batch it starts, whether the consumer has batches waiting (the reading
    /// thread then has time to spare for work the consumer would otherwise do).
    mutating func consumerIsBehind(_ behind: Bool)
}

extension IngestBatch {
    mutating func consumerIsBehind(_ behind: Bool) {}
}

/// A PDU kept in an arena batch: where its bytes are in the arena.
protocol ArenaEntry {
    var start: Int { get }
    var length: Int { get }
}

/// Events in order, PDUs (nearly every event) kept apart from the rest in a compact form with their bytes in one
/// arena; the other events carry how many PDUs came before them, which gives back the order.
struct ArenaBatch<Entry: ArenaEntry, Other> {
    private(set) var entries: [Entry] = []
    private var others: [(pdusBefore: Int, event: Other)] = []
    private var arena = ByteBuffer()

    init(capacity: Int) {
        entries.reserveCapacity(capacity)
        arena.reserveCapacity(capacity * 160)
    }

    var count: Int { entries.count + others.count }

    mutating func append(other event: Other) {
        others.append((entries.count, event))
    }

    /// Copies a PDU's bytes into the arena; its entry, made with where they went, must follow
    /// (``append(entry:)``).
    mutating func store(_ bytes: UnsafeRawBufferPointer) -> (start: Int, length: Int) {
        let start = arena.writerIndex
        // Copied through the writable region, which is cheaper than `writeBytes`'s generic path in NIO.
        let length = arena.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count) { target in
            target.copyMemory(from: bytes)
            return bytes.count
        }
        return (start, length)
    }

    /// Keeps the entry of the PDU whose bytes ``store(_:)`` just copied.
    mutating func append(entry: Entry) {
        entries.append(entry)
    }

    /// Each event in order: PDU entries (with their index among the entries) with the arena (their bytes are where
    /// ``store(_:)`` put them), as a buffer and as lent bytes, to `entry`, the others to `other`; and, when given,
    /// each entry with its index and bytes to `ahead` `distance` entries before it goes to `entry` (the first ones
    /// at the start). Entries are lent in place, valid during the call: read field by field, an entry is not copied
    /// whole.
    func forEach(
        entry: (Int, UnsafePointer<Entry>, _ arena: ByteBuffer, _ arenaBytes: UnsafeRawBufferPointer) throws -> Void,
        other: (Other) throws -> Void, ahead: ((Int, UnsafePointer<Entry>, UnsafeRawBufferPointer) -> Void)? = nil,
        distance: Int = 0
    ) rethrows {
        try entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else {
                for item in others { try other(item.event) }
                return
            }
            try arena.withUnsafeReadableBytes { bytes in
                guard let ahead, distance > 0 else {
                    return try forEach(entries: base, arenaBytes: bytes, entry: entry, other: other, ahead: { _ in })
                }
                func look(at index: Int) {
                    let item = base + index
                    let start = item.pointee.start
                    ahead(index, item, UnsafeRawBufferPointer(rebasing: bytes[start..<(start + item.pointee.length)]))
                }
                for index in 0..<min(distance, entries.count) { look(at: index) }
                for index in min(distance, entries.count)..<min(2 * distance, entries.count) {
                    Self.prefetch(base + index)
                }
                try forEach(entries: base, arenaBytes: bytes, entry: entry, other: other) { index in
                    if index + distance < entries.count { look(at: index + distance) }
                    // The entry after it starts loading now: the other thread wrote it, and its lines are in that
                    // core's cache.
                    if index + 2 * distance < entries.count { Self.prefetch(base + index + 2 * distance) }
                }
            }
        }
    }

    /// Starts loading the cache lines an entry spans (64-byte lines; an entry need not start on one).
    @inline(__always)
    private static func prefetch(_ entry: UnsafePointer<Entry>) {
        let start = UInt(bitPattern: entry)
        var line = start & ~63
        while line < start + UInt(MemoryLayout<Entry>.size) {
            chints_prefetch(UnsafeRawPointer(bitPattern: line))
            line += 64
        }
    }

    private func forEach(
        entries base: UnsafePointer<Entry>, arenaBytes: UnsafeRawBufferPointer,
        entry: (Int, UnsafePointer<Entry>, _ arena: ByteBuffer, _ arenaBytes: UnsafeRawBufferPointer) throws -> Void,
        other: (Other) throws -> Void, ahead: (Int) -> Void
    ) rethrows {
        var next = 0
        for index in 0..<entries.count {
            while next < others.count, others[next].pdusBefore <= index {
                try other(others[next].event)
                next += 1
            }
            ahead(index)
            try entry(index, base + index, arena, arenaBytes)
        }
        while next < others.count {
            try other(others[next].event)
            next += 1
        }
    }
}

/// A batch of reassembly events and capture diagnostics, in order.
struct EventBatch: IngestBatch, @unchecked Sendable {
    /// A PDU whose bytes are at `start..<start + length` of the arena.
    struct PDUEntry: ArenaEntry {
        var session: Int
        var header: PDUHeader
        var source: Endpoint
        var destination: Endpoint
        var timestamp: Timestamp
        var frame: Int
        var streamOffset: UInt64
        var start: Int
        var length: Int
        var digest: PDUDigest
    }

    private var events: ArenaBatch<PDUEntry, PipelineEvent>
    /// Progress of the reader when the batch was closed.
    var bytesRead = 0
    var packets = 0

    init(capacity: Int) {
        events = ArenaBatch(capacity: capacity)
    }

    var count: Int { events.count }
    var framedPDUs: Int { events.entries.count }

    mutating func append(_ event: StreamEvent) {
        guard case .pdu(let framed) = event else {
            events.append(other: .stream(event))
            return
        }
        framed.withLent { append(pdu: $0) }
    }

    mutating func append(pdu framed: LentPDU) {
        let (start, length) = events.store(framed.bytes)
        events.append(
            entry: PDUEntry(
                session: framed.session, header: framed.header, source: framed.source,
                destination: framed.destination, timestamp: framed.timestamp, frame: framed.frame,
                streamOffset: framed.streamOffset, start: start, length: length, digest: framed.digest))
    }

    mutating func append(_ diagnostic: CaptureDiagnostic) {
        events.append(other: .capture(diagnostic))
    }

    /// Each event in order: PDUs (their bytes slices of the arena) to `pdu`, the others to `other`.
    func forEach(pdu: (TimelinePDU) throws -> Void, other: (PipelineEvent) throws -> Void) rethrows {
        try events.forEach(
            entry: { _, item, arena, _ in
                let entry = item.pointee
                try pdu(
                    TimelinePDU(
                        session: entry.session, timestamp: entry.timestamp, frame: entry.frame,
                        source: entry.source, destination: entry.destination, fromClient: nil,
                        streamOffset: entry.streamOffset, header: entry.header,
                        raw: arena.getSlice(at: entry.start, length: entry.length) ?? ByteBuffer(),
                        digest: entry.digest, decodedBox: nil, isoDefault: false))
            }, other: other)
    }
}

/// A bounded single-producer single-consumer queue of batches.
final class BatchQueue<Batch>: @unchecked Sendable {
    private let condition = ConditionLock()
    private var batches: [Batch] = []
    private var finished = false
    private var failure: Error?
    private var cancelled = false
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Blocks while the queue is full; returns the number of batches waiting for the consumer with this one, or
    /// nil when the consumer gave up.
    func put(_ batch: Batch) -> Int? {
        condition.withLock(waitingUntil: { self.batches.count < self.limit || self.cancelled }) {
            guard !cancelled else { return nil }
            batches.append(batch)
            return batches.count
        }
    }

    /// The producer is done, with or without an error.
    func finish(error: Error?) {
        condition.withLock(waitingUntil: { true }) {
            failure = error
            finished = true
        }
    }

    /// The next batch; nil at the end (rethrowing the producer's error).
    func take() throws -> Batch? {
        let (batch, error): (Batch?, Error?) = condition.withLock(waitingUntil: {
            !self.batches.isEmpty || self.finished
        }) {
            if !batches.isEmpty { return (batches.removeFirst(), nil) }
            return (nil, failure)
        }
        if let error { throw error }
        return batch
    }

    /// The consumer stops early: the producer is released.
    func cancel() {
        condition.withLock(waitingUntil: { true }) { cancelled = true }
    }

    var isCancelled: Bool { condition.withLock(waitingUntil: { true }) { cancelled } }
}

// Reassembly events in batches, for handing them from the thread that reads and reassembles to the thread that
// tracks sessions and measures. PDU bytes are copied into one buffer per batch, which then belongs to the
// receiving thread alone.

import Capture
import NIOCore
import Reassembly
import SMPP

/// A batch of reassembly events and capture diagnostics, in order.
struct EventBatch: @unchecked Sendable {
    enum Item {
        case stream(StreamEvent)
        /// A PDU whose bytes are at `range` of ``EventBatch/arena``.
        case pdu(FramedPDU, range: Range<Int>)
        case capture(CaptureDiagnostic)
    }

    var items: [Item] = []
    var arena = ByteBuffer()
    /// Progress of the reader when the batch was closed.
    var bytesRead = 0
    var packets = 0

    init(capacity: Int) {
        items.reserveCapacity(capacity)
        arena.reserveCapacity(capacity * 160)
    }

    mutating func append(_ event: StreamEvent) {
        if case .pdu(let framed) = event {
            let start = arena.writerIndex
            arena.writeImmutableBuffer(framed.bytes)
            var copy = framed
            copy.digest = PDUDigest(frame: framed.bytes)
            copy.bytes = ByteBuffer()
            items.append(.pdu(copy, range: start..<arena.writerIndex))
        } else {
            items.append(.stream(event))
        }
    }

    /// Each event, with the PDU bytes as slices of the arena.
    func forEach(_ body: (Item) throws -> Void) rethrows {
        for item in items {
            if case .pdu(var framed, let range) = item {
                framed.bytes = arena.getSlice(at: range.lowerBound, length: range.count) ?? ByteBuffer()
                try body(.stream(.pdu(framed)))
            } else {
                try body(item)
            }
        }
    }
}

/// A bounded single-producer single-consumer queue of batches.
final class BatchQueue: @unchecked Sendable {
    private let condition = ConditionLock()
    private var batches: [EventBatch] = []
    private var finished = false
    private var failure: Error?
    private var cancelled = false
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Blocks while the queue is full; returns false when the consumer gave up.
    func put(_ batch: EventBatch) -> Bool {
        condition.withLock(waitingUntil: { self.batches.count < self.limit || self.cancelled }) {
            guard !cancelled else { return false }
            batches.append(batch)
            return true
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
    func take() throws -> EventBatch? {
        let (batch, error): (EventBatch?, Error?) = condition.withLock(waitingUntil: { !self.batches.isEmpty || self.finished }) {
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

// Segments that arrived ahead of a gap in their direction, waiting for it to fill: ordered by sequence number in a
// heap (O(log n) to add and to take the next), their memory counted as the bytes they hold plus a fixed overhead
// each, per direction and across the whole reassembler, so that many tiny or payload-less segments are bounded as
// surely as large ones.

import Capture
import HeapModule

/// Memory held by every direction's waiting segments together.
final class HeldBudget {
    let limit: Int
    private(set) var bytes = 0

    init(limit: Int) { self.limit = limit }

    func add(_ count: Int) { bytes += count }
    func remove(_ count: Int) { bytes -= count }
    var isExceeded: Bool { bytes > limit }
}

/// One direction's waiting segments.
struct HeldSegments {
    struct Segment: Comparable {
        var sequence: UInt32
        var bytes: [UInt8]
        var declaredLength: Int
        var frame: Int
        var timestamp: Timestamp

        /// Waiting segments all lie within 2^31 ahead of the next expected byte, so their order by 32-bit sequence
        /// distance is a total order.
        static func < (a: Segment, b: Segment) -> Bool { Int32(bitPattern: a.sequence &- b.sequence) < 0 }
        static func == (a: Segment, b: Segment) -> Bool { a.sequence == b.sequence }
    }

    /// What a waiting segment costs besides its bytes: its entry, its array's header and the allocator's share.
    static let overhead = 96

    private var heap = Heap<Segment>()
    /// Per sequence number waiting: how many segments start there and the longest of them, so that a
    /// retransmission of a waiting segment is recognised without a search.
    private var starts: [UInt32: (count: Int, longest: Int)] = [:]
    /// Memory held, by the measure above.
    private(set) var bytes = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    /// The segment with the lowest sequence number.
    var first: Segment? { heap.min }

    static func cost(_ segment: Segment) -> Int { segment.bytes.count + overhead }

    /// Keeps a segment; false when a segment as long or longer already waits at the same sequence number (a
    /// retransmission, not kept).
    mutating func insert(_ segment: Segment, budget: HeldBudget?) -> Bool {
        if let known = starts[segment.sequence] {
            guard segment.declaredLength > known.longest else { return false }
            starts[segment.sequence] = (known.count + 1, segment.declaredLength)
        } else {
            starts[segment.sequence] = (1, segment.declaredLength)
        }
        let cost = Self.cost(segment)
        heap.insert(segment)
        bytes += cost
        budget?.add(cost)
        return true
    }

    mutating func removeFirst(budget: HeldBudget?) -> Segment? {
        guard let segment = heap.popMin() else { return nil }
        if let known = starts[segment.sequence], known.count > 1 {
            starts[segment.sequence] = (known.count - 1, known.longest)
        } else {
            starts[segment.sequence] = nil
        }
        let cost = Self.cost(segment)
        bytes -= cost
        budget?.remove(cost)
        return segment
    }

    mutating func removeAll(budget: HeldBudget?) {
        budget?.remove(bytes)
        heap = Heap()
        starts = [:]
        bytes = 0
    }
}

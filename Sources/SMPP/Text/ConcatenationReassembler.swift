// Puts the parts of concatenated messages back together: parts in any order, duplicates noticed, missing parts
// reported.

/// Collects the parts of concatenated short messages until each message is whole.
///
/// Bounded: at most `maximumPending` messages wait for parts; the oldest is given up (reported incomplete) when
/// a new one would exceed that.
public struct ConcatenationReassembler<Context: Sendable>: Sendable {
    /// Identifies one concatenated message.
    public struct Key: Hashable, Sendable {
        public var stream: String
        public var source: String
        public var destination: String
        public var reference: UInt16
        public var total: UInt8

        public init(stream: String = "", source: String, destination: String, reference: UInt16, total: UInt8) {
            self.stream = stream
            self.source = source
            self.destination = destination
            self.reference = reference
            self.total = total
        }
    }

    /// A message whose parts were all seen.
    public struct Message: Sendable {
        public var key: Key
        /// Parts in sequence order: their octets (after the user data header) and the caller's context.
        public var parts: [(octets: [UInt8], context: Context)]
        /// The octets of all parts, in order.
        public var octets: [UInt8] { parts.flatMap(\.octets) }
    }

    /// A message given up with parts missing.
    public struct Incomplete: Sendable {
        public var key: Key
        public var received: [UInt8]
        public var missing: [UInt8]
    }

    /// What adding a part did.
    public enum Outcome: Sendable {
        case waiting(received: Int, total: Int)
        case complete(Message)
        /// The part was seen before; the first copy is kept.
        case duplicate(sequence: UInt8)
        /// The sequence number is 0 or above the total.
        case invalid(reason: String)
    }

    public let maximumPending: Int
    private var pending: [Key: [UInt8: (octets: [UInt8], context: Context)]] = [:]
    private var order: [Key] = []
    private var orderStart = 0
    /// Messages given up because too many were pending.
    public private(set) var evicted: [Incomplete] = []

    public init(maximumPending: Int = 10_000) {
        self.maximumPending = max(1, maximumPending)
    }

    public mutating func add(key: Key, sequence: UInt8, octets: [UInt8], context: Context) -> Outcome {
        guard sequence >= 1, sequence <= key.total else {
            return .invalid(reason: "part \(sequence) of \(key.total) is out of range")
        }
        if key.total == 1 {
            return .complete(Message(key: key, parts: [(octets, context)]))
        }
        if pending[key] == nil {
            evictIfFull()
            pending[key] = [:]
            order.append(key)
        }
        if pending[key]?[sequence] != nil {
            return .duplicate(sequence: sequence)
        }
        pending[key]?[sequence] = (octets, context)
        let parts = pending[key] ?? [:]
        guard parts.count == Int(key.total) else {
            return .waiting(received: parts.count, total: Int(key.total))
        }
        pending[key] = nil
        let ordered = (1...key.total).compactMap { parts[$0] }
        return .complete(Message(key: key, parts: ordered))
    }

    /// Every message still waiting for parts, with what is missing; clears them.
    public mutating func flush() -> [Incomplete] {
        var result = evicted
        evicted = []
        for key in order[orderStart...] {
            guard let parts = pending.removeValue(forKey: key) else { continue }
            result.append(incomplete(key, parts))
        }
        pending = [:]
        order = []
        orderStart = 0
        return result
    }

    private func incomplete(_ key: Key, _ parts: [UInt8: (octets: [UInt8], context: Context)]) -> Incomplete {
        let received = parts.keys.sorted()
        let missing = (1...max(1, key.total)).filter { parts[$0] == nil }
        return Incomplete(key: key, received: received, missing: missing)
    }

    private mutating func evictIfFull() {
        while pending.count >= maximumPending, orderStart < order.count {
            let oldest = order[orderStart]
            orderStart += 1
            if let parts = pending.removeValue(forKey: oldest) {
                evicted.append(incomplete(oldest, parts))
            }
        }
        if orderStart > 1_024, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }
}

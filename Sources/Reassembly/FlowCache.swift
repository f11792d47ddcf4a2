// The reassembler's flows, and the cache through which the path of every segment reaches them without reference
// counting (each retain and release is an atomic instruction, and there are several per segment otherwise).
//
// Unsafe code, and its invariants:
// - `FlowCache` keeps flows unretained. The reassembler's table (`flows`) keeps every cached flow alive: a flow is
//   put in the cache only while the table holds it, and `forget` takes it out before the table lets it go
//   (`close`, which does that last).
// - `FlowCache.Entry.withFlow` lends the flow to its body without retaining it. The body may close the flow (a RST,
//   both directions finished): `close` is then the last thing done with it, and the entry is not used again.
// - `Flow.withStream` lends a direction unretained: the flow keeps both alive through `forward` and `backward` for
//   its whole life, and a direction is only reached through a flow that is alive.

@_spi(Lent) import Capture
@_spi(Lent) import SMPP

extension SMPPStreamReassembler {
    final class Flow {
        let key: FlowKey
        let first: Endpoint
        let second: Endpoint
        let firstSeen: Timestamp
        let forward: DirectionStream
        let backward: DirectionStream
        /// The directions again, unretained (``withStream(forward:_:)``).
        private let forwardReference: Unmanaged<DirectionStream>
        private let backwardReference: Unmanaged<DirectionStream>
        var connectionID: Int?
        var synSender: Endpoint?
        var ended = false
        /// Capture time of the flow's last segment.
        var lastSeen: Timestamp

        init(
            first: Endpoint, second: Endpoint, firstSeen: Timestamp, configuration: ReassemblyConfiguration,
            budget: HeldBudget
        ) {
            key = FlowKey(first, second)
            self.first = first
            self.second = second
            self.firstSeen = firstSeen
            lastSeen = firstSeen
            let framer = SMPPFramer(maximumLength: configuration.maximumPDULength)
            let forced =
                configuration.forcedPorts.contains(first.port) || configuration.forcedPorts.contains(second.port)
            forward = DirectionStream(
                framer: framer, forced: forced, bufferLimit: configuration.bufferLimit,
                scanBudget: configuration.scanBudget,
                budget: budget)
            backward = DirectionStream(
                framer: framer, forced: forced, bufferLimit: configuration.bufferLimit,
                scanBudget: configuration.scanBudget,
                budget: budget)
            forwardReference = Unmanaged.passUnretained(forward)
            backwardReference = Unmanaged.passUnretained(backward)
        }

        /// Lends one direction to `body` without reference counting: the flow keeps it alive.
        @inline(__always)
        func withStream<Result>(forward: Bool, _ body: (DirectionStream) throws -> Result) rethrows -> Result {
            try (forward ? forwardReference : backwardReference)._withUnsafeGuaranteedRef(body)
        }

        var isSMPP: Bool { connectionID != nil }
    }

    /// Recently used flows, by a few bits of their key's hash.
    struct FlowCache {
        /// A flow found in the cache.
        struct Entry {
            fileprivate let reference: Unmanaged<Flow>

            /// The flow, retained: for the paths taken once per connection.
            var flow: Flow { reference.takeUnretainedValue() }

            /// Lends the flow to `body` without reference counting.
            @inline(__always)
            func withFlow<Result>(_ body: (Flow) throws -> Result) rethrows -> Result {
                try reference._withUnsafeGuaranteedRef(body)
            }
        }

        private var slots: [Unmanaged<Flow>?]

        init(slots: Int) {
            self.slots = [Unmanaged<Flow>?](repeating: nil, count: slots)
        }

        /// The flow of `key`, when it is the one cached in `slot`.
        @inline(__always)
        func entry(for key: FlowKey, slot: Int) -> Entry? {
            guard let cached = slots[slot], cached._withUnsafeGuaranteedRef({ $0.key == key }) else { return nil }
            return Entry(reference: cached)
        }

        /// Caches `flow`, which the table holds, in `slot`.
        @inline(__always)
        mutating func keep(_ flow: Flow, slot: Int) -> Entry {
            let reference = Unmanaged.passUnretained(flow)
            slots[slot] = reference
            return Entry(reference: reference)
        }

        /// Takes `flow` out of the cache, before the table lets it go.
        mutating func forget(_ flow: Flow, slot: Int) {
            if slots[slot]?.toOpaque() == Unmanaged.passUnretained(flow).toOpaque() { slots[slot] = nil }
        }
    }
}

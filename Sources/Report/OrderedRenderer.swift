// Rendering on another core: items are gathered in chunks, each chunk is rendered to bytes on a worker thread,
// and the bytes come out in the order the items went in — the same output as rendering them one by one.

import Foundation

/// Renders items to bytes on worker threads and hands the bytes back in order.
public final class OrderedRenderer<Item>: @unchecked Sendable {
    /// Writes the lines of `items` to `into` (a writer used as a byte buffer: JSON values, separators, raw text).
    public typealias Render = @Sendable (_ items: [Item], _ into: inout JSONWriter) -> Void
    /// Receives the bytes of a chunk, valid during the call.
    public typealias Emit = (UnsafeRawBufferPointer) throws -> Void

    private let render: Render
    @usableFromInline let chunkSize: Int
    private let maximumInFlight: Int
    private let queue: DispatchQueue
    @usableFromInline var chunk: [Item] = []
    /// Chunks handed to the workers, oldest first.
    private var inFlight: [Slot] = []

    private struct Handover: @unchecked Sendable {
        let value: [Item]
        init(_ value: [Item]) { self.value = value }
    }

    private final class Slot: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var output: JSONWriter

        init(capacity: Int) {
            output = JSONWriter(capacity: capacity)
        }
    }

    /// `workers` threads render chunks of `chunkSize` items; at most `workers * 2` chunks wait at once, so memory
    /// stays bounded whatever the input's size.
    public init(workers: Int = 1, chunkSize: Int = 1_024, render: @escaping Render) {
        self.render = render
        self.chunkSize = max(1, chunkSize)
        maximumInFlight = max(1, workers) * 2
        queue = DispatchQueue(label: "smppscope.render", qos: .userInitiated, attributes: workers > 1 ? .concurrent : [])
        chunk.reserveCapacity(self.chunkSize)
    }

    /// Adds an item; `emit` receives the bytes of chunks already rendered, in order. Inlinable, so that the item
    /// is copied by the caller's specialized code rather than through the generic value witnesses.
    @inlinable
    public func add(_ item: Item, emit: Emit) rethrows {
        chunk.append(item)
        guard chunk.count >= chunkSize else { return }
        try submit(emit: emit)
    }

    /// Renders what is left and emits everything, in order.
    public func finish(emit: Emit) rethrows {
        if !chunk.isEmpty { try submit(emit: emit) }
        while !inFlight.isEmpty { try emitOldest(emit) }
    }

    @usableFromInline
    func submit(emit: Emit) rethrows {
        // The items move to the worker and are not touched here again.
        let items = Handover(chunk)
        chunk = []
        chunk.reserveCapacity(chunkSize)
        let slot = Slot(capacity: items.value.count * 768)
        let render = self.render
        queue.async {
            render(items.value, &slot.output)
            slot.done.signal()
        }
        inFlight.append(slot)
        // Emit what is ready without waiting; wait only when too much is in flight.
        while let oldest = inFlight.first {
            if inFlight.count >= maximumInFlight {
                oldest.done.wait()
            } else if oldest.done.wait(timeout: .now()) != .success {
                break
            }
            inFlight.removeFirst()
            try oldest.output.withBytes(emit)
        }
    }

    private func emitOldest(_ emit: Emit) rethrows {
        let oldest = inFlight.removeFirst()
        oldest.done.wait()
        try oldest.output.withBytes(emit)
    }
}

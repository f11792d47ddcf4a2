// Rendering on another core: items are gathered in chunks, each chunk is rendered to bytes on a worker thread,
// and the bytes come out in the order the items went in — the same output as rendering them one by one.

import Foundation

/// Renders items to bytes on worker threads and hands the bytes back in order.
public final class OrderedRenderer<Item>: @unchecked Sendable {
    /// Writes the lines of `items` to `into` (a writer used as a byte buffer: JSON values, separators, raw text).
    public typealias Render = @Sendable (_ items: [Item], _ into: inout JSONWriter) -> Void
    /// Receives the bytes of a chunk, valid during the call.
    @_spi(Lent) public typealias Emit = (UnsafeRawBufferPointer) throws -> Void

    private let render: Render
    @usableFromInline let chunkSize: Int
    private let maximumInFlight: Int
    private let queue: DispatchQueue
    @usableFromInline var chunk: [Item] = []
    /// Chunks handed to the workers, oldest first.
    private var inFlight: [Slot] = []
    /// Slots whose bytes were emitted, kept with their buffers for the next chunks: a chunk's items and bytes take
    /// a few megabytes, which the allocator would otherwise map afresh for every chunk (a page fault per page).
    private var spare: [Slot] = []

    /// A chunk on its way through a worker: its items, then its bytes. Between `submit` and the signal of `done`
    /// only the worker touches it; after, only the thread that adds items.
    private final class Slot: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var items: [Item] = []
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
        queue = DispatchQueue(
            label: "smppscope.render", qos: .userInitiated, attributes: workers > 1 ? .concurrent : [])
        chunk.reserveCapacity(self.chunkSize)
    }

    /// Adds an item; `emit` receives the bytes of chunks already rendered, in order. Inlinable, so that the item
    /// is copied by the caller's specialized code rather than through the generic value witnesses.
    @inlinable
    @_spi(Lent) public func add(_ item: Item, emit: Emit) rethrows {
        chunk.append(item)
        guard chunk.count >= chunkSize else { return }
        try submit(emit: emit)
    }

    /// Renders what is left and emits everything, in order.
    @_spi(Lent) public func finish(emit: Emit) rethrows {
        if !chunk.isEmpty { try submit(emit: emit) }
        while !inFlight.isEmpty { try emitOldest(emit) }
    }

    @usableFromInline
    func submit(emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        // The items move to the worker and are not touched here again; the next chunk fills the emptied array of
        // a spare slot.
        let slot = spare.popLast() ?? Slot(capacity: chunk.count * 768)
        swap(&slot.items, &chunk)
        chunk.removeAll(keepingCapacity: true)
        chunk.reserveCapacity(chunkSize)
        let render = self.render
        queue.async {
            render(slot.items, &slot.output)
            slot.items.removeAll(keepingCapacity: true)
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
            try emitAndKeep(oldest, emit)
        }
    }

    private func emitOldest(_ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let oldest = inFlight.removeFirst()
        oldest.done.wait()
        try emitAndKeep(oldest, emit)
    }

    /// Emits a rendered slot's bytes and keeps the slot for a later chunk (also when `emit` throws: the slot is
    /// done with either way).
    private func emitAndKeep(_ slot: Slot, _ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        defer {
            slot.output.reset()
            spare.append(slot)
        }
        try slot.output.withBytes(emit)
    }
}

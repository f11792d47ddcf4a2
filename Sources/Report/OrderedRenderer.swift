// Rendering on another core: items are gathered in chunks, each chunk is rendered to bytes on a worker thread,
// and the bytes come out in the order the items went in — the same output as rendering them one by one.

import Foundation

/// Renders items to bytes on worker threads and hands the bytes back in order.
public final class OrderedRenderer<Item>: @unchecked Sendable {
    public typealias Render = @Sendable (_ items: [Item], _ into: inout [UInt8]) -> Void

    private let render: Render
    private let chunkSize: Int
    private let maximumInFlight: Int
    private let queue: DispatchQueue
    private var chunk: [Item] = []
    /// Chunks handed to the workers, oldest first.
    private var inFlight: [Slot] = []

    private struct Handover: @unchecked Sendable {
        let value: [Item]
        init(_ value: [Item]) { self.value = value }
    }

    private final class Slot: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var bytes: [UInt8] = []
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

    /// Adds an item; `emit` receives the bytes of chunks already rendered, in order.
    public func add(_ item: Item, emit: ([UInt8]) throws -> Void) rethrows {
        chunk.append(item)
        guard chunk.count >= chunkSize else { return }
        try submit(emit: emit)
    }

    /// Renders what is left and emits everything, in order.
    public func finish(emit: ([UInt8]) throws -> Void) rethrows {
        if !chunk.isEmpty { try submit(emit: emit) }
        while !inFlight.isEmpty { try emitOldest(emit) }
    }

    private func submit(emit: ([UInt8]) throws -> Void) rethrows {
        // The items move to the worker and are not touched here again.
        let items = Handover(chunk)
        chunk = []
        chunk.reserveCapacity(chunkSize)
        let slot = Slot()
        let render = self.render
        queue.async {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(items.value.count * 768)
            render(items.value, &bytes)
            slot.bytes = bytes
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
            try emit(oldest.bytes)
        }
    }

    private func emitOldest(_ emit: ([UInt8]) throws -> Void) rethrows {
        let oldest = inFlight.removeFirst()
        oldest.done.wait()
        try emit(oldest.bytes)
    }
}

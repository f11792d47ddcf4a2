// Writes the batches of an import on a thread of its own, one transaction per batch, while the importing thread
// builds the next one.

import Foundation
import Reassembly

#if canImport(Glibc)
    import Glibc
#endif

/// Writes batches in order, at most one at a time, on a thread of its own; an error is reported by the next call.
final class BatchWriter: @unchecked Sendable {
    private let backend: any ImportBackend
    private let sourceID: Int64
    private let background: Bool
    private let condition = NSCondition()
    // Under `condition`: the batch handed over and not yet written, the first error, whether to end.
    private var pending: StoreImport.Batch?
    private var busy = false
    private var failure: Error?
    private var ending = false
    private var started = false
    // The writing thread's own.
    private var sessionIDs: [Int: Int64]

    init(backend: any ImportBackend, sourceID: Int64, sessionIDs: [Int: Int64], background: Bool = false) {
        self.background = background
        self.backend = backend
        self.sourceID = sourceID
        self.sessionIDs = sessionIDs
    }

    /// Lets the thread end once what was handed over is written.
    func end() {
        condition.lock()
        ending = true
        condition.broadcast()
        condition.unlock()
    }

    /// Starts writing `batch` once the previous batch is written.
    func write(_ batch: StoreImport.Batch) throws {
        condition.lock()
        defer { condition.unlock() }
        if !started {
            started = true
            let thread = Thread { [self] in run() }
            thread.name = "smppscope.store"
            thread.start()
        }
        while busy, failure == nil { condition.wait() }
        if let failure { throw failure }
        pending = batch
        busy = true
        condition.broadcast()
    }

    /// Waits until every batch is written.
    func wait() throws {
        condition.lock()
        defer { condition.unlock() }
        while busy, failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    private func run() {
        #if canImport(Glibc)
            if background {
                // Beside live traffic, writing only takes a core nobody else wants.
                var parameters = sched_param(sched_priority: 0)
                _ = sched_setscheduler(0, 5 /* SCHED_IDLE */, &parameters)
            }
        #endif
        while true {
            condition.lock()
            while pending == nil, !ending { condition.wait() }
            // Ending with a batch still handed over: write it first.
            guard let batch = pending else {
                condition.unlock()
                return
            }
            pending = nil
            condition.unlock()
            let outcome: Error?
            do {
                try commit(batch)
                outcome = nil
            } catch {
                outcome = error
            }
            condition.lock()
            if let outcome, failure == nil { failure = outcome }
            busy = false
            condition.broadcast()
            let stop = ending
            condition.unlock()
            if stop { return }
        }
    }

    private func commit(_ batch: StoreImport.Batch) throws {
        var sessionIDs = self.sessionIDs
        try backend.commit(batch, sourceID: sourceID, sessionIDs: &sessionIDs, persistent: background)
        self.sessionIDs = sessionIDs
    }
}

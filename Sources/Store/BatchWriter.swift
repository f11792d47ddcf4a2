// Writes the batches of an import on a thread of its own, one transaction per batch, while the importing thread
// builds the next one.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
import Reassembly

/// Writes batches in order, at most one at a time, on a thread of its own; an error is reported by the next call.
final class BatchWriter: @unchecked Sendable {
    private let store: SQLiteStore
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

    init(store: SQLiteStore, sourceID: Int64, sessionIDs: [Int: Int64], background: Bool = false) {
        self.background = background
        self.store = store
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
        let sourceID = self.sourceID
        try store.database.inTransaction { db in
            let insertSession = try db.cachedStatement(
                sql: """
                    INSERT INTO sessions (source_id, connection, ordinal, first_endpoint, second_endpoint, syn_sender,
                    first_seen_ns) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            for (connection, ordinal) in batch.newSessions {
                try insertSession.execute(arguments: [
                    sourceID, connection.id, ordinal, connection.first.description, connection.second.description,
                    connection.synSender?.description, connection.firstSeen.nanoseconds,
                ])
                sessionIDs[connection.id] = db.lastInsertedRowID
            }
            try db.execute(
                sql: "INSERT INTO segments (source_id, first_id, last_id) VALUES (?, ?, ?)",
                arguments: [sourceID, batch.firstID, batch.lastID])
            let segment = db.lastInsertedRowID
            let insertBlock = BulkStatement(
                try db.cachedStatement(
                    sql: """
                        INSERT INTO pdu_blocks (id, segment, session_id, last_id, count, base_ts, first_ts, last_ts, data)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """))
            for (connection, block) in batch.blocks {
                guard let sessionID = sessionIDs[connection] else { continue }
                insertBlock.bind(1, StoreSchema.rowID(source: sourceID, ordinal: block.firstOrdinal))
                insertBlock.bind(2, segment)
                insertBlock.bind(3, sessionID)
                insertBlock.bind(4, StoreSchema.rowID(source: sourceID, ordinal: block.lastOrdinal))
                insertBlock.bind(5, Int64(block.count))
                insertBlock.bind(6, block.baseTime)
                insertBlock.bind(7, block.firstTime)
                insertBlock.bind(8, block.lastTime)
                try insertBlock.step(blob: block.data, at: 9)
            }
            let insertEvent = try db.cachedStatement(
                sql: """
                    INSERT INTO events (id, session_id, kind, ts_ns, frame, from_first, stream_offset, size, file_offset,
                    detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for event in batch.eventRows {
                try insertEvent.execute(arguments: [
                    event.id, event.connection.flatMap { sessionIDs[$0] }, event.kind, event.timestamp, event.frame,
                    event.fromFirst, event.streamOffset.map { Int64(truncatingIfNeeded: $0) }, event.size, event.fileOffset,
                    event.detail,
                ])
            }
            let insertKey = BulkStatement(
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO lookup (segment, key, block_id) VALUES (?, ?, ?)"))
            var previous: StoreImport.LookupKey?
            for key in batch.lookupKeys.sorted() where key != previous {
                previous = key
                insertKey.bind(1, segment)
                insertKey.bind(2, key.hash)
                insertKey.bind(3, key.blockID)
                try insertKey.step()
            }
            let insertSecret = try db.cachedStatement(sql: "INSERT INTO secrets (pdu_id, sealed) VALUES (?, ?)")
            for secret in batch.secretRows { try insertSecret.execute(arguments: [secret.pduID, Data(secret.sealed)]) }
            for (connection, values) in batch.sessionUpdates where !values.isEmpty {
                guard let id = sessionIDs[connection] else { continue }
                let columns = values.keys.sorted()
                let assignments = columns.map { "\($0) = ?" }.joined(separator: ", ")
                var list: [(any DatabaseValueConvertible)?] = columns.map { values[$0] ?? nil }
                list.append(id)
                try db.execute(sql: "UPDATE sessions SET \(assignments) WHERE id = ?", arguments: StatementArguments(list))
            }
            try db.execute(
                sql: "UPDATE sources SET events = ?, pdus = ? WHERE id = ?", arguments: [batch.events, batch.pdus, sourceID])
            return .commit
        }
        self.sessionIDs = sessionIDs
    }
}

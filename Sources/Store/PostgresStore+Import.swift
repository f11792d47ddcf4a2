// Writing an import's batches into PostgreSQL: one transaction per batch, its rows sent with COPY. A batch whose
// transaction may or may not have committed when the connection went (the answer lost with it) is checked against
// the source's progress before it is written again, so nothing is written twice.

import Dispatch
import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore: ImportBackend {
    func commit(_ batch: StoreImport.Batch, sourceID: Int64, sessionIDs: inout [Int: Int64], persistent: Bool) throws {
        var delay = 0.5
        let giveUp = Date().addingTimeInterval(600)
        while true {
            do {
                var ids = sessionIDs
                try withConnection { connection in
                    try write(batch, sourceID: sourceID, sessionIDs: &ids, connection)
                }
                sessionIDs = ids
                return
            } catch {
                // A lost connection (the server restarted, the network went): try again on a new one, for as
                // long as the caller keeps its data (a recorder: until the server is back).
                guard
                    Self.isConnectionLoss(error) || (error as? StoreError)?.description.contains("connection") == true,
                    persistent || Date() < giveUp
                else { throw error }
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 10)
            }
        }
    }

    func complete(sourceID: Int64) throws {
        try withConnection { connection in
            try sealLookupLeaves(connection, sourceID: sourceID, below: Int64.max)
            var binds = PostgresBindings()
            binds.append(Date().timeIntervalSince1970)
            binds.append(sourceID)
            try execute(connection, "UPDATE sources SET completed_at = $1 WHERE id = $2", binds)
        }
    }

    private func write(
        _ batch: StoreImport.Batch, sourceID: Int64, sessionIDs: inout [Int: Int64], _ connection: PostgresConnection
    ) throws {
        let blockTimes = batch.blocks.values.map(\.firstTime)
        // Keys sit in the partition of the batch's first block.
        let keyTime = blockTimes.min() ?? 0
        try ensurePartitions(connection, times: blockTimes)
        let chunks = Set(batch.lookupKeys.map { lookupChunk(of: $0.blockID) })
        try ensureLookupLeaves(connection, sourceID: sourceID, firsts: chunks)
        try execute(connection, "BEGIN")
        do {
            var source = PostgresBindings()
            source.append(sourceID)
            let progress =
                try rows(connection, "SELECT events FROM sources WHERE id = $1 FOR UPDATE", source)
                .first.map { try $0.decode(Int64.self) } ?? 0
            if progress >= Int64(batch.events) {
                // Written already: the commit went through and its answer was lost.
                try execute(connection, "ROLLBACK")
                for row in try rows(connection, "SELECT connection, id FROM sessions WHERE source_id = $1", source) {
                    let (connectionNumber, id) = try row.decode((Int64, Int64).self)
                    sessionIDs[Int(connectionNumber)] = id
                }
                return
            }
            for (opened, ordinal) in batch.newSessions {
                var binds = PostgresBindings()
                binds.append(sourceID)
                binds.append(Int64(opened.id))
                binds.append(Int64(ordinal))
                binds.append(opened.first.description)
                binds.append(opened.second.description)
                binds.append(opened.synSender?.description)
                binds.append(opened.firstSeen.nanoseconds)
                let row = try rows(
                    connection,
                    """
                    INSERT INTO sessions (source_id, connection, ordinal, first_endpoint, second_endpoint, syn_sender, first_seen_ns)
                    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
                    """, binds)
                if let id = try row.first?.decode(Int64.self) { sessionIDs[opened.id] = id }
            }
            // Blocks go as bind parameters, their bytes in binary (COPY's text format would double them as hex).
            var pending: [(Int, PDUBlockBuilder)] = []
            for (connectionNumber, block) in batch.blocks where sessionIDs[connectionNumber] != nil {
                pending.append((connectionNumber, block))
            }
            for start in stride(from: 0, to: pending.count, by: 500) {
                var binds = PostgresBindings()
                var values: [String] = []
                var parameter = 0
                for (connectionNumber, block) in pending[start..<min(pending.count, start + 500)] {
                    guard let sessionID = sessionIDs[connectionNumber] else { continue }
                    binds.append(StoreSchema.rowID(source: sourceID, ordinal: block.firstOrdinal))
                    binds.append(batch.firstID)
                    binds.append(sessionID)
                    binds.append(StoreSchema.rowID(source: sourceID, ordinal: block.lastOrdinal))
                    binds.append(Int32(block.count))
                    binds.append(block.baseTime)
                    binds.append(block.firstTime)
                    binds.append(block.lastTime)
                    binds.append(ByteBuffer(bytes: block.data))
                    values.append("(" + (1...9).map { "$\(parameter + $0)" }.joined(separator: ", ") + ")")
                    parameter += 9
                }
                guard !values.isEmpty else { continue }
                try execute(
                    connection,
                    "INSERT INTO pdu_blocks (id, segment, session_id, last_id, count, base_ts, first_ts, last_ts, data) VALUES "
                        + values.joined(separator: ", "), binds)
            }
            var events = CopyText()
            for event in batch.eventRows {
                events.integer(event.id)
                events.integer(event.connection.flatMap { sessionIDs[$0] })
                events.text(event.kind.rawValue)
                events.integer(event.timestamp)
                events.integer(event.frame.map(Int64.init))
                events.boolean(event.fromFirst)
                events.integer(event.streamOffset.map { Int64(truncatingIfNeeded: $0) })
                events.integer(event.size.map(Int64.init))
                events.integer(event.fileOffset.map(Int64.init))
                events.text(event.detail, last: true)
            }
            try copy(
                connection, "events",
                [
                    "id", "session_id", "kind", "ts_ns", "frame", "from_first", "stream_offset", "size", "file_offset",
                    "detail",
                ], events)
            var keys = CopyText()
            var previous: StoreImport.LookupKey?
            for key in batch.lookupKeys.sorted() where key != previous {
                previous = key
                keys.integer(keyTime)
                keys.integer(key.hash)
                keys.integer(key.blockID, last: true)
            }
            try copy(connection, "lookup_chunks", ["ts", "key", "block_id"], keys)
            if !chunks.isEmpty {
                var leaves = PostgresBindings()
                leaves.append(blockTimes.max() ?? keyTime)
                let names = chunks.map { "'\(Self.lookupLeafName($0))'" }.joined(separator: ", ")
                try execute(
                    connection,
                    "UPDATE lookup_leaves SET last_ts = GREATEST(last_ts, $1), written_at = now() WHERE name IN (\(names))",
                    leaves)
            }
            for secret in batch.secretRows {
                var binds = PostgresBindings()
                binds.append(secret.pduID)
                binds.append(ByteBuffer(bytes: secret.sealed))
                try execute(
                    connection, "INSERT INTO secrets (pdu_id, sealed) VALUES ($1, $2) ON CONFLICT DO NOTHING", binds)
            }
            for (connectionNumber, values) in batch.sessionUpdates where !values.isEmpty {
                guard let id = sessionIDs[connectionNumber] else { continue }
                let columns = values.keys.sorted()
                var binds = PostgresBindings()
                var assignments: [String] = []
                for (index, column) in columns.enumerated() {
                    assignments.append("\(column) = $\(index + 1)")
                    switch values[column] ?? .null {
                    case .text(let text): binds.append(text)
                    case .integer(let value): binds.append(value)
                    case .null: binds.appendNull()
                    }
                }
                binds.append(id)
                try execute(
                    connection,
                    "UPDATE sessions SET \(assignments.joined(separator: ", ")) WHERE id = $\(columns.count + 1)", binds
                )
            }
            var progressBinds = PostgresBindings()
            progressBinds.append(Int64(batch.events))
            progressBinds.append(Int64(batch.pdus))
            progressBinds.append(sourceID)
            try execute(connection, "UPDATE sources SET events = $1, pdus = $2 WHERE id = $3", progressBinds)
            try execute(connection, "COMMIT")
        } catch {
            if !connection.isClosed { try? execute(connection, "ROLLBACK") }
            throw error
        }
        // The chunks this source has moved past get their index.
        if let newest = chunks.max() { try sealLookupLeaves(connection, sourceID: sourceID, below: newest) }
    }

    /// Sends rows with `COPY table (columns) FROM STDIN`, in pieces of at most 1 MiB.
    private func copy(_ connection: PostgresConnection, _ table: String, _ columns: [String], _ rows: CopyText) throws {
        guard rows.buffer.readableBytes > 0 else { return }
        let outcome = CopyOutcome()
        let semaphore = DispatchSemaphore(value: 0)
        let logger = self.logger
        let data = rows.buffer
        // postgres-nio offers COPY as async only. The caller is a plain thread that waits; the task runs on an
        // executor of its own, never on the shared cooperative pool (which waiting threads may have filled).
        Task(executorPreference: CopyExecutor.shared) {
            do {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    var remaining = data
                    while remaining.readableBytes > 0,
                        let piece = remaining.readSlice(length: min(1 << 20, remaining.readableBytes))
                    {
                        try await writer.write(piece)
                    }
                }
                outcome.set(nil)
            } catch {
                outcome.set(error)
            }
            semaphore.signal()
        }
        semaphore.wait()
        if let error = outcome.error {
            throw StoreError(.databaseFailed, "PostgreSQL: COPY into \(table): \(Self.describe(error))")
        }
    }
}

/// Runs COPY tasks on a queue of their own.
private final class CopyExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = CopyExecutor()
    private let queue = DispatchQueue(label: "smppscope.store.postgres-copy")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The error of a COPY run on another task.
private final class CopyOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    func set(_ error: Error?) {
        lock.lock()
        stored = error
        lock.unlock()
    }

    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

/// Rows in COPY's text format: tab between columns, a newline after each row, \N for NULL.
struct CopyText {
    var buffer = ByteBuffer()

    private mutating func end(_ last: Bool) { buffer.writeInteger(last ? UInt8(ascii: "\n") : UInt8(ascii: "\t")) }

    mutating func null(last: Bool = false) {
        buffer.writeStaticString("\\N")
        end(last)
    }

    mutating func integer(_ value: Int64?, last: Bool = false) {
        guard let value else { return null(last: last) }
        // Digits written in place: String(value) would allocate for every column of every row.
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                count += 1
                scratch[24 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                count += 1
                scratch[24 - count] = UInt8(ascii: "-")
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch[(24 - count)...]))
        }
        end(last)
    }

    mutating func boolean(_ value: Bool?, last: Bool = false) {
        guard let value else { return null(last: last) }
        buffer.writeInteger(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        end(last)
    }

    mutating func text(_ value: String?, last: Bool = false) {
        guard let value else { return null(last: last) }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
        end(last)
    }
}

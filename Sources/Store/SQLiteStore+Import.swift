// Writing an import's batches into the SQLite store, one transaction per batch.

import Foundation
import GRDB

extension SQLiteStore: ImportBackend {
    func commit(_ batch: StoreImport.Batch, sourceID: Int64, sessionIDs: inout [Int: Int64], persistent: Bool) throws {
        var ids = sessionIDs
        try database.inTransaction { db in
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
                ids[connection.id] = db.lastInsertedRowID
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
                guard let sessionID = ids[connection] else { continue }
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
                    event.id, event.connection.flatMap { ids[$0] }, event.kind.rawValue, event.timestamp, event.frame,
                    event.fromFirst, event.streamOffset.map { Int64(truncatingIfNeeded: $0) }, event.size,
                    event.fileOffset,
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
                guard let id = ids[connection] else { continue }
                let columns = values.keys.sorted()
                let assignments = columns.map { "\($0) = ?" }.joined(separator: ", ")
                var list: [(any DatabaseValueConvertible)?] = columns.map { values[$0]?.databaseValue }
                list.append(id)
                try db.execute(
                    sql: "UPDATE sessions SET \(assignments) WHERE id = ?", arguments: StatementArguments(list))
            }
            try db.execute(
                sql: "UPDATE sources SET events = ?, pdus = ? WHERE id = ?",
                arguments: [batch.events, batch.pdus, sourceID])
            return .commit
        }
        sessionIDs = ids
    }

    func complete(sourceID: Int64) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE sources SET completed_at = ? WHERE id = ?",
                arguments: [Date().timeIntervalSince1970, sourceID])
        }
    }
}

extension StoreValue {
    var databaseValue: (any DatabaseValueConvertible)? {
        switch self {
        case .text(let text): return text
        case .integer(let value): return value
        case .null: return nil
        }
    }
}

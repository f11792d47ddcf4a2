// Reading a SQLite store back as the events it was imported from, in their original order, with filters.

import Capture
import Foundation
import GRDB
import NIOCore
import Reassembly
import SMPP

extension SQLiteStore {
    public func read(_ filter: StoreFilter, _ body: (StoredEvent) throws -> Void) throws {
        let sources = try self.sources().filter { filter.sourceID == nil || $0.id == filter.sourceID }
        for source in sources {
            try read(source: source, filter: filter, body)
        }
    }

    private func read(source: StoredSource, filter: StoreFilter, _ body: (StoredEvent) throws -> Void) throws {
        var merge = TimelineMerge(source: source, filter: filter, allSessions: try sessions(sourceID: source.id))
        if merge.isEmpty { return }
        let sessions = merge.sessions

        let range = StoreSchema.range(source: source.id)
        var conditions = ["id BETWEEN ? AND ?"]
        var arguments: [DatabaseValueConvertible?] = [range.lowerBound, range.upperBound]
        if !filter.sessions.isEmpty {
            conditions.append("session_id IN (\(sessions.map { _ in "?" }.joined(separator: ", ")))")
            arguments += sessions.map { $0.id as DatabaseValueConvertible? }
        }
        var blockConditions = conditions
        var blockArguments = arguments
        if let from = filter.from {
            blockConditions.append("last_ts >= ?")
            blockArguments.append(from.nanoseconds)
        }
        if let to = filter.to {
            blockConditions.append("first_ts <= ?")
            blockArguments.append(to.nanoseconds)
        }
        // Keys are looked up in each segment (batch) of the source.
        for (kind, spellings) in filter.lookupKeys {
            let hashes = spellings.map { kind.hash($0) }
            blockConditions.append(
                "id IN (SELECT block_id FROM lookup WHERE segment IN (SELECT id FROM segments WHERE source_id = ?) AND key IN ("
                    + hashes.map { _ in "?" }.joined(separator: ", ") + "))")
            blockArguments += [source.id]
            for hash in hashes { blockArguments += [hash] }
        }
        // The blocks in order without their bytes (sorting rows that carry them would copy every block the filter
        // selects into a temporary tree before the first one is read), then each block's bytes as it is read.
        let blockSQL = """
            SELECT id, segment, session_id, base_ts FROM pdu_blocks
            WHERE \(blockConditions.joined(separator: " AND ")) ORDER BY segment, id
            """
        let includeEvents = !filter.selectsPDUs

        try database.read { db in
            if filter.passwordKey != nil {
                let rows = try Row.fetchAll(
                    db, sql: "SELECT pdu_id, sealed FROM secrets WHERE pdu_id BETWEEN ? AND ?",
                    arguments: [range.lowerBound, range.upperBound])
                for row in rows { try merge.addSecret(pduID: row["pdu_id"], sealed: row["sealed"]) }
            }
            let events = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, session_id, kind, ts_ns, frame, from_first, stream_offset, size, file_offset, detail
                    FROM events WHERE \(includeEvents ? conditions.joined(separator: " AND ") : "0") ORDER BY id
                    """,
                arguments: includeEvents ? StatementArguments(arguments) : StatementArguments())
            try merge.run(
                blocks: {
                    let cursor = try Row.fetchCursor(db, sql: blockSQL, arguments: StatementArguments(blockArguments))
                    let bytes = try db.cachedStatement(sql: "SELECT data FROM pdu_blocks WHERE id = ?")
                    return {
                        guard let row = try cursor.next() else { return nil }
                        let id: Int64 = row["id"]
                        let data = try Data.fetchOne(bytes, arguments: [id]) ?? Data()
                        return StoredBlock(
                            segment: row["segment"], id: id, sessionID: row["session_id"], baseTime: row["base_ts"],
                            data: Array(data))
                    }
                },
                events: {
                    guard let row = try events.next() else { return nil }
                    return StoredEventRow(
                        id: row["id"], sessionID: row["session_id"], kind: StoredEventKind(rawValue: row["kind"]),
                        timestamp: row["ts_ns"],
                        frame: row["frame"], fromFirst: row["from_first"], streamOffset: row["stream_offset"],
                        size: row["size"],
                        fileOffset: row["file_offset"], detail: row["detail"])
                }, body)
        }
    }
}

extension StoreFilter {
    /// The filter's lookup keys, by kind, each with the spellings that may have been stored.
    var lookupKeys: [(StoreSchema.Key, [String])] {
        let keys: [(StoreSchema.Key, [String]?)] = [
            (.messageID, messageID.map(StoreSchema.messageIDKeys(searching:))), (.address, address.map { [$0] }),
            (.status, status.map { [StoreStatusKey.key($0)] }), (.receiptState, receiptState.map { [$0.uppercased()] }),
        ]
        return keys.compactMap { kind, key in key.map { (kind, $0) } }
    }
}

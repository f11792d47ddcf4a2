// Reading a PostgreSQL store back as the events it was imported from, in their original order, with filters:
// blocks and events are fetched a page at a time (keyset pagination), so memory stays flat whatever the range.

import Capture
import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore {
    public func read(_ filter: StoreFilter, _ body: (StoredEvent) throws -> Void) throws {
        let sources = try self.sources().filter { filter.sourceID == nil || $0.id == filter.sourceID }
        for source in sources {
            try read(source: source, filter: filter, body)
        }
    }

    /// Events fetched at a time.
    private static let pageSize = 2_000
    /// Blocks fetched at a time: a few first (a selection that needs one block, or the first page of a web view,
    /// does not wait for thousands of them to be read and sent), four times as many each time after, up to this.
    private static let firstBlockPage = 4
    private static let blockPageSize = 256

    private func read(source: StoredSource, filter: StoreFilter, _ body: (StoredEvent) throws -> Void) throws {
        var merge = TimelineMerge(source: source, filter: filter, allSessions: try sessions(sourceID: source.id))
        if merge.isEmpty { return }
        let sessionIDs = merge.sessions.map(\.id)
        let range = StoreSchema.range(source: source.id)

        // Conditions shared by the block and event queries, with their binds from $1.
        var conditions = ["id BETWEEN \(range.lowerBound) AND \(range.upperBound)"]
        if !filter.sessions.isEmpty {
            conditions.append("session_id IN (\(sessionIDs.map(String.init).joined(separator: ", ")))")
        }
        var blockConditions = conditions
        if let from = filter.from { blockConditions.append("last_ts >= \(from.nanoseconds)") }
        if let to = filter.to { blockConditions.append("first_ts <= \(to.nanoseconds)") }
        for (kind, spellings) in filter.lookupKeys {
            let hashes = spellings.map { String(kind.hash($0)) }.joined(separator: ", ")
            blockConditions.append(
                """
                id IN (SELECT block_id FROM lookup_chunks WHERE block_id BETWEEN \(range.lowerBound) AND \(range.upperBound) \
                AND key IN (\(hashes)) UNION ALL SELECT block_id FROM lookup WHERE key IN (\(hashes)))
                """)
        }
        let includeEvents = !filter.selectsPDUs

        if filter.passwordKey != nil {
            let secrets = try withConnection { connection in
                try rows(
                    connection,
                    "SELECT pdu_id, sealed FROM secrets WHERE pdu_id BETWEEN \(range.lowerBound) AND \(range.upperBound)"
                )
                .map { try $0.decode((Int64, ByteBuffer).self) }
            }
            for (id, sealed) in secrets { try merge.addSecret(pduID: id, sealed: Data(sealed.readableBytesView)) }
        }

        func blockPages() -> () throws -> StoredBlock? {
            var page: [StoredBlock] = []
            var index = 0
            var after: (segment: Int64, id: Int64)?
            var exhausted = false
            var size = Self.firstBlockPage
            return {
                if index >= page.count {
                    guard !exhausted else { return nil }
                    var where_ = blockConditions
                    if let after { where_.append("(segment, id) > (\(after.segment), \(after.id))") }
                    page = try self.withConnection { connection in
                        try self.rows(
                            connection,
                            """
                            SELECT segment, id, session_id, base_ts, data FROM pdu_blocks WHERE \(where_.joined(separator: " AND "))
                            ORDER BY segment, id LIMIT \(size)
                            """
                        ).map { row in
                            let (segment, id, session, base, data) = try row.decode(
                                (Int64, Int64, Int64, Int64, ByteBuffer).self)
                            return StoredBlock(
                                segment: segment, id: id, sessionID: session, baseTime: base,
                                data: Array(data.readableBytesView))
                        }
                    }
                    index = 0
                    exhausted = page.count < size
                    size = min(size * 4, Self.blockPageSize)
                    guard let last = page.last else { return nil }
                    after = (last.segment, last.id)
                }
                defer { index += 1 }
                return page[index]
            }
        }

        var events: [StoredEventRow] = []
        var eventIndex = 0
        var lastEvent: Int64?
        var eventsExhausted = !includeEvents
        let nextEvent: () throws -> StoredEventRow? = {
            if eventIndex >= events.count {
                guard !eventsExhausted else { return nil }
                var where_ = conditions
                if let lastEvent { where_.append("id > \(lastEvent)") }
                events = try self.withConnection { connection in
                    try self.rows(
                        connection,
                        """
                        SELECT id, session_id, kind, ts_ns, frame, from_first, stream_offset, size, file_offset, detail FROM events
                        WHERE \(where_.joined(separator: " AND ")) ORDER BY id LIMIT \(Self.pageSize)
                        """
                    ).map { row in
                        let (id, session, kind, ts, frame, fromFirst, offset, size, fileOffset, detail) =
                            try row.decode(
                                (Int64, Int64?, String, Int64?, Int64?, Bool?, Int64?, Int64?, Int64?, String?).self)
                        return StoredEventRow(
                            id: id, sessionID: session, kind: StoredEventKind(rawValue: kind), timestamp: ts,
                            frame: frame.map { Int($0) },
                            fromFirst: fromFirst,
                            streamOffset: offset, size: size.map { Int($0) }, fileOffset: fileOffset.map { Int($0) },
                            detail: detail)
                    }
                }
                eventIndex = 0
                eventsExhausted = events.count < Self.pageSize
                guard let last = events.last else { return nil }
                lastEvent = last.id
            }
            defer { eventIndex += 1 }
            return events[eventIndex]
        }
        try merge.run(blocks: { blockPages() }, events: nextEvent, body)
    }
}

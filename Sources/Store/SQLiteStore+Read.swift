// Reading a store back as the events it was imported from, in their original order, with filters.

import Capture
import Crypto
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
        // Within one source, sessions are numbered as reading its capture numbers them; across sources, by their
        // store-wide ids.
        let local = filter.sourceID != nil
        let sessions = try self.sessions(sourceID: source.id).filter {
            filter.sessions.isEmpty || filter.sessions.contains(local ? Int64($0.connection) : $0.id)
        }
        if !filter.sessions.isEmpty, sessions.isEmpty { return }
        let byID = Dictionary(uniqueKeysWithValues: sessions.map { ($0.id, $0) })
        func number(_ session: StoredSession) -> Int { local ? session.connection : Int(session.id) }

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
        let keyFilters: [(StoreSchema.Key, String?)] = [
            (.messageID, filter.messageID), (.address, filter.address),
            (.status, filter.status.map(StoreStatusKey.key)), (.receiptState, filter.receiptState?.uppercased()),
        ]
        for (kind, key) in keyFilters {
            guard let key else { continue }
            blockConditions.append(
                "id IN (SELECT block_id FROM lookup WHERE segment IN (SELECT id FROM segments WHERE source_id = ?) AND key = ?)")
            blockArguments += [source.id, kind.hash(key)]
        }
        let blockSQL = """
            SELECT id, segment, session_id, base_ts, data FROM pdu_blocks
            WHERE \(blockConditions.joined(separator: " AND ")) ORDER BY segment, id
            """
        let includeEvents = !filter.selectsPDUs

        try database.read { db in
            // Requests answered with the message id looked for carry it only through their response.
            var answered: Set<RequestKey> = []
            if let messageID = filter.messageID {
                var reader = BlockStream(
                    cursor: try Row.fetchCursor(db, sql: blockSQL, arguments: StatementArguments(blockArguments)),
                    source: source.id)
                while let item = try reader.next() {
                    guard let header = PDUHeader.peek(in: item.bytes), header.commandID.isResponse else { continue }
                    let keys = PDUKeys(frame: item.bytes, header: header, digest: PDUDigest(frame: item.bytes))
                    if keys.messageID == messageID {
                        answered.insert(RequestKey(session: item.sessionID, sequence: header.sequenceNumber))
                    }
                }
            }
            func selected(_ item: BlockStream.Item) -> Bool {
                if let from = filter.from, item.entry.timestamp < from { return false }
                if let to = filter.to, item.entry.timestamp > to { return false }
                guard filter.messageID != nil || filter.address != nil || filter.status != nil || filter.receiptState != nil
                else { return true }
                guard let header = PDUHeader.peek(in: item.bytes) else { return false }
                if let status = filter.status, !header.commandID.isResponse || header.commandStatus.rawValue != status {
                    return false
                }
                let keys = PDUKeys(frame: item.bytes, header: header, digest: PDUDigest(frame: item.bytes))
                if let address = filter.address, keys.sourceAddress != address, keys.destinationAddress != address {
                    return false
                }
                if let state = filter.receiptState, keys.receipt?.state != state.uppercased() { return false }
                if let messageID = filter.messageID, keys.messageID != messageID {
                    let command = header.commandID
                    guard command == .submitSM || command == .dataSM || command == .submitMulti,
                        answered.contains(RequestKey(session: item.sessionID, sequence: header.sequenceNumber))
                    else { return false }
                }
                return true
            }

            // Sealed passwords, put back into their binds when the key is given.
            var secrets: [Int64: [UInt8]] = [:]
            if let key = filter.passwordKey {
                let rows = try Row.fetchAll(
                    db, sql: "SELECT pdu_id, sealed FROM secrets WHERE pdu_id BETWEEN ? AND ?",
                    arguments: [range.lowerBound, range.upperBound])
                for row in rows {
                    let sealed: Data = row["sealed"]
                    guard let box = try? AES.GCM.SealedBox(combined: sealed), let opened = try? AES.GCM.open(box, using: key)
                    else {
                        throw StoreError("the password key does not open the passwords of this store; give the key used at import")
                    }
                    secrets[row["pdu_id"]] = Array(opened)
                }
            }

            var pdus = BlockStream(
                cursor: try Row.fetchCursor(db, sql: blockSQL, arguments: StatementArguments(blockArguments)),
                source: source.id)
            let events = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, session_id, kind, ts_ns, frame, from_first, stream_offset, size, file_offset, detail
                    FROM events WHERE \(includeEvents ? conditions.joined(separator: " AND ") : "0") ORDER BY id
                    """,
                arguments: includeEvents ? StatementArguments(arguments) : StatementArguments())
            var openings = includeEvents ? sessions.sorted { $0.ordinal < $1.ordinal } : []
            var opened: Set<Int64> = []
            func open(_ session: StoredSession) throws {
                guard opened.insert(session.id).inserted else { return }
                try body(
                    .stream(
                        .opened(
                            Connection(
                                id: number(session), first: session.first, second: session.second,
                                synSender: session.synSender, firstSeen: session.firstSeen))))
            }
            var nextPDU = try pdus.next()
            var nextEvent = try events.next()
            while nextPDU != nil || nextEvent != nil || !openings.isEmpty {
                let pduID = nextPDU.map { StoreSchema.rowID(source: source.id, ordinal: $0.entry.ordinal) } ?? .max
                let eventID: Int64 = nextEvent?["id"] ?? .max
                let openingID = openings.first.map { StoreSchema.rowID(source: source.id, ordinal: $0.ordinal) } ?? .max
                if openingID < pduID, openingID < eventID, let session = openings.first {
                    openings.removeFirst()
                    try open(session)
                } else if pduID < eventID, let item = nextPDU {
                    if let session = byID[item.sessionID], selected(item) {
                        try open(session)
                        let entry = item.entry
                        var bytes = item.bytes
                        if let password = secrets[pduID] { Self.restore(password: password, in: &bytes) }
                        try body(
                            .stream(
                                .pdu(
                                    FramedPDU(
                                        connection: number(session), source: entry.fromFirst ? session.first : session.second,
                                        destination: entry.fromFirst ? session.second : session.first,
                                        timestamp: entry.timestamp, frame: entry.frame, streamOffset: entry.streamOffset,
                                        bytes: bytes, digest: nil))))
                    }
                    nextPDU = try pdus.next()
                } else if let row = nextEvent {
                    if let event = Self.event(row, sessions: byID, number: number) {
                        if case .stream(let stream) = event, let connection = stream.connectionID,
                            let session = sessions.first(where: { number($0) == connection })
                        {
                            try open(session)
                        }
                        try body(event)
                    }
                    nextEvent = try events.next()
                } else {
                    break
                }
            }
        }
    }

    /// Writes a password back over the '*' that stand for it (the C-string after system_id).
    static func restore(password: [UInt8], in bytes: inout ByteBuffer) {
        let view = Array(bytes.readableBytesView)
        var index = PDUHeader.size
        while index < view.count, view[index] != 0 { index += 1 }
        index += 1
        var end = index
        while end < view.count, view[end] != 0 { end += 1 }
        guard end - index == password.count else { return }
        bytes.setBytes(password, at: bytes.readerIndex + index)
    }

    static func event(_ row: Row, sessions: [Int64: StoredSession], number: (StoredSession) -> Int) -> StoredEvent? {
        let kind: String = row["kind"]
        let sessionID: Int64? = row["session_id"]
        let session = sessionID.flatMap { sessions[$0] }
        let detail: String = row["detail"] ?? ""
        let timestamp = Timestamp(nanoseconds: row["ts_ns"] ?? 0)
        let frame: Int = row["frame"] ?? 0
        let fromFirst: Bool = row["from_first"] ?? true
        switch kind {
        case "gap":
            guard let session else { return nil }
            let offset: Int64 = row["stream_offset"] ?? 0
            return .stream(
                .gap(
                    StreamGap(
                        connection: number(session), source: fromFirst ? session.first : session.second,
                        destination: fromFirst ? session.second : session.first, streamOffset: UInt64(truncatingIfNeeded: offset),
                        size: row["size"] ?? 0, frame: frame, timestamp: timestamp,
                        reason: StreamGap.Reason(rawValue: detail) ?? .missingSegments)))
        case "ended":
            guard let session else { return nil }
            return .stream(
                .ended(
                    ConnectionEnd(
                        connection: number(session), kind: ConnectionEnd.Kind(rawValue: detail) ?? .fin,
                        by: fromFirst ? session.first : session.second, frame: frame, timestamp: timestamp)))
        case "stream_diagnostic":
            let parts = detail.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let source = Endpoint(parsing: parts[0]), let destination = Endpoint(parsing: parts[1]) else {
                return nil
            }
            let offset: Int64 = row["stream_offset"] ?? 0
            return .stream(
                .diagnostic(
                    StreamDiagnostic(
                        connection: session.map(number), source: source, destination: destination,
                        streamOffset: UInt64(truncatingIfNeeded: offset), frame: frame, timestamp: timestamp, message: parts[2])))
        case "capture_diagnostic":
            let diagnosticFrame: Int? = row["frame"]
            return .capture(CaptureDiagnostic(frame: diagnosticFrame, fileOffset: row["file_offset"], message: detail))
        default:
            return nil
        }
    }
}

extension StreamEvent {
    /// The connection an event belongs to, when it belongs to one.
    var connectionID: Int? {
        switch self {
        case .opened(let connection): return connection.id
        case .pdu(let pdu): return pdu.connection
        case .gap(let gap): return gap.connection
        case .ended(let end): return end.connection
        case .diagnostic(let diagnostic): return diagnostic.connection
        }
    }
}

/// A request, by its session and sequence number.
private struct RequestKey: Hashable {
    var session: Int64
    var sequence: UInt32
}

/// The PDUs of a query's blocks, in their original order: the blocks of one segment (batch) are read together
/// and their PDUs put back in order; segments come in order.
private struct BlockStream {
    struct Item {
        var sessionID: Int64
        var entry: BlockEntry
        var bytes: ByteBuffer
    }

    let cursor: RowCursor
    let source: Int64
    private var pending: (segment: Int64, sessionID: Int64, firstOrdinal: Int, baseTime: Int64, data: [UInt8])?
    private var buffer: [Item] = []
    private var index = 0

    init(cursor: RowCursor, source: Int64) {
        self.cursor = cursor
        self.source = source
    }

    mutating func next() throws -> Item? {
        if index >= buffer.count {
            try loadSegment()
            if buffer.isEmpty { return nil }
        }
        defer { index += 1 }
        return buffer[index]
    }

    private mutating func loadSegment() throws {
        buffer.removeAll(keepingCapacity: true)
        index = 0
        var segment: Int64?
        while true {
            if pending == nil, let row = try cursor.next() {
                let id: Int64 = row["id"]
                let data: Data = row["data"]
                pending = (row["segment"], row["session_id"], Int(id & (1 << StoreSchema.ordinalBits - 1)), row["base_ts"], Array(data))
            }
            guard let block = pending else { break }
            if let segment, block.segment != segment { break }
            segment = block.segment
            pending = nil
            for entry in PDUBlockReader.entries(of: block.data, firstOrdinal: block.firstOrdinal, baseTime: block.baseTime) {
                buffer.append(Item(sessionID: block.sessionID, entry: entry, bytes: ByteBuffer(bytes: entry.bytes)))
            }
        }
        buffer.sort { $0.entry.ordinal < $1.entry.ordinal }
    }
}

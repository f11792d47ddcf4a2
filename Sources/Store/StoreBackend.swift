// What a store's storage does for imports and reads, whatever the database: commit a batch, mark a source
// complete; give back a source's blocks and events in order. The import logic (StoreImport) and the merge of
// blocks and events into the original order (TimelineMerge) are shared by SQLite and PostgreSQL.

import Capture
import Crypto
import Foundation
import NIOCore
import Reassembly
import SMPP

/// A column value of a session update.
enum StoreValue: Sendable {
    case text(String)
    case integer(Int64)
    case null

    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
}

/// Where an import's batches go.
protocol ImportBackend: AnyObject {
    /// Sessions already stored for a source (a resumed import).
    func sessions(sourceID: Int64?) throws -> [StoredSession]
    /// Writes one batch in one transaction; new sessions get their ids in `sessionIDs`. `persistent`: the caller
    /// (a recorder) keeps the batch until it is written, so a lost database connection is waited out.
    func commit(_ batch: StoreImport.Batch, sourceID: Int64, sessionIDs: inout [Int: Int64], persistent: Bool) throws
    /// Marks a source complete.
    func complete(sourceID: Int64) throws
}

/// A block of PDUs as stored.
struct StoredBlock {
    var segment: Int64
    var id: Int64
    var sessionID: Int64
    var baseTime: Int64
    var data: [UInt8]
}

/// What a row of the events table holds (its `kind` column).
enum StoredEventKind: String, Hashable, Sendable {
    case gap
    case ended
    case streamDiagnostic = "stream_diagnostic"
    case captureDiagnostic = "capture_diagnostic"
}

/// A non-PDU event as stored.
struct StoredEventRow {
    var id: Int64
    var sessionID: Int64?
    /// Nil for a kind this version does not know (the row is skipped).
    var kind: StoredEventKind?
    var timestamp: Int64?
    var frame: Int?
    var fromFirst: Bool?
    var streamOffset: Int64?
    var size: Int?
    var fileOffset: Int?
    var detail: String?
}

/// Puts a source's blocks and events back into their original order, applies a filter's PDU conditions, and
/// hands out the events reading the capture produced.
struct TimelineMerge {
    let source: StoredSource
    let filter: StoreFilter
    /// The source's sessions the filter keeps.
    let sessions: [StoredSession]
    /// Sealed passwords by PDU id, when the filter has the key.
    var secrets: [Int64: [UInt8]] = [:]

    init(source: StoredSource, filter: StoreFilter, allSessions: [StoredSession]) {
        self.source = source
        self.filter = filter
        let local = filter.numbersSessionsInSource
        sessions = allSessions.filter {
            filter.sessions.isEmpty || filter.sessions.contains(local ? Int64($0.connection) : $0.id)
        }
    }

    /// Nothing to read: the filter names sessions and none is in this source.
    var isEmpty: Bool { !filter.sessions.isEmpty && sessions.isEmpty }

    func number(_ session: StoredSession) -> Int {
        filter.numbersSessionsInSource ? session.connection : Int(session.id)
    }

    /// Opens sealed passwords with the filter's key.
    mutating func addSecret(pduID: Int64, sealed: Data) throws {
        guard let key = filter.passwordKey else { return }
        guard let box = try? AES.GCM.SealedBox(combined: sealed), let opened = try? AES.GCM.open(box, using: key) else {
            throw StoreError(
                .wrongKey, "the password key does not open the passwords of this store",
                hint: "give the key used at import")
        }
        secrets[pduID] = Array(opened)
    }

    /// Runs the merge. `blocks` makes a fresh stream of the filter's blocks, ordered by segment then id (called
    /// twice for a message-id search); `events` streams the source's other events by id.
    func run(
        blocks makeBlocks: () throws -> () throws -> StoredBlock?, events nextEvent: () throws -> StoredEventRow?,
        _ body: (StoredEvent) throws -> Void
    ) throws {
        let byID = Dictionary(uniqueKeysWithValues: sessions.map { ($0.id, $0) })
        // Requests answered with the message id looked for carry it only through their response.
        var answered: Set<RequestKey> = []
        if let messageID = filter.messageID {
            var reader = BlockStream(next: try makeBlocks())
            while let item = try reader.next() {
                guard let header = PDUHeader.peek(in: item.bytes), header.commandID.isResponse else { continue }
                let keys = PDUKeys(frame: item.bytes, header: header, digest: PDUDigest(frame: item.bytes))
                if let found = keys.messageID, MessageID.equivalent(found, messageID) {
                    answered.insert(RequestKey(session: item.sessionID, sequence: header.sequenceNumber))
                }
            }
        }
        let filter = self.filter
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
            if let messageID = filter.messageID, !(keys.messageID.map { MessageID.equivalent($0, messageID) } ?? false)
            {
                let command = header.commandID
                guard command == .submitSM || command == .dataSM || command == .submitMulti,
                    answered.contains(RequestKey(session: item.sessionID, sequence: header.sequenceNumber))
                else { return false }
            }
            return true
        }

        let includeEvents = !filter.selectsPDUs
        var pdus = BlockStream(next: try makeBlocks())
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
        let sourceID = source.id
        var nextPDU = try pdus.next()
        var event = includeEvents ? try nextEvent() : nil
        while nextPDU != nil || event != nil || !openings.isEmpty {
            let pduID = nextPDU.map { StoreSchema.rowID(source: sourceID, ordinal: $0.entry.ordinal) } ?? .max
            let eventID = event?.id ?? .max
            let openingID = openings.first.map { StoreSchema.rowID(source: sourceID, ordinal: $0.ordinal) } ?? .max
            if openingID < pduID, openingID < eventID, let session = openings.first {
                openings.removeFirst()
                try open(session)
            } else if pduID < eventID, let item = nextPDU {
                if let session = byID[item.sessionID], selected(item) {
                    try open(session)
                    let entry = item.entry
                    var bytes = item.bytes
                    if let password = secrets[pduID] { Self.restore(password: password, in: &bytes) }
                    if let pdu = TimelinePDU(
                        framedIn: number(session), source: entry.fromFirst ? session.first : session.second,
                        destination: entry.fromFirst ? session.second : session.first, timestamp: entry.timestamp,
                        frame: entry.frame, streamOffset: entry.streamOffset, bytes: bytes)
                    {
                        try body(.stream(.pdu(pdu)))
                    }
                }
                nextPDU = try pdus.next()
            } else if let row = event {
                if let stored = Self.event(row, sessions: byID, number: number) {
                    if case .stream(let stream) = stored, let connection = stream.connectionID,
                        let session = sessions.first(where: { number($0) == connection })
                    {
                        try open(session)
                    }
                    try body(stored)
                }
                event = try nextEvent()
            } else {
                break
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

    static func event(_ row: StoredEventRow, sessions: [Int64: StoredSession], number: (StoredSession) -> Int)
        -> StoredEvent?
    {
        let session = row.sessionID.flatMap { sessions[$0] }
        let detail = row.detail ?? ""
        let timestamp = Timestamp(nanoseconds: row.timestamp ?? 0)
        let frame = row.frame ?? 0
        let fromFirst = row.fromFirst ?? true
        switch row.kind {
        case .gap:
            guard let session else { return nil }
            return .stream(
                .gap(
                    StreamGap(
                        connection: number(session), source: fromFirst ? session.first : session.second,
                        destination: fromFirst ? session.second : session.first,
                        streamOffset: UInt64(truncatingIfNeeded: row.streamOffset ?? 0),
                        size: row.size ?? 0, frame: frame, timestamp: timestamp,
                        reason: StreamGap.Reason(rawValue: detail) ?? .missingSegments)))
        case .ended:
            guard let session else { return nil }
            return .stream(
                .ended(
                    ConnectionEnd(
                        connection: number(session), kind: ConnectionEnd.Kind(rawValue: detail) ?? .fin,
                        by: fromFirst ? session.first : session.second, frame: frame, timestamp: timestamp)))
        case .streamDiagnostic:
            let parts = detail.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let source = Endpoint(parsing: parts[0]),
                let destination = Endpoint(parsing: parts[1])
            else {
                return nil
            }
            return .stream(
                .diagnostic(
                    StreamDiagnostic(
                        connection: session.map(number), source: source, destination: destination,
                        streamOffset: UInt64(truncatingIfNeeded: row.streamOffset ?? 0), frame: frame,
                        timestamp: timestamp,
                        message: parts[2])))
        case .captureDiagnostic:
            return .capture(CaptureDiagnostic(frame: row.frame, fileOffset: row.fileOffset, message: detail))
        case nil:
            return nil
        }
    }
}

extension StreamEvent {
    /// The connection an event belongs to, when it belongs to one.
    var connectionID: Int? {
        switch self {
        case .opened(let connection): return connection.id
        case .pdu(let pdu): return pdu.session
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
struct BlockStream {
    struct Item {
        var sessionID: Int64
        var entry: BlockEntry
        var bytes: ByteBuffer
    }

    private let nextBlock: () throws -> StoredBlock?
    private var pending: StoredBlock?
    private var buffer: [Item] = []
    private var index = 0

    init(next: @escaping () throws -> StoredBlock?) {
        nextBlock = next
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
            if pending == nil { pending = try nextBlock() }
            guard let block = pending else { break }
            if let segment, block.segment != segment { break }
            segment = block.segment
            pending = nil
            let firstOrdinal = Int(block.id & (1 << StoreSchema.ordinalBits - 1))
            for entry in PDUBlockReader.entries(of: block.data, firstOrdinal: firstOrdinal, baseTime: block.baseTime) {
                buffer.append(Item(sessionID: block.sessionID, entry: entry, bytes: ByteBuffer(bytes: entry.bytes)))
            }
        }
        buffer.sort { $0.entry.ordinal < $1.entry.ordinal }
    }
}

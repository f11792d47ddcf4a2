// What an API request asks of the store, read from its query parameters: which PDUs or sessions, how many, and
// where the previous page ended.

import Capture
import SMPP
import Store

/// Where a page of PDUs ended: the source, the packet (frame) that completed the last PDU read, its time, and how
/// many PDUs of that packet were read. The next page reads on from there. Written as `S-F-T-K`.
public struct PDUCursor: Hashable, Sendable, CustomStringConvertible {
    public var sourceID: Int64
    public var frame: Int
    public var timestamp: Timestamp
    public var readAtFrame: Int

    public init(sourceID: Int64, frame: Int, timestamp: Timestamp, readAtFrame: Int) {
        self.sourceID = sourceID
        self.frame = frame
        self.timestamp = timestamp
        self.readAtFrame = readAtFrame
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, let source = Int64(parts[0]), let frame = Int(parts[1]),
            let nanoseconds = Int64(parts[2]), let read = Int(parts[3]), source >= 0, frame >= 0, read >= 0
        else { return nil }
        self.init(sourceID: source, frame: frame, timestamp: Timestamp(nanoseconds: nanoseconds), readAtFrame: read)
    }

    public var description: String { "\(sourceID)-\(frame)-\(timestamp.nanoseconds)-\(readAtFrame)" }
}

/// A selection of PDUs: the store's own keys (message id in every spelling, address, error status, receipt state,
/// time), and the session's login or a command, which are read as they go.
public struct PDUQuery: Hashable, Sendable {
    /// The most PDUs a page holds, and the default.
    public static let maximumLimit = 1_000
    public static let defaultLimit = 100

    public var sourceID: Int64?
    /// A store-wide session id.
    public var session: Int64?
    public var messageID: String?
    public var address: String?
    public var systemID: String?
    public var command: CommandID?
    public var status: UInt32?
    public var receiptState: String?
    public var from: Timestamp?
    public var to: Timestamp?
    public var limit = PDUQuery.defaultLimit
    public var cursor: PDUCursor?

    public init() {}

    /// Reads a query from request parameters; an unknown parameter or a value that cannot be read is an error that
    /// names it.
    public init(parameters: [(String, String)]) throws(ServeError) {
        for (name, value) in parameters {
            switch name {
            case "source": sourceID = try Self.integer(value, name)
            case "session": session = try Self.integer(value, name)
            case "message_id": messageID = try Self.text(value, name)
            case "address": address = try Self.text(value, name)
            case "system_id": systemID = try Self.text(value, name)
            case "command":
                guard let id = CommandID(name: value.lowercased()) else {
                    throw ServeError(
                        .invalidParameter, "unknown command \"\(value)\"", location: name,
                        hint: "give an SMPP command name such as submit_sm or deliver_sm_resp")
                }
                command = id
            case "status":
                guard let status = SelectionValue.status(value), status != 0 else {
                    throw ServeError(
                        .invalidParameter, "unknown error status \"\(value)\"", location: name,
                        hint: "give a name such as ESME_RTHROTTLED or a number such as 0x58 (not ESME_ROK)")
                }
                self.status = status
            case "state": receiptState = try Self.text(value, name).uppercased()
            case "from": from = try Self.time(value, name)
            case "to": to = try Self.time(value, name)
            case "limit": limit = try Self.limit(value, maximum: Self.maximumLimit)
            case "cursor":
                guard let cursor = PDUCursor(value) else {
                    throw ServeError(
                        .invalidParameter, "\"\(value)\" is not a cursor", location: name,
                        hint: "give the next_cursor of the page before")
                }
                self.cursor = cursor
            default:
                throw ServeError(
                    .invalidParameter, "unknown parameter \"\(name)\"", location: name,
                    hint: "see docs/serve.md for the parameters of /api/pdus")
            }
        }
    }

    /// The store's filter for one source, with store-wide session ids.
    func filter(sourceID: Int64, sessions: Set<Int64>) -> StoreFilter {
        var filter = StoreFilter()
        filter.sourceID = sourceID
        filter.storeWideSessionIDs = true
        filter.sessions = sessions
        filter.messageID = messageID
        filter.address = address
        filter.status = status
        filter.receiptState = receiptState
        filter.from = from
        filter.to = to
        if let cursor, cursor.sourceID == sourceID {
            filter.from = max(from ?? cursor.timestamp, cursor.timestamp)
        }
        return filter
    }

    /// True when the query keeps only some PDUs of what it reads (so a page may be read partly empty).
    var selectsByKey: Bool {
        messageID != nil || address != nil || status != nil || receiptState != nil
    }

    static func integer(_ value: String, _ name: String) throws(ServeError) -> Int64 {
        guard let number = Int64(value), number >= 0 else {
            throw ServeError(.invalidParameter, "\(name) must be a whole number, not \"\(value)\"", location: name)
        }
        return number
    }

    static func text(_ value: String, _ name: String) throws(ServeError) -> String {
        guard !value.isEmpty, value.utf8.count <= 256 else {
            throw ServeError(.invalidParameter, "\(name) must be 1 to 256 bytes long", location: name)
        }
        return value
    }

    static func time(_ value: String, _ name: String) throws(ServeError) -> Timestamp {
        guard let time = SelectionValue.time(value) else {
            throw ServeError(
                .invalidParameter, "invalid time \"\(value)\"", location: name,
                hint: "use epoch seconds or 2026-11-26T08:34:06 (UTC)")
        }
        return time
    }

    static func limit(_ value: String, maximum: Int) throws(ServeError) -> Int {
        guard let limit = Int(value), (1...maximum).contains(limit) else {
            throw ServeError(.invalidParameter, "limit must be between 1 and \(maximum)", location: "limit")
        }
        return limit
    }
}

/// A selection of sessions: by source, login and time, oldest or newest first, a page at a time.
public struct SessionQuery: Hashable, Sendable {
    public static let maximumLimit = 1_000

    public var sourceID: Int64?
    public var systemID: String?
    public var from: Timestamp?
    public var to: Timestamp?
    public var newestFirst = false
    public var limit = 100
    /// The last session id of the page before.
    public var cursor: Int64?

    public init() {}

    public init(parameters: [(String, String)]) throws(ServeError) {
        for (name, value) in parameters {
            switch name {
            case "source": sourceID = try PDUQuery.integer(value, name)
            case "system_id": systemID = try PDUQuery.text(value, name)
            case "from": from = try PDUQuery.time(value, name)
            case "to": to = try PDUQuery.time(value, name)
            case "limit": limit = try PDUQuery.limit(value, maximum: Self.maximumLimit)
            case "cursor": cursor = try PDUQuery.integer(value, name)
            case "order":
                guard value == "asc" || value == "desc" else {
                    throw ServeError(.invalidParameter, "order is asc or desc, not \"\(value)\"", location: name)
                }
                newestFirst = value == "desc"
            default:
                throw ServeError(
                    .invalidParameter, "unknown parameter \"\(name)\"", location: name,
                    hint: "see docs/serve.md for the parameters of /api/sessions")
            }
        }
    }

    /// True when `session` is selected (the cursor aside).
    func selects(_ session: StoredSession) -> Bool {
        if let sourceID, session.sourceID != sourceID { return false }
        if let systemID, session.systemID != systemID { return false }
        // A session overlaps [from, to]: it began before `to` and had not ended (or last spoke) before `from`.
        if let to, session.firstSeen > to { return false }
        if let from, let last = session.end ?? session.lastPDU, last < from { return false }
        return true
    }
}

// What the web UI and the JSON API read from a store: its sources, its sessions, pages of PDUs with their links,
// a message's life, an analysis of a selection, a session as pcap. Each answer is JSON bytes (the keys are in
// docs/serve.md). Calls are serialised: a store is used by one request at a time.

import Capture
import Foundation
import Report
import SMPP
import Store
import Timeline

/// Reads a store for the web: one request at a time, every answer bounded.
public final class StoreBrowser: @unchecked Sendable {
    /// PDUs one request reads at most, matched or not: a page of a rare selection ends early with a cursor to go on.
    public static let scanLimit = 50_000

    let store: any TimelineStore
    /// The store as shown (a path, or a PostgreSQL address without its password).
    public let name: String
    private let lock = NSLock()

    public init(store: any TimelineStore, name: String) {
        self.store = store
        self.name = name
    }

    /// Runs `body` alone against the store; the store's failures become `store_failed`.
    func locked<Result>(_ body: () throws -> Result) throws(ServeError) -> Result {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body()
        } catch let error as ServeError {
            throw error
        } catch let error as StoreError {
            throw ServeError(.storeFailed, error.reason, location: name, hint: error.hint)
        } catch {
            throw ServeError(.storeFailed, "\(error)", location: name)
        }
    }

    // MARK: Sources and sessions

    /// `{"store", "sources": [...]}`.
    public func sources() throws(ServeError) -> [UInt8] {
        let sources = try locked { try store.sources() }
        var json = JSONWriter(capacity: 1_024)
        json.beginObject()
        json.key("store"); json.string(name)
        Self.write(sources, into: &json)
        json.endObject()
        return json.bytes
    }

    /// `{"sessions": [...], "next_cursor"}`: a page of sessions, oldest or newest first.
    public func sessions(_ query: SessionQuery) throws(ServeError) -> [UInt8] {
        var selected = try locked { try store.sessions(sourceID: query.sourceID) }.filter(query.selects)
        if query.newestFirst { selected.reverse() }
        if let cursor = query.cursor {
            selected = selected.filter { query.newestFirst ? $0.id < cursor : $0.id > cursor }
        }
        let page = selected.prefix(query.limit)
        var json = JSONWriter(capacity: 4_096)
        json.beginObject()
        json.key("sessions")
        json.beginArray()
        for session in page { Self.write(session, into: &json) }
        json.endArray()
        json.key("next_cursor")
        if selected.count > page.count, let last = page.last { json.string(String(last.id)) } else { json.null() }
        json.endObject()
        return json.bytes
    }

    /// The stored session with this store-wide id.
    func session(_ id: Int64) throws(ServeError) -> StoredSession {
        guard let session = try locked({ try store.sessions(sourceID: nil) }).first(where: { $0.id == id }) else {
            throw ServeError(
                .notFound, "the store has no session \(id)", location: "session",
                hint: "list them with GET /api/sessions")
        }
        return session
    }

    /// `{"session": {...}, "pdus": [...], "next_cursor"}`: a session and a page of its PDUs, linked.
    public func session(_ id: Int64, page: PDUQuery) throws(ServeError) -> [UInt8] {
        let session = try session(id)
        var query = page
        query.session = id
        query.sourceID = session.sourceID
        var json = JSONWriter(capacity: 64 * 1_024)
        json.beginObject()
        json.key("session"); Self.write(session, into: &json)
        try writePage(query, sessions: [session], into: &json)
        json.endObject()
        return json.bytes
    }

    /// `{"pdus": [...], "next_cursor", "scanned"}`: a page of the PDUs a query selects.
    public func pdus(_ query: PDUQuery) throws(ServeError) -> [UInt8] {
        var query = query
        var sessions: [StoredSession]? = nil
        if query.systemID != nil || query.session != nil {
            let all = try locked { try store.sessions(sourceID: query.sourceID) }
            sessions = all.filter {
                (query.systemID == nil || $0.systemID == query.systemID)
                    && (query.session == nil || $0.id == query.session)
            }
            if let only = sessions, let first = only.first, only.allSatisfy({ $0.sourceID == first.sourceID }) {
                query.sourceID = first.sourceID
            }
        }
        var json = JSONWriter(capacity: 64 * 1_024)
        json.beginObject()
        try writePage(query, sessions: sessions, into: &json)
        json.endObject()
        return json.bytes
    }

    // MARK: JSON of stored things

    /// `"sources": [...]`.
    static func write(_ sources: [StoredSource], into json: inout JSONWriter) {
        json.key("sources")
        json.beginArray()
        for source in sources { write(source, into: &json) }
        json.endArray()
    }

    static func write(_ source: StoredSource, into json: inout JSONWriter) {
        json.beginObject()
        json.key("id"); json.int(source.id)
        json.key("kind"); json.string(source.kind.rawValue)
        json.key("name"); json.string(source.name)
        json.key("started_at"); json.double(source.startedAt, decimals: 3)
        json.key("completed_at")
        if let completed = source.completedAt { json.double(completed, decimals: 3) } else { json.null() }
        json.key("events"); json.int(source.events)
        json.key("pdus"); json.int(source.pdus)
        json.endObject()
    }

    static func write(_ session: StoredSession, into json: inout JSONWriter) {
        // The ESME is the side that opened the connection when the handshake was seen, else the side seen first.
        let esme = session.synSender ?? session.first
        let smsc = esme == session.first ? session.second : session.first
        json.beginObject()
        json.key("id"); json.int(session.id)
        json.key("source_id"); json.int(session.sourceID)
        json.key("connection"); json.int(session.connection)
        json.key("esme"); json.string(esme.description)
        json.key("smsc"); json.string(smsc.description)
        json.key("roles_known"); json.bool(session.synSender != nil)
        json.key("started"); json.raw(session.firstSeen.description)
        json.key("ended")
        if let end = session.end { json.raw(end.description) } else { json.null() }
        json.key("end_kind")
        if let kind = session.endKind { json.string(kind) } else { json.null() }
        json.key("system_id")
        if let systemID = session.systemID { json.string(systemID) } else { json.null() }
        json.key("system_type")
        if let systemType = session.systemType { json.string(systemType) } else { json.null() }
        json.key("bind")
        if let bind = session.bindCommand { json.string(CommandID(bind).name) } else { json.null() }
        json.key("bind_status")
        if let status = session.bindStatus { json.string(CommandStatus(status).name) } else { json.null() }
        json.key("pdus"); json.int(session.pdus)
        json.key("last_pdu")
        if let last = session.lastPDU { json.raw(last.description) } else { json.null() }
        json.endObject()
    }
}

// The SQLite store (GRDB): one file, WAL, versioned migrations. Importing writes whole batches in single
// transactions; reading gives back the events in their original order.

import Capture
import Foundation
import GRDB
import NIOCore
import Reassembly
import SMPP

/// Why the store cannot do what was asked.
public struct StoreError: LocatedError, Hashable {
    /// The kind of problem. A closed set.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The store cannot be opened or made (a path that cannot be written, a file that is not a store).
        case cannotOpen = "cannot_open"
        /// The database server cannot be reached, or refused the login.
        case cannotConnect = "cannot_connect"
        /// A store address (a PostgreSQL URL, its sslmode) that is not valid.
        case invalidAddress = "invalid_address"
        /// A file the store needs (a password key, a password file) cannot be read or holds the wrong thing.
        case unreadableFile = "unreadable_file"
        /// The password key does not open the passwords kept in the store.
        case wrongKey = "wrong_key"
        /// Another process is importing the same source into the store right now.
        case busy = "busy"
        /// The database refused a write or a query.
        case databaseFailed = "database_failed"
    }

    public var code: Code
    public var reason: String
    /// The store (its path, or its address without the password) or the file concerned.
    public var location: String?
    public var hint: String?

    public init(_ code: Code, _ reason: String, location: String? = nil, hint: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
        self.hint = hint
    }

    public var description: String { reason }
}

/// A timeline store in one SQLite file.
public final class SQLiteStore: TimelineStore {
    let database: DatabaseQueue
    public let path: String

    /// Opens (or creates) a store and brings its schema up to date.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL with NORMAL sync: a commit survives the process being killed; a larger page cache and memory
            // mapping keep index pages of big imports in memory.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try StoreSchema.migrator.migrate(database)
        } catch let error as DatabaseError {
            throw StoreError(
                .cannotOpen, "cannot open the store \(path): \(error.message ?? "\(error)")", location: path)
        }
    }

    public func sources() throws -> [StoredSource] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sources ORDER BY id").map(Self.source)
        }
    }

    static func source(_ row: Row) -> StoredSource {
        StoredSource(
            id: row["id"], kind: SourceKind(rawValue: row["kind"]) ?? .file, name: row["name"],
            fingerprint: row["fingerprint"],
            startedAt: row["started_at"], completedAt: row["completed_at"], events: row["events"], pdus: row["pdus"])
    }

    public func sessions(sourceID: Int64?) throws -> [StoredSession] {
        try database.read { db in
            let rows: [Row]
            if let sourceID {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM sessions WHERE source_id = ? ORDER BY id", arguments: [sourceID])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM sessions ORDER BY id")
            }
            return rows.compactMap(Self.session)
        }
    }

    static func session(_ row: Row) -> StoredSession? {
        guard let first = Endpoint(parsing: row["first_endpoint"]),
            let second = Endpoint(parsing: row["second_endpoint"])
        else {
            return nil
        }
        let syn: String? = row["syn_sender"]
        let endBy: String? = row["end_by"]
        let endNS: Int64? = row["end_ns"]
        let lastNS: Int64? = row["last_pdu_ns"]
        let bindCommand: Int64? = row["bind_command"]
        let bindStatus: Int64? = row["bind_status"]
        return StoredSession(
            id: row["id"], sourceID: row["source_id"], connection: row["connection"], ordinal: row["ordinal"],
            first: first,
            second: second,
            synSender: syn.flatMap(Endpoint.init(parsing:)), firstSeen: Timestamp(nanoseconds: row["first_seen_ns"]),
            systemID: row["system_id"], systemType: row["system_type"],
            bindCommand: bindCommand.map { UInt32(truncatingIfNeeded: $0) },
            bindStatus: bindStatus.map { UInt32(truncatingIfNeeded: $0) }, endKind: row["end_kind"],
            endBy: endBy.flatMap(Endpoint.init(parsing:)), end: endNS.map(Timestamp.init(nanoseconds:)),
            pdus: row["pdus"],
            lastPDU: lastNS.map(Timestamp.init(nanoseconds:)))
    }

    public func beginImport(kind: SourceKind, name: String, fingerprint: String, options: ImportOptions) throws
        -> StoreImport?
    {
        let existing = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sources WHERE fingerprint = ?", arguments: [fingerprint]).map(
                Self.source)
        }
        if let existing {
            if existing.completedAt != nil { return nil }
            return try StoreImport(store: self, source: existing, options: options)
        }
        let source = try database.write { db -> StoredSource in
            try db.execute(
                sql: "INSERT INTO sources (kind, name, fingerprint, started_at) VALUES (?, ?, ?, ?)",
                arguments: [kind.rawValue, name, fingerprint, Date().timeIntervalSince1970])
            return StoredSource(
                id: db.lastInsertedRowID, kind: kind, name: name, fingerprint: fingerprint,
                startedAt: Date().timeIntervalSince1970, completedAt: nil, events: 0, pdus: 0)
        }
        return try StoreImport(store: self, source: source, options: options)
    }
}

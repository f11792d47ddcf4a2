// The PostgreSQL store, for fleets: many importers and recorders, on several hosts, write into one database, each
// as its own source. PDU blocks and their lookup keys are partitioned by day (native range partitioning,
// partitions made as batches need them) so that retention drops whole partitions; batches are written with COPY
// in one transaction each, and a batch the server already has is never written twice.

import Capture
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Reassembly

/// Where a PostgreSQL store is: parsed from `postgres://user[:password]@host[:port]/database[?sslmode=...]`.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    /// `sslmode`, as libpq defines it (`allow`, which tries without TLS first, is refused).
    public enum TLSMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, else none; the certificate is not checked. libpq's default.
        case prefer
        /// TLS, the certificate not checked.
        case require
        /// TLS, the certificate checked against the trusted roots, not its name.
        case verifyCA = "verify-ca"
        /// TLS, the certificate checked against the trusted roots and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// PEM roots for verify-ca and verify-full (`sslrootcert`); the system's when nil.
    public var rootCertificates: String?

    /// True when the text names a PostgreSQL store rather than a file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// The text with the password of a `scheme://user:password@` part replaced by `***`, so that it can be shown
    /// (in errors, logs, listings) whatever else is wrong with it.
    public static func redacting(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else {
            return text
        }
        return String(text[..<rest.index(after: colon)]) + "***" + String(text[at...])
    }

    /// Parses a URL; the password comes from the URL, else `PGPASSWORD`, else the file `SMPPSCOPE_PGPASSWORD_FILE`
    /// names.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isURL(text), let components = URLComponents(string: text), let host = components.host, !host.isEmpty
        else {
            throw StoreError(
                .invalidAddress,
                "invalid PostgreSQL URL \"\(Self.redacting(text))\"; expected postgres://user@host:port/database")
        }
        self.host = host
        port = components.port ?? 5432
        user = components.user ?? environment["PGUSER"] ?? "postgres"
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : path
        if let password = components.password {
            self.password = password
        } else if let password = environment["PGPASSWORD"] {
            self.password = password
        } else if let file = environment["SMPPSCOPE_PGPASSWORD_FILE"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw StoreError(
                    .unreadableFile, "cannot read the password file \(file) (SMPPSCOPE_PGPASSWORD_FILE)", location: file
                )
            }
            password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? environment["PGSSLMODE"] ?? "prefer"
        guard let parsed = TLSMode(rawValue: mode) else {
            let why = mode == "allow" ? " (it tries without TLS first, which is not supported)" : ""
            throw StoreError(
                .invalidAddress,
                "sslmode \"\(mode)\" is not accepted\(why); use "
                    + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
        }
        tls = parsed
        rootCertificates =
            components.queryItems?.first { $0.name == "sslrootcert" }?.value ?? environment["PGSSLROOTCERT"]
    }

    /// The URL without its password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// A timeline store in a PostgreSQL database.
public final class PostgresStore: TimelineStore, @unchecked Sendable {
    public let location: PostgresLocation
    let logger: Logger
    /// One connection, used by one operation at a time.
    private let lock = NSLock()
    private var connection: PostgresConnection?
    /// Days whose partitions exist.
    private var partitions: Set<Int64> = []
    /// Lookup chunks (first block id) known to exist, and per source the first block id below which every chunk
    /// is indexed.
    private var lookupLeaves: Set<Int64> = []
    private var sealedBelow: [Int64: Int64] = [:]
    /// Lookup keys go to one partition per 2^lookupChunkBits ordinals of a source (smaller in tests).
    public var lookupChunkBits = 20

    static let nanosecondsPerDay: Int64 = 86_400_000_000_000

    /// Connects and brings the schema up to date.
    public init(location: PostgresLocation) throws {
        self.location = location
        var logger = Logger(label: "smppscope.store.postgres")
        logger.logLevel = .critical
        self.logger = logger
        try withConnection { connection in
            try PostgresSchema.migrate(connection, logger: logger)
        }
    }

    public convenience init(url: String) throws {
        try self.init(location: try PostgresLocation(url: url))
    }

    deinit {
        try? connection?.close().wait()
    }

    // MARK: Connection

    private func connect() throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        tlsConfiguration.minimumTLSVersion = .tlsv12
        if let roots = location.rootCertificates { tlsConfiguration.trustRoots = .file(roots) }
        switch location.tls {
        case .disable:
            tls = .disable
        case .prefer:
            tlsConfiguration.certificateVerification = .none
            tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration))
        case .require:
            tlsConfiguration.certificateVerification = .none
            tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
        case .verifyCA:
            tlsConfiguration.certificateVerification = .noHostnameVerification
            tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
        case .verifyFull:
            tlsConfiguration.certificateVerification = .fullVerification
            tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
        }
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger
            ).wait()
        } catch {
            throw StoreError(
                .cannotConnect, "cannot connect to \(location): \(Self.describe(error))", location: "\(location)")
        }
    }

    /// Runs `body` with the connection (made, or made again after a loss), one caller at a time.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if let existing = connection, existing.isClosed { connection = nil }
        let current = try connection ?? connect()
        connection = current
        do {
            return try body(current)
        } catch {
            if current.isClosed { connection = nil }
            throw error
        }
    }

    static func describe(_ error: Error) -> String {
        var error = error
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return message }
            guard let underlying = psql.underlying else { return "\(psql.code)" }
            error = underlying
        }
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            error = first.error
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }

    /// True for errors after which the same work may succeed on a new connection.
    static func isConnectionLoss(_ error: Error) -> Bool {
        if let psql = error as? PSQLError {
            return psql.code == .serverClosedConnection || psql.code == .connectionError
                || psql.code == .uncleanShutdown
        }
        if error is IOError || error is ChannelError { return true }
        if let store = error as? StoreError { return store.description.hasPrefix("cannot connect") }
        return false
    }

    // MARK: Queries

    func rows(_ connection: PostgresConnection, _ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws
        -> [PostgresRow]
    {
        do {
            return try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).wait().rows
        } catch {
            throw StoreError(.databaseFailed, "PostgreSQL: \(Self.describe(error))", location: "\(location)")
        }
    }

    func execute(_ connection: PostgresConnection, _ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws
    {
        _ = try rows(connection, sql, binds)
    }

    // MARK: TimelineStore

    public func sources() throws -> [StoredSource] {
        try withConnection { connection in
            try rows(
                connection,
                "SELECT id, kind, name, fingerprint, started_at, completed_at, events, pdus FROM sources ORDER BY id"
            )
            .map(Self.source)
        }
    }

    static func source(_ row: PostgresRow) throws -> StoredSource {
        let (id, kind, name, fingerprint, started, completed, events, pdus) = try row.decode(
            (Int64, String, String, String, Double, Double?, Int64, Int64).self)
        return StoredSource(
            id: id, kind: SourceKind(rawValue: kind) ?? .file, name: name, fingerprint: fingerprint, startedAt: started,
            completedAt: completed,
            events: Int(events), pdus: Int(pdus))
    }

    static let sessionColumns = """
        id, source_id, connection, ordinal, first_endpoint, second_endpoint, syn_sender, first_seen_ns, system_id,
        system_type, bind_command, bind_status, end_kind, end_by, end_ns, pdus, last_pdu_ns
        """

    public func sessions(sourceID: Int64?) throws -> [StoredSession] {
        try withConnection { connection in
            var binds = PostgresBindings()
            var sql = "SELECT \(Self.sessionColumns) FROM sessions"
            if let sourceID {
                sql += " WHERE source_id = $1"
                binds.append(sourceID)
            }
            return try rows(connection, sql + " ORDER BY id", binds).compactMap(Self.session)
        }
    }

    static func session(_ row: PostgresRow) throws -> StoredSession? {
        let (id, sourceID, connection, ordinal, first, second, syn, firstSeen, systemID) = try row.decode(
            (Int64, Int64, Int64, Int64, String, String, String?, Int64, String?).self)
        let cells = row.makeRandomAccess()
        let systemType = try cells[9].decode(String?.self)
        let bindCommand = try cells[10].decode(Int64?.self)
        let bindStatus = try cells[11].decode(Int64?.self)
        let endKind = try cells[12].decode(String?.self)
        let endBy = try cells[13].decode(String?.self)
        let endNS = try cells[14].decode(Int64?.self)
        let pdus = try cells[15].decode(Int64.self)
        let lastNS = try cells[16].decode(Int64?.self)
        guard let firstEndpoint = Endpoint(parsing: first), let secondEndpoint = Endpoint(parsing: second) else {
            return nil
        }
        return StoredSession(
            id: id, sourceID: sourceID, connection: Int(connection), ordinal: Int(ordinal), first: firstEndpoint,
            second: secondEndpoint, synSender: syn.flatMap(Endpoint.init(parsing:)),
            firstSeen: Timestamp(nanoseconds: firstSeen),
            systemID: systemID, systemType: systemType, bindCommand: bindCommand.map { UInt32(truncatingIfNeeded: $0) },
            bindStatus: bindStatus.map { UInt32(truncatingIfNeeded: $0) }, endKind: endKind,
            endBy: endBy.flatMap(Endpoint.init(parsing:)), end: endNS.map(Timestamp.init(nanoseconds:)),
            pdus: Int(pdus),
            lastPDU: lastNS.map(Timestamp.init(nanoseconds:)))
    }

    public func beginImport(kind: SourceKind, name: String, fingerprint: String, options: ImportOptions) throws
        -> StoreImport?
    {
        let source: StoredSource = try withConnection { connection in
            var binds = PostgresBindings()
            binds.append(kind.rawValue)
            binds.append(name)
            binds.append(fingerprint)
            binds.append(Date().timeIntervalSince1970)
            // Two importers of the same capture at once: one row, both see it.
            try execute(
                connection,
                "INSERT INTO sources (kind, name, fingerprint, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT (fingerprint) DO NOTHING",
                binds)
            var lookup = PostgresBindings()
            lookup.append(fingerprint)
            guard
                let row = try rows(
                    connection,
                    "SELECT id, kind, name, fingerprint, started_at, completed_at, events, pdus FROM sources WHERE fingerprint = $1",
                    lookup
                ).first
            else { throw StoreError(.databaseFailed, "the source row vanished while it was being made") }
            let source = try Self.source(row)
            if source.completedAt == nil {
                // One writer per source: another process importing the same capture right now holds it.
                var claim = PostgresBindings()
                claim.append(Int32(truncatingIfNeeded: source.id))
                let claimed = try rows(connection, "SELECT pg_try_advisory_lock(736563708, $1)", claim).first.map {
                    try $0.decode(Bool.self)
                }
                guard claimed == true else {
                    throw StoreError(
                        .busy,
                        "\(name) is being imported into this store by another process right now (source \(source.id))")
                }
            }
            return source
        }
        if source.completedAt != nil { return nil }
        return try StoreImport(store: self, source: source, options: options)
    }

    /// Drops the partitions of PDUs older than `cutoff` (whole days), and the sessions and events that ended
    /// before it. Returns how many day partitions were dropped.
    public func prune(olderThan cutoff: Timestamp) throws -> (partitions: Int, sessions: Int) {
        try withConnection { connection in
            let names = try rows(
                connection,
                """
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname IN ('pdu_blocks', 'lookup')
                """
            ).map { try $0.decode(String.self) }
            var days: Set<Int64> = []
            var dropped = 0
            for name in names {
                guard let range = name.range(of: "_d", options: .backwards), let day = Int64(name[range.upperBound...])
                else { continue }
                // A partition holds [day, day + 1): it goes when all of it is older than the cutoff.
                guard (day + 1) * Self.nanosecondsPerDay <= cutoff.nanoseconds else { continue }
                try execute(connection, "DROP TABLE IF EXISTS \(name)")
                if name.hasPrefix("pdu_blocks") { dropped += 1 }
                days.insert(day)
            }
            partitions.subtract(days)
            var binds = PostgresBindings()
            binds.append(cutoff.nanoseconds)
            // Chunks left without their index by a writer that stopped without completing (nothing written for
            // ten minutes) get it now.
            let stale = try rows(
                connection,
                "SELECT name FROM lookup_leaves WHERE NOT indexed AND written_at < now() - interval '10 minutes'"
            ).map { try $0.decode(String.self) }
            try indexLookupLeaves(connection, stale)
            // Lookup chunks go when the last batch written into them is older than the cutoff.
            for row in try rows(connection, "SELECT name, first_block FROM lookup_leaves WHERE last_ts < $1", binds) {
                let (name, first) = try row.decode((String, Int64).self)
                try execute(connection, "DROP TABLE IF EXISTS \(name)")
                var leaf = PostgresBindings()
                leaf.append(name)
                try execute(connection, "DELETE FROM lookup_leaves WHERE name = $1", leaf)
                lookupLeaves.remove(first)
            }
            try execute(connection, "DELETE FROM events WHERE ts_ns < $1", binds)
            let sessions = try rows(
                connection,
                "DELETE FROM sessions WHERE COALESCE(end_ns, last_pdu_ns, first_seen_ns) < $1 RETURNING id", binds
            ).count
            return (dropped, sessions)
        }
    }

    // MARK: Partitions

    /// The first block id of the lookup chunk `blockID` falls in.
    func lookupChunk(of blockID: Int64) -> Int64 { (blockID >> lookupChunkBits) << lookupChunkBits }

    static func lookupLeafName(_ first: Int64) -> String { "lookup_c\(first)" }

    /// Makes the lookup chunks starting at `firsts` (without an index) and registers them.
    func ensureLookupLeaves(_ connection: PostgresConnection, sourceID: Int64, firsts: Set<Int64>) throws {
        let missing = firsts.subtracting(lookupLeaves)
        guard !missing.isEmpty else { return }
        try execute(connection, "BEGIN")
        do {
            try execute(connection, "SELECT pg_advisory_xact_lock(736563708)")
            for first in missing.sorted() {
                let name = Self.lookupLeafName(first)
                try execute(
                    connection,
                    "CREATE TABLE IF NOT EXISTS \(name) PARTITION OF lookup_chunks FOR VALUES FROM (\(first)) TO (\(first + (1 << lookupChunkBits)))"
                )
                var binds = PostgresBindings()
                binds.append(name)
                binds.append(sourceID)
                binds.append(first)
                try execute(
                    connection,
                    "INSERT INTO lookup_leaves (name, source_id, first_block, last_ts) VALUES ($1, $2, $3, 0) ON CONFLICT (name) DO NOTHING",
                    binds)
            }
            try execute(connection, "COMMIT")
        } catch {
            try? execute(connection, "ROLLBACK")
            throw error
        }
        lookupLeaves.formUnion(missing)
    }

    /// Indexes the source's lookup chunks that start below `limit` and are not indexed yet, each in one bulk build.
    func sealLookupLeaves(_ connection: PostgresConnection, sourceID: Int64, below limit: Int64) throws {
        guard (sealedBelow[sourceID] ?? Int64.min) < limit else { return }
        var binds = PostgresBindings()
        binds.append(sourceID)
        binds.append(limit)
        let names = try rows(
            connection,
            "SELECT name FROM lookup_leaves WHERE source_id = $1 AND NOT indexed AND first_block < $2 ORDER BY first_block",
            binds
        ).map { try $0.decode(String.self) }
        try indexLookupLeaves(connection, names)
        sealedBelow[sourceID] = limit
    }

    /// Gives lookup chunks their index, each in one bulk build, and records it.
    private func indexLookupLeaves(_ connection: PostgresConnection, _ names: [String]) throws {
        for name in names {
            try execute(connection, "CREATE INDEX IF NOT EXISTS \(name)_key ON \(name) (key)")
            var leaf = PostgresBindings()
            leaf.append(name)
            try execute(connection, "UPDATE lookup_leaves SET indexed = true WHERE name = $1", leaf)
        }
    }

    static func day(of nanoseconds: Int64) -> Int64 {
        nanoseconds >= 0 ? nanoseconds / nanosecondsPerDay : (nanoseconds + 1) / nanosecondsPerDay - 1
    }

    /// Makes the day partitions of `pdu_blocks` and `lookup` that times need, and the next day's ahead.
    func ensurePartitions(_ connection: PostgresConnection, times: [Int64]) throws {
        var needed: Set<Int64> = []
        for time in times {
            let day = Self.day(of: time)
            needed.insert(day)
            needed.insert(day + 1)
        }
        needed.subtract(partitions)
        guard !needed.isEmpty else { return }
        // One writer at a time makes partitions; the others find them made.
        try execute(connection, "BEGIN")
        do {
            try execute(connection, "SELECT pg_advisory_xact_lock(736563707)")
            for day in needed.sorted() {
                let from = day * Self.nanosecondsPerDay
                let to = from + Self.nanosecondsPerDay
                let suffix = day < 0 ? "m\(-day)" : "\(day)"
                for table in ["pdu_blocks", "lookup"] {
                    try execute(
                        connection,
                        "CREATE TABLE IF NOT EXISTS \(table)_d\(suffix) PARTITION OF \(table) FOR VALUES FROM (\(from)) TO (\(to))"
                    )
                }
            }
            try execute(connection, "COMMIT")
        } catch {
            try? execute(connection, "ROLLBACK")
            throw error
        }
        partitions.formUnion(needed)
    }
}

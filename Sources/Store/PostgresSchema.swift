// The schema of the PostgreSQL store, as versioned migrations applied under an advisory lock (several processes
// may open a new database at once).
//
// As in SQLite (StoreSchema.swift), PDUs are kept in blocks (the PDUs of one session within one batch) keyed by
// source << 40 | ordinal; a batch's segment is its first event's id. pdu_blocks is partitioned by day of the
// block's first PDU, in nanoseconds since 1970. Lookup keys are in lookup_chunks (migration 3), partitioned by
// chunks of block ids; lookup (by day of the batch) holds the keys of stores written before it.

import Logging
import PostgresNIO

enum PostgresSchema {
    static let migrations: [(version: Int, sql: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE sources (
                    id BIGSERIAL PRIMARY KEY,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    fingerprint TEXT NOT NULL UNIQUE,
                    started_at DOUBLE PRECISION NOT NULL,
                    completed_at DOUBLE PRECISION,
                    events BIGINT NOT NULL DEFAULT 0,
                    pdus BIGINT NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE sessions (
                    id BIGSERIAL PRIMARY KEY,
                    source_id BIGINT NOT NULL REFERENCES sources(id),
                    connection BIGINT NOT NULL,
                    ordinal BIGINT NOT NULL,
                    first_endpoint TEXT NOT NULL,
                    second_endpoint TEXT NOT NULL,
                    syn_sender TEXT,
                    first_seen_ns BIGINT NOT NULL,
                    system_id TEXT,
                    system_type TEXT,
                    bind_command BIGINT,
                    bind_status BIGINT,
                    end_kind TEXT,
                    end_by TEXT,
                    end_ns BIGINT,
                    pdus BIGINT NOT NULL DEFAULT 0,
                    last_pdu_ns BIGINT,
                    UNIQUE (source_id, connection)
                )
                """,
                "CREATE INDEX sessions_system_id ON sessions (system_id)",
                "CREATE INDEX sessions_first_seen ON sessions (first_seen_ns)",
                """
                CREATE TABLE pdu_blocks (
                    id BIGINT NOT NULL,
                    segment BIGINT NOT NULL,
                    session_id BIGINT NOT NULL,
                    last_id BIGINT NOT NULL,
                    count INTEGER NOT NULL,
                    base_ts BIGINT NOT NULL,
                    first_ts BIGINT NOT NULL,
                    last_ts BIGINT NOT NULL,
                    data BYTEA NOT NULL,
                    PRIMARY KEY (id, first_ts)
                ) PARTITION BY RANGE (first_ts)
                """,
                "CREATE INDEX pdu_blocks_order ON pdu_blocks (segment, id)",
                "CREATE INDEX pdu_blocks_session ON pdu_blocks (session_id, id)",
                "CREATE INDEX pdu_blocks_last_ts ON pdu_blocks (last_ts)",
                // Message ids, addresses, error statuses and receipt states, hashed with their kind (StoreSchema.Key).
                """
                CREATE TABLE lookup (
                    ts BIGINT NOT NULL,
                    key BIGINT NOT NULL,
                    block_id BIGINT NOT NULL
                ) PARTITION BY RANGE (ts)
                """,
                "CREATE INDEX lookup_key ON lookup (key)",
                """
                CREATE TABLE events (
                    id BIGINT PRIMARY KEY,
                    session_id BIGINT,
                    kind TEXT NOT NULL,
                    ts_ns BIGINT,
                    frame BIGINT,
                    from_first BOOLEAN,
                    stream_offset BIGINT,
                    size BIGINT,
                    file_offset BIGINT,
                    detail TEXT
                )
                """,
                "CREATE INDEX events_ts ON events (ts_ns)",
                "CREATE TABLE secrets (pdu_id BIGINT PRIMARY KEY, sealed BYTEA NOT NULL)",
            ]
        ),
        (
            2,
            [
                // Blocks are compressed by the server as they are written; lz4 costs a fraction of the default
                // pglz's time for the same size (the import benchmark: a third of the server's time went to
                // pglz). Partitions made from now on inherit it. Servers before 14 (no per-column compression)
                // and servers built without lz4 keep pglz.
                """
                DO $$
                BEGIN
                    IF current_setting('server_version_num')::integer >= 140000 THEN
                        EXECUTE 'ALTER TABLE pdu_blocks ALTER COLUMN data SET COMPRESSION lz4';
                    END IF;
                EXCEPTION WHEN feature_not_supported OR syntax_error THEN
                    NULL;
                END
                $$
                """
            ]
        ),
        (
            3,
            [
                // Lookup keys from now on: one partition per chunk of 2^20 ordinals of a source, written without an
                // index and indexed in one CREATE INDEX once the source moves past it (or completes): a bulk build
                // costs the server a fraction of one index insert per key (the import benchmark: the per-key
                // inserts were ~45% of the server's time). Chunks still filling are searched by a scan.
                """
                CREATE TABLE lookup_chunks (
                    ts BIGINT NOT NULL,
                    key BIGINT NOT NULL,
                    block_id BIGINT NOT NULL
                ) PARTITION BY RANGE (block_id)
                """,
                """
                CREATE TABLE lookup_leaves (
                    name TEXT PRIMARY KEY,
                    source_id BIGINT NOT NULL,
                    first_block BIGINT NOT NULL,
                    last_ts BIGINT NOT NULL,
                    written_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    indexed BOOLEAN NOT NULL DEFAULT false
                )
                """,
                "CREATE INDEX lookup_leaves_source ON lookup_leaves (source_id, indexed)",
            ]
        ),
    ]

    static func migrate(_ connection: PostgresConnection, logger: Logger) throws {
        func run(_ sql: String) throws {
            do {
                _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
            } catch {
                throw StoreError(.databaseFailed, "PostgreSQL: \(PostgresStore.describe(error))")
            }
        }
        try run("BEGIN")
        do {
            try run("SELECT pg_advisory_xact_lock(736563706)")
            try run(
                "CREATE TABLE IF NOT EXISTS smppscope_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            let applied = try connection.query(
                PostgresQuery(unsafeSQL: "SELECT version FROM smppscope_migrations"), logger: logger
            )
            .wait().rows.map { try $0.decode(Int.self) }
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.sql { try run(statement) }
                try run("INSERT INTO smppscope_migrations (version) VALUES (\(migration.version))")
            }
            try run("COMMIT")
        } catch {
            try? run("ROLLBACK")
            throw error
        }
    }
}

// The schema of the SQLite store, as versioned migrations.
//
// Laid out for fast imports. Every event of a source has an ordinal (its place in the source); PDUs are kept in
// blocks (the PDUs of one session within one batch, see PDUBlock.swift) and other events in rows, both keyed by
// source << 40 | ordinal, so a source reads back in order by id range. Each imported batch is a "segment": its
// lookup keys (message ids, addresses, error statuses, receipt states) sit together in the key index, so a batch appends its
// keys in order instead of scattering them over one big index; a lookup probes each segment's part.

import GRDB
import SMPP

enum StoreSchema {
    /// Bits of a PDU or event id that hold its ordinal within its source.
    static let ordinalBits: Int64 = 40

    static func rowID(source: Int64, ordinal: Int) -> Int64 { source << ordinalBits | Int64(ordinal) }

    static func range(source: Int64) -> ClosedRange<Int64> {
        (source << ordinalBits)...(source << ordinalBits | (1 << ordinalBits - 1))
    }

    /// Kinds of lookup keys.
    enum Key: UInt8 {
        case messageID = 1
        /// A source or destination address.
        case address = 2
        /// A non-zero command_status, in hex ("0x00000058").
        case status = 3
        /// The final state of a delivery receipt ("DELIVRD", "UNDELIV", ...).
        case receiptState = 4

        /// The key as stored: a 64-bit FNV-1a hash of the kind and the value. Equal values have equal hashes in
        /// every version; a match is checked against the PDU itself.
        func hash(_ value: String) -> Int64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            hash = (hash ^ UInt64(rawValue)) &* 0x0000_0100_0000_01B3
            for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            return Int64(bitPattern: hash)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sources, sessions, pdu_blocks, events, segments, lookup, secrets") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sources (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        fingerprint TEXT NOT NULL UNIQUE,
                        started_at REAL NOT NULL,
                        completed_at REAL,
                        events INTEGER NOT NULL DEFAULT 0,
                        pdus INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE sessions (
                        id INTEGER PRIMARY KEY,
                        source_id INTEGER NOT NULL REFERENCES sources(id),
                        connection INTEGER NOT NULL,
                        ordinal INTEGER NOT NULL,
                        first_endpoint TEXT NOT NULL,
                        second_endpoint TEXT NOT NULL,
                        syn_sender TEXT,
                        first_seen_ns INTEGER NOT NULL,
                        system_id TEXT,
                        system_type TEXT,
                        bind_command INTEGER,
                        bind_status INTEGER,
                        end_kind TEXT,
                        end_by TEXT,
                        end_ns INTEGER,
                        pdus INTEGER NOT NULL DEFAULT 0,
                        last_pdu_ns INTEGER,
                        UNIQUE (source_id, connection)
                    );
                    CREATE INDEX sessions_system_id ON sessions (system_id);
                    -- The PDUs of one session within one imported batch (see PDUBlock.swift). id: source << 40 |
                    -- the first PDU's ordinal (its place among the source's events); the times are nanoseconds.
                    CREATE TABLE pdu_blocks (
                        id INTEGER PRIMARY KEY,
                        segment INTEGER NOT NULL,
                        session_id INTEGER NOT NULL,
                        last_id INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        base_ts INTEGER NOT NULL,
                        first_ts INTEGER NOT NULL,
                        last_ts INTEGER NOT NULL,
                        data BLOB NOT NULL
                    );
                    CREATE INDEX pdu_blocks_segment ON pdu_blocks (segment);
                    CREATE INDEX pdu_blocks_session ON pdu_blocks (session_id, id);
                    CREATE INDEX pdu_blocks_time ON pdu_blocks (first_ts, last_ts);
                    -- id: source << 40 | ordinal.
                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY,
                        session_id INTEGER,
                        kind TEXT NOT NULL,
                        ts_ns INTEGER,
                        frame INTEGER,
                        from_first INTEGER,
                        stream_offset INTEGER,
                        size INTEGER,
                        file_offset INTEGER,
                        detail TEXT
                    );
                    -- One segment per imported batch; its keys sit together in the lookup index.
                    CREATE TABLE segments (
                        id INTEGER PRIMARY KEY,
                        source_id INTEGER NOT NULL,
                        first_id INTEGER NOT NULL,
                        last_id INTEGER NOT NULL
                    );
                    CREATE INDEX segments_source ON segments (source_id);
                    -- Which blocks hold a PDU with a key: message id, address, error status or receipt state,
                    -- hashed with its kind (StoreSchema.Key.hash).
                    CREATE TABLE lookup (
                        segment INTEGER NOT NULL,
                        key INTEGER NOT NULL,
                        block_id INTEGER NOT NULL,
                        PRIMARY KEY (segment, key, block_id)
                    ) WITHOUT ROWID;
                    -- Secrets refer to PDUs by source << 40 | ordinal.
                    CREATE TABLE secrets (
                        pdu_id INTEGER PRIMARY KEY,
                        sealed BLOB NOT NULL
                    );
                    """)
        }
        return migrator
    }
}

extension StoreSchema {
    /// How a message id is kept as a lookup key: by its link form (SMPP.MessageID), so that the spellings SMSCs
    /// use for one id — hex in the response and decimal in the receipt, either case, leading zeros — meet.
    static func messageIDKey(_ id: String) -> String { "link:\(MessageID.linkKey(id))" }

    /// The keys a search for `id` looks under: its link form, that of its other number form (hex <-> decimal), and
    /// the exact spelling (stores made before the link form keep ids that way).
    static func messageIDKeys(searching id: String) -> [String] {
        let alternatives = MessageID.alternativeLinkKeys(id)
        return [messageIDKey(id)] + alternatives.map { "link:\($0)" } + [id]
    }
}

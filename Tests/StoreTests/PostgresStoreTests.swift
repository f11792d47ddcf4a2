// The PostgreSQL store against a real server on loopback: a stored capture reads back as the capture (and as the
// SQLite store reads it), many writers at once add up, a server restart in the middle of an import loses nothing
// and writes nothing twice, retention drops whole day partitions.

import Analysis
import Capture
import Foundation
import Ingest
import Reassembly
import SMPP
import Store
import TestSupport
import Testing
import Timeline

/// A fresh database on the test server.
func postgresStore() throws -> (PostgresStore, String, PostgresServer) {
    let server = try PostgresServer.shared.get()
    let url = try server.makeDatabase()
    return (try PostgresStore(url: url), url, server)
}

/// Imports a capture as `smppscope import` does.
@discardableResult
func importCapture(_ path: String, into store: any TimelineStore, options: ImportOptions = ImportOptions()) throws
    -> StoreImport?
{
    guard
        let writer = try store.beginImport(
            kind: .file, name: path, fingerprint: try SourceFingerprint.file(path: path), options: options)
    else { return nil }
    let ingest = CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: false)
    try ingest.runEvents { event in
        switch event {
        case .stream(let stream): try writer.add(stream)
        case .capture(let diagnostic): try writer.add(diagnostic)
        }
    }
    try writer.finish()
    return writer
}

@Suite("PostgreSQL store", .serialized, .enabled(if: PostgresServer.available, "PostgreSQL is not installed"))
struct PostgresStoreTests {
    @Test(
        "analyze from PostgreSQL equals analyze from SQLite equals analyze from the capture",
        arguments: Fixtures.captures)
    func analysisReadsBackTheSame(capture: String) throws {
        try PostgresServer.sharing {
            let (store, _, _) = try postgresStore()
            try importCapture(capture, into: store)
            let expected = try analysisJSON(capture: capture)
            #expect(try analysisJSON(store: store) == expected)
            let sqlite = try TemporaryStore()
            try sqlite.importCapture(capture)
            #expect(try analysisJSON(store: sqlite.store) == expected)
            #expect(try decodeLines(store: store) == (try decodeLines(capture: capture)))
        }
    }

    @Test func filtersFindTheSamePDUsAsInSQLite() throws {
        try PostgresServer.sharing {
            let (store, _, _) = try postgresStore()
            try importCapture(Fixtures.kannel, into: store)
            let sqlite = try TemporaryStore()
            try sqlite.importCapture(Fixtures.kannel)
            var messageID: String?
            try store.timeline(StoreFilter()) { event in
                if messageID == nil, case .pdu(let item) = event, item.header.commandID == .submitSMResp,
                    item.header.commandStatus == .ok, case .messageID(let id) = item.decoded().body
                {
                    messageID = id
                }
            }
            var filters: [StoreFilter] = []
            var filter = StoreFilter()
            filter.messageID = try #require(messageID)
            filters.append(filter)
            filter = StoreFilter()
            filter.address = "77013000009"
            filters.append(filter)
            filter = StoreFilter()
            filter.status = CommandStatus.throttled.rawValue
            filters.append(filter)
            filter = StoreFilter()
            filter.receiptState = "UNDELIV"
            filters.append(filter)
            filter = StoreFilter()
            filter.sourceID = 1
            filter.sessions = [1]
            filters.append(filter)
            for filter in filters {
                let fromPostgres = try decodeLines(store: store, filter: filter)
                #expect(!fromPostgres.isEmpty)
                #expect(fromPostgres == (try decodeLines(store: sqlite.store, filter: filter)))
            }
            var byID = StoreFilter()
            byID.messageID = messageID
            var commands: [String] = []
            try store.timeline(byID) { event in
                if case .pdu(let item) = event { commands.append(item.header.commandID.name) }
            }
            #expect(commands == ["submit_sm", "submit_sm_resp", "deliver_sm"])
        }
    }

    @Test func concurrentImportsAddUpWithoutDuplicates() throws {
        try PostgresServer.sharing {
            let (_, url, _) = try postgresStore()
            let captures = [Fixtures.kannel, Fixtures.smpplib]
            let failures = Failures()
            let group = DispatchGroup()
            // Each importer has its own connection, as separate processes on separate hosts would; a third imports
            // the same capture as the first at the same time (it must find it there, not add it twice).
            for capture in captures + [Fixtures.kannel] {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let store = try PostgresStore(url: url)
                        var options = ImportOptions()
                        options.batchSize = 50
                        try importCapture(capture, into: store, options: options)
                    } catch {
                        failures.add(error)
                    }
                }.start()
            }
            group.wait()
            // The importer that came second to the same capture either found it complete or was told it is being
            // imported; nothing else went wrong.
            #expect(
                failures.all.allSatisfy { "\($0)".contains("is being imported into this store by another process") },
                "\(failures.all)")
            let store = try PostgresStore(url: url)
            var expected = 0
            for capture in captures {
                try CaptureIngest(source: try PacketSource.open(path: capture), decodesEveryPDU: false).run { event in
                    if case .pdu = event { expected += 1 }
                }
            }
            let sources = try store.sources()
            #expect(sources.count == 2)
            #expect(sources.allSatisfy { $0.completedAt != nil })
            #expect(sources.reduce(0) { $0 + $1.pdus } == expected)
            var read = 0
            try store.timeline(StoreFilter(), decodesEveryPDU: false) { event in
                if case .pdu = event { read += 1 }
            }
            #expect(read == expected)
            for (index, capture) in captures.enumerated() {
                var filter = StoreFilter()
                filter.sourceID = sources.first { $0.name == capture }?.id ?? Int64(index + 1)
                #expect(try analysisJSON(store: store, filter: filter) == (try analysisJSON(capture: capture)))
            }
        }
    }

    @Test func aServerRestartInTheMiddleOfAnImportLosesNothing() throws {
        try PostgresServer.exclusively {
            let (store, url, server) = try postgresStore()
            try #require(server.canRestart, "the test server can be restarted")
            var options = ImportOptions()
            options.batchSize = 20
            // A recorder's writer: it waits the outage out.
            options.background = true
            guard
                let writer = try store.beginImport(
                    kind: .proxy, name: "restart", fingerprint: "restart-\(UUID())", options: options)
            else { throw Interrupted() }
            var events: [PipelineEvent] = []
            try CaptureIngest(source: try PacketSource.open(path: Fixtures.kannel), decodesEveryPDU: false).runEvents {
                events.append($0)
            }
            for (index, event) in events.enumerated() {
                if index == events.count / 2 {
                    try writer.waitForWrites()
                    try server.restart()
                }
                switch event {
                case .stream(let stream): try writer.add(stream)
                case .capture(let diagnostic): try writer.add(diagnostic)
                }
            }
            try writer.finish()
            let reopened = try PostgresStore(url: url)
            var filter = StoreFilter()
            filter.sourceID = writer.source.id
            #expect(try analysisJSON(store: reopened, filter: filter) == (try analysisJSON(capture: Fixtures.kannel)))
            #expect(try decodeLines(store: reopened, filter: filter) == (try decodeLines(capture: Fixtures.kannel)))
        }
    }

    @Test func pruneDropsWholeDaysAndWhatEndedBeforeThem() throws {
        try PostgresServer.sharing {
            let (store, url, server) = try postgresStore()
            // The Kannel capture was made on 2026-11-26; the smpplib one too. A cutoff after both drops them.
            try importCapture(Fixtures.kannel, into: store)
            let before = try store.prune(olderThan: Timestamp(nanoseconds: 0))
            #expect(before.partitions == 0)
            #expect(try store.sessions(sourceID: nil).count == 1)
            let far = Timestamp(nanoseconds: Int64(Date().timeIntervalSince1970 + 3 * 86_400) * 1_000_000_000)
            let after = try store.prune(olderThan: far)
            #expect(after.partitions >= 1)
            #expect(after.sessions == 1)
            // Its lookup chunks went with it.
            #expect(
                try server.query(url, "SELECT count(*) FROM lookup_leaves").trimmingCharacters(
                    in: .whitespacesAndNewlines) == "0")
            #expect(
                try server.query(url, "SELECT count(*) FROM lookup_chunks").trimmingCharacters(
                    in: .whitespacesAndNewlines) == "0")
            var pdus = 0
            try store.timeline(StoreFilter(), decodesEveryPDU: false) { event in
                if case .pdu = event { pdus += 1 }
            }
            #expect(pdus == 0)
        }
    }

    @Test func aMessageIDIsFoundInTheSpellingsSMSCsUse() throws {
        try PostgresServer.sharing {
            let (store, _, _) = try postgresStore()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "smppscope-pg-ids-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var options = ImportOptions()
            options.batchSize = 2
            try importCapture(try mixedSpellingCapture(folder), into: store, options: options)
            for spelling in ["1A2B3C", "1a2b3c", "1715004"] {
                #expect(
                    try commands(in: store, messageID: spelling) == ["submit_sm", "submit_sm_resp", "deliver_sm"],
                    "searched as \(spelling)")
            }
            #expect(try commands(in: store, messageID: "1A2B3D").isEmpty)
        }
    }

    @Test func lookupChunksAreSearchedWhileFillingAndIndexedOncePassed() throws {
        try PostgresServer.sharing {
            let (store, url, server) = try postgresStore()
            // Chunks of 64 ordinals, so that the Kannel capture spans several.
            store.lookupChunkBits = 6
            var options = ImportOptions()
            options.batchSize = 40
            guard
                let writer = try store.beginImport(
                    kind: .file, name: "chunks", fingerprint: "chunks-\(UUID())", options: options)
            else { throw Interrupted() }
            var events: [PipelineEvent] = []
            try CaptureIngest(source: try PacketSource.open(path: Fixtures.kannel), decodesEveryPDU: false).runEvents {
                events.append($0)
            }
            for event in events {
                switch event {
                case .stream(let stream): try writer.add(stream)
                case .capture(let diagnostic): try writer.add(diagnostic)
                }
            }
            // Everything written, the last chunks still without their index.
            try writer.flush()
            try writer.waitForWrites()
            func leaves() throws -> (all: Int, indexed: Int) {
                let counts = try server.query(
                    url, "SELECT count(*), count(*) FILTER (WHERE indexed) FROM lookup_leaves"
                )
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").compactMap { Int($0) }
                return (counts.first ?? 0, counts.last ?? 0)
            }
            let filling = try leaves()
            #expect(filling.all > 2)
            // Every chunk but those still being written has its index.
            #expect(filling.indexed >= filling.all - 2 && filling.indexed < filling.all)
            var filter = StoreFilter()
            filter.receiptState = "DELIVRD"
            let delivered = try decodeLines(store: store, filter: filter)
            #expect(!delivered.isEmpty)
            try writer.finish()
            let done = try leaves()
            #expect(done.indexed == done.all)
            let indexes = try server.query(url, "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'lookup_c%'")
            #expect(Int(indexes.trimmingCharacters(in: .whitespacesAndNewlines)) == done.all)
            // The same answers before and after the chunks got their indexes, and the same as SQLite's.
            #expect(try decodeLines(store: store, filter: filter) == delivered)
            let sqlite = try TemporaryStore()
            try sqlite.importCapture(Fixtures.kannel)
            #expect(try decodeLines(store: sqlite.store, filter: filter) == delivered)
        }
    }

    @Test func pruneIndexesTheChunksOfAWriterThatNeverCompleted() throws {
        try PostgresServer.sharing {
            let (store, url, server) = try postgresStore()
            guard
                let writer = try store.beginImport(
                    kind: .proxy, name: "killed", fingerprint: "killed-\(UUID())", options: ImportOptions())
            else { throw Interrupted() }
            try CaptureIngest(source: try PacketSource.open(path: Fixtures.kannel), decodesEveryPDU: false).runEvents {
                event in
                if case .stream(let stream) = event { try writer.add(stream) }
            }
            try writer.flush()
            try writer.waitForWrites()
            // The writer stops here, as a recorder killed outright would; an hour passes.
            let unindexed = "SELECT count(*) FROM lookup_leaves WHERE NOT indexed"
            #expect(try server.query(url, unindexed).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
            _ = try server.query(url, "UPDATE lookup_leaves SET written_at = now() - interval '1 hour'")
            _ = try store.prune(olderThan: Timestamp(nanoseconds: 0))
            #expect(try server.query(url, unindexed).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            #expect(
                try server.query(url, "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'lookup_c%'")
                    .trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        }
    }

    @Test func blocksAreCompressedWithLZ4WhereTheServerHasIt() throws {
        try PostgresServer.sharing {
            let (store, url, server) = try postgresStore()
            try importCapture(Fixtures.kannel, into: store)
            // 'l': lz4 on the partitioned table and on the partition the import made; the server of this machine
            // kind is built with lz4 (Debian's is).
            let parent = try server.query(
                url,
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'pdu_blocks'::regclass AND attname = 'data'")
            #expect(parent.trimmingCharacters(in: .whitespacesAndNewlines) == "l")
            let partitions = try server.query(
                url,
                """
                SELECT a.attcompression FROM pg_inherits i JOIN pg_attribute a ON a.attrelid = i.inhrelid AND a.attname = 'data'
                WHERE i.inhparent = 'pdu_blocks'::regclass
                """)
            let methods = partitions.split(separator: "\n").map(String.init)
            #expect(!methods.isEmpty && methods.allSatisfy { $0 == "l" })
            var filter = StoreFilter()
            filter.sourceID = 1
            #expect(
                try decodeLines(store: try PostgresStore(url: url), filter: filter)
                    == (try decodeLines(capture: Fixtures.kannel)))
        }
    }

    /// sslmode as libpq documents it: prefer (the default) falls back to no TLS on a server without it; require and
    /// the verify modes refuse to go on without TLS; allow and unknown modes are refused.
    @Test func sslModesBehaveAsLibpqDocumentsThem() throws {
        let server = try PostgresServer.shared.get()
        let url = try server.makeDatabase()
        #expect(try PostgresLocation(url: url, environment: [:]).tls == .prefer, "libpq's default")
        #expect(try PostgresLocation(url: url, environment: ["PGSSLMODE": "verify-ca"]).tls == .verifyCA)
        let preferred = try PostgresStore(url: url + (url.contains("?") ? "&" : "?") + "sslmode=prefer")
        #expect(try preferred.sources().isEmpty, "prefer works without TLS on the server")
        for mode in ["require", "verify-ca", "verify-full"] {
            let location = try PostgresLocation(url: url + (url.contains("?") ? "&" : "?") + "sslmode=\(mode)")
            let refused = #expect(throws: StoreError.self, "sslmode=\(mode) goes on without TLS") {
                try PostgresStore(location: location)
            }
            #expect(refused?.code == .cannotConnect)
            #expect(refused?.location.map { !$0.contains("?") && $0.hasPrefix("postgres://") } == true)
        }
        for mode in ["allow", "bogus"] {
            let error = #expect(throws: StoreError.self) {
                try PostgresLocation(url: "postgres://u@127.0.0.1/db?sslmode=\(mode)")
            }
            #expect(error?.code == .invalidAddress)
        }
        let location = try PostgresLocation(
            url: "postgres://u@127.0.0.1/db?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(location.rootCertificates == "/etc/ca.pem")
    }

    @Test func passwordsAreTakenOutOfConnectionStringsShown() {
        #expect(
            PostgresLocation.redacting("postgres://alice:S3CR3T@db:5432/smpp") == "postgres://alice:***@db:5432/smpp")
        #expect(PostgresLocation.redacting("postgres://alice:S3CR3T@/smpp") == "postgres://alice:***@/smpp")
        #expect(PostgresLocation.redacting("postgres://alice@db/smpp?x=a:b@c") == "postgres://alice@db/smpp?x=a:b@c")
        #expect(PostgresLocation.redacting("smpp.sqlite") == "smpp.sqlite")
        do {
            _ = try PostgresLocation(url: "postgres://alice:S3CR3T@:notaport/smpp")
            Issue.record("a broken URL was accepted")
        } catch {
            #expect(!"\(error)".contains("S3CR3T"), "\(error)")
        }
    }

    @Test func aBadURLOrAnAbsentServerIsRefusedWithAReason() throws {
        #expect(
            try #require(#expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://") }).code
                == .invalidAddress)
        let location = try PostgresLocation(
            url: "postgres://someone@127.0.0.1:1/db?sslmode=require", environment: ["PGPASSWORD": "pw"])
        #expect(location.password == "pw")
        #expect(location.tls == .require)
        #expect(location.description == "postgres://someone@127.0.0.1:1/db")
        do {
            _ = try PostgresStore(location: location)
            Issue.record("a store on a closed port opened")
        } catch let error as StoreError {
            #expect(error.description.contains("cannot connect to postgres://someone@127.0.0.1:1/db"))
            #expect(error.code == .cannotConnect)
            #expect(error.location == "postgres://someone@127.0.0.1:1/db")
        }
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func add(_ error: Error) {
        lock.lock()
        errors.append(error)
        lock.unlock()
    }
    var all: [Error] {
        lock.lock()
        defer { lock.unlock() }
        return errors
    }
}

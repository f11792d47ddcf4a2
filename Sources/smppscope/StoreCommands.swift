// `import`, `sessions` and `export`: keeping timelines in a store, listing and exporting them.

import ArgumentParser
import Capture
import Foundation
import Ingest
import Reassembly
import Report
import SMPP
import Store
import Timeline

/// Opens a store: a SQLite file, or a PostgreSQL database named by a postgres:// URL; failures become a clean exit.
func openStore(_ path: String) throws -> any TimelineStore {
    if PostgresLocation.isURL(path) {
        do {
            return try PostgresStore(url: path)
        } catch {
            throw failure(
                any: error,
                hint: "check the URL (postgres://user@host:port/database), that the server is up, and the password "
                    + "(PGPASSWORD or SMPPSCOPE_PGPASSWORD_FILE)")
        }
    }
    do {
        return try SQLiteStore(path: path)
    } catch {
        throw failure(any: error, hint: "give a writable path for --store, e.g. --store smpp.sqlite")
    }
}

/// Opens a store that must exist already (reading from a missing one is a mistake, not an empty store).
func openExistingStore(_ path: String) throws -> any TimelineStore {
    guard PostgresLocation.isURL(path) || FileManager.default.fileExists(atPath: path) else {
        throw failure(
            CommandError(
                .nothingToDo, "no store at \(path)", location: path,
                hint: "make one with: smppscope import CAPTURE --store \(path)"))
    }
    return try openStore(path)
}

/// Options that select what to read from a store.
struct StoreSelection: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read from this store instead of a capture.", valueName: "file"))
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only PDUs at or after this time (epoch seconds or 2026-11-26T08:34:06, UTC).", valueName: "time"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Only PDUs at or before this time.", valueName: "time"))
    var to: String?

    @Option(name: .long, help: ArgumentHelp("Only PDUs that carry this message id (store only).", valueName: "id"))
    var messageID: String?

    @Option(name: .long, help: ArgumentHelp("Only PDUs to or from this address (store only).", valueName: "msisdn"))
    var destination: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only responses with this error status, e.g. ESME_RTHROTTLED or 0x58 (store only).", valueName: "status"))
    var status: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Only delivery receipts in this final state, e.g. UNDELIV (store only).", valueName: "state")
    )
    var receiptState: String?

    @Option(
        name: .long, help: ArgumentHelp("Only this source of the store (see `smppscope sessions`).", valueName: "id"))
    var source: Int64?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The key given at import: binds read back with their passwords (show them with --show-secrets).",
            valueName: "file"))
    var passwordKey: String?

    func validate() throws {
        if store == nil,
            messageID != nil || destination != nil || source != nil || from != nil || to != nil || status != nil
                || receiptState != nil || passwordKey != nil
        {
            throw ValidationError(
                "--from, --to, --message-id, --destination, --status, --receipt-state and --source apply to --store")
        }
        if let status, parseStatus(status) == nil {
            throw ValidationError(
                "unknown status \"\(status)\"; give a name such as ESME_RTHROTTLED or a number such as 0x58")
        }
        if let status, parseStatus(status) == 0 {
            throw ValidationError("--status selects error responses; ESME_ROK is not kept as a key")
        }
        if let from, parseTime(from) == nil {
            throw ValidationError("invalid --from \"\(from)\"; use epoch seconds or 2026-11-26T08:34:06")
        }
        if let to, parseTime(to) == nil { throw ValidationError("invalid --to \"\(to)\"") }
    }

    func filter(sessions: [Int]) throws -> StoreFilter {
        var filter = StoreFilter()
        if let passwordKey {
            do {
                filter.passwordKey = try ImportOptions.key(fromFile: passwordKey)
            } catch {
                throw failure(any: error)
            }
        }
        filter.sourceID = source
        filter.sessions = Set(sessions.map { Int64($0) })
        filter.from = from.flatMap(parseTime)
        filter.to = to.flatMap(parseTime)
        filter.messageID = messageID
        filter.address = destination
        filter.status = status.flatMap(parseStatus)
        filter.receiptState = receiptState
        return filter
    }
}

/// A command_status by its name (ESME_RTHROTTLED) or number (0x58, 88).
func parseStatus(_ text: String) -> UInt32? { SelectionValue.status(text) }

/// Epoch seconds, or an ISO 8601 date and time (UTC unless it says otherwise).
func parseTime(_ text: String) -> Timestamp? { SelectionValue.time(text) }

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Keep the timelines of captures in a store (importing a file twice adds nothing).",
        usage: """
            smppscope import <capture> ... --store <file> [--port <port> ...]
                                   [--password-key <file>]
            """,
        discussion: """
            Examples:
              smppscope import Captures/*.pcap --store smpp.sqlite
              smppscope import big.pcapng --store smpp.sqlite --password-key secrets.key

            Bind passwords are redacted in the stored bytes; with --password-key they are also kept apart, sealed \
            with that key (32 bytes: raw, hex or base64). An interrupted import resumes where it stopped.
            """)

    @Argument(help: ArgumentHelp("pcap or pcapng files.", valueName: "capture"))
    var captures: [String]

    @Option(name: .long, help: ArgumentHelp("The store (SQLite file, created if needed).", valueName: "file"))
    var store: String

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Treat TCP traffic on this port as SMPP whatever its content (repeatable).", valueName: "port"))
    var port: [UInt16] = []

    @Option(name: .long, help: ArgumentHelp("Also keep bind passwords sealed with this key.", valueName: "file"))
    var passwordKey: String?

    func validate() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file") }
        if captures.contains("-") {
            throw ValidationError("import reads files (it fingerprints them); save standard input to a file first")
        }
    }

    func run() throws {
        do {
            try importAll()
        } catch let error as StoreError {
            throw failure(
                CommandError(
                    .failed, error.reason, location: error.location,
                    hint: "the store keeps what was imported; run the import again to resume"))
        }
    }

    private func importAll() throws {
        let store = try openStore(self.store)
        var options = ImportOptions()
        if let passwordKey {
            do {
                options.passwordKey = try ImportOptions.key(fromFile: passwordKey)
            } catch {
                throw failure(any: error)
            }
        }
        for path in captures {
            let fingerprint: String
            let source: PacketSource
            do {
                fingerprint = try SourceFingerprint.file(path: path)
                source = try PacketSource.open(path: path)
            } catch let error as CaptureError {
                throw failure(error)
            } catch {
                throw failure(any: error)
            }
            guard
                let writer = try store.beginImport(kind: .file, name: path, fingerprint: fingerprint, options: options)
            else {
                writeStandardError("\(path): already in the store\n")
                continue
            }
            if writer.resumeAfter > 0 {
                writeStandardError("\(path): resuming an interrupted import after \(writer.resumeAfter) events\n")
            }
            let ingest = CaptureIngest(
                source: source, configuration: .init(forcedPorts: Set(port)), decodesEveryPDU: false)
            var bar: ProgressBar?
            if case .file(let reader) = source {
                bar = ProgressBar.make(label: "importing", totalBytes: reader.totalBytes)
            }
            let started = monotonicSeconds()
            try ingest.runEvents(progress: { progress in
                bar?.update(bytes: progress.bytesRead, total: progress.totalBytes, items: progress.pdus)
            }) { event in
                switch event {
                case .stream(let stream): try writer.add(stream)
                case .capture(let diagnostic): try writer.add(diagnostic)
                }
            }
            try writer.finish()
            bar?.finish()
            let elapsed = monotonicSeconds() - started
            let sessions = try store.sessions(sourceID: writer.source.id).count
            let rate = elapsed > 0 ? Int(Double(ingest.pdus) / elapsed) : 0
            writeStandardError(
                "\(path): \(writer.pdus) PDUs in \(sessions) sessions stored as source \(writer.source.id) "
                    + "(\(rate) PDUs/s)\n")
        }
    }
}

struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List the sources and sessions of a store.")

    @Option(name: .long, help: ArgumentHelp("The store.", valueName: "file"))
    var store: String

    @Option(name: .long, help: ArgumentHelp("Only this source.", valueName: "id"))
    var source: Int64?

    @Option(help: "Output format: text or json.")
    var format: AnalyzeFormat = .text

    func run() throws {
        let store = try openExistingStore(self.store)
        let sources = try store.sources().filter { source == nil || $0.id == source }
        let sessions = try store.sessions(sourceID: source)
        let sink = OutputSink()
        if format == .json {
            var json = JSONWriter()
            json.beginObject()
            json.key("sources")
            json.beginArray()
            for source in sources {
                json.beginObject()
                json.key("id"); json.int(source.id)
                json.key("kind"); json.string(source.kind.rawValue)
                json.key("name"); json.string(source.name)
                json.key("complete"); json.bool(source.completedAt != nil)
                json.key("pdus"); json.int(source.pdus)
                json.endObject()
            }
            json.endArray()
            json.key("sessions")
            json.beginArray()
            for session in sessions {
                json.beginObject()
                json.key("id"); json.int(session.id)
                json.key("source"); json.int(session.sourceID)
                json.key("number_in_source"); json.int(session.connection)
                json.key("first"); json.string(session.first.description)
                json.key("second"); json.string(session.second.description)
                json.key("system_id")
                if let systemID = session.systemID { json.string(systemID) } else { json.null() }
                json.key("bind_status")
                if let status = session.bindStatus { json.string(CommandStatus(status).name) } else { json.null() }
                json.key("pdus"); json.int(session.pdus)
                json.key("start"); json.raw(session.firstSeen.description)
                json.key("end")
                if let last = session.end ?? session.lastPDU { json.raw(last.description) } else { json.null() }
                json.key("close")
                if let kind = session.endKind { json.string(kind) } else { json.null() }
                json.endObject()
            }
            json.endArray()
            json.endObject()
            sink.bytes += json.bytes
            sink.bytes.append(0x0A)
        } else {
            for source in sources {
                let state = source.completedAt == nil ? " (incomplete)" : ""
                sink.write("source \(source.id): \(source.kind.rawValue) \(source.name), \(source.pdus) PDUs\(state)\n")
            }
            sink.write("\n(with --source N, decode and analyze number sessions as in that source: the # column)\n")
            sink.write(
                pad("session", 9) + pad("source #", 10) + pad("endpoints", 48) + pad("system_id", 16) + pad("bind", 18)
                    + pad("PDUs", 9) + "start (UTC)\n")
            for session in sessions {
                let bind = session.bindStatus.map { CommandStatus($0).name } ?? "-"
                sink.write(
                    pad(String(session.id), 9) + pad("\(session.sourceID) #\(session.connection)", 10)
                        + pad("\(session.first) ↔ \(session.second)", 48) + pad(session.systemID ?? "-", 16)
                        + pad(bind, 18)
                        + pad(String(session.pdus), 9) + utcString(session.firstSeen) + "\n")
            }
        }
        try finishOutput(sink)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a stored session as a pcap file that Wireshark and smppscope open.",
        usage: """
            smppscope export --store <file> [--session <id> ...] --pcap <file>
                                   [--password-key <file>]
            """,
        discussion: """
            The TCP connection is synthesised: a handshake, one segment per PDU with its stored time, and the end \
            (FIN or RST) when the session had one. Bind passwords stay redacted.

              smppscope export --store smpp.sqlite --session 3 --pcap session3.pcap
            """)

    @Option(name: .long, help: ArgumentHelp("The store.", valueName: "file"))
    var store: String

    @Option(
        name: .long, parsing: .singleValue, help: ArgumentHelp("The session to export (repeatable).", valueName: "id"))
    var session: [Int64] = []

    @Option(name: .long, help: ArgumentHelp("Where to write the pcap (- for standard output).", valueName: "file"))
    var pcap: String

    @Option(
        name: .long, help: ArgumentHelp("The key given at import: binds get their passwords back.", valueName: "file"))
    var passwordKey: String?

    func validate() throws {
        if session.isEmpty { throw ValidationError("give --session N (see `smppscope sessions --store FILE`)") }
    }

    func run() throws {
        let store = try openExistingStore(self.store)
        let known = Set(try store.sessions(sourceID: nil).map(\.id))
        for id in session where !known.contains(id) {
            throw failure(
                CommandError(
                    .nothingToDo, "the store has no session \(id)",
                    hint: "list them with: smppscope sessions --store \(PostgresLocation.redacting(self.store))"))
        }
        var filter = StoreFilter()
        filter.sessions = Set(session)
        if let passwordKey {
            do {
                filter.passwordKey = try ImportOptions.key(fromFile: passwordKey)
            } catch {
                throw failure(any: error)
            }
        }
        let writer: PCAPWriter
        do {
            writer = try PCAPWriter(path: pcap)
        } catch let error as CaptureError {
            throw failure(error)
        }
        var synthesizer = TCPSynthesizer()
        var packets = 0
        do {
            try store.read(filter) { event in
                guard case .stream(let stream) = event else { return }
                for packet in synthesizer.packets(for: stream) {
                    try writer.write(packet)
                    packets += 1
                }
            }
            try writer.close()
        } catch let error as StoreError {
            writer.abandon()
            throw failure(error)
        } catch let error as CaptureError {
            writer.abandon()
            throw failure(error)
        }
        writeStandardError("wrote \(pcap): \(packets) packets\n")
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Drop what a PostgreSQL store holds from before a time (retention).",
        discussion: """
            PDUs go by whole days (the store's day partitions are dropped); sessions and stream events that ended \
            before the cutoff go with them.

            Example:
              smppscope prune --store postgres://smppscope@db.example.com/smpp \\
                  --older-than 30d
            """)

    @Option(name: .long, help: ArgumentHelp("The store: a postgres:// URL.", valueName: "url"))
    var store: String

    @Option(name: .long, help: ArgumentHelp("Drop what is older than this: 30d, 12h, 90m.", valueName: "age"))
    var olderThan: String

    func validate() throws {
        guard parseAge(olderThan) != nil else {
            throw ValidationError("invalid --older-than \"\(olderThan)\"; give a number with d, h, m or s: 30d")
        }
        guard PostgresLocation.isURL(store) else {
            throw ValidationError(
                "prune drops the day partitions of a PostgreSQL store (postgres://...); a SQLite store is one file per "
                    + "recording: remove it, or import into a new one")
        }
    }

    func run() throws {
        guard let age = parseAge(olderThan), let store = try openExistingStore(self.store) as? PostgresStore else {
            return
        }
        let cutoff = Timestamp(nanoseconds: Int64((Date().timeIntervalSince1970 - age) * 1e9))
        do {
            let (partitions, sessions) = try store.prune(olderThan: cutoff)
            writeStandardError(
                "dropped \(partitions) day partitions and \(sessions) sessions older than \(olderThan)\n")
        } catch {
            throw failure(any: error)
        }
    }
}

/// Seconds in "30d", "12h", "90m", "45s".
func parseAge(_ text: String) -> Double? {
    guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
    switch unit {
    case "d": return value * 86_400
    case "h": return value * 3_600
    case "m": return value * 60
    case "s": return value
    default: return nil
    }
}

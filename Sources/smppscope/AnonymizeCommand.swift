// `smppscope anonymize`: a capture (or a store) rewritten for sharing, its SMPP intact.

@_spi(Lent) import Anonymize
import ArgumentParser
@_spi(Lent) import Capture
import Foundation
import NIOCore
@_spi(Lent) import Reassembly
@_spi(Lent) import Report
@_spi(Lent) import SMPP
import Store

struct AnonymizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anonymize",
        abstract: "Rewrite a capture for sharing: the SMPP still decodes, links and times as before.",
        discussion: """
            Addresses and logins become keyed pseudonyms of the same length (numbers keep their first digits), \
            texts become filler of the same length and encoding, passwords are blanked; ids, statuses, receipt \
            states and times stay. The same key gives the same pseudonyms in every file. Sequence and \
            acknowledgement numbers, lengths and checksums are made consistent; what is not SMPP is zeroed.

            Examples:
              smppscope anonymize traffic.pcap -o shared.pcapng --key smpp.key --check
              smppscope anonymize --store smpp.sqlite --session 3 -o session3.pcap \\
                  --key smpp.key
              smppscope anonymize --store smpp.sqlite --output-store shared.sqlite \\
                  --key smpp.key

            The key file is created (32 random bytes, readable by its owner only) when it does not exist. Keep it \
            private: with it, pseudonyms can be tested against guesses.
            """)

    @Argument(help: ArgumentHelp("The pcap or pcapng capture (- for standard input).", valueName: "capture"))
    var capture: String?

    @Option(name: .long, help: ArgumentHelp("Read from this store instead of a capture.", valueName: "file"))
    var store: String?

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("With --store: only this session (repeatable).", valueName: "id"))
    var session: [Int64] = []

    @Option(
        name: [.short, .long],
        help: ArgumentHelp("The capture to write: pcapng when it ends in .pcapng, else pcap.", valueName: "file"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("With --store: write to this store instead.", valueName: "file"))
    var outputStore: String?

    @Option(name: .long, help: ArgumentHelp("The key file (created when absent).", valueName: "file"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("Leading digits of numeric addresses kept, 0 to 15.", valueName: "n"))
    var keepDigits = 4

    @Flag(name: .long, help: "Keep message texts as they are.")
    var keepText = false

    @Flag(name: .long, help: "Fill SMSC.kz markers (__MMS__:, subj:, the ~~~ separator) too.")
    var fillMarkers = false

    @Flag(name: .long, help: "Keep SMSC.kz comments (after \\n~~~\\n) as they are.")
    var keepComments = false

    @Option(name: .long, help: ArgumentHelp("Unknown and vendor TLVs: keep or drop.", valueName: "keep|drop"))
    var unknownTlvs = "drop"

    @Flag(name: .long, help: "Map IP addresses too (prefix-preserving: subnets stay subnets).")
    var mapIps = false

    @Flag(name: .long, help: "Search the output for every address, login, password and text of the input.")
    var check = false

    @Option(help: "Report format: text or json.")
    var format = "text"

    func validate() throws {
        if (capture == nil) == (store == nil) {
            throw ValidationError("give a capture, or --store FILE")
        }
        if (output == nil) == (outputStore == nil) {
            throw ValidationError("give -o FILE (a capture), or --output-store FILE (with --store)")
        }
        if outputStore != nil, store == nil {
            throw ValidationError("--output-store goes with --store; for a capture, write one with -o FILE")
        }
        if !session.isEmpty, store == nil { throw ValidationError("--session goes with --store") }
        if !(0...15).contains(keepDigits) { throw ValidationError("--keep-digits takes 0 to 15, not \(keepDigits)") }
        if AnonymizeOptions.UnknownTLVs(rawValue: unknownTlvs) == nil {
            throw ValidationError("--unknown-tlvs takes keep or drop, not '\(unknownTlvs)'")
        }
        if !["text", "json"].contains(format) { throw ValidationError("--format takes text or json, not '\(format)'") }
        if check, output == nil || output == "-" {
            throw ValidationError("--check reads the output back: give -o FILE (not standard output)")
        }
        if let output, output != "-", output == capture || output == store {
            throw ValidationError("the output would overwrite the input: give another -o FILE")
        }
    }

    var options: AnonymizeOptions {
        AnonymizeOptions(
            keptDigits: keepDigits, keepText: keepText, keepMarkers: !fillMarkers, keepComments: keepComments,
            unknownTLVs: AnonymizeOptions.UnknownTLVs(rawValue: unknownTlvs) ?? .drop)
    }

    func run() throws {
        let secret = try AnonymizationKeyFile.load(path: key)
        let anonymizationKey = AnonymizationKey(secret: secret)
        let secrets = check ? SecretSet() : nil
        var named: [(String, Int)]
        if let capture {
            named = try anonymizeCapture(capture, key: anonymizationKey, secrets: secrets)
        } else if let store {
            named = try anonymizeStore(store, key: anonymizationKey, secrets: secrets)
        } else {
            return
        }
        var leaks: LeakScanner?
        if let secrets, let output {
            leaks = try scan(output, for: secrets)
            named.append(("secrets_searched", secrets.count))
            named.append(("secrets_found", leaks?.leakCount ?? 0))
        }
        printReport(named, leaks: leaks, secrets: secrets)
        if let leaks, leaks.leakCount > 0 {
            throw failure(
                CommandError(
                    .failed,
                    "\(leaks.leakCount) pieces of the input's addresses, logins or texts are in \(output ?? "")",
                    location: output, hint: "do not share it; the offsets above say where (try --unknown-tlvs drop)"))
        }
    }

    // MARK: capture in

    private func anonymizeCapture(_ path: String, key: AnonymizationKey, secrets: SecretSet?) throws -> [(String, Int)]
    {
        let reader: CaptureFileReader
        do {
            reader = try CaptureFileReader(path: path)
        } catch {
            throw failure(any: error)
        }
        let anonymizer = CaptureAnonymizer(key: key, options: options, mapIPAddresses: mapIps)
        anonymizer.secrets = secrets
        let output = self.output ?? "-"
        let format: PCAPWriter.Format = output.lowercased().hasSuffix(".pcapng") ? .pcapng : .pcap
        var diagnostics = 0
        let bar = ProgressBar.make(label: "anonymizing", totalBytes: reader.totalBytes)
        // The file is written on a thread of its own: anonymizing does not wait for the disk.
        var writer: PCAPWriter?
        do {
            func write(_ packet: AnonymizedPacket) throws {
                if writer == nil {
                    writer = try PCAPWriter(path: output, format: format, linkType: packet.linkType, writeBehind: true)
                }
                try writer?.write(
                    CapturedPacket(
                        timestamp: packet.timestamp, bytes: packet.bytes, linkType: packet.linkType,
                        originalLength: packet.originalLength))
            }
            while let packet = try reader.next() {
                try anonymizer.add(packet, emit: write)
                if reader.hasDiagnostics {
                    for diagnostic in reader.takeDiagnostics() {
                        diagnostics += 1
                        writeStandardError("\(path): \(diagnostic)\n")
                    }
                }
                if anonymizer.report.packets & 0x3FFF == 0 {
                    bar?.update(
                        bytes: reader.bytesRead, total: reader.totalBytes, items: anonymizer.report.packets,
                        itemName: "packets")
                }
            }
            try anonymizer.finish(emit: write)
            for diagnostic in reader.takeDiagnostics() {
                diagnostics += 1
                writeStandardError("\(path): \(diagnostic)\n")
            }
        } catch {
            writer?.abandon()
            throw failure(any: error, context: "anonymizing \(path)")
        }
        do {
            if writer == nil { writer = try PCAPWriter(path: output, format: format) }
            try writer?.close()
            bar?.finish()
        } catch {
            throw failure(any: error, context: "anonymizing \(path)")
        }
        return anonymizer.report.named + [("capture_diagnostics", diagnostics)]
    }

    // MARK: store in

    private func anonymizeStore(_ path: String, key: AnonymizationKey, secrets: SecretSet?) throws -> [(String, Int)] {
        let source = try openExistingStore(path)
        var filter = StoreFilter()
        filter.sessions = Set(session)
        var pdus = PDUAnonymizer(key: key, options: options)
        pdus.secrets = secrets
        var ipMap = mapIps ? IPAddressMap(key: key) : nil
        var events = 0
        var diagnosticsLeftOut = 0
        func mapped(_ endpoint: Endpoint) -> Endpoint {
            guard ipMap != nil else { return endpoint }
            return Endpoint(address: ipMap!.map(endpoint.address), port: endpoint.port)
        }
        /// The event rewritten; nil for diagnostics (their words may quote what was in the PDUs).
        func rewrite(_ event: StreamEvent) -> StreamEvent? {
            switch event {
            case .opened(var connection):
                connection.first = mapped(connection.first)
                connection.second = mapped(connection.second)
                connection.synSender = connection.synSender.map(mapped)
                return .opened(connection)
            case .pdu(var framed):
                let raw = pdus.anonymized(framed.raw)
                framed.raw = raw
                framed.header = PDUHeader.peek(in: raw) ?? framed.header
                framed.digest = PDUDigest(frame: raw)
                framed.source = mapped(framed.source)
                framed.destination = mapped(framed.destination)
                return .pdu(framed)
            case .gap(var gap):
                gap.source = mapped(gap.source)
                gap.destination = mapped(gap.destination)
                return .gap(gap)
            case .ended(var end):
                end.by = mapped(end.by)
                return .ended(end)
            case .diagnostic:
                diagnosticsLeftOut += 1
                return nil
            }
        }
        do {
            if let outputStore {
                let target = try openStore(outputStore)
                let fingerprint = "anonymized:\(UInt64.random(in: 0...UInt64.max))"
                guard
                    let writer = try target.beginImport(
                        kind: .file, name: "anonymized \(PostgresLocation.redacting(path))", fingerprint: fingerprint,
                        options: ImportOptions())
                else { return pdus.counts.named }
                try source.read(filter) { event in
                    guard case .stream(let stream) = event, let rewritten = rewrite(stream) else {
                        if case .capture = event { diagnosticsLeftOut += 1 }
                        return
                    }
                    try writer.add(rewritten)
                    events += 1
                }
                try writer.finish()
            } else if let output {
                let writer = try PCAPWriter(
                    path: output, format: output.lowercased().hasSuffix(".pcapng") ? .pcapng : .pcap)
                var synthesizer = TCPSynthesizer()
                do {
                    try source.read(filter) { event in
                        guard case .stream(let stream) = event, let rewritten = rewrite(stream) else {
                            if case .capture = event { diagnosticsLeftOut += 1 }
                            return
                        }
                        for packet in synthesizer.packets(for: rewritten) { try writer.write(packet) }
                        events += 1
                    }
                    try writer.close()
                } catch {
                    writer.abandon()
                    throw error
                }
            }
        } catch {
            throw failure(any: error, context: "anonymizing \(PostgresLocation.redacting(path))")
        }
        return pdus.counts.named + [("events", events), ("diagnostics_left_out", diagnosticsLeftOut)]
    }

    // MARK: check and report

    private func scan(_ path: String, for secrets: SecretSet) throws -> LeakScanner {
        var scanner = LeakScanner(secrets)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw failure(CommandError(.unreadableFile, "cannot read \(path) back to check it", location: path))
        }
        defer { try? handle.close() }
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            scanner.scan([UInt8](chunk))
        }
        scanner.finish()
        return scanner
    }

    private func printReport(_ named: [(String, Int)], leaks: LeakScanner?, secrets: SecretSet?) {
        let toStandardError = output == "-"
        var text = ""
        if format == "json" {
            var fields = named.map { "\"\($0.0)\":\($0.1)" }
            if let leaks {
                let found = leaks.leaks.map { leak in
                    "{\"offset\":\(leak.offset),\"hex\":\"\(leak.bytes.map { String(format: "%02x", $0) }.joined())\"}"
                }
                fields.append("\"leaks\":[\(found.joined(separator: ","))]")
                fields.append("\"check_complete\":\(secrets?.isComplete ?? true)")
            }
            text = "{" + fields.joined(separator: ",") + "}\n"
        } else {
            text = "anonymized \(capture ?? store ?? "") -> \(output ?? outputStore ?? "")\n"
            for (name, value) in named where value > 0 || ["pdus", "secrets_found"].contains(name) {
                text += "  \(name.replacingOccurrences(of: "_", with: " ")): \(value)\n"
            }
            if let leaks {
                for leak in leaks.leaks {
                    let shown = leak.bytes.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
                    text += "  found at byte \(leak.offset): \(shown)\n"
                }
                if secrets?.isComplete == false {
                    text += "  (the check searched for the first \(SecretSet.limit) secrets only)\n"
                }
            }
        }
        if toStandardError {
            writeStandardError(text)
        } else {
            let sink = OutputSink()
            sink.write(text)
            sink.flush()
        }
    }
}

/// The secret behind the pseudonyms: a file of at least 16 bytes (64 hex digits when smppscope made it).
enum AnonymizationKeyFile {
    static func load(path: String) throws -> [UInt8] {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            var bytes = [UInt8](repeating: 0, count: 32)
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            let text = bytes.map { String(format: "%02x", $0) }.joined() + "\n"
            do {
                let file = try OutputFile(path: path, atomic: true)
                try file.write(Array(text.utf8))
                try file.close()
            } catch {
                throw failure(any: error, context: "creating the key file")
            }
            writeStandardError("created the key \(path): keep it private, and use it again for the same pseudonyms\n")
            return bytes
        }
        guard let data = manager.contents(atPath: path) else {
            throw failure(CommandError(.unreadableFile, "cannot read the key \(path)", location: path))
        }
        if let attributes = try? manager.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            writeStandardError(
                "warning: the key \(path) can be read by others (mode \(String(mode, radix: 8))); chmod 600 it\n")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count == 64, let decoded = hexBytes(text) { return decoded }
        guard data.count >= 16 else {
            throw failure(
                CommandError(
                    .invalidSetting, "the key \(path) is \(data.count) bytes: too short to be a secret", location: path,
                    hint: "remove it to have a new one made, or give a file of at least 16 random bytes"))
        }
        return [UInt8](data)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = hexValue(high), let l = hexValue(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }
}

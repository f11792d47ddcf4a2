// Every smppscope command shown in README.md, docs/ and Captures/README.md, run on the bundled captures: the names
// the docs use for the user's files (capture.pcap, smpp.sqlite, kannel.conf, pw.txt ...) become real files here,
// hosts become loopback ports of a running simulator, and a PostgreSQL URL the test server. A command that fails
// fails the test with its line and file.

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One command line from the documentation.
struct DocumentedCommand: CustomStringConvertible, Sendable {
    var file: String
    var line: String
    var description: String { "\(file): \(line)" }

    /// Every line of a fenced code block that runs smppscope (after environment assignments, sudo or swift run).
    static func all() -> [DocumentedCommand] {
        let root = Paths.root
        var files = ["README.md", "Captures/README.md"]
        let docs =
            (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)) ?? []
        files += docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
        var commands: [DocumentedCommand] = []
        for file in files {
            guard let text = try? String(contentsOf: root.appendingPathComponent(file), encoding: .utf8) else {
                continue
            }
            var inBlock = false
            var continued = ""
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                var line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") {
                    inBlock.toggle()
                    continued = ""
                    continue
                }
                guard inBlock else { continue }
                // A command continued on the next line (a backslash at the end) is one command.
                if line.hasSuffix("\\") {
                    continued += line.dropLast().trimmingCharacters(in: .whitespaces) + " "
                    continue
                }
                line = continued + line
                continued = ""
                var words = line.split(separator: " ").map(String.init)
                while let first = words.first, first.contains("="), !first.hasPrefix("-") { words.removeFirst() }
                if words.first == "sudo" { words.removeFirst() }
                if words.starts(with: ["swift", "run"]) { words.removeFirst(2) }
                guard words.first == "smppscope", words.count > 1, !line.contains("[--") else { continue }
                commands.append(DocumentedCommand(file: file, line: line))
            }
        }
        return commands + helpExamples()
    }

    /// The examples of each subcommand's --help (continued lines joined).
    static func helpExamples() -> [DocumentedCommand] {
        guard let binary = Paths.binary else { return [] }
        func help(_ arguments: [String]) -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments + ["--help"]
            process.environment = ["COLUMNS": "200"]
            let pipe = Pipe()
            process.standardOutput = pipe
            guard (try? process.run()) != nil else { return "" }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        // The subcommands, as the top-level help lists them.
        let top = help([])
        let subcommands =
            top.components(separatedBy: "SUBCOMMANDS:").last?.split(separator: "\n").compactMap {
                line -> String? in
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else {
                    return nil
                }
                return name == "help" ? nil : String(name)
            } ?? []
        var commands: [DocumentedCommand] = []
        for subcommand in [""] + subcommands {
            let text = subcommand.isEmpty ? top : help([subcommand])
            var continued = ""
            for raw in text.split(separator: "\n") {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if !continued.isEmpty || line.hasPrefix("smppscope ") || line.hasPrefix("sudo smppscope ")
                    || line.range(of: "^[A-Z_]+=\\S+ smppscope ", options: .regularExpression) != nil
                {
                    if line.hasSuffix("\\") {
                        continued += line.dropLast().trimmingCharacters(in: .whitespaces) + " "
                        continue
                    }
                    commands.append(
                        DocumentedCommand(file: "smppscope \(subcommand) --help", line: continued + line))
                    continued = ""
                }
            }
        }
        return commands
    }
}

/// The files and servers the documented commands refer to, made once.
final class DocumentedWorld: @unchecked Sendable {
    let scratch: Scratch
    let simulatorPort: Int
    let simulatorTLSPort: Int
    let simulator: RecordProcessLike
    let postgres: String?
    var substitutions: [(String, String)] = []

    init() throws {
        let scratch = try Scratch()
        self.scratch = scratch
        func path(_ name: String) -> String { scratch.path(name) }
        let smpplib = Paths.capture
        let kannel = Paths.root.appendingPathComponent("Captures/kannel_simulator_port3701.pcap").path
        // A store with both captures, and a pcapng of one.
        let store = path("smpp.sqlite")
        let key = path("smpp.key")
        try String(repeating: "a1", count: 32).write(toFile: key, atomically: true, encoding: .utf8)
        _ = try smppscope(["import", smpplib, kannel, "--store", store, "--password-key", key])
        let pcapng = path("capture.pcapng")
        _ = try smppscope(["export", "--store", store, "--session", "1", "--pcap", pcapng])
        try "test\n".write(toFile: path("pw.txt"), atomically: true, encoding: .utf8)
        try "smsckz:secret\ntest:test\n".write(toFile: path("accounts.txt"), atomically: true, encoding: .utf8)
        let analysis = try smppscope(["analyze", smpplib, "--format", "json"])
        try analysis.output.write(toFile: path("analysis.json"), atomically: true, encoding: .utf8)
        _ = try smppscope(["profile", smpplib, "-o", path("provider.json")])
        simulatorPort = freePort()
        simulatorTLSPort = freePort()
        simulator = try RecordProcessLike.start(
            [
                "simulate", "--listen", "127.0.0.1:\(simulatorPort)", "--tls-listen", "127.0.0.1:\(simulatorTLSPort)",
                "--log", "none",
                "--receipt-delay", "0.05-0.1",
            ],
            ready: "Ctrl-C", environment: ["SMPPSCOPE_SIMULATOR_ACCOUNTS": "test:test smsckz:test kannel:test a:b"])
        postgres = PostgresServer.available ? try? PostgresServer.shared.get().makeDatabase() : nil
        if let postgres { _ = try smppscope(["import", smpplib, "--store", postgres]) }
        substitutions = [
            ("Captures/*.pcap", "\(smpplib) \(kannel)"), ("/var/captures/*.pcapng", pcapng),
            ("monday.pcapng", pcapng), ("tuesday.pcapng", smpplib), ("capture.pcapng", pcapng),
            ("capture.pcap", smpplib),
            ("c.pcap", smpplib),
            ("kannel.conf", Paths.root.appendingPathComponent("Captures/tools/kannel.conf.template").path),
            ("smpp.sqlite", store), ("smpp.key", key), ("pw.txt", path("pw.txt")),
            ("accounts.txt", path("accounts.txt")),
            ("analysis.json", path("analysis.json")), ("report.html", path("report.html")),
            ("provider.json", path("provider.json")), ("replay.pcapng", path("replay.pcapng")),
            ("replay.html", path("replay.html")),
            ("hour.html", path("hour.html")), ("session1.pcap", path("session1.pcap")),
            ("session3.pcap", path("session3.pcap")), ("shared.pcapng", path("shared.pcapng")),
            ("shared.pcap", path("shared.pcap")), ("shared.sqlite", path("shared.sqlite")),
            ("with-passwords.pcap", path("with-passwords.pcap")), ("smsc.pcapng", path("smsc.pcapng")),
            ("/var/lib/smppscope/journal.pcapng", path("journal.pcapng")),
            // The password the examples show is the simulator's here.
            ("SMPPSCOPE_PASSWORD=secret", "SMPPSCOPE_PASSWORD=test"), ("traffic.pcap", smpplib),
            // Where the package puts the bundled captures.
            ("/usr/share/doc/smppscope/examples/smpplib_smsckz_port3700.pcap", smpplib), ("big.pcapng", pcapng),
            ("secrets.key", key), ("pw", path("pw.txt")),
            ("/etc/kannel/kannel.conf", Paths.root.appendingPathComponent("Captures/tools/kannel.conf.template").path),
            ("proxy.pem", path("proxy.pem")), ("proxy.key", path("proxy.key")),
            ("journal.pcapng", path("journal.pcapng")),
            ("/etc/smppscope/web-password", path("pw.txt")), ("web-password", path("pw.txt")),
            ("esme-side.pcap", smpplib), ("smsc-side.pcap", kannel), ("gateway.pcap", smpplib),
            ("journeys.html", path("journeys.html")),
            ("smsc.example.com:3700", "127.0.0.1:\(simulatorPort)"),
            ("smsc.example.com:3443", "127.0.0.1:\(simulatorTLSPort)"),
        ]
        let database = postgres ?? "postgres://nobody@127.0.0.1:1/none"
        substitutions += [
            ("postgres://smppscope@db/smpp", database), ("postgres://smppscope@db.example.com/smpp", database),
            ("postgres://smppscope@db.internal/smpp", database),
            ("$store", database),
        ]
        // A certificate for the examples that terminate TLS.
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-keyout", path("proxy.key"), "-out", path("proxy.pem"),
        ]
        openssl.standardError = FileHandle.nullDevice
        openssl.standardOutput = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
    }

    /// The line ready to run: each word that names a user's file replaced (whole words only, in one pass),
    /// listening ports free ones, 0.0.0.0 loopback, targets the simulator, session numbers ones the store has.
    func prepare(_ line: String) -> String {
        var text = line
        if let hash = text.range(of: "  #") ?? text.range(of: " # ") { text = String(text[..<hash.lowerBound]) }
        text = text.trimmingCharacters(in: .whitespaces)
        let table = Dictionary(substitutions, uniquingKeysWith: { first, _ in first })
        var result = ""
        var previous = ""
        for (index, word) in text.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            var replaced = String(word)
            if let known = table[replaced] {
                replaced = known
            } else if replaced.hasPrefix("Captures/") {
                replaced = Paths.root.appendingPathComponent(replaced).path
            } else if previous == "--session", Int(replaced) != nil {
                replaced = "1"
            } else if ["--listen", "--tls-listen", "--metrics-listen", "--control"].contains(previous) {
                replaced = "127.0.0.1:\(freePort())"
            } else if previous == "--target", replaced.hasPrefix("127.0.0.1:") {
                replaced = "127.0.0.1:\(simulatorPort)"
            }
            result += (index == 0 ? "" : " ") + replaced
            previous = String(word)
        }
        if result.hasSuffix("&") { result = String(result.dropLast()).trimmingCharacters(in: .whitespaces) }
        return result
    }

    deinit { _ = simulator.stop() }
}

/// Words of a command line as a shell splits them (quotes removed; no expansions).
func shellWords(_ line: String) -> [String] {
    var words: [String] = []
    var current = ""
    var quote: Character?
    var inWord = false
    for character in line {
        if let open = quote {
            if character == open { quote = nil } else { current.append(character) }
        } else if character == "\"" || character == "'" {
            quote = character
            inWord = true
        } else if character == " " {
            if inWord { words.append(current) }
            current = ""
            inWord = false
        } else {
            current.append(character)
            inWord = true
        }
    }
    if inWord { words.append(current) }
    return words
}

@Suite(
    "Documented commands", .serialized,
    .enabled(
        if: Paths.binary != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/jq"),
        "needs a built smppscope and jq"))
struct DocumentedCommandsTests {
    @Test func theDocumentationShowsCommands() {
        #expect(DocumentedCommand.all().count >= 50)
        // The examples of the help texts are among them, each whole.
        let examples = DocumentedCommand.helpExamples()
        #expect(examples.count >= 25)
        #expect(examples.allSatisfy { !$0.line.contains("\\") })
    }

    @Test func everyDocumentedCommandRuns() throws {
        let world = try DocumentedWorld()
        let binary = Paths.binary ?? ""
        for command in DocumentedCommand.all() {
            let line = world.prepare(command.line)
            let live = line.contains("--interface")
            if live && geteuid() != 0 { continue }
            // Commands that run until stopped (record, simulate, serve, live capture) are run directly, so that Ctrl-C
            // reaches them; the others through bash, for their pipes and redirections.
            let server =
                line.contains("smppscope record ") || line.contains("smppscope simulate ")
                || line.contains("smppscope serve ") || live
            let process = Process()
            var environment = ProcessInfo.processInfo.environment
            environment["SMPPSCOPE_PASSWORD"] = "test"
            environment["SMPPSCOPE_SIMULATOR_ACCOUNTS"] = "test:test"
            environment["PGPASSWORD"] = ""
            if server {
                var words = shellWords(line)
                while let first = words.first, first.contains("="), !first.hasPrefix("-") {
                    let parts = first.split(separator: "=", maxSplits: 1).map(String.init)
                    environment[parts[0]] = parts.count > 1 ? parts[1] : ""
                    words.removeFirst()
                }
                if words.first == "sudo" { words.removeFirst() }
                if words.starts(with: ["swift", "run"]) { words.removeFirst(2) }
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = Array(words.dropFirst())
                // serve's default port may be taken here: a free one instead.
                if words.dropFirst().first == "serve", !words.contains("--listen") {
                    process.arguments? += ["--listen", "127.0.0.1:\(freePort())"]
                }
            } else {
                var script = line.replacingOccurrences(of: "swift run smppscope", with: "smppscope")
                script = script.replacingOccurrences(of: "sudo smppscope", with: "smppscope")
                process.executableURL = URL(fileURLWithPath: "/bin/bash")
                process.arguments = ["-c", "set -o pipefail; smppscope() { '\(binary)' \"$@\"; }; " + script]
            }
            process.currentDirectoryURL = world.scratch.url
            process.environment = environment
            let output = StandardErrorLog()
            let errors = StandardErrorLog()
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            out.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
            err.fileHandleForReading.readabilityHandler = { errors.append($0.availableData) }
            try process.run()
            if server {
                // Up and serving (its banner), then stopped as a user stops it: Ctrl-C.
                let deadline = Date().addingTimeInterval(15)
                func ready() -> Bool {
                    errors.all.contains("Ctrl-C") || errors.all.contains("listening")
                        || output.all.contains("time (UTC)")
                }
                while process.isRunning, Date() < deadline, !ready() { usleep(50_000) }
                usleep(300_000)
                #expect(process.isRunning, "\(command) stopped by itself: \(errors.all.suffix(500))")
                process.interrupt()
            }
            process.waitUntilExit()
            let status = process.terminationStatus
            // A replay told to fail on differences (CI use) may rightly exit 1.
            let allowed: Set<Int32> = line.contains("--max-differences") ? [0, 1] : [0]
            #expect(allowed.contains(status), "\(command) exited \(status): \(errors.all.suffix(800))")
        }
    }
}

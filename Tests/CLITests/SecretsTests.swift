// Nothing leaks: every output path smppscope has, run on binds whose passwords are known (well-formed, cut short,
// with trailing bytes, and an outbind), searched for each password as text, as hex and as base64; the files it
// writes are its user's only; credentials in connection strings and account lists stay out of every message.

import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Binds whose passwords are known, as bytes and inside a capture.
enum SecretBinds {
    static let passwords = ["Pw0Alpha7x", "Pw1Bravo8y", "Pw2Charl9z", "Pw3Delta6w"]

    static func frame(_ command: UInt32, sequence: UInt32, _ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.be32(UInt32(16 + body.count))
        bytes.be32(command)
        bytes.be32(0)
        bytes.be32(sequence)
        return bytes + body
    }

    /// A well-formed bind, a bind cut inside its password, one with bytes after its fields, and an outbind.
    static var pdus: [[UInt8]] {
        let p = passwords.map { Array($0.utf8) }
        return [
            frame(0x09, sequence: 1, Array("esme\0".utf8) + p[0] + [0, 0, 0x34, 0, 0, 0]),
            frame(0x02, sequence: 2, Array("esme\0".utf8) + p[1]),
            frame(0x01, sequence: 3, Array("esme\0".utf8) + p[2] + [0, 0, 0x34, 0, 0, 0] + Array("tail".utf8)),
            frame(0x0B, sequence: 4, Array("smsc\0".utf8) + p[3] + [0]),
        ]
    }

    /// A capture of one connection carrying them.
    static func capture(in scratch: Scratch) throws -> String {
        var conversation = TCPConversation()
        conversation.handshake()
        for pdu in pdus { conversation.send(pdu, from: .client) }
        conversation.send(Sample.bindResponse(sequence: 1), from: .server)
        let path = scratch.path("binds.pcap")
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets)).write(
            to: URL(fileURLWithPath: path))
        return path
    }

    /// Every form a password could take in an output: as it is, hex in either case, and base64 at each of the three
    /// alignments it can have inside a longer run of bytes.
    static var forms: [(String, [UInt8])] {
        var forms: [(String, [UInt8])] = []
        for password in passwords {
            let bytes = Array(password.utf8)
            forms.append(("\(password) as text", bytes))
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            forms.append(("\(password) as hex", Array(hex.utf8)))
            forms.append(("\(password) as HEX", Array(hex.uppercased().utf8)))
            for shift in 0..<3 {
                let encoded = Data([UInt8](repeating: 0x41, count: shift) + bytes).base64EncodedString()
                // The characters that depend on the password alone: skip the prefix's and the ragged end.
                let start = (shift * 4 + 2) / 3 + (shift == 0 ? 0 : 1)
                let characters = Array(encoded.utf8)
                let stable = Array(characters[min(start, characters.count)..<max(start, characters.count - 4)])
                if stable.count >= 8 { forms.append(("\(password) as base64 (shift \(shift))", stable)) }
            }
        }
        return forms
    }

    /// The forms found in `bytes`.
    static func leaks(in bytes: [UInt8]) -> [String] {
        forms.filter { bytes.contains(subsequence: $0.1) }.map(\.0)
    }

    static func leaks(inFile path: String) -> [String] {
        leaks(in: (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? [])
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        let first = needle[0]
        var index = 0
        while index <= count - needle.count {
            if self[index] == first, Array(self[index..<(index + needle.count)]) == needle { return true }
            index += 1
        }
        return false
    }
}

/// Every file in a folder, with what it holds.
func filesIn(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).map { "\(folder)/\($0)" }
}

func mode(of path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
}

@Suite(
    "Secrets, file modes and write errors", .serialized,
    .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct SecretsTests {
    @Test func theDetectorFindsPasswordsWhenTheyAreAskedFor() throws {
        let scratch = try Scratch()
        let capture = try SecretBinds.capture(in: scratch)
        let shown = try smppscope(["decode", capture, "--format", "jsonl", "--show-secrets"])
        #expect(shown.status == 0)
        // The well-formed bind and the outbind decode, so their passwords show; the others are damaged and show as hex.
        let found = SecretBinds.leaks(in: Array(shown.output.utf8))
        #expect(found.contains("Pw0Alpha7x as text"))
        #expect(found.contains("Pw3Delta6w as text"))
        #expect(found.contains("Pw1Bravo8y as hex"))
    }

    @Test func noCommandReadingACapturePrintsOrStoresAPassword() throws {
        let scratch = try Scratch()
        let capture = try SecretBinds.capture(in: scratch)
        var outputs: [(String, [UInt8])] = []
        for arguments in [
            ["decode", capture], ["decode", capture, "--format", "jsonl"], ["analyze", capture],
            ["analyze", capture, "--format", "json"],
        ] {
            let run = try smppscope(arguments)
            #expect(run.status == 0, "\(arguments): \(run.errors)")
            outputs.append((arguments.joined(separator: " "), Array((run.output + run.errors).utf8)))
        }
        let html = scratch.path("report.html")
        #expect(try smppscope(["analyze", capture, "--html", html]).status == 0)
        let store = scratch.path("store.sqlite")
        #expect(try smppscope(["import", capture, "--store", store]).status == 0)
        for arguments in [
            ["decode", "--store", store], ["decode", "--store", store, "--format", "jsonl"],
            ["decode", "--store", store, "--format", "jsonl", "--show-secrets"],
            ["analyze", "--store", store, "--format", "json"],
            ["sessions", "--store", store], ["replay", "--store", store, "--target", "127.0.0.1:9", "--dry-run"],
        ] {
            let run = try smppscope(arguments, environment: ["SMPPSCOPE_PASSWORD": "replay-own-pw"])
            outputs.append((arguments.joined(separator: " "), Array((run.output + run.errors).utf8)))
        }
        for format in ["pcap", "pcapng"] {
            let exported = scratch.path("export.\(format)")
            #expect(try smppscope(["export", "--store", store, "--session", "1", "--pcap", exported]).status == 0)
        }
        for file in filesIn(scratch.url.path) where !file.hasSuffix("binds.pcap") {
            outputs.append((file, (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))) ?? []))
        }
        #expect(outputs.count >= 14)
        for (name, bytes) in outputs {
            #expect(SecretBinds.leaks(in: bytes).isEmpty, "\(name) shows \(SecretBinds.leaks(in: bytes))")
        }
    }

    @Test func neitherTheProxyNorTheSimulatorShowsAPassword() throws {
        let scratch = try Scratch()
        // The proxy, recording everything, between a client sending the binds and a listener.
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, ["--live"])
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        let sent = SecretBinds.pdus.joined()
        try client.send(Array(sent))
        #expect(server.receive(atLeast: sent.count).bytes.count == sent.count)
        client.closeNow()
        server.closeNow()
        let scrape = try httpRequest(port: proxy.metricsPort, path: "/metrics").body
        #expect(proxy.stop() == 0)
        var outputs: [(String, [UInt8])] = [
            ("record --live", Array(proxy.printed.utf8)), ("record log", Array(proxy.errors.utf8)),
            ("metrics", Array(scrape.utf8)),
        ]
        #expect(proxy.printed.contains("bind_transceiver"), "the live view printed the binds")
        for file in filesIn(scratch.url.path) {
            outputs.append((file, (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))) ?? []))
        }
        // The simulator, logging each PDU as text and as JSON Lines, its accounts from a file.
        let accounts = scratch.path("accounts")
        try "# logins\nesme:\(SecretBinds.passwords[0])\n".write(toFile: accounts, atomically: true, encoding: .utf8)
        for format in ["text", "jsonl"] {
            let port = freePort()
            let simulator = try RecordProcessLike.start(
                ["simulate", "--listen", "127.0.0.1:\(port)", "--accounts-file", accounts, "--log", format],
                ready: "Ctrl-C")
            let esme = try SocketConnection.connect(port: port)
            try esme.send(Array(sent))
            _ = esme.receive(atLeast: 1, timeout: 5)
            usleep(300_000)
            esme.closeNow()
            let (output, errors) = simulator.stop()
            #expect(output.contains("bind_transceiver"), "the simulator logged the bind (\(format))")
            outputs.append(("simulate --log \(format)", Array((output + errors).utf8)))
        }
        for (name, bytes) in outputs {
            #expect(SecretBinds.leaks(in: bytes).isEmpty, "\(name) shows \(SecretBinds.leaks(in: bytes))")
        }
    }

    @Test func filesSmppscopeCreatesAreItsUsersAlone() throws {
        let scratch = try Scratch()
        let capture = try SecretBinds.capture(in: scratch)
        let store = scratch.path("store.sqlite")
        #expect(try smppscope(["import", capture, "--store", store]).status == 0)
        #expect(try smppscope(["analyze", capture, "--html", scratch.path("report.html")]).status == 0)
        #expect(
            try smppscope(["export", "--store", store, "--session", "1", "--pcap", scratch.path("export.pcap")]).status
                == 0)
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch)
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        try client.send(Sample.bind())
        _ = server.receive(atLeast: Sample.bind().count)
        client.closeNow()
        server.closeNow()
        #expect(proxy.stop() == 0)
        let made = filesIn(scratch.url.path).filter { !$0.hasSuffix("binds.pcap") }
        #expect(made.contains { $0.hasSuffix("record.sqlite") } && made.contains { $0.hasSuffix("journal.pcapng") })
        for file in made {
            #expect(mode(of: file) & 0o077 == 0, "\(file) has mode \(String(mode(of: file), radix: 8))")
        }
        #expect(!made.contains { $0.hasSuffix(".partial") }, "no temporary file is left")
    }

    @Test func aFullDeviceIsAnErrorAClosedPipeIsNot() throws {
        for arguments in [
            ["decode", Paths.capture], ["decode", Paths.capture, "--format", "jsonl"],
            ["analyze", Paths.capture, "--format", "json"],
        ] {
            let run = try smppscope(arguments, standardOutput: "/dev/full")
            #expect(run.status == 1, "\(arguments)")
            #expect(
                run.errors.contains("cannot write to standard output: No space left on device"),
                "\(arguments): \(run.errors)")
        }
        // A reader that goes away after the first line: a quiet end, status 0.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary ?? "")
        process.arguments = ["decode", Paths.capture, "--format", "jsonl"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        _ = output.fileHandleForReading.availableData
        try output.fileHandleForReading.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(errors.fileHandleForReading.readDataToEndOfFile().isEmpty)
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to mount a small file system"))
    func aFullFileSystemLeavesNoHalfWrittenFile() throws {
        let scratch = try Scratch()
        let small = scratch.path("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        #expect(
            FaultPeers.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", small]), "mount a 64 KiB tmpfs")
        defer { _ = FaultPeers.run("/bin/umount", [small]) }
        let store = scratch.path("store.sqlite")
        #expect(try smppscope(["import", Paths.capture, "--store", store]).status == 0)
        let html = "\(small)/report.html"
        let export = "\(small)/session.pcap"
        // Fill it, leaving less than either output needs.
        try Data(count: 60 << 10).write(to: URL(fileURLWithPath: "\(small)/filler"))
        let analyzed = try smppscope(["analyze", Paths.capture, "--html", html])
        #expect(analyzed.status == 1)
        #expect(
            analyzed.errors.contains(html) && analyzed.errors.contains("No space left on device"), "\(analyzed.errors)")
        let exported = try smppscope(["export", "--store", store, "--session", "1", "--pcap", export])
        #expect(exported.status == 1)
        #expect(
            exported.errors.contains(export) && exported.errors.contains("No space left on device"),
            "\(exported.errors)")
        #expect(filesIn(small).map { ($0 as NSString).lastPathComponent } == ["filler"], "nothing half-written is left")
        let imported = try smppscope(["import", Paths.capture, "--store", "\(small)/store.sqlite"])
        #expect(imported.status == 1, "\(imported.errors)")
    }

    @Test func connectionStringsAndAccountListsNeverShowTheirPasswords() throws {
        for url in [
            "postgres://alice:SUPERSECRET@/smpp", "postgres://alice:SUPERSECRET@db.invalid:notaport/smpp",
            "postgres://alice:SUPERSECRET@127.0.0.1:1/smpp?sslmode=allow",
            "postgres://alice:SUPERSECRET@127.0.0.1:1/smpp?sslmode=bogus",
            "postgres://alice:SUPERSECRET@127.0.0.1:1/smpp",
        ] {
            let run = try smppscope(["sessions", "--store", url])
            #expect(run.status == 1, "\(url)")
            #expect(!(run.output + run.errors).contains("SUPERSECRET"), "\(url): \(run.errors)")
        }
        let allow = try smppscope(["sessions", "--store", "postgres://alice@127.0.0.1:1/smpp?sslmode=allow"])
        #expect(allow.errors.contains("sslmode \"allow\" is not accepted"))
        let bad = try smppscope(["simulate", "--account", "shop:SUPERSECRET:fast"])
        #expect(bad.status != 0 && !bad.errors.contains("SUPERSECRET"), "\(bad.errors)")
        let scratch = try Scratch()
        let file = scratch.path("accounts")
        try "shop:SUPERSECRET\nnot an account\n".write(toFile: file, atomically: true, encoding: .utf8)
        let badFile = try smppscope(["simulate", "--accounts-file", file])
        #expect(badFile.status == 1 && badFile.errors.contains("entry 2 of"), "\(badFile.errors)")
        #expect(!badFile.errors.contains("SUPERSECRET"))
        let none = try smppscope(["simulate"])
        #expect(none.status == 1 && none.errors.contains("no account"))
    }
}

/// A command started in the background whose output is collected, stopped with SIGINT.
struct RecordProcessLike {
    let process: Process
    let output: StandardErrorLog
    let errors: StandardErrorLog

    static func start(_ arguments: [String], ready: String, environment: [String: String] = [:]) throws
        -> RecordProcessLike
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary ?? "")
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let output = StandardErrorLog()
        let errors = StandardErrorLog()
        out.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        err.fileHandleForReading.readabilityHandler = { errors.append($0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, process.isRunning, !(errors.all + output.all).contains(ready) { usleep(20_000) }
        return RecordProcessLike(process: process, output: output, errors: errors)
    }

    func stop() -> (String, String) {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        process.waitUntilExit()
        usleep(100_000)
        return (output.all, errors.all)
    }
}

/// What `openssl s_client` makes of a TLS endpoint with a given version: true when the handshake completes.
func tlsHandshake(port: Int, version: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    // SECLEVEL=0 lets OpenSSL itself offer the old versions; the server decides.
    process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-\(version)", "-cipher", "DEFAULT@SECLEVEL=0"]
    let input = Pipe()
    process.standardInput = input
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
    return process.terminationStatus == 0
}

@Suite(
    "TLS versions", .serialized,
    .enabled(
        if: Paths.binary != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
        "needs a built smppscope and openssl"))
struct TLSVersionTests {
    @Test func theSimulatorAndTheProxyRefuseTLSOlderThanTheirFloor() throws {
        let scratch = try Scratch()
        let tlsPort = freePort()
        let simulator = try RecordProcessLike.start(
            [
                "simulate", "--listen", "127.0.0.1:\(freePort())", "--tls-listen", "127.0.0.1:\(tlsPort)", "--log",
                "none",
            ],
            ready: "Ctrl-C", environment: ["SMPPSCOPE_SIMULATOR_ACCOUNTS": "a:b"])
        #expect(!tlsHandshake(port: tlsPort, version: "tls1"))
        #expect(!tlsHandshake(port: tlsPort, version: "tls1_1"))
        #expect(tlsHandshake(port: tlsPort, version: "tls1_2"))
        _ = simulator.stop()

        // The proxy terminating its clients' TLS, with the floor raised to 1.3.
        let certificate = scratch.path("proxy.pem")
        let key = scratch.path("proxy.key")
        #expect(
            FaultPeers.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", certificate,
                    "-days", "1", "-subj", "/CN=localhost",
                ]))
        let upstream = try Listener()
        let proxy = try RecordProcess(
            upstreamPort: upstream.port, scratch: scratch,
            ["--cert", certificate, "--key", key, "--tls-minimum-version", "1.3"])
        #expect(!tlsHandshake(port: proxy.port, version: "tls1_1"))
        #expect(!tlsHandshake(port: proxy.port, version: "tls1_2"))
        #expect(tlsHandshake(port: proxy.port, version: "tls1_3"))
        #expect(proxy.stop() == 0)
    }
}

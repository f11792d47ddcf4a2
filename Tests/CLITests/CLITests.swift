// The smppscope executable as users run it: exit codes, error messages, filters, standard input, live capture.

import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The binary `swift build` / `swift test` made, when there is one (`SMPPSCOPE_BINARY` names another, e.g. a build
    /// with coverage).
    static let binary: String? =
        ([ProcessInfo.processInfo.environment["SMPPSCOPE_BINARY"]].compactMap { $0 }
        + ["debug", "release"].map { root.appendingPathComponent(".build/\($0)/smppscope").path })
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let capture = root.appendingPathComponent("Captures/smpplib_smsckz_port3700.pcap").path
}

struct Result {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs smppscope with arguments (and standard input, extra environment variables, or standard output sent to a
/// file such as /dev/full), waits for it. Standard error is read while standard output is, so that neither fills.
func smppscope(
    _ arguments: [String], input: Data? = nil, environment: [String: String] = [:], standardOutput: String? = nil
) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Paths.binary ?? "/nonexistent")
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let output = Pipe()
    let errors = Pipe()
    var outputFile: FileHandle?
    if let standardOutput {
        outputFile = FileHandle(forWritingAtPath: standardOutput)
        process.standardOutput = outputFile
    } else {
        process.standardOutput = output
    }
    process.standardError = errors
    let errorLog = StandardErrorLog()
    errors.fileHandleForReading.readabilityHandler = { errorLog.append($0.availableData) }
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let out = standardOutput == nil ? output.fileHandleForReading.readDataToEndOfFile() : Data()
    process.waitUntilExit()
    try? outputFile?.close()
    // What is still in the pipe once the process ended.
    errors.fileHandleForReading.readabilityHandler = nil
    errorLog.append(errors.fileHandleForReading.readDataToEndOfFile())
    return Result(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), errors: errorLog.all)
}

@Suite("The command line", .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct CLITests {
    @Test func decodeShowsATimeline() throws {
        let result = try smppscope(["decode", Paths.capture])
        #expect(result.status == 0)
        #expect(result.output.contains("bind_transceiver"))
        #expect(result.output.contains("password=<redacted>"))
        #expect(!result.output.contains("secret"))
        #expect(result.output.contains("ESME_RTHROTTLED"))
        #expect(result.output.contains("comment=\"customer 77, web shop\""))
        #expect(result.errors.isEmpty, "no progress bar when standard error is not a terminal")
    }

    @Test func showSecretsShowsThePassword() throws {
        let result = try smppscope([
            "decode", Paths.capture, "--command", "bind_transceiver", "--show-secrets", "--format", "jsonl",
            "--pdus-only",
        ])
        let line = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect(line?["password"] as? String == "secret")
    }

    @Test func filtersAndStandardInput() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.capture))
        let result = try smppscope(
            ["decode", "-", "--format", "jsonl", "--command", "query_sm", "--command", "query_sm_resp"], input: data)
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let commands = lines.compactMap { $0["command"] as? String }
        #expect(commands.sorted() == ["query_sm", "query_sm", "query_sm_resp", "query_sm_resp"])
        #expect(lines.contains { $0["event"] as? String == "session_opened" })
        let none = try smppscope(["decode", Paths.capture, "--session", "7", "--pdus-only"])
        #expect(none.output.split(separator: "\n").count == 1, "only the header line")
    }

    @Test func errorsSayWhatToDo() throws {
        let missing = try smppscope(["decode", "/nonexistent/capture.pcap"])
        #expect(missing.status == 1)
        #expect(missing.errors.contains("error: cannot open /nonexistent/capture.pcap"))
        #expect(missing.errors.contains("hint:"))

        let text = FileManager.default.temporaryDirectory.appendingPathComponent(
            "not-a-capture-\(UUID().uuidString).txt")
        try Data("hello".utf8).write(to: text)
        defer { try? FileManager.default.removeItem(at: text) }
        let foreign = try smppscope(["analyze", text.path])
        #expect(foreign.status == 1)
        #expect(foreign.errors.contains("not a pcap or pcapng capture"))

        let noInput = try smppscope(["decode"])
        #expect(noInput.status != 0)
        #expect(noInput.errors.contains("give a capture file"))

        let badCommand = try smppscope(["decode", Paths.capture, "--command", "submit"])
        #expect(badCommand.status != 0)
        #expect(badCommand.errors.contains("unknown command \"submit\""))

        let badKannel = try smppscope(["analyze", Paths.capture, "--kannel-conf", "/nonexistent.conf"])
        #expect(badKannel.status == 1)
        #expect(badKannel.errors.contains("cannot read /nonexistent.conf"))
    }

    @Test func analyzeWritesJSONAndHTML() throws {
        let html = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: html) }
        let result = try smppscope(["analyze", Paths.capture, "--format", "json", "--limit", "30", "--html", html.path])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let decoded = try smppscope(["decode", Paths.capture, "--format", "jsonl", "--pdus-only"])
        #expect(json?["pdus_total"] as? Int == decoded.output.split(separator: "\n").count)
        #expect((json?["throttle_episodes"] as? Int ?? 0) >= 1)
        // Findings as the output contract gives them: objects with code, severity, message, session, count, evidence.
        let findings = try #require(json?["findings"] as? [[String: Any]])
        for finding in findings {
            #expect(finding["code"] is String && finding["message"] is String && finding["count"] is Int)
            #expect(["info", "warning", "error"].contains(finding["severity"] as? String ?? ""))
            #expect(finding["session"] is Int || finding["session"] is NSNull)
            for evidence in try #require(finding["evidence"] as? [[String: Any]]) {
                #expect(evidence["session"] is Int && evidence["sequence_number"] is Int)
                #expect(evidence["command"] is String && evidence["ts"] is Double)
            }
        }
        let throttled = try #require(findings.first { $0["code"] as? String == "throttled" })
        #expect((throttled["message"] as? String)?.contains("against a limit of 30") == true)
        #expect(throttled["severity"] as? String == "warning")
        #expect(throttled["limit"] as? Double == 30)
        if TShark.available {
            // Each piece of evidence is a throttled submit_sm_resp as Wireshark reads the capture.
            let throttledSequences = Set(
                try TShark.pdus(Paths.capture, decodeAs: 3700).filter {
                    $0.commandID == 0x8000_0004 && $0.commandStatus == 0x58
                }.map(\.sequenceNumber))
            let evidence = try #require(throttled["evidence"] as? [[String: Any]])
            #expect(!evidence.isEmpty)
            for item in evidence {
                #expect(item["command"] as? String == "submit_sm_resp")
                #expect(throttledSequences.contains(UInt32(item["sequence_number"] as? Int ?? -1)))
            }
        }
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.contains("<svg"))
        // The findings come first, each piece of evidence linked to its session's row.
        let findingsAt = try #require(page.range(of: "<ul class=\"findings\">"))
        let chartAt = try #require(page.range(of: "<svg"))
        #expect(findingsAt.lowerBound < chartAt.lowerBound)
        #expect(page.contains("<code>throttled</code>"))
        #expect(page.contains("href=\"#session-1\"") && page.contains("<tr id=\"session-1\">"))
    }

    /// smppscope's own status in `| head -1` (bash's PIPESTATUS), not head's: 0, and nothing on standard error.
    @Test func outputIntoAClosedPipeEndsQuietly() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            "-c",
            "'\(Paths.binary ?? "")' decode '\(Paths.capture)' --format jsonl 2>errors.txt | head -1; "
                + "echo \"status ${PIPESTATUS[0]}\"; cat errors.txt; rm -f errors.txt",
        ]
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2, "one line of output, the status, and no error: \(text)")
        #expect(lines.first?.hasPrefix("{\"event\":\"session_opened\"") == true)
        #expect(lines.last == "status 0")
    }
}

@Suite("Live capture", .enabled(if: Paths.binary != nil && geteuid() == 0, "needs root and a built smppscope"))
struct LiveCaptureTests {
    /// A listening socket on 127.0.0.1, on a port the system chose (so that nothing else holds it), and that port.
    func listener() -> (socket: Int32, port: UInt16) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(bound == 0)
        listen(listener, 1)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        return (listener, UInt16(bigEndian: address.sin_port))
    }

    /// Sends bytes to a listener on 127.0.0.1 and reads the answer, with plain sockets; closes the listener.
    func exchange(_ listening: (socket: Int32, port: UInt16), requests: [[UInt8]], answers: [[UInt8]]) throws {
        let listener = listening.socket
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = listening.port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        guard connected == 0 else {
            close(client)
            close(listener)
            return
        }
        let server = accept(listener, nil, nil)
        for (request, answer) in zip(requests, answers) {
            _ = request.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
            var buffer = [UInt8](repeating: 0, count: request.count)
            _ = buffer.withUnsafeMutableBytes { recv(server, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) }
            _ = answer.withUnsafeBytes { send(server, $0.baseAddress, $0.count, 0) }
            var reply = [UInt8](repeating: 0, count: answer.count)
            _ = reply.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) }
            usleep(20_000)
        }
        close(client)
        close(server)
        close(listener)
    }

    @Test func capturesLoopbackUntilInterrupted() throws {
        let listening = listener()
        let port = listening.port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary ?? "")
        process.arguments = ["decode", "--interface", "lo", "--port", "\(port)", "--format", "jsonl", "--pdus-only"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        usleep(1_500_000)
        guard process.isRunning else {
            // As root, live capture must start: that it cannot is a failure, with smppscope's reason.
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("live capture did not start: \(message)")
            return
        }
        func bytes(_ pdu: PDU) -> [UInt8] { Array(pdu.encoded.readableBytesView) }
        let bindPDU = PDU(.bindTransceiver, sequence: 1, body: .bind(.init(systemID: "live", password: "pw")))
        let submit = PDU(
            .submitSM, sequence: 2,
            body: .shortMessage(
                .init(
                    source: Address(address: "A"), destination: Address(address: "77010000000"),
                    shortMessage: ByteBuffer(string: "live"))))
        try exchange(
            listening, requests: [bytes(bindPDU), bytes(submit)],
            answers: [
                bytes(PDU(.bindTransceiverResp, sequence: 1, body: .bindResponse(.init(systemID: "SMSC")))),
                bytes(PDU(.submitSMResp, sequence: 2, body: .messageID("1"))),
            ])
        usleep(500_000)
        process.interrupt()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let commands = text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["command"] as? String
        }
        #expect(commands == ["bind_transceiver", "bind_transceiver_resp", "submit_sm", "submit_sm_resp"])
    }

    /// --filter: a BPF expression chooses what is captured; traffic on another port is not seen.
    @Test func aFilterChoosesWhatIsCaptured() throws {
        let wantedListener = listener()
        let otherListener = listener()
        let (wanted, other) = (wantedListener.port, otherListener.port)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary ?? "")
        process.arguments = [
            "decode", "--interface", "lo", "--filter", "tcp port \(wanted)", "--format", "jsonl", "--pdus-only",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        usleep(1_500_000)
        guard process.isRunning else {
            Issue.record(
                "live capture did not start: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))"
            )
            return
        }
        func bytes(_ pdu: PDU) -> [UInt8] { Array(pdu.encoded.readableBytesView) }
        let enquire = bytes(PDU(.enquireLink, sequence: 7))
        let answer = bytes(PDU(.enquireLinkResp, sequence: 7))
        try exchange(otherListener, requests: [enquire], answers: [answer])
        try exchange(wantedListener, requests: [enquire], answers: [answer])
        usleep(500_000)
        process.interrupt()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let ports = text.split(separator: "\n").compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["dst"] as? String
        }
        #expect(ports == ["127.0.0.1:\(wanted)", ports.last ?? ""], "only the filtered port's exchange: \(text)")
        #expect(ports.count == 2 && !text.contains(":\(other)"))
    }
}

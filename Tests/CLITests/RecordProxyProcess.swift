// `smppscope record` run as a process for the fault tests: its ports, descriptors, memory and metrics as the
// operating system and a scraper see them, and what its store and journal hold as tshark reads them.

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Lines a process writes to standard error, gathered as they come (so it never blocks on a full pipe).
final class StandardErrorLog: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    func append(_ data: Data) {
        lock.lock()
        text += String(decoding: data, as: UTF8.self)
        lock.unlock()
    }

    var all: String {
        lock.lock()
        defer { lock.unlock() }
        return text
    }
}

/// A running `smppscope record` with a store, a journal and metrics.
final class RecordProcess {
    let process = Process()
    let store: String
    let journal: String
    let upstreamPort: Int
    private(set) var port = 0
    private(set) var metricsPort = 0
    private let log = StandardErrorLog()
    private let output = StandardErrorLog()

    /// `withStore` false records into the journal only.
    init(upstreamPort: Int, scratch: Scratch, withStore: Bool = true, _ extra: [String] = []) throws {
        self.upstreamPort = upstreamPort
        store = scratch.path("record.sqlite")
        journal = scratch.path("journal.pcapng")
        process.executableURL = URL(fileURLWithPath: Paths.binary ?? "/nonexistent")
        process.arguments =
            [
                "record", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstreamPort)", "--pcap",
                journal, "--metrics-listen", "127.0.0.1:0", "--summary-every", "0",
            ] + (withStore ? ["--store", store] : []) + extra
        let errors = Pipe()
        process.standardError = errors
        let standardOutput = Pipe()
        process.standardOutput = standardOutput
        let log = self.log
        let output = self.output
        errors.fileHandleForReading.readabilityHandler = { handle in log.append(handle.availableData) }
        standardOutput.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, process.isRunning {
            let text = log.all
            if let listening = Self.port(after: "listening on 127.0.0.1:", in: text),
                let metrics = Self.port(after: "metrics at http://127.0.0.1:", in: text)
            {
                port = listening
                metricsPort = metrics
                return
            }
            usleep(20_000)
        }
        throw SocketError("smppscope record did not start: \(log.all)")
    }

    private static func port(after marker: String, in text: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    var pid: Int32 { process.processIdentifier }

    /// What it wrote to standard error so far.
    var errors: String { log.all }

    /// Standard error once it contains `text` (a notice written after the event that caused it), or after `seconds`.
    func errors(containing text: String, seconds: Double = 5) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while !errors.contains(text), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return errors
    }

    /// What it wrote to standard output so far (`--live`).
    var printed: String { output.all }

    /// Open file descriptors of the process.
    var descriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// What each open descriptor is, for failure messages.
    var descriptorList: String {
        let folder = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.map { name in
            "\(name) -> \((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(name)")) ?? "?")"
        }.joined(separator: ", ")
    }

    /// Resident memory of the process, in KiB.
    var residentKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return -1 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }

    /// One scrape of its metrics.
    func metrics() -> [String: Double] {
        guard let reply = try? httpRequest(port: metricsPort, path: "/metrics") else { return [:] }
        return prometheusSamples(reply.body)
    }

    /// Waits until `condition` holds on a scrape, or `seconds` pass; returns the last scrape.
    @discardableResult
    func waitForMetrics(seconds: Double = 10, _ condition: ([String: Double]) -> Bool) -> [String: Double] {
        let deadline = Date().addingTimeInterval(seconds)
        var last = metrics()
        while !condition(last), Date() < deadline {
            usleep(50_000)
            last = metrics()
        }
        return last
    }

    /// The open descriptors once the process has settled after its start (two counts 300 ms apart agree): the
    /// baseline the fault cases return to.
    func settledDescriptors() -> Int {
        _ = metrics()
        var last = descriptors
        for _ in 0..<20 {
            usleep(300_000)
            let now = descriptors
            if now == last { return now }
            last = now
        }
        return last
    }

    /// Waits until the open descriptors are back to `count`, or `seconds` pass; returns the last count.
    func waitForDescriptors(_ count: Int, seconds: Double = 10) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var last = descriptors
        while last != count, Date() < deadline {
            usleep(50_000)
            last = descriptors
        }
        return last
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// The bytes each direction of each TCP conversation in a capture carried, as tshark reads the capture.
struct CapturedStreams {
    /// Per conversation (tshark's stream number), the bytes from the client and from the SMSC.
    var streams: [Int: (client: [UInt8], smsc: [UInt8])] = [:]

    /// Reads `path`; packets from `smscPort` are the SMSC's.
    init(_ path: String, smscPort: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        process.arguments = [
            "-r", path, "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport", "-e",
            "tcp.payload",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SocketError("tshark could not read \(path)") }
        // Lines "stream<TAB>port<TAB>hex", read as bytes (the output can be tens of megabytes).
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var index = 0
            func number() -> Int? {
                var value = 0
                var digits = 0
                while index < raw.count, raw[index] >= 0x30, raw[index] <= 0x39 {
                    value = value * 10 + Int(raw[index] - 0x30)
                    digits += 1
                    index += 1
                }
                return digits > 0 ? value : nil
            }
            while index < raw.count {
                let stream = number()
                if index < raw.count, raw[index] == 0x09 { index += 1 }
                let port = number()
                if index < raw.count, raw[index] == 0x09 { index += 1 }
                let start = index
                while index < raw.count, raw[index] != 0x0A { index += 1 }
                let bytes = hexBytes(UnsafeRawBufferPointer(rebasing: raw[start..<index]))
                index += 1
                guard let stream, let port else { continue }
                if port == smscPort {
                    streams[stream, default: ([], [])].smsc += bytes
                } else {
                    streams[stream, default: ([], [])].client += bytes
                }
            }
        }
    }

    /// The conversations in order.
    var all: [(client: [UInt8], smsc: [UInt8])] { streams.keys.sorted().compactMap { streams[$0] } }
}

func hexBytes(_ text: String) -> [UInt8] {
    var text = text
    return text.withUTF8 { hexBytes(UnsafeRawBufferPointer($0)) }
}

/// Hex digits to bytes; anything else (colons, spaces) is skipped.
func hexBytes(_ text: UnsafeRawBufferPointer) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.count / 2)
    var high: UInt8?
    for character in text {
        let value: UInt8
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = character - UInt8(ascii: "A") + 10
        default: continue
        }
        if let first = high {
            bytes.append(first << 4 | value)
            high = nil
        } else {
            high = value
        }
    }
    return bytes
}

/// The bytes with every bind's password overwritten by '*', as stores and journals keep them. Walks whole PDUs by
/// their command_length; bytes after the last whole PDU are left as they are.
func redactingPasswords(_ bytes: [UInt8]) -> [UInt8] {
    var result = bytes
    var offset = 0
    while offset + 16 <= result.count {
        let length =
            Int(result[offset]) << 24 | Int(result[offset + 1]) << 16 | Int(result[offset + 2]) << 8
            | Int(result[offset + 3])
        guard length >= 16, offset + length <= result.count else { break }
        let command =
            Int(result[offset + 4]) << 24 | Int(result[offset + 5]) << 16 | Int(result[offset + 6]) << 8
            | Int(result[offset + 7])
        if [1, 2, 9, 0x0B].contains(command) {
            var index = offset + 16
            while index < offset + length, result[index] != 0 { index += 1 }
            index += 1
            while index < offset + length, result[index] != 0 {
                result[index] = UInt8(ascii: "*")
                index += 1
            }
        }
        offset += length
    }
    return result
}

/// A peer's log of what it wrote to and read from its socket: lines "[CONNECTION ]sent|received HEX".
struct PeerLog {
    /// Per connection number (0 when the log has none), the bytes sent and received.
    var connections: [Int: (sent: [UInt8], received: [UInt8])] = [:]
    var lines: [String] = []

    init(_ path: String) {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        lines = text.split(separator: "\n").map(String.init)
        for line in lines {
            var fields = line.split(separator: " ").map(String.init)
            var connection = 0
            if let number = fields.first.flatMap(Int.init) {
                connection = number
                fields.removeFirst()
            }
            guard fields.count == 2 else { continue }
            if fields[0] == "sent" { connections[connection, default: ([], [])].sent += hexBytes(fields[1]) }
            if fields[0] == "received" { connections[connection, default: ([], [])].received += hexBytes(fields[1]) }
        }
    }
}

/// Real peers the fault tests use, when they are installed.
enum FaultPeers {
    static let root = Paths.root
    static let netSMPP = root.appendingPathComponent("Tests/Peers/netsmpp_smsc.pl").path
    static let smpplib = root.appendingPathComponent("Tests/Peers/smpplib_client.py").path
    static let tshark = FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark")
    static let perlNetSMPP: Bool = run("/usr/bin/perl", ["-MNet::SMPP", "-e", "1"])
    static let pythonSmpplib: Bool = run("/usr/bin/env", ["python3", "-c", "import smpplib.client"])

    static func run(_ path: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// The Net::SMPP server running in the background, logging to `log`.
final class NetSMPPServer {
    let process = Process()
    let port: Int
    let log: String

    init(scratch: Scratch, mode: String = "answer", port: Int = freePort()) throws {
        self.port = port
        log = scratch.path("netsmpp-\(UUID().uuidString).log")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        process.arguments = [FaultPeers.netSMPP, String(port), log, mode]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).contains("listening") else {
            throw SocketError("the Net::SMPP server did not start")
        }
    }

    /// Kills the server and the processes serving its connections (its process group) with SIGKILL.
    func kill9() {
        kill(-process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var peerLog: PeerLog { PeerLog(log) }

    deinit {
        if process.isRunning { kill9() }
    }
}

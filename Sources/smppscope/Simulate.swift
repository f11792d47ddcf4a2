// `smppscope simulate`: an SMSC that behaves like SMSC.kz, to test clients and replays against.

import ArgumentParser
import Capture
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Profile
import Reassembly
import Report
import SMPP
import Simulator
import Timeline

enum SimulatorLogFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case jsonl
    case none
}

enum ReceiptPer: String, ExpressibleByArgument, CaseIterable {
    case message
    case part
}

extension SimulatorConfiguration.ReceiptCarries: ExpressibleByArgument {}

struct Simulate: AsyncParsableCommand {
    /// The options' defaults, to tell the ones given from the rest.
    static let defaults = (try? Simulate.parse(["--account", "a:b"])) ?? Simulate()

    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run an SMSC that follows the SMSC.kz rules (limits, window, one connection per login, receipts).",
        discussion: """
            Examples:
              smppscope simulate --account smsckz:secret
              smppscope simulate --listen 127.0.0.1:3700 --tls-listen 127.0.0.1:3443 \\
                  --account shop:pw:30 --account bulk:pw:100
              smppscope simulate --account a:b --latency-from analysis.json \\
                  --receipts DELIVRD=0.8,UNDELIV=0.2 --log jsonl
              smppscope simulate --profile provider.json --account shop:secret

            Stop it with Ctrl-C: it prints a summary and exits.
            """)

    @Option(help: ArgumentHelp("Where to listen for SMPP.", valueName: "host:port"))
    var listen = "127.0.0.1:2775"

    @Option(name: .long, help: ArgumentHelp("Also listen for SMPP over TLS.", valueName: "host:port"))
    var tlsListen: String?

    @Option(
        name: .long,
        help: ArgumentHelp("PEM certificate (chain) for TLS; a self-signed one is made when absent.", valueName: "file")
    )
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("PEM private key for --cert.", valueName: "file"))
    var key: String?

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "A login, SYSTEM_ID:PASSWORD[:TPS] (repeatable). Visible to other users in the process list: prefer "
                + "--accounts-file or SMPPSCOPE_SIMULATOR_ACCOUNTS.", valueName: "account"))
    var account: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Logins from a file, one SYSTEM_ID:PASSWORD[:TPS] per line (# starts a comment).", valueName: "file"))
    var accountsFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The oldest TLS version the TLS listener accepts: 1.2 or 1.3.", valueName: "version"))
    var tlsMinimumVersion = "1.2"

    @Option(
        help: ArgumentHelp(
            "Accepted submit_sm per second per account, unless the account says.", valueName: "per-second"))
    var throughput = 30.0

    @Option(
        help: ArgumentHelp("Requests a connection may have unanswered; more get ESME_RMSGQFUL.", valueName: "requests"))
    var window: Int?

    @Option(help: ArgumentHelp("Fixed response latency.", valueName: "ms"))
    var latency = 2.0

    @Option(help: ArgumentHelp("Random latency added (uniform).", valueName: "ms"))
    var jitter = 3.0

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Take the submit_sm latency distribution from `analyze --format json` output.", valueName: "file"))
    var latencyFrom: String?

    @Option(name: .long, help: ArgumentHelp("Receipt delay range in seconds.", valueName: "min-max"))
    var receiptDelay = "0.2-2"

    @Option(
        help: ArgumentHelp("Shares of receipt states.", valueName: "DELIVRD=0.9,UNDELIV=0.05,EXPIRED=0.03,REJECTD=0.02")
    )
    var receipts: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How receipts write the submit_sm_resp's id: as-response, decimal-for-hex (hex responses, decimal "
                + "receipts), hex-for-decimal, zero-padded (receipts padded to 10 digits), other-case.",
            valueName: "form"))
    var receiptIDForm = SimulatorConfiguration.ReceiptIDForm.asResponse

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "Date receipts by a clock this many seconds off (negative: behind), as an SMSC with a wrong clock does.",
            valueName: "seconds"))
    var receiptClockOffset = 0.0

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Refuse this part number of every long message (ESME_RSUBMITFAIL), as an SMSC that drops parts does.",
            valueName: "number"))
    var refusePart: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Answer every N-th accepted submit_sm S seconds late, past a client's response timeout.",
            valueName: "N:S"))
    var lateResponse: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Send every N-th receipt twice, a second apart.", valueName: "N"))
    var duplicateReceipts: Int?

    @Option(name: .long, help: "What the rate limit counts: parts (every submit_sm) or messages (whole messages).")
    var throttleCounts = SimulatorConfiguration.ThrottleCounts.parts

    @Option(name: .long, help: ArgumentHelp("Close (or unbind) connections silent this long.", valueName: "seconds"))
    var idleTimeout = 120.0

    @Option(name: .long, help: "What to do with an idle connection: close or unbind.")
    var idleAction = SimulatorConfiguration.IdleAction.close

    @Option(
        name: .long, help: ArgumentHelp("Send an MO message to every bound receiver this often.", valueName: "seconds"))
    var moEvery: Double?

    @Option(
        help: ArgumentHelp(
            "A control port: send \"mo SYSTEM_ID SOURCE DESTINATION TEXT\" lines to inject MO messages.",
            valueName: "host:port"))
    var control: String?

    @Option(help: "A line per PDU on standard output: text, jsonl or none.")
    var log = SimulatorLogFormat.text

    @Flag(name: .long, help: "Show bind passwords in the log.")
    var showSecrets = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Behave like the SMSC a profile describes (`smppscope profile -o`); options given other values than "
                + "their defaults win over it.", valueName: "file"))
    var profile: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The SMSC of --profile to behave like, when it has several.", valueName: "host:port"))
    var smsc: String?

    @Option(
        name: .customLong("message-ids"),
        help: ArgumentHelp(
            "How submit_sm_resp writes ids: decimal, hex or HEX (upper case), :WIDTH for zeros in front.",
            valueName: "format"))
    var messageIDs: String?

    @Option(name: .long, help: "Where receipts say what they say: both (text and TLVs), text, or tlv.")
    var receiptsCarry: SimulatorConfiguration.ReceiptCarries?

    @Option(
        name: .long,
        help: "One receipt per message (one id for all its parts) or per part (an id for each), for every login.")
    var receiptPer: ReceiptPer?

    @Option(help: "Seed of the random choices (latency, receipt states, delays).")
    var seed: UInt64 = 1

    /// `N:SECONDS` of `--late-response`.
    static func lateResponses(_ text: String) -> (every: Int, seconds: Double)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let every = Int(parts[0]), every >= 1, let seconds = Double(parts[1]),
            seconds > 0, seconds <= 3_600
        else { return nil }
        return (every, seconds)
    }

    func validate() throws {
        for specification in account where SimulatorConfiguration.Account(specification: specification) == nil {
            throw ValidationError("invalid --account; expected SYSTEM_ID:PASSWORD or SYSTEM_ID:PASSWORD:TPS")
        }
        if tlsVersion(tlsMinimumVersion) == nil {
            throw ValidationError("invalid --tls-minimum-version \"\(tlsMinimumVersion)\"; use 1.2 or 1.3")
        }
        guard hostPort(listen) != nil else {
            throw ValidationError("invalid --listen \"\(listen)\"; expected host:port")
        }
        if let tlsListen, hostPort(tlsListen) == nil { throw ValidationError("invalid --tls-listen \"\(tlsListen)\"") }
        if let control, hostPort(control) == nil { throw ValidationError("invalid --control \"\(control)\"") }
        if (cert == nil) != (key == nil) { throw ValidationError("give both --cert and --key, or neither") }
        if let refusePart, !(1...255).contains(refusePart) {
            throw ValidationError("--refuse-part must be a part number from 1 to 255")
        }
        if let lateResponse, Self.lateResponses(lateResponse) == nil {
            throw ValidationError("invalid --late-response \"\(lateResponse)\"; expected N:SECONDS, such as 5:12")
        }
        if let duplicateReceipts, duplicateReceipts < 1 {
            throw ValidationError("--duplicate-receipts must be 1 or more")
        }
        if !receiptClockOffset.isFinite || abs(receiptClockOffset) > 86_400 * 366 {
            throw ValidationError("--receipt-clock-offset must be within a year either way, in seconds")
        }
        if parseRange(receiptDelay) == nil {
            throw ValidationError("invalid --receipt-delay \"\(receiptDelay)\"; e.g. 0.2-2")
        }
        if let receipts, SimulatorConfiguration.ReceiptShares(specification: receipts) == nil {
            throw ValidationError("invalid --receipts \"\(receipts)\"; e.g. DELIVRD=0.9,UNDELIV=0.1")
        }
        if throughput <= 0 { throw ValidationError("--throughput must be positive") }
        if let messageIDs, SimulatorConfiguration.MessageIDFormat(specification: messageIDs) == nil {
            throw ValidationError("invalid --message-ids \"\(messageIDs)\"; use decimal, hex or HEX, with :WIDTH")
        }
        if smsc != nil, profile == nil { throw ValidationError("--smsc chooses an SMSC of --profile: give --profile") }
    }

    /// The SMSC of the profile to behave like.
    private func profiledSMSC() throws -> ProviderProfile.SMSC? {
        guard let profile else { return nil }
        let loaded = try loadProviderProfile(profile)
        let servers = loaded.smscs.map(\.server).joined(separator: ", ")
        if let smsc {
            guard let found = loaded.smscs.first(where: { $0.server == smsc }) else {
                throw failure(
                    CommandError(
                        .invalidSetting, "\(profile) has no SMSC \(smsc)", location: profile,
                        hint: "its SMSCs: \(servers)"))
            }
            return found
        }
        guard loaded.smscs.count == 1, let only = loaded.smscs.first else {
            throw failure(
                CommandError(
                    .invalidSetting, "\(profile) describes \(loaded.smscs.count) SMSCs", location: profile,
                    hint: loaded.smscs.isEmpty
                        ? "profile a capture with SMPP traffic" : "choose one with --smsc: \(servers)"))
        }
        return only
    }

    /// The logins: from --account, --accounts-file and SMPPSCOPE_SIMULATOR_ACCOUNTS together.
    private func accounts() throws -> [SimulatorConfiguration.Account] {
        var accounts = account.compactMap(SimulatorConfiguration.Account.init(specification:))
        var lists: [(String, String)] = []
        if let accountsFile {
            guard let text = try? String(contentsOfFile: accountsFile, encoding: .utf8) else {
                throw failure(
                    CommandError(
                        .unreadableFile, "cannot read \(accountsFile)", location: accountsFile,
                        hint: "give a file with one SYSTEM_ID:PASSWORD[:TPS] per line"))
            }
            lists.append((accountsFile, text))
        }
        if let text = ProcessInfo.processInfo.environment["SMPPSCOPE_SIMULATOR_ACCOUNTS"] {
            lists.append(("SMPPSCOPE_SIMULATOR_ACCOUNTS", text))
        }
        for (name, text) in lists {
            switch SimulatorConfiguration.Account.list(text) {
            case .success(let listed): accounts += listed
            case .failure(let error):
                throw failure(
                    CommandError(
                        .invalidSetting, "entry \(error.entry) of \(name) is not SYSTEM_ID:PASSWORD[:TPS]",
                        hint: "one login per line, e.g. shop:secret or bulk:secret:100"))
            }
        }
        guard !accounts.isEmpty else {
            throw failure(
                CommandError(
                    .invalidSetting, "no account to accept binds for",
                    hint:
                        "give --accounts-file FILE (one SYSTEM_ID:PASSWORD[:TPS] per line), SMPPSCOPE_SIMULATOR_ACCOUNTS, or --account"
                ))
        }
        return accounts
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let (simulator, logger, listening) = try start()
        try await waitForStopSignal { writeStandardError("smppscope simulate: \(listening); Ctrl-C to stop\n") }
        let summary = simulator.summary
        simulator.shutdown()
        logger.flush()
        writeStandardError("summary: \(summary.description)\n")
    }

    /// Starts the simulator as the options say.
    private func start() throws -> (Simulator, SimulatorLogger, listening: String) {
        var configuration = SimulatorConfiguration()
        configuration.accounts = try accounts()
        configuration.minimumTLSVersion = tlsVersion(tlsMinimumVersion) ?? .tls12
        if let (host, port) = hostPort(listen) {
            configuration.listenHost = host
            configuration.listenPort = port
        }
        if let tlsListen, let (host, port) = hostPort(tlsListen) {
            configuration.tlsHost = host
            configuration.tlsPort = port
        }
        if let control, let (host, port) = hostPort(control) {
            configuration.controlHost = host
            configuration.controlPort = port
        }
        configuration.certificatePath = cert
        configuration.privateKeyPath = key
        configuration.throughput = throughput
        configuration.window = window
        configuration.latency = latency / 1_000
        configuration.jitter = jitter / 1_000
        if let latencyFrom { configuration.latencyDistribution = try loadLatency(latencyFrom) }
        if let range = parseRange(receiptDelay) { configuration.receiptDelay = range }
        if let receipts, let shares = SimulatorConfiguration.ReceiptShares(specification: receipts) {
            configuration.receiptShares = shares
        }
        configuration.idleTimeout = idleTimeout
        configuration.idleAction = idleAction
        configuration.receiptIDForm = receiptIDForm
        configuration.receiptClockOffset = receiptClockOffset
        configuration.refusedPart = refusePart
        configuration.lateResponses = lateResponse.flatMap(Self.lateResponses)
        configuration.duplicateReceipts = duplicateReceipts
        configuration.throttleCounts = throttleCounts
        configuration.mobileOriginatedEvery = moEvery
        configuration.seed = seed
        if let smsc = try profiledSMSC() {
            let defaults = Simulate.defaults
            for line in configuration.apply(smsc) { writeStandardError("profile: \(line)\n") }
            // Options given other values than their defaults win over the profile.
            if throughput != defaults.throughput { configuration.throughput = throughput }
            if let window { configuration.window = window }
            if latency != defaults.latency || jitter != defaults.jitter || latencyFrom != nil {
                configuration.latencyDistribution = nil
                configuration.latency = latency / 1_000
                configuration.jitter = jitter / 1_000
                if let latencyFrom { configuration.latencyDistribution = try loadLatency(latencyFrom) }
            }
            if receiptDelay != defaults.receiptDelay { configuration.receiptDelayDistribution = nil }
            if let receipts, let shares = SimulatorConfiguration.ReceiptShares(specification: receipts) {
                configuration.receiptShares = shares
            }
            if idleTimeout != defaults.idleTimeout { configuration.idleTimeout = idleTimeout }
            if idleAction != defaults.idleAction { configuration.idleAction = idleAction }
            if receiptIDForm != defaults.receiptIDForm { configuration.receiptIDForm = receiptIDForm }
            if throttleCounts != defaults.throttleCounts { configuration.throttleCounts = throttleCounts }
        }
        if let messageIDs {
            configuration.messageIDFormat = SimulatorConfiguration.MessageIDFormat(specification: messageIDs)
        }
        if let receiptsCarry { configuration.receiptCarries = receiptsCarry }
        if let receiptPer { configuration.receiptPerPart = receiptPer == .part }

        for host in [configuration.listenHost, configuration.tlsHost, configuration.controlHost].compactMap({ $0 })
        where !(IPAddress(host)?.isLoopback ?? (host == "localhost")) {
            writeStandardError(
                "warning: listening on \(host), not only on loopback: anyone who can reach it can use this SMSC\n")
        }
        let logger = SimulatorLogger(format: log, showSecrets: showSecrets)
        let simulator: Simulator
        do {
            simulator = try Simulator(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton) {
                logger.log($0)
            }
        } catch {
            throw failure(
                CommandError(
                    .cannotListen, "cannot start the simulator: \(error)",
                    hint: "is the port free? try another --listen"))
        }
        var listening = "SMPP on \(describe(simulator.plainAddress))"
        if simulator.tlsAddress != nil { listening += ", TLS on \(describe(simulator.tlsAddress))" }
        if simulator.controlAddress != nil { listening += ", control on \(describe(simulator.controlAddress))" }
        return (simulator, logger, listening)
    }

    private func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    private func parseRange(_ text: String) -> ClosedRange<Double>? {
        let parts = text.split(separator: "-").compactMap { Double($0) }
        if parts.count == 1, parts[0] >= 0 { return parts[0]...parts[0] }
        guard parts.count == 2, parts[0] >= 0, parts[1] >= parts[0] else { return nil }
        return parts[0]...parts[1]
    }

    /// The submit_sm latency points (p50, p90, p99, max) of an analysis, as a distribution.
    private func loadLatency(_ path: String) throws -> [(percentile: Double, seconds: Double)] {
        guard let data = FileManager.default.contents(atPath: path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let latency = (json["latency"] as? [String: Any])?["submit_sm"] as? [String: Any]
        else {
            throw failure(
                CommandError(
                    .invalidSetting, "\(path) has no latency.submit_sm", location: path,
                    hint: "make it with: smppscope analyze CAPTURE --format json > \(path)"))
        }
        let points: [(Double, String)] = [
            (0, "min_ms"), (50, "p50_ms"), (90, "p90_ms"), (99, "p99_ms"), (100, "max_ms"),
        ]
        return points.compactMap { point in
            (latency[point.1] as? Double).map { (percentile: point.0, seconds: $0 / 1_000) }
        }
    }
}

/// "host:port", "[v6]:port".
func hostPort(_ text: String) -> (String, Int)? {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (0...65_535).contains(port)
    else {
        return nil
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty else { return nil }
    return (host, port)
}

/// Writes the simulator's events as decode-style lines. Called on the simulator's event loop.
final class SimulatorLogger: @unchecked Sendable {
    let format: SimulatorLogFormat
    let options: RenderOptions
    let text: DecodeText
    let sink = OutputSink(flushThreshold: 1)
    private let lock = NSLock()

    init(format: SimulatorLogFormat, showSecrets: Bool) {
        self.format = format
        options = RenderOptions(showSecrets: showSecrets)
        text = DecodeText(options: options)
    }

    static func endpoint(_ text: String) -> Endpoint {
        guard let (host, port) = hostPort(text), let address = IPAddress(host) else {
            return Endpoint(address: IPAddress(ipv4: 0), port: 0)
        }
        return Endpoint(address: address, port: UInt16(port))
    }

    func log(_ event: SimulatorEvent) {
        guard format != .none else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .pdu(let connection, let inbound, let remote, let local, let bytes, let time):
            guard let header = PDUHeader.peek(in: bytes) else { return }
            let remoteEndpoint = Self.endpoint(remote)
            let localEndpoint = Self.endpoint(local)
            let item = TimelinePDU(
                session: connection, timestamp: Timestamp(nanoseconds: Int64(time * 1e9)), frame: 0,
                source: inbound ? remoteEndpoint : localEndpoint, destination: inbound ? localEndpoint : remoteEndpoint,
                fromClient: inbound, streamOffset: 0, header: header, raw: bytes, digest: PDUDigest(frame: bytes),
                pdu: try? PDU.decode(bytes), isoDefault: false)
            switch format {
            case .jsonl:
                var json = JSONWriter()
                DecodeJSON.write(item, into: &json, options: options)
                sink.bytes += json.bytes
                sink.bytes.append(0x0A)
                sink.flush()
            default:
                sink.write(text.line(item) + "\n")
            }
        case .connected(let connection, let remote, let local, let tls):
            note(
                "connection \(connection): \(remote) -> \(local)\(tls ? " (TLS)" : "")", event: "connected",
                connection: connection)
        case .disconnected(let connection, let reason):
            note("connection \(connection) \(reason)", event: "disconnected", connection: connection)
        case .notice(let message):
            note(message, event: "notice", connection: nil)
        }
    }

    private func note(_ message: String, event: String, connection: Int?) {
        switch format {
        case .jsonl:
            var json = JSONWriter()
            json.beginObject()
            json.key("event"); json.string(event)
            if let connection { json.key("session"); json.int(connection) }
            json.key("message"); json.string(message)
            json.endObject()
            sink.bytes += json.bytes
            sink.bytes.append(0x0A)
            sink.flush()
        default:
            sink.write("-- " + message + "\n")
        }
    }

    func flush() {
        lock.lock()
        sink.flush()
        lock.unlock()
    }
}

extension SimulatorConfiguration.IdleAction: ExpressibleByArgument {}
extension SimulatorConfiguration.ReceiptIDForm: ExpressibleByArgument {}
extension SimulatorConfiguration.ThrottleCounts: ExpressibleByArgument {}

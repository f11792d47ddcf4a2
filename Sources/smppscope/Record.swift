// `smppscope record`: a transparent proxy between an ESME and its SMSC that records every PDU.

import ArgumentParser
import Capture
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Prometheus
import Proxy
import Reassembly
import Recording
import Report
import SMPP
import Store
import Timeline

struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Stand between an ESME and its SMSC, forward everything unchanged, and record every PDU.",
        discussion: """
            Point the client at --listen instead of the SMSC. Bytes are forwarded at once and unchanged in both \
            directions, TLS included; the recording runs beside the forwarding and never holds it up.

            Examples:
              smppscope record --listen 127.0.0.1:2775 --upstream smsc.example.com:3700 \\
                  --store smpp.sqlite
              smppscope record --listen 127.0.0.1:2775 --upstream smsc.example.com:3443 \\
                  --upstream-tls --pcap journal.pcapng --live
              smppscope record --listen 127.0.0.1:2775 --upstream smsc.example.com:3700 \\
                  --store smpp.sqlite --metrics-listen 127.0.0.1:9464
              smppscope record --listen 0.0.0.0:3443 --cert proxy.pem --key proxy.key \\
                  --allow 10.0.0.0/8 --upstream smsc.example.com:3443 --upstream-tls \\
                  --store smpp.sqlite

            Ctrl-C (or SIGTERM) stops accepting, lets sessions end (--drain seconds), writes everything out and exits 0.
            """)

    @Option(help: ArgumentHelp("Where clients connect.", valueName: "host:port"))
    var listen = "127.0.0.1:2775"

    @Option(help: ArgumentHelp("The SMSC.", valueName: "host:port"))
    var upstream: String

    @Option(name: .long, help: ArgumentHelp("Record into this store (see `smppscope sessions`).", valueName: "file"))
    var store: String?

    @Option(
        name: .long, help: ArgumentHelp("Also write the traffic as pcapng (passwords redacted).", valueName: "file"))
    var pcap: String?

    @Option(name: .long, help: ArgumentHelp("Start a new pcapng file past this size.", valueName: "MB"))
    var pcapRotate: Int?

    @Flag(name: .long, help: "Print PDUs as they pass, as `decode` does.")
    var live = false

    @Option(
        name: .long,
        help: ArgumentHelp("Terminate the clients' TLS with this PEM certificate (chain).", valueName: "file"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("PEM private key for --cert.", valueName: "file"))
    var key: String?

    @Flag(name: .long, help: "Speak TLS to the SMSC, verifying its certificate.")
    var upstreamTLS = false

    @Option(
        name: .long,
        help: ArgumentHelp("Trust these PEM certificates for the SMSC instead of the system's.", valueName: "file"))
    var upstreamCA: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The name to verify the SMSC's certificate against (default: the --upstream host).", valueName: "name"))
    var upstreamServerName: String?

    @Flag(name: .long, help: "Speak TLS to the SMSC without verifying its certificate (test SMSCs only).")
    var upstreamTLSNoVerify = false

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Only clients from this network may connect (repeatable), e.g. 10.0.0.0/8.", valueName: "cidr"))
    var allow: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://HOST:PORT/metrics (port 0: any free one).", valueName: "host:port"))
    var metricsListen: String?

    @Option(name: .long, help: ArgumentHelp("Print a one-line summary this often (0: never).", valueName: "seconds"))
    var summaryEvery = 10.0

    @Option(
        name: .long,
        help: ArgumentHelp("On Ctrl-C, wait this long for sessions to end before closing them.", valueName: "seconds"))
    var drain = 5.0

    @Option(
        name: .long,
        help: ArgumentHelp("Also keep bind passwords in the store, sealed with this key.", valueName: "file"))
    var passwordKey: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Give up on connecting to the SMSC after this long; the client is closed.", valueName: "seconds"))
    var connectTimeout = 10.0

    @Option(
        name: .long,
        help: ArgumentHelp("Close a session in which no byte passed for this long (0: never).", valueName: "seconds"))
    var idleTimeout = 0.0

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Once a side has half-closed, close the session when no byte passed for this long.", valueName: "seconds"))
    var halfCloseTimeout = 60.0

    @Option(name: .long, help: ArgumentHelp("Sessions open at once; more clients are refused.", valueName: "n"))
    var maxSessions = 10_000

    @Option(
        name: .long,
        help: ArgumentHelp("Sessions open at once from one client address; more are refused.", valueName: "n"))
    var maxSessionsPerClient = 1_000

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Accounts given a system_id label of their own in the metrics; the rest count as \"other\".", valueName: "n"
        ))
    var metricsMaxAccounts = ProxyMetrics.defaultMaximumAccounts

    @Option(
        name: .long, help: ArgumentHelp("A metrics request must send its header within this.", valueName: "seconds"))
    var metricsHeaderTimeout = 10.0

    @Option(name: .long, help: ArgumentHelp("Close a metrics connection idle this long.", valueName: "seconds"))
    var metricsIdleTimeout = 60.0

    @Option(
        name: .long,
        help: ArgumentHelp("The oldest TLS version accepted on either side: 1.2 or 1.3.", valueName: "version"))
    var tlsMinimumVersion = "1.2"

    @Flag(name: .long, help: "Show bind passwords in --live output.")
    var showSecrets = false

    func validate() throws {
        guard hostPort(listen) != nil else {
            throw ValidationError("invalid --listen \"\(listen)\"; expected host:port")
        }
        guard hostPort(upstream) != nil else {
            throw ValidationError("invalid --upstream \"\(upstream)\"; expected host:port")
        }
        if (cert == nil) != (key == nil) { throw ValidationError("give both --cert and --key, or neither") }
        if upstreamTLS && upstreamTLSNoVerify {
            throw ValidationError("give --upstream-tls or --upstream-tls-no-verify, not both")
        }
        if (upstreamCA != nil || upstreamServerName != nil) && !upstreamTLS {
            throw ValidationError("--upstream-ca and --upstream-server-name go with --upstream-tls")
        }
        for network in allow where CIDR(network) == nil {
            throw ValidationError("invalid --allow \"\(network)\"; e.g. 10.0.0.0/8 or 192.0.2.7")
        }
        if let metricsListen, hostPort(metricsListen) == nil {
            throw ValidationError(
                "invalid --metrics-listen \"\(metricsListen)\"; expected host:port, e.g. 127.0.0.1:9464")
        }
        if store == nil && pcap == nil && !live && metricsListen == nil {
            throw ValidationError(
                "say where the recording goes: --store FILE, --pcap FILE, --live, or --metrics-listen HOST:PORT")
        }
        if let pcapRotate, pcapRotate <= 0 { throw ValidationError("--pcap-rotate must be positive") }
        if passwordKey != nil && store == nil { throw ValidationError("--password-key goes with --store") }
        for (name, value) in [
            ("--connect-timeout", connectTimeout), ("--half-close-timeout", halfCloseTimeout),
            ("--metrics-header-timeout", metricsHeaderTimeout), ("--metrics-idle-timeout", metricsIdleTimeout),
        ] where !(value > 0 && value <= 86_400) {
            throw ValidationError("\(name) must be a number of seconds above 0 and at most 86400")
        }
        if !(idleTimeout >= 0 && idleTimeout <= 86_400) {
            throw ValidationError("--idle-timeout must be a number of seconds from 0 (never) to 86400")
        }
        if maxSessions < 1 { throw ValidationError("--max-sessions must be at least 1") }
        if maxSessionsPerClient < 1 { throw ValidationError("--max-sessions-per-client must be at least 1") }
        if metricsMaxAccounts < 0 { throw ValidationError("--metrics-max-accounts must be 0 or more") }
        if tlsVersion(tlsMinimumVersion) == nil {
            throw ValidationError("invalid --tls-minimum-version \"\(tlsMinimumVersion)\"; use 1.2 or 1.3")
        }
    }

    /// What runs between the start and the stop signal.
    struct Running {
        let proxy: RecordProxy
        let recorder: Recorder
        let endpoint: MetricsEndpoint?
        let timer: DispatchSourceTimer?
        /// The lines that say where it listens, printed once the stop signals are trapped.
        let announcement: String
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        guard let running = try start() else { return }
        let announcement = running.announcement
        try await waitForStopSignal { writeStandardError(announcement) }
        try stop(running)
    }

    /// Starts the recorder, the proxy and the metrics endpoint; nil when the addresses do not parse.
    private func start() throws -> Running? {
        guard let (listenHost, listenPort) = hostPort(listen), let (upstreamHost, upstreamPort) = hostPort(upstream)
        else { return nil }
        var configuration = ProxyConfiguration(upstreamHost: upstreamHost, upstreamPort: upstreamPort)
        configuration.listenHost = listenHost
        configuration.listenPort = listenPort
        configuration.clientCertificate = cert
        configuration.clientPrivateKey = key
        configuration.allow = allow.compactMap(CIDR.init)
        configuration.connectTimeout = timeAmount(seconds: connectTimeout)
        configuration.limits.idleTimeout = idleTimeout > 0 ? timeAmount(seconds: idleTimeout) : nil
        configuration.limits.halfCloseTimeout = timeAmount(seconds: halfCloseTimeout)
        configuration.maximumSessions = maxSessions
        configuration.maximumSessionsPerClient = maxSessionsPerClient
        configuration.minimumTLSVersion = tlsVersion(tlsMinimumVersion) ?? .tls12
        if upstreamTLS {
            configuration.upstreamTLS = .verified(trustRoots: upstreamCA, serverName: upstreamServerName)
        } else if upstreamTLSNoVerify {
            configuration.upstreamTLS = .unverified
        }
        if configuration.isOpenToTheNetwork {
            writeStandardError(
                "warning: listening on \(listenHost) with no --allow: anyone who can reach this port reaches the SMSC through it\n"
            )
        }

        var options = RecorderOptions()
        if let store {
            options.store = try openStore(store)
            options.sourceName = "record \(listen) -> \(upstream)"
            if let passwordKey {
                do {
                    options.importOptions.passwordKey = try ImportOptions.key(fromFile: passwordKey)
                } catch {
                    throw failure(any: error)
                }
            }
        }
        options.pcapPath = pcap
        options.pcapRotateBytes = pcapRotate.map { $0 << 20 }
        options.failure = { writeStandardError("error: \($0) (forwarding goes on)\n") }
        if live { options.live = LivePrinter(showSecrets: showSecrets).print }
        let registry = PrometheusCollectorRegistry()
        var proxyMetrics: ProxyMetrics?
        if metricsListen != nil {
            let factory = DescribedPrometheusFactory(registry: registry)
            let metrics = ProxyMetrics(factory: factory, maximumAccounts: metricsMaxAccounts)
            proxyMetrics = metrics
            options.metrics = metrics.handle
        }
        // One event loop group for the proxy and its metrics endpoint: the process's shared one.
        let group = MultiThreadedEventLoopGroup.singleton
        let recorder: Recorder
        do {
            recorder = try Recorder(options: options)
        } catch let error as CaptureError {
            throw failure(error)
        } catch {
            throw failure(any: error, context: "cannot start the recording")
        }
        let proxy: RecordProxy
        do {
            proxy = try RecordProxy(configuration: configuration, sink: recorder, group: group) { notice in
                writeStandardError("-- \(notice)\n")
            }
        } catch {
            try? recorder.finish()
            throw failure(
                CommandError(
                    .cannotListen, "cannot start the proxy: \(error)",
                    hint: "is the port free? are the certificate and key readable?")
            )
        }
        let address = proxy.address.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? listen
        var endpoint: MetricsEndpoint?
        if let metricsListen, let (host, port) = hostPort(metricsListen), let metrics = proxyMetrics {
            if let address = IPAddress(host), !address.isLoopback {
                writeStandardError(
                    "warning: serving metrics on \(host): anyone who can reach this port reads the accounts and traffic figures\n"
                )
            } else if IPAddress(host) == nil, host != "localhost" {
                writeStandardError("warning: serving metrics on \(host), which may be reachable from other hosts\n")
            }
            var limits = MetricsEndpoint.Limits()
            limits.headerTimeout = timeAmount(seconds: metricsHeaderTimeout)
            limits.idleTimeout = timeAmount(seconds: metricsIdleTimeout)
            do {
                endpoint = try MetricsEndpoint(
                    host: host, port: port, group: group, limits: limits, limitReached: metrics.limitReached
                ) {
                    let status = recorder.status
                    metrics.update(
                        proxy.counters,
                        .init(
                            storeBacklog: status.storeBacklog, storeDropped: status.storeDropped,
                            journalDropped: status.journalDropped, metricsDropped: status.metricsDropped))
                    return registry.emitToBuffer()
                }
            } catch {
                proxy.shutdown()
                try? recorder.finish()
                throw failure(
                    CommandError(
                        .cannotListen, "cannot serve metrics on \(metricsListen): \(error)", location: metricsListen,
                        hint: "is the port free?"))
            }
        }
        var announcement = "smppscope record: listening on \(address), forwarding to \(upstream); Ctrl-C to stop\n"
        if let bound = endpoint?.address {
            announcement +=
                "metrics at http://\(bound.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "?"):\(bound.port ?? 0)/metrics\n"
        }

        var timer: DispatchSourceTimer?
        if summaryEvery > 0 {
            let every = summaryEvery
            let started = Date()
            let source = DispatchSource.makeTimerSource(queue: .global())
            source.schedule(deadline: .now() + every, repeating: every)
            source.setEventHandler {
                writeStandardError(Self.summary(proxy.counters, recorder.status, since: started) + "\n")
            }
            source.resume()
            timer = source
        }
        return Running(proxy: proxy, recorder: recorder, endpoint: endpoint, timer: timer, announcement: announcement)
    }

    /// Stops in order: no new clients, the sessions drained (up to `--drain`), the proxy and the endpoint closed,
    /// the recording completed.
    private func stop(_ running: Running) throws {
        let (proxy, recorder, endpoint) = (running.proxy, running.recorder, running.endpoint)
        running.timer?.cancel()
        writeStandardError("stopping: no new clients; waiting up to \(formatSeconds(drain)) s for sessions to end\n")
        proxy.stopAccepting()
        if !proxy.waitForSessions(seconds: drain) {
            writeStandardError("closing \(proxy.counters.open) sessions still open\n")
        }
        proxy.shutdown()
        endpoint?.shutdown()
        let counters = proxy.counters
        do {
            try recorder.finish()
        } catch {
            throw failure(any: error, context: "the recording could not be completed")
        }
        let status = recorder.status
        var line = "recorded \(counters.pdus) PDUs in \(counters.sessions) sessions"
        if let store { line += "; store \(PostgresLocation.redacting(store)) complete" }
        if !status.journalFiles.isEmpty { line += "; pcapng \(status.journalFiles.joined(separator: ", "))" }
        if status.storeDropped > 0 { line += "; \(status.storeDropped) events did not fit the store's queue" }
        writeStandardError(line + "\n")
    }

    static func summary(_ counters: ProxyCounters, _ status: RecorderStatus, since: Date) -> String {
        let elapsed = max(1, Date().timeIntervalSince(since))
        var line =
            "\(counters.open) sessions open (\(counters.sessions) in all), \(counters.pdus) PDUs "
            + "(\(Int(Double(counters.pdus) / elapsed))/s), \(counters.throttled) throttled"
        if status.storeBacklog > 0 { line += ", store backlog \(status.storeBacklog) events" }
        if status.storeDropped > 0 { line += ", \(status.storeDropped) events dropped by the store queue" }
        if status.journalDropped > 0 { line += ", \(status.journalDropped) dropped by the journal queue" }
        if status.metricsDropped > 0 { line += ", \(status.metricsDropped) not counted by the metrics" }
        return line
    }
}

private func formatSeconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}

/// Prints recorded events as `decode` does, from the recorder's live thread.
final class LivePrinter: @unchecked Sendable {
    private var tracker = SessionTracker(decodesEveryPDU: true)
    private let text: DecodeText
    private let sink = OutputSink(flushThreshold: 1)

    init(showSecrets: Bool) {
        text = DecodeText(options: RenderOptions(showSecrets: showSecrets))
        sink.write(text.header + "\n")
        sink.flush()
    }

    func print(_ event: StreamEvent) {
        tracker.handle(event) { item in
            if case .pdu(let pdu) = item {
                sink.write(text.line(pdu) + "\n")
            } else if let line = text.line(event: item) {
                sink.write(line + "\n")
            }
        }
        sink.flush()
    }
}

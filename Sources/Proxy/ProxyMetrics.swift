// Metrics of the recorded traffic, through swift-metrics (the command line hands in a Prometheus factory): PDUs by
// command, status and direction; response times as the proxy saw them; requests outstanding per account;
// throttling; sessions; the recording's backlog. Fed from the recorder's own thread, never from forwarding.
//
// Label values come from the wire, so they are bounded: commands and statuses outside the specifications are
// "unknown" (vendor statuses 0x400-0x4FF keep their code), account names are cut to the 16 octets a system_id
// may have.

import Capture
import CoreMetrics
import Foundation
import Reassembly
import SMPP

/// Turns recorded events into metrics.
public final class ProxyMetrics: @unchecked Sendable {
    /// The response-time histogram's name; its buckets are the factory's to set.
    public static let responseTimeLabel = "smppscope_response_seconds"
    /// Buckets that suit SMPP response times, from a loopback simulator to a slow SMSC.
    public static let responseTimeBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30),
    ]
    /// Requests kept waiting for their response per session and direction; beyond it, more are not timed.
    static let pendingLimit = 100_000

    private let factory: any MetricsFactory
    private let lock = NSLock()

    private struct Session {
        var client: Endpoint
        var account = ProxyMetrics.noAccount
        /// Per direction (0: from the client), sequence number -> request and when it passed.
        var pending: [[UInt32: (command: CommandID, time: Int64)]] = [[:], [:]]
    }

    private struct PDUKey: Hashable {
        var command: UInt32
        var status: UInt32
        var direction: Int
    }

    private struct AccountKey: Hashable {
        var account: String
        var direction: Int
    }

    private struct CommandKey: Hashable {
        var command: UInt32
        var direction: Int
    }

    private var sessions: [Int: Session] = [:]
    private var pduCounters: [PDUKey: Counter] = [:]
    private var timers: [CommandKey: CoreMetrics.Timer] = [:]
    private var unansweredCounters: [CommandKey: Counter] = [:]
    private var throttleCounters: [String: Counter] = [:]
    private var outstanding: [AccountKey: Int] = [:]
    private var outstandingGauges: [AccountKey: Gauge] = [:]

    private let sessionsTotal: Counter
    private let sessionsOpen: Gauge
    private let bytesForwarded: Counter
    private let storeBacklog: Gauge
    private let storeDropped: Counter
    private let journalDropped: Counter
    private let metricsDropped: Counter
    private var last = (sessions: 0, bytes: 0, storeDropped: 0, journalDropped: 0, metricsDropped: 0)

    static let noAccount = "(none)"
    static let directions = ["esme_to_smsc", "smsc_to_esme"]
    static let responders = ["smsc", "esme"]

    public init(factory: any MetricsFactory) {
        self.factory = factory
        sessionsTotal = Counter(label: "smppscope_sessions_total", factory: factory)
        sessionsOpen = Gauge(label: "smppscope_sessions_open", factory: factory)
        bytesForwarded = Counter(label: "smppscope_forwarded_bytes_total", factory: factory)
        storeBacklog = Gauge(label: "smppscope_store_backlog_events", factory: factory)
        storeDropped = Counter(label: "smppscope_store_dropped_events_total", factory: factory)
        journalDropped = Counter(label: "smppscope_journal_dropped_events_total", factory: factory)
        metricsDropped = Counter(label: "smppscope_metrics_dropped_events_total", factory: factory)
        sessionsOpen.record(0)
        storeBacklog.record(0)
    }

    /// Takes one recorded event, in order.
    public func handle(_ event: StreamEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .opened(let connection):
            sessions[connection.id] = Session(client: connection.synSender ?? connection.first)
        case .pdu(let pdu):
            handle(pdu)
        case .ended(let end):
            guard let session = sessions.removeValue(forKey: end.connection) else { return }
            for direction in 0...1 {
                for request in session.pending[direction].values {
                    unansweredCounter(command: request.command, direction: direction).increment()
                }
                adjustOutstanding(account: session.account, direction: direction, by: -session.pending[direction].count)
            }
        case .gap, .diagnostic:
            break
        }
    }

    private func handle(_ pdu: FramedPDU) {
        guard var session = sessions[pdu.connection], let header = PDUHeader.peek(in: pdu.bytes) else { return }
        let direction = pdu.source == session.client ? 0 : 1
        pduCounter(PDUKey(command: header.commandID.rawValue, status: header.commandStatus.rawValue, direction: direction)).increment()
        let time = pdu.timestamp.nanoseconds
        if header.commandID.isResponse {
            // The answer to a request that went the other way.
            let asked = 1 - direction
            if let request = session.pending[asked].removeValue(forKey: header.sequenceNumber) {
                adjustOutstanding(account: session.account, direction: asked, by: -1)
                timer(command: request.command, direction: asked).recordNanoseconds(max(0, time - request.time))
            }
            if header.commandStatus == .throttled, direction == 1 { throttleCounter(session.account).increment() }
        } else {
            if header.commandID == .bindTransmitter || header.commandID == .bindReceiver || header.commandID == .bindTransceiver,
                case .bind(let bind)? = try? PDU.decode(pdu.bytes).body
            {
                let account = Self.accountLabel(bind.systemID)
                if account != session.account {
                    // What the session has outstanding moves to the account it now belongs to.
                    for side in 0...1 {
                        adjustOutstanding(account: session.account, direction: side, by: -session.pending[side].count)
                        adjustOutstanding(account: account, direction: side, by: session.pending[side].count)
                    }
                    session.account = account
                }
            }
            if header.commandID.expectsResponse, session.pending[direction].count < Self.pendingLimit {
                if session.pending[direction].updateValue((header.commandID, time), forKey: header.sequenceNumber) == nil {
                    adjustOutstanding(account: session.account, direction: direction, by: 1)
                }
            }
        }
        sessions[pdu.connection] = session
    }

    /// Totals the proxy and the recorder keep, brought in when the metrics are read.
    public func update(_ counters: ProxyCounters, _ status: RecorderStatus) {
        lock.lock()
        defer { lock.unlock() }
        sessionsOpen.record(Int64(counters.open))
        sessionsTotal.increment(by: Int64(max(0, counters.sessions - last.sessions)))
        bytesForwarded.increment(by: Int64(max(0, counters.bytes - last.bytes)))
        storeBacklog.record(Int64(status.storeBacklog))
        storeDropped.increment(by: Int64(max(0, status.storeDropped - last.storeDropped)))
        journalDropped.increment(by: Int64(max(0, status.journalDropped - last.journalDropped)))
        metricsDropped.increment(by: Int64(max(0, status.metricsDropped - last.metricsDropped)))
        last = (counters.sessions, counters.bytes, status.storeDropped, status.journalDropped, status.metricsDropped)
    }

    private func pduCounter(_ key: PDUKey) -> Counter {
        if let counter = pduCounters[key] { return counter }
        let counter = Counter(
            label: "smppscope_pdus_total",
            dimensions: [
                ("command", Self.commandLabel(CommandID(key.command))), ("status", Self.statusLabel(CommandStatus(key.status))),
                ("direction", Self.directions[key.direction]),
            ],
            factory: factory)
        pduCounters[key] = counter
        return counter
    }

    private func timer(command: CommandID, direction: Int) -> CoreMetrics.Timer {
        let key = CommandKey(command: command.rawValue, direction: direction)
        if let timer = timers[key] { return timer }
        let timer = CoreMetrics.Timer(
            label: Self.responseTimeLabel,
            dimensions: [("command", Self.commandLabel(command)), ("responder", Self.responders[direction])], factory: factory)
        timers[key] = timer
        return timer
    }

    private func unansweredCounter(command: CommandID, direction: Int) -> Counter {
        let key = CommandKey(command: command.rawValue, direction: direction)
        if let counter = unansweredCounters[key] { return counter }
        let counter = Counter(
            label: "smppscope_unanswered_requests_total",
            dimensions: [("command", Self.commandLabel(command)), ("direction", Self.directions[direction])], factory: factory)
        unansweredCounters[key] = counter
        return counter
    }

    private func throttleCounter(_ account: String) -> Counter {
        if let counter = throttleCounters[account] { return counter }
        let counter = Counter(label: "smppscope_throttled_total", dimensions: [("system_id", account)], factory: factory)
        throttleCounters[account] = counter
        return counter
    }

    private func adjustOutstanding(account: String, direction: Int, by change: Int) {
        guard change != 0 else { return }
        let key = AccountKey(account: account, direction: direction)
        let value = max(0, (outstanding[key] ?? 0) + change)
        outstanding[key] = value
        let gauge: Gauge
        if let known = outstandingGauges[key] {
            gauge = known
        } else {
            gauge = Gauge(
                label: "smppscope_outstanding_requests",
                dimensions: [("system_id", account), ("direction", Self.directions[direction])], factory: factory)
            outstandingGauges[key] = gauge
        }
        gauge.record(Int64(value))
    }

    static func commandLabel(_ command: CommandID) -> String { command.isKnown ? command.name : "unknown" }

    static func statusLabel(_ status: CommandStatus) -> String {
        if status.isKnown || (0x400...0x4FF).contains(status.rawValue) { return status.name }
        return "unknown"
    }

    static func accountLabel(_ systemID: String) -> String {
        let printable = systemID.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(16)
        return printable.isEmpty ? noAccount : String(String.UnicodeScalarView(printable))
    }
}

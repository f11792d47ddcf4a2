// Metrics of the recorded traffic, through swift-metrics (the command line hands in a Prometheus factory): PDUs by
// command, status and direction; response times as the proxy saw them; requests outstanding per account;
// throttling; sessions; the recording's backlog. Fed from the recorder's own thread, never from forwarding.
//
// Label values come from the wire, so they are bounded: commands and statuses outside the specifications are
// "unknown" (vendor statuses 0x400-0x4FF keep their code) and share one series; an account becomes a label value
// only once the SMSC accepted its bind, cut to the 16 octets a system_id may have, and at most `maximumAccounts`
// of them (the rest count as "other"). Sessions followed at once are bounded by `sessionLimit`.

import Capture
import CoreMetrics
import Foundation
import Reassembly
import SMPP
import Transport

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
    /// Every metric this type makes, with its HELP text (Prometheus conventions: counters end in `_total`, times
    /// in seconds). docs/record.md lists the same; the dashboard in docs/grafana uses only these.
    public static let descriptions: [String: String] = [
        "smppscope_pdus_total": "PDUs forwarded, by command, command_status and direction.",
        "smppscope_response_seconds":
            "Time from a request to its response as the proxy saw both, by command and responder.",
        "smppscope_outstanding_requests":
            "Requests sent and not yet answered, by account and direction (the window in use).",
        "smppscope_unanswered_requests_total": "Requests whose session ended before their response came.",
        "smppscope_throttled_total": "ESME_RTHROTTLED responses from the SMSC, by account.",
        "smppscope_sessions_open": "Client connections open now.",
        "smppscope_sessions_total": "Client connections since start.",
        "smppscope_forwarded_bytes_total": "Bytes forwarded, both directions.",
        "smppscope_store_backlog_events": "Recorded events waiting for the store.",
        "smppscope_store_dropped_events_total": "Events the store's full queue did not take.",
        "smppscope_journal_dropped_events_total": "Events the journal's full queue did not take.",
        "smppscope_metrics_dropped_events_total": "Events the metrics' full queue did not take.",
        "smppscope_limit_reached_total": "Times each limit or timeout of the proxy tripped, by limit.",
    ]

    /// Requests kept waiting for their response per session and direction; beyond it, more are not timed.
    static let pendingLimit = 100_000
    /// Sessions followed at once (more than the proxy allows open only if their ends were lost to a full queue).
    static let sessionLimit = 100_000
    /// Distinct accounts given a label value of their own by default.
    public static let defaultMaximumAccounts = 100

    private let factory: any MetricsFactory
    private let lock = NSLock()
    private let maximumAccounts: Int
    /// Accounts given a label value of their own.
    private var accounts: Set<String> = []
    /// Limits that tripped outside the proxy (the metrics endpoint, the accounts cap), by `ProxyLimit.rawValue`.
    private var ownLimits = [Int](repeating: 0, count: ProxyLimit.allCases.count)

    private struct Session {
        var client: Endpoint
        var account = ProxyMetrics.noAccount
        /// Binds sent and not yet answered: sequence number -> the account they name.
        var binds: [UInt32: String] = [:]
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
    private var limitCounters: [Int: Counter] = [:]
    private var lastLimits = [Int](repeating: 0, count: ProxyLimit.allCases.count)

    static let noAccount = "(none)"
    static let otherAccount = "other"
    /// The command and status keys that stand for every value outside the specifications.
    static let unknownCommand: UInt32 = 0xFFFF_FFFF
    static let unknownStatus: UInt32 = 0xFFFF_FFFF
    static let directions = ["esme_to_smsc", "smsc_to_esme"]
    static let responders = ["smsc", "esme"]

    public init(factory: any MetricsFactory, maximumAccounts: Int = ProxyMetrics.defaultMaximumAccounts) {
        self.factory = factory
        self.maximumAccounts = max(0, maximumAccounts)
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
            guard sessions.count < Self.sessionLimit else { return }
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

    private func handle(_ pdu: TimelinePDU) {
        let header = pdu.header
        // Taken out of the table while it changes, so that its pending tables are not copied.
        guard var session = sessions.removeValue(forKey: pdu.session) else { return }
        let direction = pdu.source == session.client ? 0 : 1
        let command = Self.commandKey(header.commandID)
        pduCounter(PDUKey(command: command, status: Self.statusKey(header.commandStatus), direction: direction))
            .increment()
        let time = pdu.timestamp.nanoseconds
        if header.commandID.isResponse {
            // The answer to a request that went the other way.
            let asked = 1 - direction
            if let request = session.pending[asked].removeValue(forKey: header.sequenceNumber) {
                adjustOutstanding(account: session.account, direction: asked, by: -1)
                timer(command: request.command, direction: asked).recordNanoseconds(max(0, time - request.time))
            }
            if header.commandStatus == .throttled, direction == 1 { throttleCounter(session.account).increment() }
            if let named = session.binds.removeValue(forKey: header.sequenceNumber), direction == 1,
                Self.isBindResponse(header.commandID), header.commandStatus == .ok
            {
                // The SMSC accepted the bind: the session belongs to that account from now on.
                let account = admit(named)
                if account != session.account {
                    // What the session has outstanding moves to the account it now belongs to.
                    for side in 0...1 {
                        adjustOutstanding(account: session.account, direction: side, by: -session.pending[side].count)
                        adjustOutstanding(account: account, direction: side, by: session.pending[side].count)
                    }
                    session.account = account
                }
            }
        } else {
            if direction == 0, Self.isBind(header.commandID), session.binds.count < 16,
                case .bind(let bind)? = try? PDU.decode(pdu.raw).body
            {
                session.binds[header.sequenceNumber] = Self.accountLabel(bind.systemID)
            }
            if header.commandID.expectsResponse, session.pending[direction].count < Self.pendingLimit {
                let request = (CommandID(command), time)
                if session.pending[direction].updateValue(request, forKey: header.sequenceNumber) == nil {
                    adjustOutstanding(account: session.account, direction: direction, by: 1)
                }
            }
        }
        sessions[pdu.session] = session
    }

    /// The label value of an account the SMSC accepted: its own while there is room, else "other".
    private func admit(_ account: String) -> String {
        if account == Self.noAccount || accounts.contains(account) { return account }
        guard accounts.count < maximumAccounts else {
            ownLimits[ProxyLimit.metricsAccounts.rawValue] += 1
            return Self.otherAccount
        }
        accounts.insert(account)
        return account
    }

    static func isBind(_ id: CommandID) -> Bool {
        id == .bindTransmitter || id == .bindReceiver || id == .bindTransceiver
    }

    static func isBindResponse(_ id: CommandID) -> Bool {
        id == .bindTransmitterResp || id == .bindReceiverResp || id == .bindTransceiverResp
    }

    /// One key for every command outside the specifications.
    static func commandKey(_ command: CommandID) -> UInt32 { command.isKnown ? command.rawValue : unknownCommand }

    /// One key for every status outside the specifications but the vendor range.
    static func statusKey(_ status: CommandStatus) -> UInt32 {
        status.isKnown || (0x400...0x4FF).contains(status.rawValue) ? status.rawValue : unknownStatus
    }

    /// Counts a limit that tripped outside the proxy (the metrics endpoint's timeouts).
    public func limitReached(_ limit: ProxyLimit) {
        lock.lock()
        ownLimits[limit.rawValue] += 1
        lock.unlock()
    }

    /// Where the recording stands, for the metrics of its queues.
    public struct RecordingFigures: Sendable {
        public var storeBacklog = 0
        public var storeDropped = 0
        public var journalDropped = 0
        public var metricsDropped = 0

        public init(storeBacklog: Int = 0, storeDropped: Int = 0, journalDropped: Int = 0, metricsDropped: Int = 0) {
            self.storeBacklog = storeBacklog
            self.storeDropped = storeDropped
            self.journalDropped = journalDropped
            self.metricsDropped = metricsDropped
        }
    }

    /// Totals the proxy and the recorder keep, brought in when the metrics are read.
    public func update(_ counters: ProxyCounters, _ status: RecordingFigures) {
        lock.lock()
        defer { lock.unlock() }
        let limits = zip(counters.limits, ownLimits).map { $0 + $1 }
        for limit in ProxyLimit.allCases {
            let value = limits[limit.rawValue]
            let counter: Counter
            if let known = limitCounters[limit.rawValue] {
                counter = known
            } else {
                counter = Counter(
                    label: "smppscope_limit_reached_total", dimensions: [("limit", limit.label)], factory: factory)
                limitCounters[limit.rawValue] = counter
            }
            counter.increment(by: Int64(max(0, value - lastLimits[limit.rawValue])))
            lastLimits[limit.rawValue] = max(value, lastLimits[limit.rawValue])
        }
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
                ("command", Self.commandLabel(CommandID(key.command))),
                ("status", Self.statusLabel(CommandStatus(key.status))),
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
            dimensions: [("command", Self.commandLabel(command)), ("responder", Self.responders[direction])],
            factory: factory)
        timers[key] = timer
        return timer
    }

    private func unansweredCounter(command: CommandID, direction: Int) -> Counter {
        let key = CommandKey(command: command.rawValue, direction: direction)
        if let counter = unansweredCounters[key] { return counter }
        let counter = Counter(
            label: "smppscope_unanswered_requests_total",
            dimensions: [("command", Self.commandLabel(command)), ("direction", Self.directions[direction])],
            factory: factory)
        unansweredCounters[key] = counter
        return counter
    }

    private func throttleCounter(_ account: String) -> Counter {
        if let counter = throttleCounters[account] { return counter }
        let counter = Counter(
            label: "smppscope_throttled_total", dimensions: [("system_id", account)], factory: factory)
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

    static func commandLabel(_ command: CommandID) -> String {
        command.isKnown && command.rawValue != unknownCommand ? command.name : "unknown"
    }

    static func statusLabel(_ status: CommandStatus) -> String {
        if status.rawValue != unknownStatus, status.isKnown || (0x400...0x4FF).contains(status.rawValue) {
            return status.name
        }
        return "unknown"
    }

    static func accountLabel(_ systemID: String) -> String {
        let printable = systemID.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(16)
        return printable.isEmpty ? noAccount : String(String.UnicodeScalarView(printable))
    }
}

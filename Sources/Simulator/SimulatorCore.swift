// The simulated SMSC's state, shared by all connections and confined to one event loop: accounts and their bound
// sessions, message ids and states, throughput windows, duplicates, receipts waiting for a receiver.

import NIOCore
import SMPP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds since the epoch, from the real-time clock.
func wallClock() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// What happened, for the log and the summary.
public enum SimulatorEvent: Sendable {
    case connected(connection: Int, remote: String, local: String, tls: Bool)
    case disconnected(connection: Int, reason: String)
    /// A PDU received (`inbound`) or sent, with its bytes and the time (epoch seconds).
    case pdu(connection: Int, inbound: Bool, remote: String, local: String, bytes: ByteBuffer, time: Double)
    case notice(String)
}

/// Counts for the summary on exit.
public struct SimulatorSummary: Sendable, Hashable {
    public var connections = 0
    public var bindsAccepted = 0
    public var bindsRefused = 0
    public var submitsAccepted = 0
    public var throttled = 0
    public var duplicatesRefused = 0
    public var queueFull = 0
    public var otherRefusals = 0
    public var receiptsSent = 0
    public var mobileOriginatedSent = 0
    public var closedByNewerBind = 0
    public var idleTimeouts = 0

    public var description: String {
        "\(connections) connections, \(bindsAccepted) binds (\(bindsRefused) refused), \(submitsAccepted) submits accepted, "
            + "\(throttled) throttled, \(duplicatesRefused) duplicates refused, \(queueFull) over the window, "
            + "\(receiptsSent) receipts, \(mobileOriginatedSent) MO messages, \(closedByNewerBind) closed by a newer bind, "
            + "\(idleTimeouts) idle timeouts"
    }
}

/// A message the SMSC accepted.
struct MessageRecord {
    var id: String
    var state: UInt8  // 1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 4 DELETED, 5 UNDELIVERABLE, 8 REJECTED
    var submitted: Double
    var finalAt: Double?
    var source: Address
    var destination: Address
    var account: String
}

/// State of one login.
final class AccountState {
    let account: SimulatorConfiguration.Account
    let throughput: Double
    /// Bound connections, oldest first.
    var bound: [SMSCConnection] = []
    /// Times of accepted submits, for the per-second limit.
    var accepted: [Double] = []
    var acceptedHead = 0
    /// Message identity -> time accepted, for the duplicate rule.
    var recent: [Int: Double] = [:]
    /// Receipts and MO messages waiting for a receiver to bind.
    var undelivered: [PDU] = []

    init(account: SimulatorConfiguration.Account, throughput: Double) {
        self.account = account
        self.throughput = throughput
    }

    /// Accepted submits in (now - 1 s, now].
    func acceptedInLastSecond(now: Double) -> Int {
        while acceptedHead < accepted.count, accepted[acceptedHead] <= now - 1 { acceptedHead += 1 }
        if acceptedHead > 1_024 {
            accepted.removeFirst(acceptedHead)
            acceptedHead = 0
        }
        return accepted.count - acceptedHead
    }
}

/// Everything the connections share. Every method runs on the simulator's event loop.
final class SimulatorCore: @unchecked Sendable {
    let configuration: SimulatorConfiguration
    let eventLoop: EventLoop
    let emit: @Sendable (SimulatorEvent) -> Void
    var summary = SimulatorSummary()
    var accounts: [String: AccountState] = [:]
    var messages: [String: MessageRecord] = [:]
    var messageOrder: [String] = []
    var nextMessageID: UInt64
    var nextConnectionID = 1
    var random: SplitMix64
    var connections: [Int: SMSCConnection] = [:]
    /// Parts of long messages: (account, source, destination, reference, total) -> the id given to the first part
    /// and the parts seen so far.
    var longMessages: [String: (id: String, parts: Set<UInt8>)] = [:]
    static let maximumMessages = 1_000_000

    init(configuration: SimulatorConfiguration, eventLoop: EventLoop, emit: @escaping @Sendable (SimulatorEvent) -> Void) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.emit = emit
        nextMessageID = configuration.firstMessageID
        random = SplitMix64(seed: configuration.seed)
        for account in configuration.accounts {
            accounts[account.systemID] = AccountState(account: account, throughput: account.throughput ?? configuration.throughput)
        }
    }

    /// Seconds since the epoch.
    var now: Double { wallClock() }

    func newMessageID() -> String {
        defer { nextMessageID += 1 }
        return String(nextMessageID)
    }

    func remember(_ record: MessageRecord) {
        if messages[record.id] == nil { messageOrder.append(record.id) }
        messages[record.id] = record
        if messageOrder.count > Self.maximumMessages {
            let drop = messageOrder.count / 10
            for id in messageOrder.prefix(drop) { messages[id] = nil }
            messageOrder.removeFirst(drop)
        }
    }

    /// The response latency to wait, in seconds.
    func latency() -> Double {
        if let distribution = configuration.latencyDistribution, let first = distribution.first {
            let p = random.nextDouble() * 100
            var previous = (percentile: 0.0, seconds: first.seconds)
            for point in distribution {
                if p <= point.percentile {
                    let span = point.percentile - previous.percentile
                    let fraction = span > 0 ? (p - previous.percentile) / span : 0
                    return previous.seconds + fraction * (point.seconds - previous.seconds)
                }
                previous = point
            }
            return previous.seconds
        }
        return configuration.latency + random.nextDouble() * configuration.jitter
    }

    /// A connection bound: routes waiting receipts to it when it can receive.
    func deliverWaiting(for account: AccountState, to connection: SMSCConnection) {
        guard connection.canReceive, !account.undelivered.isEmpty else { return }
        let waiting = account.undelivered
        account.undelivered = []
        for pdu in waiting { connection.sendRequest(pdu) }
    }

    /// Sends a deliver_sm to a receiver of the account (the preferred connection if it can receive); keeps it for
    /// later when none is bound.
    func deliver(_ pdu: PDU, account systemID: String, preferring preferred: SMSCConnection?) {
        guard let account = accounts[systemID] else { return }
        if let preferred, preferred.isActive, preferred.canReceive, account.bound.contains(where: { $0 === preferred }) {
            preferred.sendRequest(pdu)
        } else if let receiver = account.bound.first(where: { $0.canReceive && $0.isActive }) {
            receiver.sendRequest(pdu)
        } else if account.undelivered.count < 100_000 {
            account.undelivered.append(pdu)
        }
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

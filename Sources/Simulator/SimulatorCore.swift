// Runs the simulated SMSC's state machine on one event loop: feeds it what the connections and timers bring, and
// carries out what it returns (writes, closes, timers, log lines). The rules themselves are in SMSCStateMachine.

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
    /// Parts of long messages refused on purpose (``SimulatorConfiguration/refusedPart``).
    public var partsRefused = 0
    public var queueFull = 0
    public var otherRefusals = 0
    public var receiptsSent = 0
    /// Receipts sent a second time (``SimulatorConfiguration/duplicateReceipts``), among `receiptsSent`.
    public var receiptsRepeated = 0
    /// Responses held back (``SimulatorConfiguration/lateResponses``).
    public var lateResponses = 0
    public var mobileOriginatedSent = 0
    public var closedByNewerBind = 0
    public var idleTimeouts = 0

    public var description: String {
        "\(connections) connections, \(bindsAccepted) binds (\(bindsRefused) refused), \(submitsAccepted) submits accepted, "
            + "\(throttled) throttled, \(duplicatesRefused) duplicates refused, "
            + (partsRefused > 0 ? "\(partsRefused) parts refused, " : "") + "\(queueFull) over the window, "
            + (lateResponses > 0 ? "\(lateResponses) responses late, " : "") + "\(receiptsSent) receipts"
            + (receiptsRepeated > 0 ? " (\(receiptsRepeated) sent twice)" : "")
            + ", \(mobileOriginatedSent) MO messages, \(closedByNewerBind) closed by a newer bind, "
            + "\(idleTimeouts) idle timeouts"
    }
}

/// The machine and the open channels. Every method runs on the simulator's event loop.
final class SimulatorCore: @unchecked Sendable {
    struct Connection {
        let channel: Channel
        let remote: String
        let local: String
    }

    let eventLoop: EventLoop
    let emit: @Sendable (SimulatorEvent) -> Void
    var machine: SMSCStateMachine
    var connections: [Int: Connection] = [:]
    /// Open connections to the control port.
    var controlConnections: [ObjectIdentifier: Channel] = [:]
    /// Set by the simulator's shutdown: what is still scheduled then does nothing.
    var stopped = false

    init(
        configuration: SimulatorConfiguration, eventLoop: EventLoop, emit: @escaping @Sendable (SimulatorEvent) -> Void
    ) {
        self.eventLoop = eventLoop
        self.emit = emit
        machine = SMSCStateMachine(configuration: configuration)
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        switch address {
        case .v6: return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        default: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }

    /// A channel became active: it gets a connection id.
    func opened(_ channel: Channel, tls: Bool) -> Int {
        let (id, actions) = machine.connected(now: wallClock())
        let connection = Connection(
            channel: channel, remote: Self.describe(channel.remoteAddress), local: Self.describe(channel.localAddress))
        connections[id] = connection
        emit(.connected(connection: id, remote: connection.remote, local: connection.local, tls: tls))
        run(actions)
        return id
    }

    func received(_ frame: ByteBuffer, on id: Int) {
        let now = wallClock()
        if let connection = connections[id] {
            emit(
                .pdu(
                    connection: id, inbound: true, remote: connection.remote, local: connection.local, bytes: frame,
                    time: now))
        }
        run(machine.received(frame, on: id, now: now))
    }

    func closed(_ id: Int) {
        machine.closed(connection: id)
        if connections.removeValue(forKey: id) != nil { emit(.disconnected(connection: id, reason: "closed")) }
    }

    /// Carries out what the machine asked for.
    func run(_ actions: [SMSCStateMachine.Action]) {
        if stopped { return }
        for action in actions {
            switch action {
            case .write(let id, let pdu):
                guard let connection = connections[id] else { continue }
                var buffer = connection.channel.allocator.buffer(capacity: 64)
                pdu.encode(into: &buffer)
                emit(
                    .pdu(
                        connection: id, inbound: false, remote: connection.remote, local: connection.local,
                        bytes: buffer, time: wallClock()))
                connection.channel.writeAndFlush(buffer, promise: nil)
            case .close(let id):
                connections[id]?.channel.close(promise: nil)
            case .schedule(let timer, let after):
                // At most about 31 years ahead: a delay from the configuration never overflows the nanoseconds.
                let nanoseconds = Int64(max(0, min(after, 1e9)) * 1e9)
                eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in
                    run(machine.timerFired(timer, now: wallClock()))
                }
            case .notice(let text):
                emit(.notice(text))
            }
        }
    }

    /// Closes every connection (shutdown); the futures complete when they are closed.
    func closeAll() -> [EventLoopFuture<Void>] {
        connections.values.map { $0.channel.close() } + controlConnections.values.map { $0.close() }
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix64: Sendable {
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

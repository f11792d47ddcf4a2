// The life of one proxied session, without I/O: what happens on the two connections (bytes, half-closes, resets,
// the SMSC connection coming up or failing, time passing) comes in as events; what to do about it goes out as
// actions. `ProxySession` runs the actions on the channels; the tests drive the machine with plain values.
//
// The rules it keeps:
// - Bytes the client sends before the SMSC connection is up are held, in order, and delivered first once it is;
//   past `holdBytes` the client is not read until then (nothing is dropped). A half-close among them is passed
//   on after them.
// - A client that goes before the SMSC connection is up takes it with it: the connection is closed as soon as it
//   is made. A client that half-closes without having sent a byte (a health check, a port scan) is closed at once.
// - A FIN from one side is passed to the other once what was forwarded before it has gone out; a side that has
//   both received and sent its FIN is closed. A reset is passed on as a reset. A side that is gone takes the
//   other with it, after what was forwarded to it has gone out.
// - Timers: no byte for `idleTimeout` closes the session; once a side has half-closed, no byte for
//   `halfCloseTimeout` closes it.

import Capture
import NIOCore
import Reassembly

/// One side of a proxied session.
public enum ProxySide: Int, Sendable, CaseIterable, CustomStringConvertible {
    case client = 0
    case smsc = 1

    public var other: ProxySide { self == .client ? .smsc : .client }
    public var description: String { self == .client ? "client" : "SMSC" }
}

/// A limit the proxy enforces; each is counted when it trips (`smppscope_limit_reached_total{limit=...}`).
public enum ProxyLimit: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// The SMSC connection was not made within `--connect-timeout`.
    case connectTimeout
    /// A session was silent for `--idle-timeout`.
    case idleTimeout
    /// A half-closed session was silent for `--half-close-timeout`.
    case halfCloseTimeout
    /// A client was refused: `--max-sessions` were open.
    case maxSessions
    /// A client was refused: `--max-sessions-per-client` were open from its address.
    case maxSessionsPerClient
    /// The client sent `holdBytes` before the SMSC connection was up and was paused.
    case holdBuffer
    /// A metrics request did not send its header within the header timeout.
    case metricsHeaderTimeout
    /// A metrics connection was idle past the idle timeout.
    case metricsIdleTimeout
    /// Accounts past `--metrics-max-accounts` were counted under `other`.
    case metricsAccounts

    /// The `limit` label value.
    public var label: String {
        switch self {
        case .connectTimeout: return "connect_timeout"
        case .idleTimeout: return "idle_timeout"
        case .halfCloseTimeout: return "half_close_timeout"
        case .maxSessions: return "max_sessions"
        case .maxSessionsPerClient: return "max_sessions_per_client"
        case .holdBuffer: return "hold_buffer"
        case .metricsHeaderTimeout: return "metrics_header_timeout"
        case .metricsIdleTimeout: return "metrics_idle_timeout"
        case .metricsAccounts: return "metrics_accounts"
        }
    }

    public var description: String { label }
}

/// Bounds and timers of one session.
public struct ProxySessionLimits: Sendable, Hashable {
    /// Bytes of the client's held while the SMSC connection is made; past it the client is not read until it is up.
    public var holdBytes = 256 << 10
    /// A session in which no byte passed for this long is closed (nil: never).
    public var idleTimeout: TimeAmount?
    /// Once a side has half-closed, a session in which no byte passed for this long is closed.
    public var halfCloseTimeout: TimeAmount = .seconds(60)

    public init() {}
}

/// The proxy's rules for one session (see the file's header).
public struct ProxySessionStateMachine {
    /// What happened.
    public enum Event {
        /// The SMSC connection is up.
        case upstreamConnected
        /// The SMSC connection could not be made.
        case upstreamFailed(reason: String, timedOut: Bool)
        /// Bytes arrived from a side, at a wall-clock time.
        case received(ByteBuffer, from: ProxySide, at: Timestamp)
        /// A side half-closed (its FIN arrived).
        case inputClosed(ProxySide, at: Timestamp)
        /// The FIN asked for by `shutdownOutput` has gone out (or the side could not take it).
        case outputClosed(ProxySide)
        /// A side's connection failed: reset by the peer (`reset`) or another error.
        case failed(ProxySide, reset: Bool, at: Timestamp)
        /// A side's connection is closed.
        case closed(ProxySide, at: Timestamp)
        /// A side can take more bytes, or cannot.
        case writabilityChanged(ProxySide, writable: Bool)
        /// Time passed; timers are checked (`at`: the wall-clock time, should one trip).
        case tick(at: Timestamp)
        /// The proxy is stopping: both sides are closed after what was forwarded has gone out.
        case shutdown(at: Timestamp)
    }

    /// What to do.
    public enum Action: Equatable {
        /// Record the session's opening (the client connected at `clientSince`).
        case recordOpened
        /// Write these bytes to `to` (they came from the other side at `arrived`) and record them.
        case forward(ByteBuffer, to: ProxySide, arrived: Timestamp)
        /// Start or stop reading a side.
        case setReading(ProxySide, Bool)
        /// Send a FIN to the side once what was written to it has gone out.
        case shutdownOutput(ProxySide)
        /// Close the side's connection.
        case close(ProxySide)
        /// Close the side's connection with a RST.
        case reset(ProxySide)
        /// A limit tripped.
        case limitReached(ProxyLimit)
        /// The SMSC connection failed; the client is closed.
        case upstreamFailed(reason: String)
        /// Both sides are closed: the session is over (`end` says how it began to end).
        case finished
    }

    /// Where the SMSC connection stands.
    enum Upstream: Equatable {
        case connecting
        /// Connecting, but the client is gone: closed as soon as it is made.
        case abandoned
        case connected
        case failed
    }

    struct SideState {
        var inputClosed = false
        var outputRequested = false
        var outputClosed = false
        /// Close fully once the FIN has gone out.
        var closeAfterOutput = false
        var closeRequested = false
        var closed = false
        var writable = true
        var reading = true
    }

    public let limits: ProxySessionLimits
    /// When the client connected.
    public let clientSince: Timestamp
    private(set) var upstream = Upstream.connecting
    private var sides = [SideState(), SideState()]
    /// Client bytes waiting for the SMSC connection, with the time each arrived.
    private var held: [(bytes: ByteBuffer, arrived: Timestamp)] = []
    private(set) var heldBytes = 0
    /// The first FIN or RST, once seen; a close the proxy starts (a timer, a shutdown) counts as a FIN from the
    /// SMSC's side, which is what the client sees.
    public private(set) var end: (kind: ConnectionEnd.Kind, by: ProxySide, at: Timestamp)?
    public private(set) var resetBy: ProxySide?
    private(set) var isFinished = false
    /// Bytes that arrived for a side that could no longer take them.
    public private(set) var discardedBytes = 0
    private var lastActivity: NIODeadline
    private var halfClosed = false
    /// Set once a timer tripped: nothing more is waited for.
    private var timersOff = false
    /// A timer that tripped, for the log.
    public private(set) var timedOut: ProxyLimit?

    public init(limits: ProxySessionLimits, clientSince: Timestamp, now: NIODeadline) {
        self.limits = limits
        self.clientSince = clientSince
        lastActivity = now
    }

    private subscript(_ side: ProxySide) -> SideState {
        get { sides[side.rawValue] }
        set { sides[side.rawValue] = newValue }
    }

    /// True while bytes from `side` can be passed on (the other side can still be written to).
    private func canForward(from side: ProxySide) -> Bool {
        let to = self[side.other]
        if side.other == .smsc, upstream != .connected { return false }
        return !to.outputRequested && !to.closeRequested && !to.closed
    }

    /// When `tick` should next come, if a timer runs.
    public var nextDeadline: NIODeadline? {
        guard !isFinished, !timersOff else { return nil }
        var limit = limits.idleTimeout
        if halfClosed { limit = min(limit ?? limits.halfCloseTimeout, limits.halfCloseTimeout) }
        return limit.map { lastActivity + $0 }
    }

    /// Handles one event; returns what to do, in order.
    public mutating func handle(_ event: Event, now: NIODeadline) -> [Action] {
        guard !isFinished else {
            // A late connection after the end is closed; anything else is over.
            if case .upstreamConnected = event { return [.close(.smsc)] }
            return []
        }
        var actions: [Action] = []
        switch event {
        case .upstreamConnected:
            upstreamConnected(&actions)
        case .upstreamFailed(let reason, let timedOut):
            if timedOut { actions.append(.limitReached(.connectTimeout)) }
            let abandoned = upstream == .abandoned
            upstream = .failed
            if !abandoned {
                actions.append(.upstreamFailed(reason: reason))
                requestClose(.client, &actions)
            }
        case .received(let bytes, let side, let time):
            lastActivity = now
            received(bytes, from: side, at: time, &actions)
        case .inputClosed(let side, let time):
            lastActivity = now
            inputClosed(side, at: time, &actions)
        case .outputClosed(let side):
            self[side].outputClosed = true
            if self[side].closeAfterOutput || self[side].inputClosed { requestClose(side, &actions) }
        case .failed(let side, let reset, let time):
            if reset, resetBy == nil {
                resetBy = side
                noteEnd(.rst, by: side, at: time)
            }
            requestClose(side, &actions)
            sideGone(side, &actions)
        case .closed(let side, let time):
            self[side].closed = true
            noteEnd(.fin, by: side, at: time)
            sideGone(side, &actions)
        case .writabilityChanged(let side, let writable):
            self[side].writable = writable
            updateReading(side.other, &actions)
        case .tick(let time):
            tick(now: now, at: time, &actions)
        case .shutdown(let time):
            noteEnd(.fin, by: .smsc, at: time)
            closeAfterWrites(.client, &actions)
            if upstream == .connected { closeAfterWrites(.smsc, &actions) }
        }
        checkFinished(&actions)
        return actions
    }

    /// The hot path: bytes from a side. Returns what to do with them without building a list.
    public enum Received: Equatable {
        /// Write them to the other side (and record them).
        case forward
        /// Kept until the SMSC connection is up; `pause` stops reading the client meanwhile.
        case held(pause: Bool)
        /// The other side can no longer take them.
        case discarded
    }

    /// Bytes from `side`: the common case, without an action list.
    public mutating func received(_ bytes: ByteBuffer, from side: ProxySide, at time: Timestamp, now: NIODeadline)
        -> Received
    {
        lastActivity = now
        if canForward(from: side) { return .forward }
        if side == .client, upstream == .connecting {
            held.append((bytes, time))
            heldBytes += bytes.readableBytes
            if heldBytes >= limits.holdBytes, self[.client].reading {
                self[.client].reading = false
                return .held(pause: true)
            }
            return .held(pause: false)
        }
        discardedBytes += bytes.readableBytes
        return .discarded
    }

    private mutating func received(
        _ bytes: ByteBuffer, from side: ProxySide, at time: Timestamp, _ actions: inout [Action]
    ) {
        switch received(bytes, from: side, at: time, now: lastActivity) {
        case .forward: actions.append(.forward(bytes, to: side.other, arrived: time))
        case .held(let pause):
            if pause { actions.append(contentsOf: [.setReading(.client, false), .limitReached(.holdBuffer)]) }
        case .discarded: break
        }
    }

    private mutating func upstreamConnected(_ actions: inout [Action]) {
        switch upstream {
        case .abandoned:
            upstream = .connected
            self[.smsc].closeRequested = true
            actions.append(.close(.smsc))
            return
        case .connecting:
            upstream = .connected
        case .connected, .failed:
            return
        }
        actions.append(.recordOpened)
        for (bytes, arrived) in held { actions.append(.forward(bytes, to: .smsc, arrived: arrived)) }
        held.removeAll()
        heldBytes = 0
        if self[.client].inputClosed {
            requestOutputClose(.smsc, &actions)
        }
        updateReading(.client, &actions)
    }

    private mutating func inputClosed(_ side: ProxySide, at time: Timestamp, _ actions: inout [Action]) {
        guard !self[side].inputClosed else { return }
        self[side].inputClosed = true
        halfClosed = true
        noteEnd(.fin, by: side, at: time)
        if side == .client, upstream == .connecting || upstream == .abandoned {
            if held.isEmpty {
                // Nothing to pass on: a health check or a scan. The SMSC connection goes too.
                upstream = .abandoned
                requestClose(.client, &actions)
            }
            // Otherwise the FIN follows the held bytes once the SMSC connection is up.
            return
        }
        if self[side.other].closed || self[side.other].closeRequested {
            requestClose(side, &actions)
            return
        }
        requestOutputClose(side.other, &actions)
        if self[side].outputClosed { requestClose(side, &actions) }
    }

    /// A side's connection is gone or broken: the other follows, after what was forwarded to it has gone out
    /// (at once, with a RST, when the side was reset).
    private mutating func sideGone(_ side: ProxySide, _ actions: inout [Action]) {
        if side == .client {
            if upstream == .connecting { upstream = .abandoned }
            held.removeAll()
            heldBytes = 0
        }
        let other = side.other
        if other == .smsc, upstream != .connected { return }
        guard !self[other].closed else { return }
        if resetBy == side {
            if !self[other].closeRequested {
                self[other].closeRequested = true
                actions.append(.reset(other))
            }
        } else {
            closeAfterWrites(other, &actions)
        }
    }

    private mutating func closeAfterWrites(_ side: ProxySide, _ actions: inout [Action]) {
        guard !self[side].closed, !self[side].closeRequested else { return }
        if self[side].outputClosed {
            requestClose(side, &actions)
        } else {
            self[side].closeAfterOutput = true
            requestOutputClose(side, &actions)
        }
    }

    private mutating func requestOutputClose(_ side: ProxySide, _ actions: inout [Action]) {
        guard !self[side].outputRequested, !self[side].closeRequested, !self[side].closed else { return }
        self[side].outputRequested = true
        actions.append(.shutdownOutput(side))
    }

    private mutating func requestClose(_ side: ProxySide, _ actions: inout [Action]) {
        guard !self[side].closeRequested, !self[side].closed else { return }
        if side == .smsc, upstream != .connected { return }
        self[side].closeRequested = true
        actions.append(.close(side))
    }

    private mutating func noteEnd(_ kind: ConnectionEnd.Kind, by side: ProxySide, at time: Timestamp) {
        if end == nil { end = (kind, side, time) }
    }

    /// Reads a side when it is wanted: the other side can take more, and (for the client) the hold is not full.
    private mutating func updateReading(_ side: ProxySide, _ actions: inout [Action]) {
        var wanted = self[side.other].writable
        if side == .client, upstream == .connecting, heldBytes >= limits.holdBytes { wanted = false }
        if side == .smsc, upstream != .connected { return }
        guard wanted != self[side].reading, !self[side].closed else { return }
        self[side].reading = wanted
        actions.append(.setReading(side, wanted))
    }

    private mutating func tick(now: NIODeadline, at time: Timestamp, _ actions: inout [Action]) {
        guard let deadline = nextDeadline, now >= deadline else { return }
        let limit: ProxyLimit =
            halfClosed && limits.halfCloseTimeout <= (limits.idleTimeout ?? limits.halfCloseTimeout)
            ? .halfCloseTimeout : .idleTimeout
        timedOut = limit
        actions.append(.limitReached(limit))
        timersOff = true
        noteEnd(.fin, by: .smsc, at: time)
        closeAfterWrites(.client, &actions)
        if upstream == .connected { closeAfterWrites(.smsc, &actions) }
        if upstream == .connecting { upstream = .abandoned }
    }

    private mutating func checkFinished(_ actions: inout [Action]) {
        guard self[.client].closed else { return }
        switch upstream {
        case .connecting, .abandoned:
            return
        case .connected:
            guard self[.smsc].closed else { return }
        case .failed:
            break
        }
        isFinished = true
        actions.append(.finished)
    }
}

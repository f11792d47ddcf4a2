// One client connection and its connection to the SMSC: channel events go to the session's state machine, and its
// actions are carried out here (writes, half-closes, closes, resets, reading on and off, timers). A copy of each
// direction is framed for the recording after it is forwarded, and never holds forwarding up.

import Capture
import NIOCore
import NIOPosix
import NIOSSL
import Reassembly
import SMPP
import Transport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One proxied session; touched on the proxy's event loop only.
final class ProxySession: @unchecked Sendable {
    let id: Int
    let state: ProxyState
    let client: Channel
    let clientEndpoint: Endpoint
    private(set) var upstream: Channel?
    private var upstreamEndpoint: Endpoint
    private var machine: ProxySessionStateMachine
    /// The recording's framing of each direction (0: from the client).
    private let framers: [LiveStreamFramer]
    private var opened = false
    private var pdus = 0
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(id: Int, state: ProxyState, client: Channel, clientEndpoint: Endpoint) {
        self.id = id
        self.state = state
        self.client = client
        self.clientEndpoint = clientEndpoint
        let configuration = state.configuration
        upstreamEndpoint = Endpoint(
            address: IPAddress(configuration.upstreamHost) ?? IPAddress(ipv4: 0),
            port: UInt16(truncatingIfNeeded: configuration.upstreamPort))
        machine = ProxySessionStateMachine(limits: configuration.limits, clientSince: .now, now: .now())
        framers = [
            LiveStreamFramer(maximumPDULength: configuration.maximumPDULength),
            LiveStreamFramer(maximumPDULength: configuration.maximumPDULength),
        ]
    }

    func channel(_ side: ProxySide) -> Channel? { side == .client ? client : upstream }

    private func endpoint(_ side: ProxySide) -> Endpoint { side == .client ? clientEndpoint : upstreamEndpoint }

    // MARK: Events

    /// Bytes from a side: forwarded at once when the other side can take them (the hot path).
    func received(_ bytes: ByteBuffer, from side: ProxySide) {
        state.reads += 1
        state.counters.bytes += bytes.readableBytes
        let time = Timestamp.now
        switch machine.received(bytes, from: side, at: time, now: .now()) {
        case .forward:
            forward(bytes, to: side.other, arrived: time)
        case .held(let pause):
            if pause {
                perform([.setReading(.client, false), .limitReached(.holdBuffer)])
            }
        case .discarded:
            break
        }
    }

    func handle(_ event: ProxySessionStateMachine.Event) {
        perform(machine.handle(event, now: .now()))
    }

    func shutdown() { handle(.shutdown(at: .now)) }

    // MARK: Actions

    private func perform(_ actions: [ProxySessionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .recordOpened:
                opened = true
                state.notice(.connected(session: id, upstream: "\(upstreamEndpoint)"))
                state.sink?.record(
                    .opened(
                        Connection(
                            id: id, first: clientEndpoint, second: upstreamEndpoint, synSender: clientEndpoint,
                            firstSeen: machine.clientSince)))
            case .forward(let bytes, let to, let arrived):
                forward(bytes, to: to, arrived: arrived)
            case .setReading(let side, let on):
                guard let channel = channel(side) else { continue }
                _ = channel.setOption(.autoRead, value: on)
                if on { channel.read() }
            case .shutdownOutput(let side):
                guard let channel = channel(side) else { continue }
                let done = channel.eventLoop.makePromise(of: Void.self)
                channel.close(mode: .output, promise: done)
                done.futureResult.whenComplete { [self] _ in handle(.outputClosed(side)) }
            case .close(let side):
                channel(side)?.close(promise: nil)
            case .reset(let side):
                guard let channel = channel(side) else { continue }
                // SO_LINGER with a zero timeout makes close send a RST.
                if let provider = channel as? SocketOptionProvider {
                    provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                        channel.close(promise: nil)
                    }
                } else {
                    channel.close(promise: nil)
                }
            case .limitReached(let limit):
                state.limitReached(limit, session: id, detail: Self.detail(limit, state.configuration))
            case .upstreamFailed(let reason):
                state.notice(.upstreamFailed(session: id, client: "\(clientEndpoint)", reason: reason))
            case .finished:
                timer?.cancel()
                timer = nil
                if opened {
                    let now = Timestamp.now
                    finishFraming(at: now)
                    let (kind, side, time) = machine.end ?? (.fin, .client, now)
                    state.sink?.record(
                        .ended(
                            ConnectionEnd(
                                connection: id, kind: kind, by: endpoint(side), frame: state.reads, timestamp: time)))
                }
                state.removed(self)
                let how: String
                if let limit = machine.timedOut {
                    how =
                        limit == .idleTimeout ? "closed after the idle timeout" : "closed after the half-close timeout"
                } else if let reset = machine.resetBy {
                    how = reset == .client ? "reset by the client" : "reset by the SMSC"
                } else {
                    how = "closed"
                }
                state.notice(.closed(session: id, how: how, pdus: pdus))
            }
        }
        scheduleTimer()
    }

    private static func detail(_ limit: ProxyLimit, _ configuration: ProxyConfiguration) -> String {
        switch limit {
        case .connectTimeout: return "the SMSC did not accept the connection within --connect-timeout"
        case .idleTimeout: return "no byte passed within --idle-timeout; closing both sides"
        case .halfCloseTimeout: return "half-closed and silent for --half-close-timeout; closing both sides"
        case .holdBuffer:
            return "the client sent \(configuration.limits.holdBytes) bytes before the SMSC connection was up; "
                + "it is not read until it is"
        default: return "\(limit) reached"
        }
    }

    /// Writes bytes to a side and frames the copy for the recording.
    private func forward(_ bytes: ByteBuffer, to side: ProxySide, arrived: Timestamp) {
        channel(side)?.writeAndFlush(bytes, promise: nil)
        guard opened else { return }
        let from = side.other
        framers[from.rawValue].feed(bytes, read: state.reads, timestamp: arrived) { output in
            record(output, from: from)
        }
    }

    private func record(_ output: LiveStreamFramer.Output, from side: ProxySide) {
        let source = endpoint(side)
        let destination = endpoint(side.other)
        switch output {
        case .pdu(let bytes, let offset, let read, let timestamp):
            pdus += 1
            state.counters.pdus += 1
            if let header = PDUHeader.peek(in: bytes), header.commandStatus == .throttled, header.commandID.isResponse {
                state.counters.throttled += 1
            }
            // Frames are at least a header long (``LiveStreamFramer``).
            if let pdu = TimelinePDU(
                framedIn: id, source: source, destination: destination, timestamp: timestamp, frame: read,
                streamOffset: offset, bytes: bytes)
            {
                state.sink?.record(.pdu(pdu))
            }
        case .diagnostic(let message, let offset, let read, let timestamp):
            state.counters.framingDiagnostics += 1
            let direction = side == .client ? "client -> SMSC" : "SMSC -> client"
            state.notice(.framing(session: id, direction: direction, reason: "\(message) (stream offset \(offset))"))
            state.sink?.record(
                .diagnostic(
                    StreamDiagnostic(
                        connection: id, source: source, destination: destination, streamOffset: offset, frame: read,
                        timestamp: timestamp, message: message)))
        }
    }

    /// The session ends: what each direction's framing still holds is decided and reported.
    private func finishFraming(at time: Timestamp) {
        for side in ProxySide.allCases {
            framers[side.rawValue].finish(read: state.reads, timestamp: time) { output in record(output, from: side) }
        }
    }

    /// Keeps one task scheduled for the machine's next deadline. Activity only moves the deadline later, so a
    /// task that fires early finds nothing due and is scheduled again; reads never reschedule.
    private func scheduleTimer() {
        guard let deadline = machine.nextDeadline else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if let timerDeadline, timerDeadline <= deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = client.eventLoop.scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = nil
            handle(.tick(at: .now))
        }
    }

    // MARK: The SMSC connection

    func connectUpstream() {
        let state = self.state
        let configuration = state.configuration
        let tls = state.upstreamTLS
        // The name sent (SNI) and checked against the certificate: the one given, else the host unless it is an
        // address (SNI carries names only; the certificate is then checked against the address).
        var serverName: String? = IPAddress(configuration.upstreamHost) == nil ? configuration.upstreamHost : nil
        if case .verified(_, let name?) = configuration.upstreamTLS { serverName = name }
        let hostname = serverName
        let handler = ForwardingHandler(session: self, side: .smsc)
        ClientBootstrap(group: state.loop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: configuration.upstreamHost, port: configuration.upstreamPort)
            .whenFailure { [self] error in
                var timedOut = false
                if case ChannelError.connectTimeout(_) = error { timedOut = true }
                handle(.upstreamFailed(reason: "\(error)", timedOut: timedOut))
            }
    }

    /// The SMSC connection is up (called from its channel's first event, before any of its reads).
    func upstreamActive(_ channel: Channel) {
        upstream = channel
        if let endpoint = Endpoint(channel.remoteAddress) { upstreamEndpoint = endpoint }
        handle(.upstreamConnected)
    }
}

/// Passes a channel's events to its session.
class ForwardingHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var session: ProxySession?
    let side: ProxySide

    init(session: ProxySession?, side: ProxySide) {
        self.session = session
        self.side = side
    }

    func channelActive(context: ChannelHandlerContext) {
        if side == .smsc { session?.upstreamActive(context.channel) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session?.received(unwrapInboundIn(data), from: side)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session?.handle(.writabilityChanged(side, writable: context.channel.isWritable))
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            session?.handle(.inputClosed(side, at: .now))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        var reset = false
        if let error = error as? IOError, error.errnoCode == ECONNRESET || error.errnoCode == EPIPE { reset = true }
        // A TLS peer that closes without close_notify has closed, not failed.
        var closedUncleanly = false
        if let error = error as? NIOSSLError, case .uncleanShutdown = error { closedUncleanly = true }
        if !reset, !closedUncleanly, let session {
            session.state.notice(
                .failed(session: session.id, side: side == .client ? "client" : "SMSC", reason: "\(error)"))
        }
        session?.handle(.failed(side, reset: reset, at: .now))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.handle(.closed(side, at: .now))
        context.fireChannelInactive()
    }
}

/// The client's side: checks who connects and opens the session.
final class ClientSideHandler: ForwardingHandler, @unchecked Sendable {
    let state: ProxyState

    init(state: ProxyState) {
        self.state = state
        super.init(session: nil, side: .client)
    }

    override func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        guard let clientEndpoint = Endpoint(channel.remoteAddress) else {
            context.close(promise: nil)
            return
        }
        if let (limit, reason) = state.refusal(for: clientEndpoint) {
            if let limit {
                state.limitReached(limit, session: nil, detail: "refused \(clientEndpoint): \(reason)")
            } else {
                state.notice(.refused(client: "\(clientEndpoint)", reason: reason))
            }
            context.close(promise: nil)
            return
        }
        let id = state.nextID
        state.nextID += 1
        let session = ProxySession(id: id, state: state, client: channel, clientEndpoint: clientEndpoint)
        self.session = session
        state.opened(session)
        state.notice(.accepted(session: id, client: "\(clientEndpoint)"))
        session.connectUpstream()
        context.fireChannelActive()
    }
}

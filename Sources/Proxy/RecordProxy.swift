// The transparent proxy: every client connection gets its own connection to the SMSC; bytes go through unchanged,
// in order and at once, in both directions; half-closes, FINs and RSTs are carried across. A copy of the bytes is
// framed into PDUs for the recording, which runs elsewhere and never holds forwarding up.

import Capture
import NIOCore
import NIOPosix
import NIOSSL
import Reassembly
import SMPP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Takes the recording: stream events in order, from the proxy's event loop. Must not block.
public protocol RecordingSink: AnyObject, Sendable {
    func record(_ event: StreamEvent)
}

/// What the proxy reports for its log.
public enum ProxyNotice: Sendable, CustomStringConvertible {
    case accepted(session: Int, client: String)
    case refused(client: String, reason: String)
    case connected(session: Int, upstream: String)
    case upstreamFailed(session: Int, client: String, reason: String)
    case closed(session: Int, how: String, pdus: Int)
    case framingLost(session: Int, direction: String, reason: String)

    public var description: String {
        switch self {
        case .accepted(let session, let client): return "session \(session): client \(client) connected"
        case .refused(let client, let reason): return "refused \(client): \(reason)"
        case .connected(let session, let upstream): return "session \(session): connected to the SMSC at \(upstream)"
        case .upstreamFailed(let session, let client, let reason):
            return "session \(session): cannot reach the SMSC (\(reason)); closing the client \(client)"
        case .closed(let session, let how, let pdus): return "session \(session): \(how) after \(pdus) PDUs"
        case .framingLost(let session, let direction, let reason): return "session \(session), \(direction): \(reason)"
        }
    }
}

/// Counts, read on the event loop.
public struct ProxyCounters: Sendable {
    public var sessions = 0
    public var open = 0
    public var pdus = 0
    public var throttled = 0
    public var bytes = 0
}

/// A running proxy.
public final class RecordProxy: @unchecked Sendable {
    public let configuration: ProxyConfiguration
    let group: MultiThreadedEventLoopGroup
    let loop: EventLoop
    let state: ProxyState
    private var server: Channel?
    /// The listening address (port 0 picks a free one).
    public private(set) var address: SocketAddress?

    public init(
        configuration: ProxyConfiguration, sink: RecordingSink?, notice: @escaping @Sendable (ProxyNotice) -> Void
    ) throws {
        self.configuration = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        let clientTLS: NIOSSLContext?
        let upstreamTLS: NIOSSLContext?
        do {
            clientTLS = try Self.serverTLS(configuration)
            upstreamTLS = try Self.clientTLS(configuration)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        state = ProxyState(
            configuration: configuration, loop: loop, sink: sink, notice: notice, upstreamTLS: upstreamTLS)
        let state = self.state
        do {
            server = try ServerBootstrap(group: loop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 1_024)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let clientTLS {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: clientTLS))
                        }
                        try channel.pipeline.syncOperations.addHandler(ClientSideHandler(state: state))
                    }
                }
                .bind(host: configuration.listenHost, port: configuration.listenPort).wait()
            address = server?.localAddress
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    static func serverTLS(_ configuration: ProxyConfiguration) throws -> NIOSSLContext? {
        guard let certificatePath = configuration.clientCertificate, let keyPath = configuration.clientPrivateKey else {
            return nil
        }
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
    }

    static func clientTLS(_ configuration: ProxyConfiguration) throws -> NIOSSLContext? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch configuration.upstreamTLS {
        case .none:
            return nil
        case .unverified:
            tls.certificateVerification = .none
        case .verified(let roots, _):
            if let roots { tls.trustRoots = .file(roots) }
        }
        return try NIOSSLContext(configuration: tls)
    }

    private var finalCounters: ProxyCounters?

    /// The counts so far.
    public var counters: ProxyCounters {
        if let finalCounters { return finalCounters }
        return (try? loop.submit { self.state.counters }.wait()) ?? ProxyCounters()
    }

    /// Stops accepting new clients; sessions go on.
    public func stopAccepting() {
        try? server?.close().wait()
    }

    /// Waits until every session has ended, or `seconds` have passed; true when none is left.
    public func waitForSessions(seconds: Double) -> Bool {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        while NIODeadline.now() < deadline {
            if counters.open == 0 { return true }
            usleep(20_000)
        }
        return counters.open == 0
    }

    /// Closes every session (as FINs to both sides) and stops the event loop.
    public func shutdown() {
        stopAccepting()
        let state = self.state
        try? loop.submit { state.closeAll() }.wait()
        _ = waitForSessions(seconds: 2)
        finalCounters = counters
        try? group.syncShutdownGracefully()
    }
}

/// The proxy's state, touched on its one event loop only.
final class ProxyState: @unchecked Sendable {
    let configuration: ProxyConfiguration
    let loop: EventLoop
    let sink: RecordingSink?
    let notice: @Sendable (ProxyNotice) -> Void
    let upstreamTLS: NIOSSLContext?
    var counters = ProxyCounters()
    var nextID = 1
    /// Numbers the reads, as a capture numbers its frames.
    var reads = 0
    var sessions: [Int: ProxySession] = [:]

    init(
        configuration: ProxyConfiguration, loop: EventLoop, sink: RecordingSink?, notice: @escaping @Sendable (ProxyNotice) -> Void,
        upstreamTLS: NIOSSLContext?
    ) {
        self.configuration = configuration
        self.loop = loop
        self.sink = sink
        self.notice = notice
        self.upstreamTLS = upstreamTLS
    }

    func closeAll() {
        for session in sessions.values { session.closeBoth() }
    }
}

/// One client connection and its connection to the SMSC.
final class ProxySession: @unchecked Sendable {
    let id: Int
    let state: ProxyState
    let client: Channel
    let clientEndpoint: Endpoint
    var upstream: Channel?
    var upstreamEndpoint: Endpoint?
    var taps: [DirectionTap]
    var opened = false
    var ended = false
    var pdus = 0
    /// Set when a side was reset, so that the other side is reset too.
    var resetBy: Int?

    init(id: Int, state: ProxyState, client: Channel, clientEndpoint: Endpoint) {
        self.id = id
        self.state = state
        self.client = client
        self.clientEndpoint = clientEndpoint
        let tap = DirectionTap(maximumPDULength: state.configuration.maximumPDULength)
        taps = [tap, tap]
    }

    func channel(_ side: Int) -> Channel? { side == 0 ? client : upstream }
    func endpoint(_ side: Int) -> Endpoint? { side == 0 ? clientEndpoint : upstreamEndpoint }

    /// Bytes that arrived from `side` (0: client, 1: SMSC), about to be forwarded.
    func tap(_ bytes: ByteBuffer, from side: Int) {
        state.reads += 1
        state.counters.bytes += bytes.readableBytes
        guard opened, let source = endpoint(side), let destination = endpoint(1 - side) else { return }
        let time = Timestamp.now
        let frameNumber = state.reads
        taps[side].feed(
            bytes,
            frame: { pdu, offset in
                pdus += 1
                state.counters.pdus += 1
                if let header = PDUHeader.peek(in: pdu), header.commandStatus == .throttled, header.commandID.isResponse {
                    state.counters.throttled += 1
                }
                state.sink?.record(
                    .pdu(
                        FramedPDU(
                            connection: id, source: source, destination: destination, timestamp: time, frame: frameNumber,
                            streamOffset: offset, bytes: pdu)))
            },
            problem: { reason, offset in
                state.notice(.framingLost(session: id, direction: side == 0 ? "client -> SMSC" : "SMSC -> client", reason: reason))
                state.sink?.record(
                    .diagnostic(
                        StreamDiagnostic(
                            connection: id, source: source, destination: destination, streamOffset: offset, frame: frameNumber,
                            timestamp: time, message: reason)))
            })
    }

    /// The first end of the session: FIN or RST, and from which side.
    func end(_ kind: ConnectionEnd.Kind, by side: Int) {
        guard !ended else { return }
        ended = true
        guard opened, let by = endpoint(side) else { return }
        state.sink?.record(.ended(ConnectionEnd(connection: id, kind: kind, by: by, frame: state.reads, timestamp: .now)))
    }

    /// Closes both sides, each after what was written to it has gone out.
    func closeBoth() {
        for side in 0...1 {
            guard let channel = channel(side), channel.isActive else { continue }
            closeAfterWrites(channel)
        }
    }

    func closeAfterWrites(_ channel: Channel) {
        channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// The other side of `side` closed or reset: do the same to this side.
    func peerClosed(_ side: Int) {
        guard let other = channel(1 - side), other.isActive else { return }
        if resetBy == side {
            // SO_LINGER with a zero timeout makes close send a RST.
            if let provider = other as? SocketOptionProvider {
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in other.close(promise: nil) }
            } else {
                other.close(promise: nil)
            }
        } else {
            closeAfterWrites(other)
        }
    }

    func finished() {
        guard state.sessions.removeValue(forKey: id) != nil else { return }
        state.counters.open -= 1
        if !ended { end(.fin, by: 0) }
        let how = resetBy.map { $0 == 0 ? "reset by the client" : "reset by the SMSC" } ?? "closed"
        state.notice(.closed(session: id, how: how, pdus: pdus))
    }
}

/// Moves bytes from one channel to its partner; backpressure follows the partner's writability.
class ForwardingHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var session: ProxySession?
    /// 0 on the client's channel, 1 on the SMSC's.
    let side: Int
    private var pendingRead = false

    init(side: Int) { self.side = side }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let session, let partner = session.channel(1 - side) else { return }
        // Out first; the recording's copy is framed after.
        partner.writeAndFlush(bytes, promise: nil)
        session.tap(bytes, from: side)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // This side cannot take more: stop reading the partner until it can.
        let writable = context.channel.isWritable
        if let partner = session?.channel(1 - side) {
            _ = partner.setOption(.autoRead, value: writable)
            if writable { partner.read() }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, let session {
            // A half-close (FIN): pass it on once what was forwarded has gone out.
            session.end(.fin, by: side)
            if let partner = session.channel(1 - side), partner.isActive {
                partner.writeAndFlush(partner.allocator.buffer(capacity: 0)).whenComplete { _ in
                    partner.close(mode: .output, promise: nil)
                }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let session, let error = error as? IOError, error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
            if session.resetBy == nil { session.resetBy = side }
            session.end(.rst, by: side)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let session {
            session.end(.fin, by: side)
            session.peerClosed(side)
            if session.channel(1 - side)?.isActive != true { session.finished() }
        }
        context.fireChannelInactive()
    }
}

/// The client's side: checks who connects, opens the connection to the SMSC, then forwards.
final class ClientSideHandler: ForwardingHandler, @unchecked Sendable {
    let state: ProxyState

    init(state: ProxyState) {
        self.state = state
        super.init(side: 0)
    }

    override func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        guard let clientEndpoint = Endpoint(channel.remoteAddress) else {
            context.close(promise: nil)
            return
        }
        let allow = state.configuration.allow
        if !allow.isEmpty, !allow.contains(where: { $0.contains(clientEndpoint.address) }) {
            state.notice(.refused(client: "\(clientEndpoint)", reason: "not in --allow"))
            context.close(promise: nil)
            return
        }
        let id = state.nextID
        state.nextID += 1
        let session = ProxySession(id: id, state: state, client: channel, clientEndpoint: clientEndpoint)
        self.session = session
        state.sessions[id] = session
        state.counters.sessions += 1
        state.counters.open += 1
        state.notice(.accepted(session: id, client: "\(clientEndpoint)"))
        connectUpstream(session)
        context.fireChannelActive()
    }

    private func connectUpstream(_ session: ProxySession) {
        let state = self.state
        let configuration = state.configuration
        let tls = state.upstreamTLS
        var serverName: String? = configuration.upstreamHost
        if case .verified(_, let name?) = configuration.upstreamTLS { serverName = name }
        if IPAddress(configuration.upstreamHost) != nil, case .verified(_, nil) = configuration.upstreamTLS { serverName = nil }
        let hostname = serverName
        let upstreamHandler = ForwardingHandler(side: 1)
        upstreamHandler.session = session
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
                    try channel.pipeline.syncOperations.addHandler(upstreamHandler)
                }
            }
            .connect(host: configuration.upstreamHost, port: configuration.upstreamPort)
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    guard session.client.isActive else {
                        upstream.close(promise: nil)
                        return
                    }
                    session.upstream = upstream
                    session.upstreamEndpoint = Endpoint(upstream.remoteAddress)
                        ?? Endpoint(address: IPAddress(ipv4: 0), port: UInt16(truncatingIfNeeded: configuration.upstreamPort))
                    session.opened = true
                    state.notice(.connected(session: session.id, upstream: "\(session.upstreamEndpoint.map { "\($0)" } ?? "?")"))
                    state.sink?.record(
                        .opened(
                            Connection(
                                id: session.id, first: session.clientEndpoint, second: session.upstreamEndpoint ?? session.clientEndpoint,
                                synSender: session.clientEndpoint, firstSeen: .now)))
                    _ = session.client.setOption(.autoRead, value: true)
                    session.client.read()
                case .failure(let error):
                    state.notice(.upstreamFailed(session: session.id, client: "\(session.clientEndpoint)", reason: "\(error)"))
                    session.client.close(promise: nil)
                }
            }
    }
}

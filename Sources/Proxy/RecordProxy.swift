// The transparent proxy: every client connection gets its own connection to the SMSC; bytes go through unchanged,
// in order and at once, in both directions. Who may connect and how many at once is decided here; what happens
// within a session is `ProxySessionStateMachine`'s to decide and `ProxySession`'s to carry out.

import Capture
import NIOCore
import NIOPosix
import NIOSSL
import Reassembly
import SMPP
import Transport

/// What the proxy reports for its log.
public enum ProxyNotice: Sendable, CustomStringConvertible {
    case accepted(session: Int, client: String)
    case refused(client: String, reason: String)
    case connected(session: Int, upstream: String)
    case upstreamFailed(session: Int, client: String, reason: String)
    case closed(session: Int, how: String, pdus: Int)
    case framing(session: Int, direction: String, reason: String)
    case limit(session: Int?, ProxyLimit, detail: String)
    /// A connection failed for another reason than a reset (a TLS handshake refused, say).
    case failed(session: Int, side: String, reason: String)

    public var description: String {
        switch self {
        case .accepted(let session, let client): return "session \(session): client \(client) connected"
        case .refused(let client, let reason): return "refused \(client): \(reason)"
        case .connected(let session, let upstream): return "session \(session): connected to the SMSC at \(upstream)"
        case .upstreamFailed(let session, let client, let reason):
            return "session \(session): cannot reach the SMSC (\(reason)); closing the client \(client)"
        case .closed(let session, let how, let pdus): return "session \(session): \(how) after \(pdus) PDUs"
        case .framing(let session, let direction, let reason): return "session \(session), \(direction): \(reason)"
        case .limit(let session, _, let detail):
            return session.map { "session \($0): \(detail)" } ?? detail
        case .failed(let session, let side, let reason):
            return "session \(session): the \(side) connection failed (\(reason)); closing the session"
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
    /// Diagnostics of the recording's framing (bytes skipped to resynchronise, PDUs cut short).
    public var framingDiagnostics = 0
    /// Times each limit tripped, by `ProxyLimit.rawValue`.
    public var limits = [Int](repeating: 0, count: ProxyLimit.allCases.count)

    public subscript(_ limit: ProxyLimit) -> Int {
        get { limits[limit.rawValue] }
        set { limits[limit.rawValue] = newValue }
    }
}

/// A running proxy.
public final class RecordProxy: @unchecked Sendable {
    public let configuration: ProxyConfiguration
    let loop: EventLoop
    let state: ProxyState
    private var server: Channel?
    /// The listening address (port 0 picks a free one).
    public private(set) var address: SocketAddress?

    /// Listens at once. The proxy runs on one event loop of `group` (the process's shared group unless another is
    /// passed in); `shutdown` closes what the proxy opened and leaves the group running.
    public init(
        configuration: ProxyConfiguration, sink: RecordingSink?,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        notice: @escaping @Sendable (ProxyNotice) -> Void
    ) throws {
        self.configuration = configuration
        loop = group.next()
        let clientTLS = try ProxyTLS.serverContext(configuration)
        let upstreamTLS = try ProxyTLS.clientContext(configuration)
        state = ProxyState(
            configuration: configuration, loop: loop, sink: sink, notice: notice, upstreamTLS: upstreamTLS)
        let state = self.state
        server = try ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1_024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
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

    /// A future that completes when no session is open.
    public func sessionsEnded() -> EventLoopFuture<Void> {
        let state = self.state
        return loop.flatSubmit { state.whenNoSessions() }
    }

    /// Waits until every session has ended, or `seconds` have passed; true when none is left.
    public func waitForSessions(seconds: Double) -> Bool {
        let ended = sessionsEnded()
        let timeout = loop.scheduleTask(in: .nanoseconds(Int64(max(0, seconds) * 1e9))) {}
        let either = loop.makePromise(of: Bool.self)
        ended.whenSuccess { either.succeed(true) }
        timeout.futureResult.whenSuccess { either.succeed(false) }
        let result = (try? either.futureResult.wait()) ?? false
        timeout.cancel()
        return result || counters.open == 0
    }

    /// Closes every session (a FIN to both sides, after what was forwarded) and stops the event loop.
    public func shutdown() {
        stopAccepting()
        let state = self.state
        try? loop.submit { state.closeAll() }.wait()
        _ = waitForSessions(seconds: 2)
        finalCounters = counters
    }
}

/// TLS contexts for either side.
enum ProxyTLS {
    static func serverContext(_ configuration: ProxyConfiguration) throws -> NIOSSLContext? {
        guard let certificatePath = configuration.clientCertificate, let keyPath = configuration.clientPrivateKey else {
            return nil
        }
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = configuration.minimumTLSVersion.version
        return try NIOSSLContext(configuration: tls)
    }

    static func clientContext(_ configuration: ProxyConfiguration) throws -> NIOSSLContext? {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = configuration.minimumTLSVersion.version
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
    /// Sessions open per client address, for `maximumSessionsPerClient`.
    private var perClient: [IPAddress: Int] = [:]
    private var idleWaiters: [EventLoopPromise<Void>] = []

    init(
        configuration: ProxyConfiguration, loop: EventLoop, sink: RecordingSink?,
        notice: @escaping @Sendable (ProxyNotice) -> Void,
        upstreamTLS: NIOSSLContext?
    ) {
        self.configuration = configuration
        self.loop = loop
        self.sink = sink
        self.notice = notice
        self.upstreamTLS = upstreamTLS
    }

    /// Why a client may not open a session now, or nil when it may.
    func refusal(for client: Endpoint) -> (ProxyLimit?, String)? {
        let allow = configuration.allow
        if !allow.isEmpty, !allow.contains(where: { $0.contains(client.address) }) {
            return (nil, "not in --allow")
        }
        if sessions.count >= configuration.maximumSessions {
            return (.maxSessions, "\(sessions.count) sessions are open, the most --max-sessions allows")
        }
        let fromClient = perClient[client.address] ?? 0
        if fromClient >= configuration.maximumSessionsPerClient {
            return (
                .maxSessionsPerClient,
                "\(fromClient) sessions from \(client.address) are open, the most --max-sessions-per-client allows"
            )
        }
        return nil
    }

    func opened(_ session: ProxySession) {
        sessions[session.id] = session
        perClient[session.clientEndpoint.address, default: 0] += 1
        counters.sessions += 1
        counters.open += 1
    }

    func removed(_ session: ProxySession) {
        guard sessions.removeValue(forKey: session.id) != nil else { return }
        counters.open -= 1
        let address = session.clientEndpoint.address
        if let count = perClient[address], count > 1 {
            perClient[address] = count - 1
        } else {
            perClient[address] = nil
        }
        if sessions.isEmpty {
            let waiters = idleWaiters
            idleWaiters = []
            for waiter in waiters { waiter.succeed(()) }
        }
    }

    func whenNoSessions() -> EventLoopFuture<Void> {
        if sessions.isEmpty { return loop.makeSucceededVoidFuture() }
        let promise = loop.makePromise(of: Void.self)
        idleWaiters.append(promise)
        return promise.futureResult
    }

    func limitReached(_ limit: ProxyLimit, session: Int?, detail: String) {
        counters[limit] += 1
        notice(.limit(session: session, limit, detail: detail))
    }

    func closeAll() {
        for session in sessions.values { session.shutdown() }
    }
}

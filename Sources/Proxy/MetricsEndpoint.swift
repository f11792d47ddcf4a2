// The HTTP endpoint Prometheus scrapes: GET /metrics answers with what `render` returns, in the text exposition
// format. It runs on the event loop group passed in (the process's shared group by default); rendering runs off
// the loops, so a slow scrape never holds up forwarding.
// Bounded: a connection must send its request header within `headerTimeout` and is closed after `idleTimeout`
// without a request; at most `maximumConnections` are open at once (more are closed at once).

import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves metrics over HTTP.
public final class MetricsEndpoint: @unchecked Sendable {
    private var channel: Channel?
    private let connections: ConnectionCount
    /// Where it listens (port 0 picks a free one).
    public private(set) var address: SocketAddress?

    /// Bounds on the connections of scrapers.
    public struct Limits: Sendable {
        /// Time from a connection (or the previous answer) to a whole request header.
        public var headerTimeout = TimeAmount.seconds(10)
        /// Time a connection may stay open without a request.
        public var idleTimeout = TimeAmount.seconds(60)
        /// Connections open at once.
        public var maximumConnections = 64

        public init() {}
    }

    /// Listens on `host:port`; `render` gives the body of each scrape, on a thread of its own; `limitReached` is
    /// told when a connection is closed by a timeout.
    public init(
        host: String, port: Int, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        limits: Limits = Limits(),
        limitReached: @escaping @Sendable (ProxyLimit) -> Void = { _ in }, render: @escaping @Sendable () -> [UInt8]
    ) throws {
        let connections = ConnectionCount(limit: limits.maximumConnections)
        self.connections = connections
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard connections.admit(channel) else {
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { _ in connections.leave(channel) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsHTTPHandler(limits: limits, limitReached: limitReached, render: render))
                }
            }
            .bind(host: host, port: port).wait()
        self.channel = channel
        address = channel.localAddress
    }

    /// Stops listening and closes the scrapers' connections.
    public func shutdown() {
        try? channel?.close().wait()
        channel = nil
        for open in connections.closeAll() { try? open.wait() }
    }
}

/// Connections open on the endpoint, across the event loops it runs on (at most `limit`).
final class ConnectionCount: @unchecked Sendable {
    private let lock = NSLock()
    private var open: [ObjectIdentifier: Channel] = [:]
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func admit(_ channel: Channel) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard open.count < limit else { return false }
        open[ObjectIdentifier(channel)] = channel
        return true
    }

    func leave(_ channel: Channel) {
        lock.lock()
        open[ObjectIdentifier(channel)] = nil
        lock.unlock()
    }

    /// Closes every open connection; the futures complete when they are closed.
    func closeAll() -> [EventLoopFuture<Void>] {
        lock.lock()
        let channels = Array(open.values)
        lock.unlock()
        return channels.map { $0.close() }
    }
}

final class MetricsHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    private let render: @Sendable () -> [UInt8]
    private let limits: MetricsEndpoint.Limits
    private let limitReached: @Sendable (ProxyLimit) -> Void
    private var head: HTTPRequestHead?
    /// Closes the connection when no request header has come in time, or no request at all.
    private var timer: Scheduled<Void>?

    init(
        limits: MetricsEndpoint.Limits, limitReached: @escaping @Sendable (ProxyLimit) -> Void,
        render: @escaping @Sendable () -> [UInt8]
    ) {
        self.limits = limits
        self.limitReached = limitReached
        self.render = render
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // A new connection must send its header in time.
        arm(context: context, after: limits.headerTimeout, limit: .metricsHeaderTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    private func arm(context: ChannelHandlerContext, after delay: TimeAmount, limit: ProxyLimit) {
        timer?.cancel()
        let channel = context.channel
        let limitReached = self.limitReached
        timer = context.eventLoop.scheduleTask(in: delay) {
            limitReached(limit)
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            timer?.cancel()
            timer = nil
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, to: head)
        }
    }

    private func respond(context: ChannelHandlerContext, to head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard head.method == .GET || head.method == .HEAD else {
            return send(
                context: context, head: head, status: .methodNotAllowed, body: Array("use GET\n".utf8),
                extra: [("Allow", "GET, HEAD")])
        }
        guard path == "/metrics" else {
            return send(context: context, head: head, status: .notFound, body: Array("metrics are at /metrics\n".utf8))
        }
        let render = self.render
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        DispatchQueue.global().async {
            let body = render()
            loop.execute {
                let (handler, context) = bound.value
                handler.send(context: context, head: head, status: .ok, body: body, contentType: Self.contentType)
            }
        }
    }

    private func send(
        context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, body: [UInt8],
        contentType: String = "text/plain; charset=utf-8", extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.count))] + extra)
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if head.method != .HEAD {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        } else {
            // A kept-alive connection is closed when no further request comes.
            arm(context: context, after: limits.idleTimeout, limit: .metricsIdleTimeout)
        }
    }
}

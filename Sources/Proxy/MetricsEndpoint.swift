// The HTTP endpoint Prometheus scrapes: GET /metrics answers with what `render` returns, in the text exposition
// format. It has its own event loop, so a slow scraper never touches forwarding; rendering runs off the loop.

import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves metrics over HTTP.
public final class MetricsEndpoint: @unchecked Sendable {
    private let group: MultiThreadedEventLoopGroup
    private var channel: Channel?
    /// Where it listens (port 0 picks a free one).
    public private(set) var address: SocketAddress?

    /// Listens on `host:port`; `render` gives the body of each scrape, on a thread of its own.
    public init(host: String, port: Int, render: @escaping @Sendable () -> [UInt8]) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                    }
                }
                .bind(host: host, port: port).wait()
            self.channel = channel
            address = channel.localAddress
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    public func shutdown() {
        try? channel?.close().wait()
        channel = nil
        try? group.syncShutdownGracefully()
    }
}

final class MetricsHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    private let render: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable () -> [UInt8]) { self.render = render }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
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
            return send(context: context, head: head, status: .methodNotAllowed, body: Array("use GET\n".utf8), extra: [("Allow", "GET, HEAD")])
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
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

// Replays a plan against a target SMSC on SwiftNIO: one connection per recorded session, bound with the user's
// credentials; requests resent on schedule with new sequence numbers and mapped message ids; the SMSC's
// requests answered as the recorded client answered them.

import Capture
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Reassembly
import ReplayCore
import SMPP
import Transport

/// Runs replays.
public final class Replayer: @unchecked Sendable {
    public let plan: ReplayPlan
    public let options: ReplayOptions
    private let sink: RecordingSink?
    private let tls: NIOSSLContext?
    private let group: EventLoopGroup

    /// A replay that runs on one event loop of `group` (the process's shared group unless another is passed in).
    public init(
        plan: ReplayPlan, options: ReplayOptions, recordInto sink: RecordingSink? = nil,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.group = group
        self.plan = plan
        self.options = options
        self.sink = sink
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = options.minimumTLSVersion.version
        switch options.tls {
        case .none:
            tls = nil
        case .unverified:
            configuration.certificateVerification = .none
            tls = try NIOSSLContext(configuration: configuration)
        case .verified(let roots, _):
            if let roots { configuration.trustRoots = .file(roots) }
            tls = try NIOSSLContext(configuration: configuration)
        }
    }

    /// Replays every session (`loops` times), waits for them to end, and says what happened.
    public func run() throws -> ReplayOutcome {
        let loop = group.next()
        var outcome = ReplayOutcome()
        let started = NIODeadline.now()
        var connectionID = 0
        for pass in 1...max(1, options.loops) {
            guard let first = plan.sessions.map(\.start).min() else { break }
            let passStart = NIODeadline.now()
            let futures = plan.sessions.map { session -> EventLoopFuture<SessionOutcome> in
                connectionID += 1
                var delay = 0.0
                if case .recorded(let speed) = options.pace { delay = session.start.seconds(since: first) / speed }
                let runner = SessionRunner(
                    session: session, pass: pass, options: options, loop: loop, tls: tls, sink: sink,
                    connectionID: connectionID, replayStart: started,
                    sessionStart: passStart + .nanoseconds(Int64(delay * 1e9)))
                return loop.flatSubmit { runner.start() }
            }
            let results = try EventLoopFuture.whenAllComplete(futures, on: loop).wait()
            for result in results {
                if case .success(let session) = result { outcome.sessions.append(session) }
            }
        }
        outcome.seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        return outcome
    }
}

/// One replayed session on the event loop: connects, then runs the session's state machine (its events from the
/// channel and the timers, its actions carried out here).
final class SessionRunner: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let options: ReplayOptions
    let loop: EventLoop
    let tls: NIOSSLContext?
    let sink: RecordingSink?
    let connectionID: Int
    let replayStart: NIODeadline
    let sessionStart: NIODeadline
    private var machine: ReplaySessionStateMachine
    private let done: EventLoopPromise<SessionOutcome>
    private var channel: Channel?
    private var local: Endpoint?
    private var remote: Endpoint?
    private var wake: Scheduled<Void>?
    private var offsets: [UInt64] = [0, 0]
    private var readFrames = 0

    init(
        session: PlannedSession, pass: Int, options: ReplayOptions, loop: EventLoop, tls: NIOSSLContext?,
        sink: RecordingSink?,
        connectionID: Int, replayStart: NIODeadline, sessionStart: NIODeadline
    ) {
        self.options = options
        self.loop = loop
        self.tls = tls
        self.sink = sink
        self.connectionID = connectionID
        self.replayStart = replayStart
        self.sessionStart = sessionStart
        machine = ReplaySessionStateMachine(
            session: session, pass: pass, settings: options.sessionSettings,
            sessionStart: Double((sessionStart - replayStart).nanoseconds) / 1e9)
        done = loop.makePromise()
    }

    func start() -> EventLoopFuture<SessionOutcome> {
        loop.scheduleTask(deadline: sessionStart) { self.connect() }
        return done.futureResult
    }

    /// Seconds from the replay's start: the machine's clock.
    private var now: Double { Double((NIODeadline.now() - replayStart).nanoseconds) / 1e9 }

    // MARK: Carrying out

    private func run(_ actions: [ReplaySessionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let bytes, let flush):
                guard let channel else { continue }
                if flush {
                    channel.writeAndFlush(bytes, promise: nil)
                } else {
                    channel.write(bytes, promise: nil)
                }
                record(bytes, fromClient: true)
            case .flush:
                channel?.flush()
            case .wake(let at):
                wake?.cancel()
                wake = loop.scheduleTask(deadline: replayStart + .nanoseconds(Int64(at * 1e9))) { [self] in
                    run(machine.pump(now: now))
                }
            case .cancelWake:
                wake?.cancel()
                wake = nil
            case .close:
                if let channel, channel.isActive {
                    if let local {
                        sink?.record(
                            .ended(
                                ConnectionEnd(
                                    connection: connectionID, kind: .fin, by: local, frame: readFrames, timestamp: .now)
                            ))
                    }
                    channel.close(promise: nil)
                }
            case .finished(let outcome):
                done.succeed(outcome)
            }
        }
    }

    // MARK: Connection

    private func connect() {
        let tls = self.tls
        var serverName: String? = options.targetHost
        if case .verified(_, let name?) = options.tls { serverName = name }
        if IPAddress(options.targetHost) != nil, case .verified(_, nil) = options.tls { serverName = nil }
        if case .unverified = options.tls { serverName = nil }
        let hostname = serverName
        ClientBootstrap(group: loop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMPPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(self)
                }
            }
            .connect(host: options.targetHost, port: options.targetPort)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.channel = channel
                    self.local = Endpoint(channel.localAddress)
                    self.remote = Endpoint(channel.remoteAddress)
                    if let local = self.local, let remote = self.remote {
                        self.sink?.record(
                            .opened(
                                Connection(
                                    id: self.connectionID, first: local, second: remote, synSender: local,
                                    firstSeen: .now)))
                    }
                    self.run(self.machine.connected(now: self.now))
                    self.tick()
                case .failure(let error):
                    self.run(
                        self.machine.failed(
                            "cannot connect to \(self.options.targetHost):\(self.options.targetPort): \(connectionFailure(error))"
                        ))
                }
            }
    }

    /// The machine's once-a-second check, while the session lasts.
    private func tick() {
        loop.scheduleTask(in: .seconds(1)) {
            guard !self.machine.isFinished else { return }
            self.run(self.machine.tick(now: self.now))
            self.tick()
        }
    }

    private func record(_ bytes: ByteBuffer, fromClient: Bool) {
        guard let sink, let local, let remote else { return }
        let side = fromClient ? 0 : 1
        readFrames += 1
        // Frames are at least a header long (the framer's bound).
        if let pdu = TimelinePDU(
            framedIn: connectionID, source: fromClient ? local : remote, destination: fromClient ? remote : local,
            timestamp: .now, frame: readFrames, streamOffset: offsets[side],
            bytes: ByteBuffer(bytes: bytes.readableBytesView))
        {
            sink.record(.pdu(pdu))
        }
        offsets[side] += UInt64(bytes.readableBytes)
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        record(frame, fromClient: false)
        run(machine.received(frame, now: now))
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !machine.isFinished, let remote {
            sink?.record(
                .ended(
                    ConnectionEnd(connection: connectionID, kind: .fin, by: remote, frame: readFrames, timestamp: .now))
            )
        }
        run(machine.peerClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        run(machine.failed("\(error)"))
    }
}

/// "connection refused" rather than the error's debug description.
func connectionFailure(_ error: Error) -> String {
    var underlying = error
    if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
        underlying = first.error
    }
    if let io = underlying as? IOError {
        return String(cString: strerror(io.errnoCode)).lowercased()
    }
    if let channelError = underlying as? ChannelError, case .connectTimeout = channelError {
        return "no answer (connect timeout)"
    }
    return "\(underlying)"
}

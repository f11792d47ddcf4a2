// Replays a plan against a target SMSC on SwiftNIO: one connection per recorded session, bound with the user's
// credentials; requests resent on schedule with new sequence numbers and mapped message ids; the SMSC's
// requests answered as the recorded client answered them.

import Capture
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Transport
import Reassembly
import ReplayCore
import SMPP

/// Runs replays.
public final class Replayer: @unchecked Sendable {
    public let plan: ReplayPlan
    public let options: ReplayOptions
    private let sink: RecordingSink?
    private let tls: NIOSSLContext?

    public init(plan: ReplayPlan, options: ReplayOptions, recordInto sink: RecordingSink? = nil) throws {
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
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
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

/// One replayed session, on the event loop.
final class SessionRunner: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let session: PlannedSession
    let options: ReplayOptions
    let loop: EventLoop
    let tls: NIOSSLContext?
    let sink: RecordingSink?
    let connectionID: Int
    let replayStart: NIODeadline
    let sessionStart: NIODeadline
    /// The time request offsets count from: set when the bind is answered.
    private var scheduleOrigin: NIODeadline
    private let done: EventLoopPromise<SessionOutcome>
    private var outcome: SessionOutcome
    private var channel: Channel?
    private var local: Endpoint?
    private var remote: Endpoint?
    private var sequence: UInt32 = 0
    private var next = 0
    /// Sent and unanswered: sequence -> request index (-1: the bind, -2: the closing unbind).
    private var pending: [UInt32: (index: Int, sent: NIODeadline)] = [:]
    private var retries: [(index: Int, at: NIODeadline)] = []
    /// Original message id -> the target's.
    private var newIDs = MessageIDIndex<String>()
    /// The target's message ids -> request index, for its receipts.
    private var requestByNewID = MessageIDIndex<Int>()
    private var bound = false
    private var finishing = false
    private var finished = false
    private var lastActivity = NIODeadline.now()
    private var pumpScheduled: Scheduled<Void>?
    private var heldSince: NIODeadline?
    private var offsets: [UInt64] = [0, 0]
    private var readFrames = 0
    /// Receipts the recording linked to this session's requests, and those the replay has linked so far.
    private let expectedReceipts: Int
    private var linkedReceipts = 0

    init(
        session: PlannedSession, pass: Int, options: ReplayOptions, loop: EventLoop, tls: NIOSSLContext?, sink: RecordingSink?,
        connectionID: Int, replayStart: NIODeadline, sessionStart: NIODeadline
    ) {
        self.session = session
        self.options = options
        self.loop = loop
        self.tls = tls
        self.sink = sink
        self.connectionID = connectionID
        self.replayStart = replayStart
        self.sessionStart = sessionStart
        self.scheduleOrigin = sessionStart
        self.expectedReceipts = session.requests.reduce(0) { $0 + ($1.originalReceiptState == nil ? 0 : 1) }
        done = loop.makePromise()
        outcome = SessionOutcome(
            recordedSession: session.id, pass: pass,
            requests: session.requests.map { RequestOutcome(index: $0.index) })
    }

    func start() -> EventLoopFuture<SessionOutcome> {
        loop.scheduleTask(deadline: sessionStart) { self.connect() }
        return done.futureResult
    }

    private func seconds(_ deadline: NIODeadline) -> Double {
        Double((deadline - replayStart).nanoseconds) / 1e9
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
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: hostname))
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
                            .opened(Connection(id: self.connectionID, first: local, second: remote, synSender: local, firstSeen: .now)))
                    }
                    self.sendBind()
                    self.watch()
                case .failure(let error):
                    self.fail("cannot connect to \(self.options.targetHost):\(self.options.targetPort): \(connectionFailure(error))")
                }
            }
    }

    private func sendBind() {
        var bind = session.bind
        if let systemID = options.systemID { bind.systemID = systemID }
        bind.password = options.password
        sequence += 1
        let pdu = PDU(session.bindCommand, sequence: sequence, body: .bind(bind))
        pending[sequence] = (-1, .now())
        write(pdu.encoded)
    }

    /// Writes (and flushes unless `flush` is false: a burst of requests is flushed once, by the pump).
    private func write(_ bytes: ByteBuffer, flush: Bool = true) {
        guard let channel else { return }
        if flush {
            channel.writeAndFlush(bytes, promise: nil)
        } else {
            channel.write(bytes, promise: nil)
        }
        record(bytes, fromClient: true)
    }

    private func record(_ bytes: ByteBuffer, fromClient: Bool) {
        guard let sink, let local, let remote else { return }
        let side = fromClient ? 0 : 1
        readFrames += 1
        sink.record(
            .pdu(
                FramedPDU(
                    connection: connectionID, source: fromClient ? local : remote, destination: fromClient ? remote : local,
                    timestamp: .now, frame: readFrames, streamOffset: offsets[side], bytes: ByteBuffer(bytes: bytes.readableBytesView))))
        offsets[side] += UInt64(bytes.readableBytes)
    }

    /// Checks for responses that never came, once a second.
    private func watch() {
        loop.scheduleTask(in: .seconds(1)) {
            guard !self.finished else { return }
            let limit = NIODeadline.now() - .nanoseconds(Int64(self.options.responseTimeout * 1e9))
            for (sequence, entry) in self.pending where entry.sent < limit {
                self.pending[sequence] = nil
                if entry.index >= 0 {
                    self.outcome.requests[entry.index].note = "no response within \(Int(self.options.responseTimeout)) s"
                } else if entry.index == -1 {
                    self.fail("no bind response within \(Int(self.options.responseTimeout)) s")
                    return
                } else {
                    self.close()
                    return
                }
            }
            self.pump()
            self.watch()
        }
    }

    // MARK: Sending

    private func deadline(of index: Int) -> NIODeadline? {
        switch options.pace {
        case .recorded(let speed):
            return scheduleOrigin + .nanoseconds(Int64(session.requests[index].offset / speed * 1e9))
        case .rate(let perSecond):
            return scheduleOrigin + .nanoseconds(Int64(Double(index) / perSecond * 1e9))
        case .asFastAsPossible:
            return nil
        }
    }

    private func pump() {
        guard bound, !finished else { return }
        pumpScheduled?.cancel()
        pumpScheduled = nil
        defer { channel?.flush() }
        let now = NIODeadline.now()
        // Resends first.
        while let retry = retries.first, retry.at <= now, windowAllows {
            retries.removeFirst()
            send(retry.index, scheduled: nil)
        }
        while next < session.requests.count {
            guard windowAllows else { return }
            let request = session.requests[next]
            let due = deadline(of: next)
            if let due, due > NIODeadline.now() {
                schedulePump(at: due)
                return
            }
            if let referenced = referencedID(request), newIDs.lookup(referenced) == nil, isAwaitingID(referenced) {
                // A query, cancel or replace of a message whose new id has not come back yet: wait for it (5 s at most).
                let since = heldSince ?? NIODeadline.now()
                heldSince = since
                if NIODeadline.now() - since < .seconds(5) {
                    schedulePump(at: NIODeadline.now() + .milliseconds(5))
                    return
                }
            }
            heldSince = nil
            var scheduled = due
            if request.command == .unbind {
                // The recorded client unbound once it had its answers: so does the replay, whatever the pace,
                // and it waits for the receipts the recording had.
                if !pending.isEmpty || !retries.isEmpty { return }
                if awaitingReceipts {
                    schedulePump(at: NIODeadline.now() + .milliseconds(50))
                    return
                }
                if let due, NIODeadline.now() - due > .milliseconds(1) { scheduled = nil }
            }
            send(next, scheduled: scheduled)
            next += 1
        }
        if let retry = retries.first {
            schedulePump(at: retry.at)
            return
        }
        if pending.isEmpty { finish() }
    }

    private var windowAllows: Bool {
        guard let window = options.window else { return true }
        return pending.count < window
    }

    private func schedulePump(at deadline: NIODeadline) {
        pumpScheduled = loop.scheduleTask(deadline: deadline) { self.pump() }
    }

    private func referencedID(_ request: PlannedRequest) -> String? {
        switch request.pdu.body {
        case .querySM(let body): return body.messageID
        case .cancelSM(let body): return body.messageID.isEmpty ? nil : body.messageID
        case .replaceSM(let body): return body.messageID
        default: return nil
        }
    }

    /// True when a request already sent, or still to send, is the submit that got this id in the recording.
    private func isAwaitingID(_ id: String) -> Bool {
        session.requests.contains { request in
            guard let original = request.originalMessageID, MessageID.equivalent(original, id) else { return false }
            return outcome.requests[request.index].status == nil && outcome.requests[request.index].note == nil
        }
    }

    private func send(_ index: Int, scheduled: NIODeadline?) {
        let request = session.requests[index]
        sequence = sequence == 0x7FFF_FFFF ? 1 : sequence + 1
        let now = NIODeadline.now()
        var bytes = rewritten(request)
        bytes.setInteger(sequence, at: bytes.readerIndex + 12)
        pending[sequence] = (index, now)
        outcome.requests[index].attempts += 1
        if outcome.requests[index].sent == nil {
            outcome.requests[index].sent = seconds(now)
            outcome.requests[index].scheduled = scheduled.map(seconds)
        }
        lastActivity = now
        write(bytes, flush: false)
        if request.command == .unbind { finishing = true }
    }

    /// The request's bytes, with addresses rewritten and message ids mapped to the target's; unchanged (byte for
    /// byte) when nothing applies.
    private func rewritten(_ request: PlannedRequest) -> ByteBuffer {
        var pdu = request.pdu
        var changed = false
        func address(_ value: inout Address, _ rules: [AddressRewrite]) {
            let rewritten = rules.apply(value.address)
            if rewritten != value.address {
                value.address = rewritten
                changed = true
            }
        }
        func messageID(_ value: inout String) {
            if let mapped = newIDs.lookup(value), mapped != value {
                value = mapped
                changed = true
            }
        }
        switch pdu.body {
        case .shortMessage(var body):
            address(&body.destination, options.destinationRewrites)
            address(&body.source, options.sourceRewrites)
            pdu.body = .shortMessage(body)
        case .dataSM(var body):
            address(&body.destination, options.destinationRewrites)
            address(&body.source, options.sourceRewrites)
            pdu.body = .dataSM(body)
        case .submitMulti(var body):
            address(&body.source, options.sourceRewrites)
            body.destinations = body.destinations.map { destination in
                guard case .sme(var value) = destination else { return destination }
                address(&value, options.destinationRewrites)
                return .sme(value)
            }
            pdu.body = .submitMulti(body)
        case .querySM(var body):
            messageID(&body.messageID)
            address(&body.source, options.sourceRewrites)
            pdu.body = .querySM(body)
        case .cancelSM(var body):
            messageID(&body.messageID)
            address(&body.source, options.sourceRewrites)
            address(&body.destination, options.destinationRewrites)
            pdu.body = .cancelSM(body)
        case .replaceSM(var body):
            messageID(&body.messageID)
            address(&body.source, options.sourceRewrites)
            pdu.body = .replaceSM(body)
        default:
            break
        }
        return changed ? pdu.encoded : request.raw
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        record(frame, fromClient: false)
        guard let header = PDUHeader.peek(in: frame) else { return }
        lastActivity = .now()
        if header.commandID.isResponse || header.commandID == .genericNack {
            response(header, frame)
        } else {
            serverRequest(header, frame)
        }
        pump()
    }

    private func response(_ header: PDUHeader, _ frame: ByteBuffer) {
        guard let entry = pending.removeValue(forKey: header.sequenceNumber) else {
            outcome.extraResponses += 1
            return
        }
        switch entry.index {
        case -1:
            outcome.bindStatus = header.commandStatus
            if header.commandStatus == .ok {
                bound = true
                // The schedule starts from the bind's response, as the recording's did: a bind slower (or
                // faster) than the recorded one moves the session as a whole, not each request.
                if case .recorded(let speed) = options.pace, let recorded = session.originalBindLatency {
                    scheduleOrigin = max(sessionStart, NIODeadline.now() - .nanoseconds(Int64(recorded / speed * 1e9)))
                } else {
                    scheduleOrigin = NIODeadline.now()
                }
            } else {
                fail("the target refused the bind: \(header.commandStatus.explanation)")
            }
        case -2:
            close()
        default:
            let index = entry.index
            let request = session.requests[index]
            outcome.requests[index].status = header.commandStatus
            outcome.requests[index].latency = Double((NIODeadline.now() - entry.sent).nanoseconds) / 1e9
            outcome.requests[index].note = nil
            if case .messageID(let id)? = (try? PDU.decode(frame))?.body, !id.isEmpty {
                outcome.requests[index].messageID = id
                requestByNewID.insert(id, index)
                if let original = request.originalMessageID { newIDs.insert(original, id) }
            }
            if header.commandStatus == .throttled || header.commandStatus == .messageQueueFull {
                if header.commandStatus == .throttled { outcome.throttled += 1 }
                if options.onThrottle == .resend, outcome.requests[index].attempts <= 3 {
                    let backoff = Int64(1 << (outcome.requests[index].attempts - 1))
                    retries.append((index, .now() + .seconds(backoff)))
                }
            }
            if request.command == .unbind { close() }
        }
    }

    private func serverRequest(_ header: PDUHeader, _ frame: ByteBuffer) {
        outcome.serverRequests += 1
        let command = header.commandID
        let status = session.answers[command] ?? .ok
        let pdu = try? PDU.decode(frame)
        if command == .deliverSM || command == .dataSM, let receipt = pdu?.deliveryReceipt(), let id = receipt.messageID {
            outcome.receipts += 1
            if let index = requestByNewID.lookup(id) {
                if outcome.requests[index].receiptState == nil { linkedReceipts += 1 }
                outcome.requests[index].receiptState = receipt.state
            } else {
                outcome.unknownReceipts += 1
            }
        }
        let responseCommand = CommandID(rawValue: command.rawValue | 0x8000_0000)
        let body: PDU.Body = command == .deliverSM || command == .dataSM ? .messageID("") : .empty
        let answer = PDU(responseCommand, status: status, sequence: header.sequenceNumber, body: status == .ok ? body : .empty)
        write(answer.encoded)
        if command == .unbind { close() }
    }

    // MARK: Ending

    /// Every request sent and answered: wait for the receipts the recording had, then unbind.
    private func finish() {
        guard !finishing else { return }
        if awaitingReceipts {
            schedulePump(at: NIODeadline.now() + .milliseconds(50))
            return
        }
        finishing = true
        sequence += 1
        pending[sequence] = (-2, .now())
        write(PDU(.unbind, sequence: sequence).encoded)
    }

    /// True while fewer receipts came than the recording had, and the receipt wait has not run out.
    private var awaitingReceipts: Bool {
        linkedReceipts < expectedReceipts && NIODeadline.now() - lastActivity < .nanoseconds(Int64(options.receiptWait * 1e9))
    }

    private func fail(_ reason: String) {
        if outcome.error == nil { outcome.error = reason }
        close()
    }

    private func close() {
        guard !finished else { return }
        finished = true
        pumpScheduled?.cancel()
        for index in next..<session.requests.count where outcome.requests[index].sent == nil {
            outcome.requests[index].note = outcome.error.map { "not sent: \($0)" } ?? "not sent"
        }
        for (_, entry) in pending where entry.index >= 0 {
            outcome.requests[entry.index].note = "no response before the session ended"
        }
        if let channel, channel.isActive {
            if let local {
                sink?.record(.ended(ConnectionEnd(connection: connectionID, kind: .fin, by: local, frame: readFrames, timestamp: .now)))
            }
            channel.close(promise: nil)
        }
        done.succeed(outcome)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            if let remote {
                sink?.record(.ended(ConnectionEnd(connection: connectionID, kind: .fin, by: remote, frame: readFrames, timestamp: .now)))
            }
            if !finishing { outcome.error = outcome.error ?? "the target closed the connection" }
            close()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail("\(error)")
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

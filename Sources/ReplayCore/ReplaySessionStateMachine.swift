// One replayed session's rules as a state machine: when each request goes (pace, window, resends, requests that
// wait for a message id), how the target's responses and requests are matched and answered, when the session
// unbinds and ends. Events in, actions out; times are seconds from the replay's start, passed in. The runner on
// SwiftNIO (Replay) only connects, writes, schedules and closes.

import NIOCore
import SMPP

/// How a replay paces and rewrites a session.
public struct ReplaySessionSettings: Sendable {
    public var pace = ReplayPace.recorded(speed: 1)
    /// Requests a session may have unanswered; more wait.
    public var window: Int?
    public var onThrottle = ReplayOnThrottle.asRecorded
    public var destinationRewrites: [AddressRewrite] = []
    public var sourceRewrites: [AddressRewrite] = []
    /// Seconds to wait for a response before counting it missing.
    public var responseTimeout = 10.0
    /// Seconds to wait, after the last response, for receipts the recording had.
    public var receiptWait = 5.0
    /// Bind as this system_id (the recorded one when nil) with this password.
    public var systemID: String?
    public var password = ""

    public init() {}
}

/// When a replay sends each session's requests.
public enum ReplayPace: Sendable, Equatable {
    /// The recorded gaps, divided by `speed` (2 is twice as fast).
    case recorded(speed: Double)
    /// Each session's requests at this many per second.
    case rate(Double)
    /// As fast as the window allows.
    case asFastAsPossible
}

/// What a replay does with a request the target throttled.
public enum ReplayOnThrottle: String, Sendable, CaseIterable {
    /// Send nothing more than the recording did (its own resubmissions are in the plan).
    case asRecorded = "as-recorded"
    /// Send the request again after a back-off (1 s, 2 s, 4 s; three times at most).
    case resend
    /// Leave it throttled.
    case giveUp = "give-up"
}

public struct ReplaySessionStateMachine {
    public enum Action: Sendable {
        /// Write these bytes; flush now when `flush`, else at the next `.flush`.
        case send(ByteBuffer, flush: Bool)
        case flush
        /// Call `pump(now:)` at this time; it replaces the wake-up asked for before.
        case wake(at: Double)
        /// Forget the wake-up asked for before.
        case cancelWake
        /// Close the connection.
        case close
        /// The session is over: this is what happened.
        case finished(SessionOutcome)
    }

    /// A request sent and not yet answered.
    enum Sent: Sendable {
        case bind
        case request(Int)
        case closingUnbind
    }

    /// The most resends of one request under `ReplayOnThrottle.resend`.
    public static let maximumResends = 3
    /// How long a query, cancel or replace waits for the id of the message it refers to.
    public static let idWait = 5.0

    public let session: PlannedSession
    public let settings: ReplaySessionSettings
    /// When the session starts (its connection is made), seconds from the replay's start.
    public let sessionStart: Double
    public private(set) var outcome: SessionOutcome
    public private(set) var isFinished = false
    /// The time request offsets count from: set when the bind is answered.
    private var scheduleOrigin: Double
    private var sequence: UInt32 = 0
    private var next = 0
    private var pending: [UInt32: (sent: Sent, at: Double)] = [:]
    private var retries: [(index: Int, at: Double)] = []
    /// Original message id -> the target's.
    private var newIDs = MessageIDIndex<String>()
    /// The target's message ids -> request index, for its receipts.
    private var requestByNewID = MessageIDIndex<Int>()
    private var bound = false
    private var finishing = false
    private var lastActivity: Double
    private var heldSince: Double?
    /// Receipts the recording linked to this session's requests, and those the replay has linked so far.
    private let expectedReceipts: Int
    private var linkedReceipts = 0

    public init(session: PlannedSession, pass: Int, settings: ReplaySessionSettings, sessionStart: Double) {
        self.session = session
        self.settings = settings
        self.sessionStart = sessionStart
        scheduleOrigin = sessionStart
        lastActivity = sessionStart
        expectedReceipts = session.requests.reduce(0) { $0 + ($1.originalReceiptState == nil ? 0 : 1) }
        outcome = SessionOutcome(
            recordedSession: session.id, pass: pass, requests: session.requests.map { RequestOutcome(index: $0.index) })
    }

    // MARK: Events

    /// The connection is up: the bind goes.
    public mutating func connected(now: Double) -> [Action] {
        lastActivity = now
        var bind = session.bind
        if let systemID = settings.systemID { bind.systemID = systemID }
        bind.password = settings.password
        sequence += 1
        pending[sequence] = (.bind, now)
        return [.send(PDU(session.bindCommand, sequence: sequence, body: .bind(bind)).encoded, flush: true)]
    }

    /// The connection could not be made (or broke with an error).
    public mutating func failed(_ reason: String) -> [Action] {
        var actions: [Action] = []
        fail(reason, into: &actions)
        return actions
    }

    /// The once-a-second check: responses that never came, then the pump.
    public mutating func tick(now: Double) -> [Action] {
        guard !isFinished else { return [] }
        var actions: [Action] = []
        let limit = now - settings.responseTimeout
        for (sequence, entry) in pending.sorted(by: { $0.key < $1.key }) where entry.at < limit {
            pending[sequence] = nil
            switch entry.sent {
            case .request(let index):
                outcome.requests[index].note = "no response within \(Int(settings.responseTimeout)) s"
            case .bind:
                fail("no bind response within \(Int(settings.responseTimeout)) s", into: &actions)
                return actions
            case .closingUnbind:
                close(into: &actions)
                return actions
            }
        }
        pump(now: now, into: &actions)
        return actions
    }

    /// A wake-up asked for came due.
    public mutating func pump(now: Double) -> [Action] {
        var actions: [Action] = []
        pump(now: now, into: &actions)
        return actions
    }

    /// A whole PDU from the target.
    public mutating func received(_ frame: ByteBuffer, now: Double) -> [Action] {
        guard !isFinished, let header = PDUHeader.peek(in: frame) else { return [] }
        var actions: [Action] = []
        lastActivity = now
        if header.commandID.isResponse || header.commandID == .genericNack {
            response(header, frame, now: now, into: &actions)
        } else {
            serverRequest(header, frame, into: &actions)
        }
        pump(now: now, into: &actions)
        return actions
    }

    /// The target closed the connection.
    public mutating func peerClosed() -> [Action] {
        guard !isFinished else { return [] }
        if !finishing { outcome.error = outcome.error ?? "the target closed the connection" }
        var actions: [Action] = []
        close(into: &actions)
        return actions
    }

    // MARK: Sending

    private func deadline(of index: Int) -> Double? {
        switch settings.pace {
        case .recorded(let speed): return scheduleOrigin + session.requests[index].offset / speed
        case .rate(let perSecond): return scheduleOrigin + Double(index) / perSecond
        case .asFastAsPossible: return nil
        }
    }

    private var windowAllows: Bool {
        guard let window = settings.window else { return true }
        return pending.count < window
    }

    private mutating func pump(now: Double, into actions: inout [Action]) {
        guard bound, !isFinished else { return }
        actions.append(.cancelWake)
        defer { actions.append(.flush) }
        // Resends first.
        while let retry = retries.first, retry.at <= now, windowAllows {
            retries.removeFirst()
            send(retry.index, scheduled: nil, now: now, into: &actions)
        }
        while next < session.requests.count {
            guard windowAllows else { return }
            let request = session.requests[next]
            let due = deadline(of: next)
            if let due, due > now {
                actions.append(.wake(at: due))
                return
            }
            if let referenced = Self.referencedID(request), newIDs.lookup(referenced) == nil, isAwaitingID(referenced) {
                // A query, cancel or replace of a message whose new id has not come back yet: wait for it.
                let since = heldSince ?? now
                heldSince = since
                if now - since < Self.idWait {
                    actions.append(.wake(at: now + 0.005))
                    return
                }
            }
            heldSince = nil
            var scheduled = due
            if request.command == .unbind {
                // The recorded client unbound once it had its answers: so does the replay, whatever the pace,
                // and it waits for the receipts the recording had.
                if !pending.isEmpty || !retries.isEmpty { return }
                if awaitingReceipts(now: now) {
                    actions.append(.wake(at: now + 0.05))
                    return
                }
                if let due, now - due > 0.001 { scheduled = nil }
            }
            send(next, scheduled: scheduled, now: now, into: &actions)
            next += 1
        }
        if let retry = retries.first {
            actions.append(.wake(at: retry.at))
            return
        }
        if pending.isEmpty { finish(now: now, into: &actions) }
    }

    static func referencedID(_ request: PlannedRequest) -> String? {
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

    private mutating func send(_ index: Int, scheduled: Double?, now: Double, into actions: inout [Action]) {
        let request = session.requests[index]
        sequence = sequence == 0x7FFF_FFFF ? 1 : sequence + 1
        var bytes = rewritten(request)
        bytes.setInteger(sequence, at: bytes.readerIndex + 12)
        pending[sequence] = (.request(index), now)
        outcome.requests[index].attempts += 1
        if outcome.requests[index].sent == nil {
            outcome.requests[index].sent = now
            outcome.requests[index].scheduled = scheduled
        }
        lastActivity = now
        actions.append(.send(bytes, flush: false))
        if request.command == .unbind { finishing = true }
    }

    /// The request's bytes, with addresses rewritten and message ids mapped to the target's; unchanged (byte for
    /// byte) when nothing applies.
    func rewritten(_ request: PlannedRequest) -> ByteBuffer {
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
            address(&body.destination, settings.destinationRewrites)
            address(&body.source, settings.sourceRewrites)
            pdu.body = .shortMessage(body)
        case .dataSM(var body):
            address(&body.destination, settings.destinationRewrites)
            address(&body.source, settings.sourceRewrites)
            pdu.body = .dataSM(body)
        case .submitMulti(var body):
            address(&body.source, settings.sourceRewrites)
            body.destinations = body.destinations.map { destination in
                guard case .sme(var value) = destination else { return destination }
                address(&value, settings.destinationRewrites)
                return .sme(value)
            }
            pdu.body = .submitMulti(body)
        case .querySM(var body):
            messageID(&body.messageID)
            address(&body.source, settings.sourceRewrites)
            pdu.body = .querySM(body)
        case .cancelSM(var body):
            messageID(&body.messageID)
            address(&body.source, settings.sourceRewrites)
            address(&body.destination, settings.destinationRewrites)
            pdu.body = .cancelSM(body)
        case .replaceSM(var body):
            messageID(&body.messageID)
            address(&body.source, settings.sourceRewrites)
            pdu.body = .replaceSM(body)
        default:
            break
        }
        return changed ? pdu.encoded : request.raw
    }

    // MARK: Receiving

    private mutating func response(_ header: PDUHeader, _ frame: ByteBuffer, now: Double, into actions: inout [Action])
    {
        guard let entry = pending.removeValue(forKey: header.sequenceNumber) else {
            outcome.extraResponses += 1
            return
        }
        switch entry.sent {
        case .bind:
            outcome.bindStatus = header.commandStatus
            if header.commandStatus == .ok {
                bound = true
                // The schedule starts from the bind's response, as the recording's did: a bind slower (or
                // faster) than the recorded one moves the session as a whole, not each request.
                if case .recorded(let speed) = settings.pace, let recorded = session.originalBindLatency {
                    scheduleOrigin = max(sessionStart, now - recorded / speed)
                } else {
                    scheduleOrigin = now
                }
            } else {
                fail("the target refused the bind: \(header.commandStatus.explanation)", into: &actions)
            }
        case .closingUnbind:
            close(into: &actions)
        case .request(let index):
            let request = session.requests[index]
            outcome.requests[index].status = header.commandStatus
            outcome.requests[index].latency = now - entry.at
            outcome.requests[index].note = nil
            if case .messageID(let id)? = (try? PDU.decode(frame))?.body, !id.isEmpty {
                outcome.requests[index].messageID = id
                requestByNewID.insert(id, index)
                if let original = request.originalMessageID { newIDs.insert(original, id) }
            }
            if header.commandStatus == .throttled || header.commandStatus == .messageQueueFull {
                if header.commandStatus == .throttled { outcome.throttled += 1 }
                let attempts = outcome.requests[index].attempts
                if settings.onThrottle == .resend, attempts <= Self.maximumResends {
                    retries.append((index, now + Double(1 << (attempts - 1))))
                }
            }
            if request.command == .unbind { close(into: &actions) }
        }
    }

    private mutating func serverRequest(_ header: PDUHeader, _ frame: ByteBuffer, into actions: inout [Action]) {
        outcome.serverRequests += 1
        let command = header.commandID
        let status = session.answers[command] ?? .ok
        let pdu = try? PDU.decode(frame)
        if command == .deliverSM || command == .dataSM, let receipt = pdu?.deliveryReceipt(), let id = receipt.messageID
        {
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
        let answer = PDU(
            responseCommand, status: status, sequence: header.sequenceNumber, body: status == .ok ? body : .empty)
        actions.append(.send(answer.encoded, flush: true))
        if command == .unbind { close(into: &actions) }
    }

    // MARK: Ending

    /// Every request sent and answered: wait for the receipts the recording had, then unbind.
    private mutating func finish(now: Double, into actions: inout [Action]) {
        guard !finishing else { return }
        if awaitingReceipts(now: now) {
            actions.append(.wake(at: now + 0.05))
            return
        }
        finishing = true
        sequence += 1
        pending[sequence] = (.closingUnbind, now)
        actions.append(.send(PDU(.unbind, sequence: sequence).encoded, flush: false))
    }

    /// True while fewer receipts came than the recording had, and the receipt wait has not run out.
    private func awaitingReceipts(now: Double) -> Bool {
        linkedReceipts < expectedReceipts && now - lastActivity < settings.receiptWait
    }

    private mutating func fail(_ reason: String, into actions: inout [Action]) {
        if outcome.error == nil { outcome.error = reason }
        close(into: &actions)
    }

    private mutating func close(into actions: inout [Action]) {
        guard !isFinished else { return }
        isFinished = true
        for index in next..<session.requests.count where outcome.requests[index].sent == nil {
            outcome.requests[index].note = outcome.error.map { "not sent: \($0)" } ?? "not sent"
        }
        for case (_, (.request(let index), _)) in pending {
            outcome.requests[index].note = "no response before the session ended"
        }
        actions.append(.cancelWake)
        actions.append(.close)
        actions.append(.finished(outcome))
    }
}

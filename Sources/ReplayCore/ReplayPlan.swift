// What a replay will send: each recorded client session as its bind and its requests, with their times, and what
// the recording says came back (statuses, latencies, message ids, receipts) to compare the replay with.

import Capture
import NIOCore
import Reassembly
import SMPP
import Timeline

/// One request the recorded client sent.
public struct PlannedRequest {
    public var index: Int
    /// Seconds after the session's bind request.
    public var offset: Double
    /// The request as it was on the wire.
    public var raw: ByteBuffer
    public var pdu: PDU
    public var originalSequence: UInt32
    /// The response the recording has, if any.
    public var originalStatus: CommandStatus?
    public var originalLatency: Double?
    public var originalMessageID: String?
    /// The final state of the receipt the recording linked to this request's message id.
    public var originalReceiptState: String?
    /// The earlier request this one repeats byte for byte (apart from the sequence number) after that one was
    /// refused with ESME_RTHROTTLED or ESME_RMSGQFUL: the recorded client's own resend.
    public var resendOf: Int?

    public var command: CommandID { pdu.commandID }
}

/// One recorded client session.
public struct PlannedSession {
    /// The session's number in the recording.
    public var id: Int
    public var start: Timestamp
    public var bind: PDU.Bind
    public var bindCommand: CommandID
    public var originalBindStatus: CommandStatus?
    /// Seconds from the recorded bind to its response.
    public var originalBindLatency: Double?
    public var requests: [PlannedRequest] = []
    /// How the recorded client answered the SMSC's requests, by request command.
    public var answers: [CommandID: CommandStatus] = [:]
    /// Requests the SMSC sent in the recording (deliver_sm, enquire_link, ...).
    public var serverRequests = 0
    public var originalReceipts = 0
}

/// Every session to replay, from a recording's timeline.
public struct ReplayPlan {
    public var sessions: [PlannedSession] = []
    /// Sessions that cannot be replayed, and why.
    public var skipped: [String] = []

    public init() {}

    public var requestCount: Int { sessions.reduce(0) { $0 + $1.requests.count } }
}

/// Builds a plan from timeline events, in order.
public struct ReplayPlanner {
    private var plan = ReplayPlan()
    /// Index in `plan.sessions` by recorded session.
    private var byRecordedSession: [Int: Int] = [:]
    /// Requests awaiting their recorded response: (session index, sequence) -> request index.
    private var awaiting: [Int: [UInt32: Int]] = [:]
    private var receiptsByID: [Int: MessageIDIndex<Int>] = [:]
    private var sessionsSeen: [Int: Session] = [:]
    /// Bodies of requests refused for rate or window, per session index: a later identical request is a resend.
    private var refusedBodies: [Int: [ByteBuffer: Int]] = [:]
    private let selected: Set<Int>
    private let systemIDs: Set<String>
    private let boundFrom: Timestamp?
    private let boundTo: Timestamp?
    /// Sessions whose bind the selection leaves out.
    private var excluded: Set<Int> = []

    /// `sessions`: the recorded sessions to replay (all when empty); `systemIDs`: only sessions bound with one of
    /// these system_ids (all when empty); `boundFrom`/`boundTo`: only sessions bound within that time.
    public init(
        sessions: Set<Int> = [], systemIDs: Set<String> = [], boundFrom: Timestamp? = nil, boundTo: Timestamp? = nil
    ) {
        selected = sessions
        self.systemIDs = systemIDs
        self.boundFrom = boundFrom
        self.boundTo = boundTo
    }

    /// A request without its header: what stays the same when a client sends it again.
    private static func body(_ raw: ByteBuffer) -> ByteBuffer {
        raw.getSlice(at: raw.readerIndex + 16, length: max(0, raw.readableBytes - 16)) ?? ByteBuffer()
    }

    public mutating func add(_ event: TimelineEvent) {
        switch event {
        case .sessionOpened(let session):
            sessionsSeen[session.id] = session
        case .pdu(let item):
            add(item)
        default:
            break
        }
    }

    private mutating func add(_ item: TimelinePDU) {
        guard selected.isEmpty || selected.contains(item.session), !excluded.contains(item.session) else { return }
        let command = item.header.commandID
        guard let fromClient = item.fromClient else { return }
        if fromClient, command == .bindTransmitter || command == .bindReceiver || command == .bindTransceiver {
            guard case .bind(let bind) = item.decoded().body else { return }
            let inWindow =
                (boundFrom.map { item.timestamp >= $0 } ?? true) && (boundTo.map { item.timestamp <= $0 } ?? true)
            if !inWindow || !(systemIDs.isEmpty || systemIDs.contains(bind.systemID)) {
                excluded.insert(item.session)
                if let index = byRecordedSession.removeValue(forKey: item.session) { awaiting[index] = nil }
                return
            }
            // A new bind on the same connection starts over.
            byRecordedSession[item.session] = plan.sessions.count
            plan.sessions.append(
                PlannedSession(id: item.session, start: item.timestamp, bind: bind, bindCommand: command))
            awaiting[plan.sessions.count - 1] = [:]
            return
        }
        guard let index = byRecordedSession[item.session] else {
            if fromClient, !command.isResponse,
                !plan.skipped.contains(where: { $0.hasPrefix("session \(item.session):") })
            {
                plan.skipped.append(
                    "session \(item.session): the capture has no bind from the client (it started mid-session)")
            }
            return
        }
        let offset = item.timestamp.seconds(since: plan.sessions[index].start)
        if fromClient {
            if command.isResponse {
                let request = CommandID(rawValue: command.rawValue & 0x7FFF_FFFF)
                plan.sessions[index].answers[request] = item.header.commandStatus
                return
            }
            let requestIndex = plan.sessions[index].requests.count
            var request = PlannedRequest(
                index: requestIndex, offset: max(0, offset), raw: item.raw, pdu: item.decoded(),
                originalSequence: item.header.sequenceNumber)
            if let refused = refusedBodies[index], !refused.isEmpty {
                request.resendOf = refused[Self.body(item.raw)]
            }
            plan.sessions[index].requests.append(request)
            awaiting[index, default: [:]][item.header.sequenceNumber] = requestIndex
            return
        }
        // From the SMSC.
        if command.isResponse {
            if command.isBindResponse {
                plan.sessions[index].originalBindStatus = item.header.commandStatus
                plan.sessions[index].originalBindLatency = max(0, offset)
                return
            }
            guard let requestIndex = awaiting[index]?.removeValue(forKey: item.header.sequenceNumber) else { return }
            var request = plan.sessions[index].requests[requestIndex]
            request.originalStatus = item.header.commandStatus
            request.originalLatency = item.timestamp.seconds(since: plan.sessions[index].start) - request.offset
            if item.header.commandStatus == .throttled || item.header.commandStatus == .messageQueueFull {
                refusedBodies[index, default: [:]][Self.body(request.raw)] = requestIndex
            }
            if case .messageID(let id) = item.decoded().body, !id.isEmpty {
                request.originalMessageID = id
                receiptsByID[index, default: MessageIDIndex()].insert(id, requestIndex)
            }
            plan.sessions[index].requests[requestIndex] = request
            return
        }
        plan.sessions[index].serverRequests += 1
        if command == .deliverSM || command == .dataSM, let receipt = item.decoded().deliveryReceipt(),
            let id = receipt.messageID
        {
            plan.sessions[index].originalReceipts += 1
            if let requestIndex = receiptsByID[index]?.lookup(id) {
                plan.sessions[index].requests[requestIndex].originalReceiptState = receipt.state
            }
        }
    }

    public func finish() -> ReplayPlan {
        var plan = self.plan
        let filtered = !systemIDs.isEmpty || boundFrom != nil || boundTo != nil
        for (id, _) in sessionsSeen
        where (selected.isEmpty || selected.contains(id)) && !excluded.contains(id) && !filtered
            && !plan.sessions.contains(where: { $0.id == id })
            && !plan.skipped.contains(where: { $0.hasPrefix("session \(id):") })
        {
            plan.skipped.append(
                "session \(id): no client bind (an outbind, a receiver-only peer, or a capture that starts mid-session)"
            )
        }
        plan.skipped.sort()
        return plan
    }
}

extension CommandID {
    var isBindResponse: Bool {
        self == .bindTransmitterResp || self == .bindReceiverResp || self == .bindTransceiverResp
    }
}

// The simulated SMSC's rules as a state machine: events in (a connection opened, a PDU arrived, a timer fired, a
// connection closed, a mobile-originated message to send), actions out (write a PDU, close a connection, schedule a
// timer, tell the log). No I/O and no clock: every event carries its time, and the random choices (latency,
// receipt outcomes and delays) come from a seeded generator, so tests drive it with plain values.

import NIOCore
import Profile
import SMPP

/// The SMSC.kz rules: binds (one connection per login, MCONn), the per-account rate, duplicates, the window, message
/// ids for long messages, receipts and their delivery to a receiver, query/cancel/replace, enquire_link, unbind and
/// the idle limit.
public struct SMSCStateMachine: Sendable {
    /// What a connection is bound as.
    public enum BindKind: Sendable, Hashable {
        case transmitter
        case receiver
        case transceiver
    }

    /// Something to do later; the runner schedules it and feeds it back through `timerFired`.
    public enum Timer: Sendable {
        /// A response whose simulated latency has passed; the connection closes after it when `thenClose`.
        case response(connection: Int, pdu: PDU, thenClose: Bool)
        /// A receipt that is due.
        case receipt(ReceiptJob)
        /// The connection's idle check.
        case idleCheck(connection: Int)
        /// The end of the grace an unbind sent for idleness gives.
        case closeAfterUnbind(connection: Int)
    }

    /// What the runner does.
    public enum Action: Sendable {
        /// Encode and send a PDU on a connection (and log it).
        case write(connection: Int, pdu: PDU)
        /// Close a connection.
        case close(connection: Int)
        /// Run a timer this many seconds from now.
        case schedule(Timer, after: Double)
        /// A line for the log.
        case notice(String)
    }

    /// A receipt waiting for its time.
    public struct ReceiptJob: Sendable {
        var id: String
        var source: Address
        var destination: Address
        var hlr: Bool
        var stat: String
        var state: UInt8
        var err: String
        var systemID: String
        /// The first characters of the message's text, for `{text}` in a receipt template.
        var text = ""
        /// The connection the submit came on, preferred for the receipt.
        var preferred: Int
        /// A second copy of a receipt already sent (``SimulatorConfiguration/duplicateReceipts``): sent as it was.
        var copy: PDU? = nil
    }

    /// A message the SMSC accepted.
    struct MessageRecord: Sendable {
        var id: String
        var state: UInt8  // 1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 4 DELETED, 5 UNDELIVERABLE, 8 REJECTED
        var submitted: Double
        var finalAt: Double?
        var account: String
    }

    /// One login's state.
    struct AccountState: Sendable {
        let account: SimulatorConfiguration.Account
        let throughput: Double
        /// Bound connections, oldest first.
        var bound: [Int] = []
        /// Times of accepted submits, for the per-second limit.
        var accepted: [Double] = []
        var acceptedHead = 0
        /// Message identity -> time accepted, for the duplicate rule.
        var recent: [Int: Double] = [:]
        /// Receipts and MO messages waiting for a receiver to bind.
        var undelivered: [PDU] = []

        /// Accepted submits in (now - 1 s, now].
        mutating func acceptedInLastSecond(now: Double) -> Int {
            while acceptedHead < accepted.count, accepted[acceptedHead] <= now - 1 { acceptedHead += 1 }
            if acceptedHead > 1_024 {
                accepted.removeFirst(acceptedHead)
                acceptedHead = 0
            }
            return accepted.count - acceptedHead
        }
    }

    /// One connection's state.
    struct ConnectionState: Sendable {
        var bindKind: BindKind?
        var systemID: String?
        var flags = SystemTypeFlags(systemType: "")
        /// Requests received and not yet answered.
        var outstanding = 0
        var lastActivity: Double
        var nextSequence: UInt32 = 1
        /// False once the machine asked for the connection to close.
        var isActive = true
        /// An unbind for idleness was sent; its response (or the grace) closes the connection.
        var closing = false

        var canReceive: Bool { bindKind == .receiver || bindKind == .transceiver }
        var canTransmit: Bool { bindKind == .transmitter || bindKind == .transceiver }
    }

    /// Bounds: the messages remembered (for query_sm, cancel_sm, replace_sm and receipts), the receipts and MO
    /// messages kept for an account with no receiver bound, the identities kept for the duplicate rule.
    public static let maximumMessages = 1_000_000
    public static let maximumUndelivered = 100_000
    public static let maximumRecent = 100_000

    public let configuration: SimulatorConfiguration
    public private(set) var summary = SimulatorSummary()
    var accounts: [String: AccountState] = [:]
    var connections: [Int: ConnectionState] = [:]
    var messages: [String: MessageRecord] = [:]
    var messageOrder: [String] = []
    var nextMessageID: UInt64
    var nextConnectionID = 1
    var random: SplitMix64
    /// Parts of long messages: (account, source, destination, reference, total) -> the id given to the first part
    /// and the parts seen so far.
    var longMessages: [String: (id: String, parts: Set<UInt8>)] = [:]

    public init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        nextMessageID = configuration.firstMessageID
        random = SplitMix64(seed: configuration.seed)
        for account in configuration.accounts {
            accounts[account.systemID] = AccountState(
                account: account, throughput: account.throughput ?? configuration.throughput)
        }
    }

    /// How often a connection's idleness is checked.
    var idleCheckInterval: Double { max(0.05, min(1, configuration.idleTimeout / 4)) }

    // MARK: Connections

    /// A connection opened: its id, and the first idle check.
    public mutating func connected(now: Double) -> (connection: Int, actions: [Action]) {
        let id = nextConnectionID
        nextConnectionID += 1
        connections[id] = ConnectionState(lastActivity: now)
        summary.connections += 1
        return (id, [.schedule(.idleCheck(connection: id), after: idleCheckInterval)])
    }

    /// A connection closed (by either side): it leaves its account's bound connections.
    public mutating func closed(connection id: Int) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        if let systemID = connection.systemID { accounts[systemID]?.bound.removeAll { $0 == id } }
    }

    /// Whether a connection is bound to receive (a receiver or a transceiver) and still open.
    public func canReceive(_ id: Int) -> Bool {
        guard let connection = connections[id] else { return false }
        return connection.isActive && connection.canReceive
    }

    /// The connections this machine knows to be open.
    public var openConnections: [Int] { connections.filter { $0.value.isActive }.map(\.key).sorted() }

    private mutating func close(_ id: Int, into actions: inout [Action]) {
        guard connections[id]?.isActive == true else { return }
        connections[id]?.isActive = false
        actions.append(.close(connection: id))
    }

    // MARK: Timers

    /// A scheduled timer came due.
    public mutating func timerFired(_ timer: Timer, now: Double) -> [Action] {
        var actions: [Action] = []
        switch timer {
        case .response(let id, let pdu, let thenClose):
            guard connections[id] != nil else { return [] }
            if let outstanding = connections[id]?.outstanding { connections[id]?.outstanding = max(0, outstanding - 1) }
            write(pdu, on: id, into: &actions)
            if thenClose { close(id, into: &actions) }
        case .receipt(let job):
            receiptDue(job, now: now, into: &actions)
        case .idleCheck(let id):
            guard let connection = connections[id], connection.isActive else { return [] }
            if !connection.closing, now - connection.lastActivity > configuration.idleTimeout {
                summary.idleTimeouts += 1
                actions.append(
                    .notice(
                        "connection \(id) silent for \(Int(configuration.idleTimeout)) s: \(configuration.idleAction.rawValue)"
                    ))
                switch configuration.idleAction {
                case .close:
                    close(id, into: &actions)
                    return actions
                case .unbind:
                    sendRequest(PDU(.unbind, sequence: 0), on: id, into: &actions)
                    connections[id]?.closing = true
                    actions.append(.schedule(.closeAfterUnbind(connection: id), after: 5))
                }
            }
            actions.append(.schedule(.idleCheck(connection: id), after: idleCheckInterval))
        case .closeAfterUnbind(let id):
            close(id, into: &actions)
        }
        return actions
    }

    // MARK: Writing

    private mutating func write(_ pdu: PDU, on id: Int, into actions: inout [Action]) {
        guard let connection = connections[id], connection.isActive || connection.closing else { return }
        actions.append(.write(connection: id, pdu: pdu))
    }

    /// A response after the simulated latency (`delay` when given).
    private mutating func respond(
        _ response: PDU, on id: Int, after delay: Double? = nil, thenClose: Bool = false, into actions: inout [Action]
    ) {
        var pdu = response
        // An error answer without its (empty) message_id, as SMPP 3.4 has it and some SMSCs send it.
        if !configuration.errorResponsesWithBody, pdu.commandStatus != .ok, case .messageID("") = pdu.body {
            pdu.body = .empty
        }
        let wait = delay ?? latency()
        if wait <= 0 {
            if let outstanding = connections[id]?.outstanding { connections[id]?.outstanding = max(0, outstanding - 1) }
            write(pdu, on: id, into: &actions)
            if thenClose { close(id, into: &actions) }
        } else {
            actions.append(.schedule(.response(connection: id, pdu: pdu, thenClose: thenClose), after: wait))
        }
    }

    /// One of the SMSC's own requests (deliver_sm, unbind) with the connection's next sequence number.
    private mutating func sendRequest(_ pdu: PDU, on id: Int, into actions: inout [Action]) {
        guard let sequence = connections[id]?.nextSequence else { return }
        var pdu = pdu
        pdu.header.sequenceNumber = sequence
        connections[id]?.nextSequence = sequence >= 0x7FFF_FFFF ? 1 : sequence + 1
        write(pdu, on: id, into: &actions)
    }

    /// The response latency to wait, in seconds.
    mutating func latency() -> Double {
        if let distribution = configuration.latencyDistribution, !distribution.isEmpty {
            return draw(from: distribution)
        }
        return configuration.latency + random.nextDouble() * configuration.jitter
    }

    /// A value drawn from a distribution given as (percentile, seconds) points, linear between them.
    mutating func draw(from distribution: [(percentile: Double, seconds: Double)]) -> Double {
        if let first = distribution.first {
            let p = random.nextDouble() * 100
            var previous = (percentile: 0.0, seconds: first.seconds)
            for point in distribution {
                if p <= point.percentile {
                    let span = point.percentile - previous.percentile
                    let fraction = span > 0 ? (p - previous.percentile) / span : 0
                    return previous.seconds + fraction * (point.seconds - previous.seconds)
                }
                previous = point
            }
            return previous.seconds
        }
        return 0
    }

    // MARK: Reading

    /// A whole PDU arrived on a connection.
    public mutating func received(_ frame: ByteBuffer, on id: Int, now: Double) -> [Action] {
        guard connections[id] != nil else { return [] }
        connections[id]?.lastActivity = now
        guard let header = PDUHeader.peek(in: frame) else { return [] }
        var actions: [Action] = []
        if header.commandID.isResponse {
            // deliver_sm_resp, enquire_link_resp, unbind_resp: nothing waits on them but a closing unbind.
            if header.commandID == .unbindResp, connections[id]?.closing == true { close(id, into: &actions) }
            return actions
        }
        connections[id]?.outstanding += 1
        let pdu: PDU
        do {
            pdu = try PDU.decode(frame)
        } catch {
            respond(
                PDU(.genericNack, status: .invalidCommandLength, sequence: header.sequenceNumber), on: id, after: 0,
                into: &actions)
            return actions
        }
        if case .undecodable = pdu.body {
            respond(
                PDU(header.commandID.response, status: .invalidMessageLength, sequence: header.sequenceNumber), on: id,
                after: 0, into: &actions)
            return actions
        }
        if let window = configuration.window, (connections[id]?.outstanding ?? 0) > window,
            header.commandID != .unbind, header.commandID != .enquireLink
        {
            summary.queueFull += 1
            respond(
                PDU(
                    header.commandID.response, status: .messageQueueFull, sequence: header.sequenceNumber,
                    body: Self.responseBody(header.commandID)), on: id, after: 0, into: &actions)
            return actions
        }
        handle(pdu, on: id, now: now, into: &actions)
        return actions
    }

    /// An empty body of the right shape for an error response that carries one (5.0 style message_id "").
    static func responseBody(_ request: CommandID) -> PDU.Body {
        switch request {
        case .submitSM, .dataSM, .broadcastSM: return .messageID("")
        default: return .empty
        }
    }

    private mutating func handle(_ pdu: PDU, on id: Int, now: Double, into actions: inout [Action]) {
        let sequence = pdu.sequenceNumber
        let connection = connections[id] ?? ConnectionState(lastActivity: now)
        switch pdu.body {
        case .bind(let bind):
            handleBind(pdu.commandID, bind, sequence: sequence, on: id, into: &actions)
        case .shortMessage(let message) where pdu.commandID == .submitSM:
            handleSubmit(
                message, tlvs: pdu.tlvs, sequence: sequence, response: .submitSMResp, on: id, now: now, into: &actions)
        case .dataSM(let data):
            let payload = pdu.tlvs[.messagePayload]?.raw ?? ByteBuffer()
            let message = PDU.ShortMessage(
                serviceType: data.serviceType, source: data.source, destination: data.destination,
                esmClass: data.esmClass,
                registeredDelivery: data.registeredDelivery, dataCoding: data.dataCoding, shortMessage: payload)
            handleSubmit(
                message, tlvs: pdu.tlvs, sequence: sequence, response: .dataSMResp, on: id, now: now, into: &actions)
        case .querySM(let query):
            guard connection.bindKind != nil else { return refuse(pdu, .invalidBindStatus, on: id, into: &actions) }
            if let record = messages[query.messageID], record.account == connection.systemID {
                let finalDate = record.finalAt.map(SMSCTime.smppTime) ?? ""
                respond(
                    PDU(
                        .querySMResp, sequence: sequence,
                        body: .querySMResponse(
                            .init(messageID: record.id, finalDate: finalDate, messageState: record.state))),
                    on: id, into: &actions)
            } else {
                respond(
                    PDU(
                        .querySMResp, status: .invalidMessageID, sequence: sequence,
                        body: .querySMResponse(.init(messageID: query.messageID, messageState: 0))),
                    on: id, into: &actions)
            }
        case .cancelSM(let cancel):
            guard connection.canTransmit else { return refuse(pdu, .invalidBindStatus, on: id, into: &actions) }
            if var record = messages[cancel.messageID], record.account == connection.systemID, record.finalAt == nil {
                record.state = 4
                record.finalAt = now
                remember(record)
                respond(PDU(.cancelSMResp, sequence: sequence), on: id, into: &actions)
            } else {
                refuse(pdu, .cancelFailed, on: id, into: &actions)
            }
        case .replaceSM(let replace):
            guard connection.canTransmit else { return refuse(pdu, .invalidBindStatus, on: id, into: &actions) }
            if let record = messages[replace.messageID], record.account == connection.systemID, record.finalAt == nil {
                respond(PDU(.replaceSMResp, sequence: sequence), on: id, into: &actions)
            } else {
                refuse(pdu, .replaceFailed, on: id, into: &actions)
            }
        case .empty where pdu.commandID == .enquireLink:
            respond(PDU(.enquireLinkResp, sequence: sequence), on: id, after: 0, into: &actions)
        case .empty where pdu.commandID == .unbind:
            respond(PDU(.unbindResp, sequence: sequence), on: id, after: 0, thenClose: true, into: &actions)
        default:
            // submit_multi is not implemented by SMSC.kz, nor are broadcasts, outbind or vendor commands.
            summary.otherRefusals += 1
            respond(PDU(.genericNack, status: .invalidCommandID, sequence: sequence), on: id, after: 0, into: &actions)
        }
    }

    private mutating func refuse(_ request: PDU, _ status: CommandStatus, on id: Int, into actions: inout [Action]) {
        summary.otherRefusals += 1
        respond(
            PDU(
                request.commandID.response, status: status, sequence: request.sequenceNumber,
                body: Self.responseBody(request.commandID)),
            on: id, into: &actions)
    }

    // MARK: Binds

    private mutating func handleBind(
        _ command: CommandID, _ bind: PDU.Bind, sequence: UInt32, on id: Int, into actions: inout [Action]
    ) {
        let smscSystemID = configuration.smscSystemID
        func answer(_ status: CommandStatus, _ machine: inout SMSCStateMachine) {
            var tlvs: [TLV] = []
            if status == .ok { tlvs.append(TLV(tag: .scInterfaceVersion, integer: 0x34, width: 1)) }
            machine.respond(
                PDU(
                    command.response, status: status, sequence: sequence,
                    body: .bindResponse(.init(systemID: smscSystemID)), tlvs: tlvs),
                on: id, after: 0, into: &actions)
        }
        guard connections[id]?.bindKind == nil else {
            summary.bindsRefused += 1
            return answer(.alreadyBound, &self)
        }
        guard var account = accounts[bind.systemID] else {
            summary.bindsRefused += 1
            return answer(.invalidSystemID, &self)
        }
        guard account.account.password == bind.password else {
            summary.bindsRefused += 1
            return answer(.invalidPassword, &self)
        }
        let flags = SystemTypeFlags(systemType: bind.systemType)
        // One connection per login, or up to n with MCONn: a newer bind closes the oldest.
        let allowed = flags.maxConnections ?? 1
        while account.bound.count >= allowed, let oldest = account.bound.first {
            account.bound.removeFirst()
            summary.closedByNewerBind += 1
            actions.append(.notice("connection \(oldest) closed: a newer bind of \(bind.systemID) (connection \(id))"))
            close(oldest, into: &actions)
        }
        connections[id]?.flags = flags
        connections[id]?.bindKind =
            command == .bindTransmitter ? .transmitter : command == .bindReceiver ? .receiver : .transceiver
        connections[id]?.systemID = bind.systemID
        account.bound.append(id)
        accounts[bind.systemID] = account
        summary.bindsAccepted += 1
        answer(.ok, &self)
        // What waited for a receiver goes to this one if it can receive.
        if canReceive(id), let waiting = accounts[bind.systemID]?.undelivered, !waiting.isEmpty {
            accounts[bind.systemID]?.undelivered = []
            for pdu in waiting { sendRequest(pdu, on: id, into: &actions) }
        }
    }

    // MARK: Submits

    private mutating func handleSubmit(
        _ message: PDU.ShortMessage, tlvs: [TLV], sequence: UInt32, response: CommandID, on id: Int, now: Double,
        into actions: inout [Action]
    ) {
        guard let connection = connections[id], connection.canTransmit, let systemID = connection.systemID,
            var account = accounts[systemID]
        else {
            summary.otherRefusals += 1
            return respond(
                PDU(response, status: .invalidBindStatus, sequence: sequence, body: .messageID("")), on: id,
                into: &actions)
        }
        let flags = connection.flags
        var octets = Array(message.shortMessage.readableBytesView)
        if octets.isEmpty, let payload = tlvs[.messagePayload] { octets = Array(payload.raw.readableBytesView) }
        let decoded = MessageText.decode(
            octets, dataCoding: message.dataCoding, hasUDH: message.hasUDH, isoDefault: flags.iso)
        var concatenation = decoded.udh?.concatenation
        if concatenation == nil, let reference = tlvs[.sarMsgRefNum]?.integerValue,
            let total = tlvs[.sarTotalSegments]?.integerValue, let part = tlvs[.sarSegmentSeqnum]?.integerValue
        {
            concatenation = Concatenation(
                reference: UInt16(truncatingIfNeeded: reference), total: UInt8(truncatingIfNeeded: total),
                sequence: UInt8(truncatingIfNeeded: part), referenceBits: 16)
        }
        // Identical submits within the duplicate window are refused (loop protection).
        var hasher = Hasher()
        hasher.combine(message.source.address)
        hasher.combine(message.destination.address)
        hasher.combine(octets)
        let identity = hasher.finalize()
        if let last = account.recent[identity], now - last < configuration.duplicateWindow {
            summary.duplicatesRefused += 1
            return respond(
                PDU(response, status: .submitFailed, sequence: sequence, body: .messageID("")), on: id, into: &actions)
        }
        // The account's rate: never more than `throughput` accepted in any second.
        // The rate counts every submit_sm, or (`throttleCounts` messages) whole messages: a part after the first
        // is neither counted nor refused.
        let counted =
            configuration.throttleCounts == .parts || concatenation.map { $0.total <= 1 || $0.sequence <= 1 } ?? true
        if counted, Double(account.acceptedInLastSecond(now: now)) >= account.throughput {
            accounts[systemID] = account
            summary.throttled += 1
            return respond(
                PDU(response, status: .throttled, sequence: sequence, body: .messageID("")), on: id, into: &actions)
        }
        if counted { account.accepted.append(now) }
        account.recent[identity] = now
        if account.recent.count > Self.maximumRecent {
            let window = configuration.duplicateWindow
            account.recent = account.recent.filter { now - $0.value < window }
        }
        // A part refused as some SMSCs drop them: the message is whole without it.
        if let concatenation, concatenation.total > 1, Int(concatenation.sequence) == configuration.refusedPart {
            accounts[systemID] = account
            summary.partsRefused += 1
            if !flags.single {
                let key = Self.longMessageKey(systemID, message, concatenation)
                var entry = longMessages[key] ?? (id: newMessageID(), parts: [])
                entry.parts.insert(concatenation.sequence)
                longMessages[key] = entry.parts.count >= Int(concatenation.total) ? nil : entry
            }
            return respond(
                PDU(response, status: .submitFailed, sequence: sequence, body: .messageID("")), on: id, into: &actions)
        }
        accounts[systemID] = account
        summary.submitsAccepted += 1
        // Long messages share one id unless SINGLE asks for one per part.
        let messageID: String
        var lastPart = true
        let perPart = flags.single || configuration.receiptPerPart
        if let concatenation, concatenation.total > 1, !perPart {
            let key = Self.longMessageKey(systemID, message, concatenation)
            if longMessages[key] == nil, longMessages.count >= Self.maximumLongMessages { longMessages.removeAll() }
            var entry = longMessages[key] ?? (id: newMessageID(), parts: [])
            entry.parts.insert(concatenation.sequence)
            messageID = entry.id
            // The whole message is there when every part came (in any order, after retries too).
            lastPart = entry.parts.count >= Int(concatenation.total)
            longMessages[key] = lastPart ? nil : entry
        } else {
            messageID = newMessageID()
        }
        remember(MessageRecord(id: messageID, state: 1, submitted: now, finalAt: nil, account: systemID))
        var responseDelay: Double?
        if let late = configuration.lateResponses, summary.submitsAccepted % late.every == 0 {
            responseDelay = late.seconds
            summary.lateResponses += 1
        }
        respond(
            PDU(response, sequence: sequence, body: .messageID(messageID)), on: id, after: responseDelay,
            into: &actions)
        let wants = message.registeredDelivery & 0x03
        guard wants != 0, lastPart || perPart else { return }
        let hlr = decoded.text.map { SMSCKZMessage(text: $0).channel == .hlr } ?? false
        let delay: Double
        if let distribution = configuration.receiptDelayDistribution, !distribution.isEmpty {
            delay = draw(from: distribution)
        } else {
            let range = configuration.receiptDelay
            delay = range.lowerBound + random.nextDouble() * (range.upperBound - range.lowerBound)
        }
        let (stat, state, err) = hlr ? ("DELIVRD", UInt8(2), "000") : drawOutcome()
        // registered_delivery 2: on failure only; 3: on success only.
        if (wants == 2 && state == 2) || (wants == 3 && state != 2) { return }
        let job = ReceiptJob(
            id: messageID, source: message.source, destination: message.destination, hlr: hlr, stat: stat, state: state,
            err: err, systemID: systemID, text: String((decoded.text ?? "").prefix(20)), preferred: id)
        // Never before the response: a late response holds its receipt back as long.
        actions.append(.schedule(.receipt(job), after: delay + (responseDelay ?? 0)))
    }

    /// Long messages whose parts are still coming, at most this many (all forgotten past it: their parts that
    /// come later start new messages).
    static let maximumLongMessages = 100_000

    /// What tells the long messages in progress apart.
    static func longMessageKey(_ systemID: String, _ message: PDU.ShortMessage, _ part: Concatenation) -> String {
        "\(systemID)|\(message.source.address)|\(message.destination.address)|\(part.reference)|\(part.total)"
    }

    mutating func newMessageID() -> String {
        defer { nextMessageID += 1 }
        if let format = configuration.messageIDFormat { return format.id(nextMessageID) }
        return configuration.receiptIDForm.responseID(nextMessageID)
    }

    mutating func remember(_ record: MessageRecord) {
        if messages[record.id] == nil { messageOrder.append(record.id) }
        messages[record.id] = record
        if messageOrder.count > Self.maximumMessages {
            let drop = messageOrder.count / 10
            for id in messageOrder.prefix(drop) { messages[id] = nil }
            messageOrder.removeFirst(drop)
        }
    }

    private mutating func drawOutcome() -> (String, UInt8, String) {
        let shares = configuration.receiptShares
        let total = shares.delivered + shares.undeliverable + shares.expired + shares.rejected
        var draw = random.nextDouble() * total
        draw -= shares.delivered
        if draw < 0 { return ("DELIVRD", 2, "000") }
        draw -= shares.undeliverable
        if draw < 0 { return ("UNDELIV", 5, "001") }
        draw -= shares.expired
        if draw < 0 { return ("EXPIRED", 3, "000") }
        return ("REJECTD", 8, "011")
    }

    // MARK: Receipts and MO messages

    private mutating func receiptDue(_ job: ReceiptJob, now: Double, into actions: inout [Action]) {
        if let copy = job.copy {
            summary.receiptsSent += 1
            summary.receiptsRepeated += 1
            return deliver(copy, account: job.systemID, preferring: job.preferred, into: &actions)
        }
        guard var record = messages[job.id], record.finalAt == nil else { return }
        record.state = job.state
        record.finalAt = now
        remember(record)
        let receiptID = configuration.receiptIDForm.receiptID(forResponse: job.id)
        var text: String
        if let template = configuration.receiptTemplate, !job.hlr {
            text = ReceiptTemplate.fill(
                template,
                [
                    "id": receiptID, "sub": "001", "dlvrd": job.state == 2 ? "001" : "000",
                    "submit_date": SMSCTime.receiptDate(record.submitted + configuration.receiptClockOffset),
                    "done_date": SMSCTime.receiptDate(now + configuration.receiptClockOffset), "stat": job.stat,
                    "err": job.err, "text": job.text,
                ])
        } else if job.hlr {
            text =
                "id:\(receiptID) stat:\(job.stat) err:\(job.err) imsi:401011234567890 msc:77010000000 mcc:401 mnc:01 "
                + "cn:Kazakhstan net:Beeline%20KZ rcn:Kazakhstan rnet:Beeline%20KZ"
        } else {
            let submitDate = SMSCTime.receiptDate(record.submitted + configuration.receiptClockOffset)
            let doneDate = SMSCTime.receiptDate(now + configuration.receiptClockOffset)
            text =
                "id:\(receiptID) sub:001 dlvrd:\(job.state == 2 ? "001" : "000") submit date:\(submitDate) "
                + "done date:\(doneDate) stat:\(job.stat) err:\(job.err)"
        }
        if configuration.receiptCarries == .tlv { text = "" }
        let receipt = PDU(
            .deliverSM, sequence: 0,
            body: .shortMessage(
                .init(
                    source: job.destination, destination: job.source, esmClass: 0x04,
                    shortMessage: ByteBuffer(string: text))),
            tlvs: configuration.receiptCarries == .text
                ? []
                : [
                    TLV(tag: .receiptedMessageID, cString: receiptID),
                    TLV(tag: .messageState, integer: UInt64(job.state), width: 1),
                    TLV(tag: .networkErrorCode, octets: [3, 0, UInt8(Int(job.err) ?? 0)]),
                ])
        summary.receiptsSent += 1
        deliver(receipt, account: job.systemID, preferring: job.preferred, into: &actions)
        if let every = configuration.duplicateReceipts, (summary.receiptsSent - summary.receiptsRepeated) % every == 0 {
            var copy = job
            copy.copy = receipt
            actions.append(.schedule(.receipt(copy), after: 1))
        }
    }

    /// A deliver_sm to a receiver of the account (the preferred connection when it can receive); kept for later
    /// when none is bound.
    private mutating func deliver(
        _ pdu: PDU, account systemID: String, preferring preferred: Int, into actions: inout [Action]
    ) {
        guard let account = accounts[systemID] else { return }
        if canReceive(preferred), account.bound.contains(preferred) {
            sendRequest(pdu, on: preferred, into: &actions)
        } else if let receiver = account.bound.first(where: { canReceive($0) }) {
            sendRequest(pdu, on: receiver, into: &actions)
        } else if account.undelivered.count < Self.maximumUndelivered {
            accounts[systemID]?.undelivered.append(pdu)
        }
    }

    /// Why a mobile-originated message could not be sent.
    public enum MobileOriginatedRefusal: Error, Sendable, Hashable {
        case noAccount(String)
        case noReceiver(String)
    }

    /// A mobile-originated message to the account's first bound receiver (or transceiver).
    public mutating func mobileOriginated(
        account systemID: String, source: String, destination: String, text: String
    ) -> Result<[Action], MobileOriginatedRefusal> {
        guard let account = accounts[systemID] else { return .failure(.noAccount(systemID)) }
        guard let receiver = account.bound.first(where: { canReceive($0) }) else {
            return .failure(.noReceiver(systemID))
        }
        var actions: [Action] = []
        sendMobileOriginated(source: source, destination: destination, text: text, on: receiver, into: &actions)
        return .success(actions)
    }

    /// The periodic MO message (`mobileOriginatedEvery`): one to every bound receiver.
    public mutating func mobileOriginatedTick() -> [Action] {
        var actions: [Action] = []
        for systemID in accounts.keys.sorted() {
            for id in accounts[systemID]?.bound ?? [] where canReceive(id) {
                sendMobileOriginated(
                    source: "77010000000", destination: "SMSCKZ", text: "MO test message", on: id, into: &actions)
            }
        }
        return actions
    }

    private mutating func sendMobileOriginated(
        source: String, destination: String, text: String, on id: Int, into actions: inout [Action]
    ) {
        let octets = GSM0338.encode(text)
        let dataCoding: UInt8 = octets == nil ? 8 : 0
        let bytes = octets ?? MessageText.encode(text, dataCoding: 8) ?? []
        let pdu = PDU(
            .deliverSM, sequence: 0,
            body: .shortMessage(
                .init(
                    source: Address(ton: 1, npi: 1, address: source), destination: Address(address: destination),
                    dataCoding: dataCoding, shortMessage: ByteBuffer(bytes: bytes.prefix(255)))))
        summary.mobileOriginatedSent += 1
        sendRequest(pdu, on: id, into: &actions)
    }
}

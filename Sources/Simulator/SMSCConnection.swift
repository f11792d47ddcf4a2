// One ESME connection to the simulated SMSC: binds, the rules of submit_sm, the other operations, our own
// deliver_sm and their responses, the idle timeout.

import NIOCore
import SMPP

/// The SMSC side of one connection. Runs on the core's event loop.
final class SMSCConnection: @unchecked Sendable {
    enum BindKind {
        case transmitter
        case receiver
        case transceiver
    }

    let id: Int
    let core: SimulatorCore
    let channel: Channel
    let remote: String
    let local: String
    var bindKind: BindKind?
    var account: AccountState?
    var flags = SystemTypeFlags(systemType: "")
    /// Requests received and not yet answered.
    var outstanding = 0
    var lastActivity: Double
    var nextSequence: UInt32 = 1
    var isActive = true
    var closing = false
    private var idleTask: RepeatedTask?

    init(id: Int, core: SimulatorCore, channel: Channel) {
        self.id = id
        self.core = core
        self.channel = channel
        remote = channel.remoteAddress.map(Self.describe) ?? "?"
        local = channel.localAddress.map(Self.describe) ?? "?"
        lastActivity = core.now
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v6: return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        default: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }

    var canReceive: Bool { bindKind == .receiver || bindKind == .transceiver }
    var canTransmit: Bool { bindKind == .transmitter || bindKind == .transceiver }

    func started() {
        let interval = max(0.05, min(1, core.configuration.idleTimeout / 4))
        idleTask = channel.eventLoop.scheduleRepeatedTask(
            initialDelay: .milliseconds(Int64(interval * 1_000)), delay: .milliseconds(Int64(interval * 1_000))
        ) { [weak self] _ in
            self?.checkIdle()
        }
    }

    func stopped() {
        isActive = false
        idleTask?.cancel()
        if let account { account.bound.removeAll { $0 === self } }
        core.connections[id] = nil
    }

    private func checkIdle() {
        guard isActive, !closing, core.now - lastActivity > core.configuration.idleTimeout else { return }
        core.summary.idleTimeouts += 1
        core.emit(.notice("connection \(id) (\(remote)) silent for \(Int(core.configuration.idleTimeout)) s: \(core.configuration.idleAction.rawValue)"))
        switch core.configuration.idleAction {
        case .close:
            close()
        case .unbind:
            sendRequest(PDU(.unbind, sequence: 0))
            closing = true
            channel.eventLoop.scheduleTask(in: .seconds(5)) { [weak self] in self?.close() }
        }
    }

    func close() {
        guard isActive else { return }
        isActive = false
        channel.close(promise: nil)
    }

    // MARK: Writing

    private func write(_ pdu: PDU) {
        guard isActive || closing else { return }
        var buffer = channel.allocator.buffer(capacity: 64)
        pdu.encode(into: &buffer)
        core.emit(.pdu(connection: id, inbound: false, remote: remote, local: local, bytes: buffer, time: core.now))
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// A response, after the simulated latency.
    private func respond(_ pdu: PDU, after delay: Double? = nil, then: (() -> Void)? = nil) {
        let wait = delay ?? core.latency()
        let send = { [self] in
            outstanding = max(0, outstanding - 1)
            write(pdu)
            then?()
        }
        if wait <= 0 {
            send()
        } else {
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(wait * 1e9))) { send() }
        }
    }

    /// Sends one of our own requests (deliver_sm, unbind) with the next sequence number.
    func sendRequest(_ pdu: PDU) {
        var pdu = pdu
        pdu.header.sequenceNumber = nextSequence
        nextSequence = nextSequence >= 0x7FFF_FFFF ? 1 : nextSequence + 1
        write(pdu)
    }

    // MARK: Reading

    func received(_ frame: ByteBuffer) {
        lastActivity = core.now
        core.emit(.pdu(connection: id, inbound: true, remote: remote, local: local, bytes: frame, time: lastActivity))
        guard let header = PDUHeader.peek(in: frame) else { return }
        if header.commandID.isResponse {
            // deliver_sm_resp, enquire_link_resp, unbind_resp: nothing waits on them but a closing unbind.
            if header.commandID == .unbindResp, closing { close() }
            return
        }
        outstanding += 1
        let pdu: PDU
        do {
            pdu = try PDU.decode(frame)
        } catch {
            respond(PDU(.genericNack, status: .invalidCommandLength, sequence: header.sequenceNumber), after: 0)
            return
        }
        if case .undecodable = pdu.body {
            respond(PDU(header.commandID.response, status: .invalidMessageLength, sequence: header.sequenceNumber), after: 0)
            return
        }
        if let window = core.configuration.window, outstanding > window, header.commandID != .unbind,
            header.commandID != .enquireLink
        {
            core.summary.queueFull += 1
            respond(PDU(header.commandID.response, status: .messageQueueFull, sequence: header.sequenceNumber, body: responseBody(header.commandID)), after: 0)
            return
        }
        handle(pdu)
    }

    /// An empty body of the right shape for an error response that carries one (5.0 style message_id "").
    private func responseBody(_ request: CommandID) -> PDU.Body {
        switch request {
        case .submitSM, .dataSM, .broadcastSM: return .messageID("")
        default: return .empty
        }
    }

    private func handle(_ pdu: PDU) {
        let sequence = pdu.sequenceNumber
        switch pdu.body {
        case .bind(let bind):
            handleBind(pdu.commandID, bind, sequence: sequence)
        case .shortMessage(let message) where pdu.commandID == .submitSM:
            handleSubmit(message, tlvs: pdu.tlvs, sequence: sequence, response: .submitSMResp)
        case .dataSM(let data):
            let payload = pdu.tlvs[.messagePayload]?.raw ?? ByteBuffer()
            let message = PDU.ShortMessage(
                serviceType: data.serviceType, source: data.source, destination: data.destination, esmClass: data.esmClass,
                registeredDelivery: data.registeredDelivery, dataCoding: data.dataCoding, shortMessage: payload)
            handleSubmit(message, tlvs: pdu.tlvs, sequence: sequence, response: .dataSMResp)
        case .querySM(let query):
            guard bindKind != nil else { return refuse(pdu, .invalidBindStatus) }
            if let record = core.messages[query.messageID], record.account == account?.account.systemID {
                let finalDate = record.finalAt.map(Self.smppTime) ?? ""
                respond(
                    PDU(
                        .querySMResp, sequence: sequence,
                        body: .querySMResponse(.init(messageID: record.id, finalDate: finalDate, messageState: record.state))))
            } else {
                respond(
                    PDU(
                        .querySMResp, status: .invalidMessageID, sequence: sequence,
                        body: .querySMResponse(.init(messageID: query.messageID, messageState: 0))))
            }
        case .cancelSM(let cancel):
            guard canTransmit else { return refuse(pdu, .invalidBindStatus) }
            if var record = core.messages[cancel.messageID], record.account == account?.account.systemID, record.finalAt == nil {
                record.state = 4
                record.finalAt = core.now
                core.remember(record)
                respond(PDU(.cancelSMResp, sequence: sequence))
            } else {
                refuse(pdu, .cancelFailed)
            }
        case .replaceSM(let replace):
            guard canTransmit else { return refuse(pdu, .invalidBindStatus) }
            if let record = core.messages[replace.messageID], record.account == account?.account.systemID, record.finalAt == nil {
                respond(PDU(.replaceSMResp, sequence: sequence))
            } else {
                refuse(pdu, .replaceFailed)
            }
        case .empty where pdu.commandID == .enquireLink:
            respond(PDU(.enquireLinkResp, sequence: sequence), after: 0)
        case .empty where pdu.commandID == .unbind:
            respond(PDU(.unbindResp, sequence: sequence), after: 0) { [weak self] in
                self?.close()
            }
        default:
            // submit_multi is not implemented by SMSC.kz, nor are broadcasts, outbind or vendor commands.
            core.summary.otherRefusals += 1
            respond(PDU(.genericNack, status: .invalidCommandID, sequence: sequence), after: 0)
        }
    }

    private func refuse(_ request: PDU, _ status: CommandStatus) {
        core.summary.otherRefusals += 1
        respond(PDU(request.commandID.response, status: status, sequence: request.sequenceNumber, body: responseBody(request.commandID)))
    }

    // MARK: Binds

    private func handleBind(_ id: CommandID, _ bind: PDU.Bind, sequence: UInt32) {
        let response = id.response
        func answer(_ status: CommandStatus) {
            var tlvs: [TLV] = []
            if status == .ok { tlvs.append(TLV(tag: .scInterfaceVersion, integer: 0x34, width: 1)) }
            respond(
                PDU(response, status: status, sequence: sequence, body: .bindResponse(.init(systemID: core.configuration.smscSystemID)), tlvs: tlvs),
                after: 0)
        }
        guard bindKind == nil else {
            core.summary.bindsRefused += 1
            return answer(.alreadyBound)
        }
        guard let account = core.accounts[bind.systemID] else {
            core.summary.bindsRefused += 1
            return answer(.invalidSystemID)
        }
        guard account.account.password == bind.password else {
            core.summary.bindsRefused += 1
            return answer(.invalidPassword)
        }
        flags = SystemTypeFlags(systemType: bind.systemType)
        // One connection per login, or up to n with MCONn: a newer bind closes the oldest.
        let allowed = flags.maxConnections ?? 1
        while account.bound.count >= allowed, let oldest = account.bound.first {
            account.bound.removeFirst()
            core.summary.closedByNewerBind += 1
            core.emit(.notice("connection \(oldest.id) closed: a newer bind of \(bind.systemID) (connection \(id))"))
            oldest.close()
        }
        bindKind = id == .bindTransmitter ? .transmitter : id == .bindReceiver ? .receiver : .transceiver
        self.account = account
        account.bound.append(self)
        core.summary.bindsAccepted += 1
        answer(.ok)
        core.deliverWaiting(for: account, to: self)
    }

    // MARK: Submits

    private func handleSubmit(_ message: PDU.ShortMessage, tlvs: [TLV], sequence: UInt32, response: CommandID) {
        guard canTransmit, let account else {
            core.summary.otherRefusals += 1
            return respond(PDU(response, status: .invalidBindStatus, sequence: sequence, body: .messageID("")))
        }
        let now = core.now
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
        // Identical submits within a minute are refused (loop protection).
        var hasher = Hasher()
        hasher.combine(message.source.address)
        hasher.combine(message.destination.address)
        hasher.combine(octets)
        let identity = hasher.finalize()
        if let last = account.recent[identity], now - last < core.configuration.duplicateWindow {
            core.summary.duplicatesRefused += 1
            return respond(PDU(response, status: .submitFailed, sequence: sequence, body: .messageID("")))
        }
        // The account's rate: never more than `throughput` accepted in any second.
        if Double(account.acceptedInLastSecond(now: now)) >= account.throughput {
            core.summary.throttled += 1
            return respond(PDU(response, status: .throttled, sequence: sequence, body: .messageID("")))
        }
        account.accepted.append(now)
        account.recent[identity] = now
        if account.recent.count > 100_000 {
            account.recent = account.recent.filter { now - $0.value < core.configuration.duplicateWindow }
        }
        core.summary.submitsAccepted += 1
        // Long messages share one id unless SINGLE asks for one per part.
        var id: String
        var lastPart = true
        if let concatenation, concatenation.total > 1, !flags.single {
            let key = "\(account.account.systemID)|\(message.source.address)|\(message.destination.address)|\(concatenation.reference)|\(concatenation.total)"
            var entry = core.longMessages[key] ?? (id: core.newMessageID(), parts: [])
            entry.parts.insert(concatenation.sequence)
            id = entry.id
            // The whole message is there when every part came (in any order, after retries too).
            lastPart = entry.parts.count >= Int(concatenation.total)
            core.longMessages[key] = lastPart ? nil : entry
        } else {
            id = core.newMessageID()
        }
        core.remember(
            MessageRecord(
                id: id, state: 1, submitted: now, finalAt: nil, source: message.source, destination: message.destination,
                account: account.account.systemID))
        respond(PDU(response, sequence: sequence, body: .messageID(id)))
        let wants = message.registeredDelivery & 0x03
        guard wants != 0, lastPart || flags.single else { return }
        let text = decoded.text.map { SMSCKZMessage(text: $0) }
        scheduleReceipt(id: id, message: message, hlr: text?.channel == .hlr, wants: wants)
    }

    private func scheduleReceipt(id: String, message: PDU.ShortMessage, hlr: Bool, wants: UInt8) {
        let range = core.configuration.receiptDelay
        let delay = range.lowerBound + core.random.nextDouble() * (range.upperBound - range.lowerBound)
        let (stat, state, err) = hlr ? ("DELIVRD", UInt8(2), "000") : drawOutcome()
        // registered_delivery 2: on failure only; 3: on success only.
        if (wants == 2 && state == 2) || (wants == 3 && state != 2) { return }
        let systemID = account?.account.systemID ?? ""
        channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [weak self, core] in
            guard var record = core.messages[id], record.finalAt == nil else { return }
            let done = core.now
            record.state = state
            record.finalAt = done
            core.remember(record)
            let submitDate = Self.receiptDate(record.submitted)
            let doneDate = Self.receiptDate(done)
            let text: String
            if hlr {
                text = "id:\(id) stat:\(stat) err:\(err) imsi:401011234567890 msc:77010000000 mcc:401 mnc:01 "
                    + "cn:Kazakhstan net:Beeline%20KZ rcn:Kazakhstan rnet:Beeline%20KZ"
            } else {
                text = "id:\(id) sub:001 dlvrd:\(state == 2 ? "001" : "000") submit date:\(submitDate) done date:\(doneDate) stat:\(stat) err:\(err)"
            }
            let receipt = PDU(
                .deliverSM, sequence: 0,
                body: .shortMessage(
                    .init(
                        source: message.destination, destination: message.source, esmClass: 0x04,
                        shortMessage: ByteBuffer(string: text))),
                tlvs: [
                    TLV(tag: .receiptedMessageID, cString: id),
                    TLV(tag: .messageState, integer: UInt64(state), width: 1),
                    TLV(tag: .networkErrorCode, octets: [3, 0, UInt8(Int(err) ?? 0)]),
                ])
            core.summary.receiptsSent += 1
            core.deliver(receipt, account: systemID, preferring: self)
        }
    }

    private func drawOutcome() -> (String, UInt8, String) {
        let shares = core.configuration.receiptShares
        let total = shares.delivered + shares.undeliverable + shares.expired + shares.rejected
        var draw = core.random.nextDouble() * total
        draw -= shares.delivered
        if draw < 0 { return ("DELIVRD", 2, "000") }
        draw -= shares.undeliverable
        if draw < 0 { return ("UNDELIV", 5, "001") }
        draw -= shares.expired
        if draw < 0 { return ("EXPIRED", 3, "000") }
        return ("REJECTD", 8, "011")
    }

    /// A mobile-originated message to this connection.
    func sendMobileOriginated(source: String, destination: String, text: String) {
        let octets = GSM0338.encode(text)
        let dataCoding: UInt8 = octets == nil ? 8 : 0
        let bytes = octets ?? MessageText.encode(text, dataCoding: 8) ?? []
        let pdu = PDU(
            .deliverSM, sequence: 0,
            body: .shortMessage(
                .init(
                    source: Address(ton: 1, npi: 1, address: source), destination: Address(address: destination),
                    dataCoding: dataCoding, shortMessage: ByteBuffer(bytes: bytes.prefix(255)))))
        core.summary.mobileOriginatedSent += 1
        sendRequest(pdu)
    }

    /// "YYMMDDhhmm" (UTC) of a receipt.
    static func receiptDate(_ time: Double) -> String {
        let (year, month, day, hour, minute, _) = civil(time)
        return two(year % 100) + two(month) + two(day) + two(hour) + two(minute)
    }

    /// An absolute SMPP time "YYMMDDhhmmss000+" (UTC).
    static func smppTime(_ time: Double) -> String {
        let (year, month, day, hour, minute, second) = civil(time)
        return two(year % 100) + two(month) + two(day) + two(hour) + two(minute) + two(second) + "000+"
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    private static func civil(_ time: Double) -> (Int, Int, Int, Int, Int, Int) {
        let seconds = Int(time)
        let days = seconds / 86_400
        let rest = seconds % 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, rest / 3_600, rest % 3_600 / 60, rest % 60)
    }
}

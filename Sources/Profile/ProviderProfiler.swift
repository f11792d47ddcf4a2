// Learns what each SMSC of a timeline does, in one pass over its events: ids, receipts, response times, throttling,
// window, binds, keep-alives, idle, duplicates, quirks, and the departures from SMPP.
//
// Bounds (memory does not grow with the length of the input): SMSCs tracked 1,024 (PDUs of others are counted in
// `skippedPDUs`); outstanding requests per connection 65,536; message ids waiting for their receipt 300,000 per
// SMSC (the oldest tenth forgotten past it); long messages in progress 100,000 per SMSC; identical-submit memory
// 100,000 per SMSC (entries older than 10 minutes dropped past it); receipt templates 1,000 distinct per SMSC;
// enquire_link intervals 10,000 per SMSC; accepted submit times of the last 3 s per account; responses waiting for
// a late request 64 per connection; connections 65,536 (the quietest half judged and let go past it).

import Capture
import Reassembly
import SMPP
import Timeline

/// Reads a timeline and says what each SMSC in it does.
public struct ProviderProfiler {
    public static let maximumSMSCs = 1024
    static let maximumOutstanding = 65_536
    static let maximumIDs = 300_000
    static let maximumLongMessages = 100_000
    static let maximumIdentities = 100_000
    static let maximumTemplates = 1000
    static let maximumIntervals = 10_000
    static let maximumOrphans = 64
    /// Connections followed at once (reassembly lets connections go without an end event past its own bound).
    let maximumSessions: Int

    private var sessions: [Int: SessionState] = [:]
    private var smscs: [String: SMSCState] = [:]
    private var order: [String] = []
    /// PDUs of SMSCs past ``maximumSMSCs``, not profiled.
    public private(set) var skippedPDUs = 0

    /// `maximumSessions`: connections followed at once; past it the quietest half are judged and let go.
    public init(maximumSessions: Int = 65_536) {
        self.maximumSessions = max(2, maximumSessions)
    }

    // MARK: Reading

    public mutating func consume(_ event: TimelineEvent) {
        switch event {
        case .sessionOpened(let session):
            if sessions[session.id] == nil, sessions.count >= maximumSessions { forgetQuietestSessions() }
            sessions[session.id] = SessionState(session: session)
        case .pdu(let item):
            consume(item)
        case .sessionEnded(let end, let session):
            ended(session: session, end: end)
        case .gap(let gap):
            // Bytes the input does not have: a request or response may be among them, so the connection's
            // unmatched responses and unanswered requests say nothing of the SMSC.
            sessions[gap.connection, default: SessionState(id: gap.connection)].sawGap = true
        case .streamDiagnostic, .captureDiagnostic:
            break
        }
    }

    private mutating func consume(_ item: TimelinePDU) {
        // Taken out of the tables while they change and put back after: a value still in its table would be copied
        // whole (its dictionaries with it) at the first change.
        if sessions[item.session] == nil, sessions.count >= maximumSessions { forgetQuietestSessions() }
        var session = sessions.removeValue(forKey: item.session) ?? SessionState(id: item.session)
        defer { sessions[item.session] = session }
        guard let fromClient = item.fromClient else { return }
        let server = session.server ?? (fromClient ? item.destination : item.source)
        session.server = server
        let key = server.description
        var smsc: SMSCState
        if let known = smscs.removeValue(forKey: key) {
            smsc = known
        } else {
            guard order.count < Self.maximumSMSCs else {
                skippedPDUs += 1
                return
            }
            smsc = SMSCState()
            order.append(key)
        }
        defer { smscs[key] = smsc }
        if !session.counted {
            session.counted = true
            smsc.sessions += 1
        }
        let pdu = item.decoded()
        let now = item.timestamp
        if session.firstPDUWasBind == nil { session.firstPDUWasBind = pdu.commandID.isBind }
        if fromClient { session.lastClientPDU = now } else { session.lastSMSCPDU = now }
        let place = PDUPlace(session: item.session, frame: item.frame, at: now, header: pdu.header)
        smsc.checkFields(pdu, fromClient: fromClient, place: place)
        if pdu.commandID.isResponse {
            response(pdu, fromClient: fromClient, at: now, session: &session, smsc: &smsc, place: place)
        } else {
            request(item, pdu, fromClient: fromClient, at: now, session: &session, smsc: &smsc, place: place)
        }
    }

    private mutating func request(
        _ item: TimelinePDU, _ pdu: PDU, fromClient: Bool, at now: Timestamp, session: inout SessionState,
        smsc: inout SMSCState, place: PDUPlace
    ) {
        if pdu.sequenceNumber == 0 || pdu.sequenceNumber > 0x7FFF_FFFF {
            smsc.depart(
                .sequenceNumberOutOfRange, fromClient: fromClient,
                place.evidence("sequence_number \(pdu.sequenceNumber)"))
        }
        if let index = session.orphans.firstIndex(where: {
            $0.fromClient != fromClient && $0.command == pdu.commandID.response
                && $0.evidence.sequence == pdu.sequenceNumber
        }) {
            session.orphans.remove(at: index)
            return
        }
        let outstanding = fromClient ? session.fromClient.count : session.fromSMSC.count
        var request = Request(command: pdu.commandID, at: now, outstandingBefore: outstanding, place: place)
        request.malformed = pdu.isMalformed
        request.account = session.systemID ?? ""
        switch pdu.body {
        case .bind(let bind) where fromClient:
            session.systemID = bind.systemID
            session.interfaceVersion = bind.interfaceVersion
            smsc.systemIDs.insertBounded(bind.systemID)
            smsc.interfaceVersions.insertBounded(Self.versionName(bind.interfaceVersion))
            smsc.systemTypes[bind.systemType, default: 0] += 1
        case .shortMessage(let message) where fromClient && pdu.commandID == .submitSM:
            request.submit = Self.submit(
                pdu, source: message.source.address, destination: message.destination.address,
                esmClass: message.esmClass, registeredDelivery: message.registeredDelivery, login: session.systemID)
        case .dataSM(let data) where fromClient:
            // data_sm submits a message as submit_sm does (its text in message_payload): counted alike.
            request.submit = Self.submit(
                pdu, source: data.source.address, destination: data.destination.address, esmClass: data.esmClass,
                registeredDelivery: data.registeredDelivery, login: session.systemID)
        case .shortMessage, .dataSM:
            if !fromClient, pdu.commandID == .deliverSM || pdu.commandID == .dataSM {
                let text = pdu.message(isoDefault: item.isoDefault)?.decoded.text
                if let receipt = pdu.deliveryReceipt(text: text) {
                    smsc.receipt(receipt, pdu: pdu, text: text, at: now)
                }
            }
        case .empty where pdu.commandID == .enquireLink:
            if fromClient {
                smsc.enquireFromESME += 1
            } else {
                smsc.enquireFromSMSC += 1
                if let last = session.lastSMSCEnquire, smsc.enquireIntervals.count < Self.maximumIntervals {
                    smsc.enquireIntervals.append(now.seconds(since: last))
                }
                session.lastSMSCEnquire = now
            }
        case .empty where pdu.commandID == .unbind:
            if !fromClient, session.unbindFromClient == nil, session.unbindFromSMSC == nil {
                session.unbindFromSMSC = now
                session.silenceBeforeSMSCEnd = now.seconds(since: session.lastClientPDU ?? now)
            }
            if fromClient { session.unbindFromClient = now }
        default:
            break
        }
        if fromClient {
            if session.fromClient.count < Self.maximumOutstanding { session.fromClient[pdu.sequenceNumber] = request }
        } else if session.fromSMSC.count < Self.maximumOutstanding {
            session.fromSMSC[pdu.sequenceNumber] = request
        }
    }

    /// What is kept of a message an ESME submits: what makes two of them identical, and where a part belongs
    /// (from the user data header or the sar_* TLVs; the text is not needed).
    static func submit(
        _ pdu: PDU, source: String, destination: String, esmClass: UInt8, registeredDelivery: UInt8, login: String?
    ) -> Submit {
        let octets = pdu.messageOctets ?? []
        var hasher = Hasher()
        hasher.combine(source)
        hasher.combine(destination)
        hasher.combine(octets)
        var submit = Submit(identity: hasher.finalize(), part: nil)
        let concatenation =
            esmClass & 0x40 != 0
            ? UserDataHeader.parse(octets).header?.concatenation : Concatenation(sar: { pdu.tlvs[$0] })
        if let concatenation, concatenation.total > 1 {
            submit.part = Part(
                key: "\(login ?? "")|\(source)|\(destination)|\(concatenation.reference)|\(concatenation.total)",
                sequence: concatenation.sequence, total: concatenation.total, asks: registeredDelivery & 0x03 != 0)
        }
        return submit
    }

    private mutating func response(
        _ pdu: PDU, fromClient: Bool, at now: Timestamp, session: inout SessionState, smsc: inout SMSCState,
        place: PDUPlace
    ) {
        let sequence = pdu.sequenceNumber
        let request =
            fromClient
            ? session.fromSMSC.removeValue(forKey: sequence) : session.fromClient.removeValue(forKey: sequence)
        if pdu.commandID == .genericNack {
            if !fromClient { smsc.genericNacks[pdu.commandStatus.name, default: 0] += 1 }
            if let request, request.command.isKnown, !request.malformed {
                smsc.depart(
                    .genericNackForValidRequest, fromClient: fromClient,
                    place.evidence(
                        "answers \(request.command.name) sequence \(sequence), status \(pdu.commandStatus.name)"))
            }
            return
        }
        guard let request, request.command.response == pdu.commandID else {
            // Judged only where the input has the connection from its bind and lacks none of its bytes (the
            // request may be among them).
            if session.firstPDUWasBind == true, !session.sawGap {
                let asked = CommandID(pdu.commandID.rawValue & 0x7FFF_FFFF).name
                let shown = place.evidence("no \(asked) with sequence \(sequence) was waiting")
                // A request that reassembly hands over after its response (held while a stream resynchronised)
                // still answers it: judged when the connection ends.
                if session.orphans.count < Self.maximumOrphans {
                    session.orphans.append(Orphan(command: pdu.commandID, fromClient: fromClient, evidence: shown))
                } else {
                    smsc.depart(.responseWithoutRequest, fromClient: fromClient, shown)
                }
            }
            return
        }
        guard !fromClient else { return }
        // The SMSC's answer to the ESME's request.
        let status = pdu.commandStatus
        smsc.answered(request, pdu, at: now)
        if status != .ok, pdu.header.commandLength > 16, session.interfaceVersion.map({ $0 <= 0x34 }) ?? true,
            pdu.commandID.isBindResponse || pdu.commandID == .submitSMResp
        {
            smsc.depart(
                .errorResponseWithBody, fromClient: false,
                place.evidence("\(status.name) with a \(pdu.header.commandLength - 16)-byte body"))
        }
        if pdu.commandID.isBindResponse {
            bindAnswered(pdu, session: &session, smsc: &smsc, at: now)
        }
    }

    private mutating func bindAnswered(
        _ pdu: PDU, session: inout SessionState, smsc: inout SMSCState, at now: Timestamp
    ) {
        if case .bindResponse(let body) = pdu.body, !body.systemID.isEmpty {
            smsc.smscSystemIDs.insertBounded(body.systemID)
        }
        let login = session.systemID ?? ""
        let others = (smsc.boundByLogin[login] ?? []).subtracting([session.id])
        if pdu.commandStatus == .ok {
            smsc.bindsAccepted += 1
            session.bound = true
            if smsc.boundByLogin[login] != nil || smsc.boundByLogin.count < 100_000 {
                smsc.boundByLogin[login, default: []].insert(session.id)
            }
            smsc.mostConcurrent = max(smsc.mostConcurrent, others.count + 1)
            if !others.isEmpty, smsc.replacementWatch.count < 1000 {
                smsc.replacementWatch.append((at: now, sessions: others))
            }
        } else {
            smsc.bindsRefused[pdu.commandStatus.name, default: 0] += 1
            if !others.isEmpty { smsc.refusedWhileBound[pdu.commandStatus.name, default: 0] += 1 }
        }
    }

    private mutating func ended(session: Session, end: ConnectionEnd) {
        guard var state = sessions.removeValue(forKey: session.id), let server = state.server,
            var smsc = smscs.removeValue(forKey: server.description)
        else { return }
        let bySMSC = end.by == server
        let endedAt = state.unbindFromSMSC ?? end.timestamp
        if (bySMSC && state.unbindFromClient == nil) || state.unbindFromSMSC != nil {
            let silence = state.silenceBeforeSMSCEnd ?? endedAt.seconds(since: state.lastClientPDU ?? endedAt)
            if silence >= 5 {
                smsc.endedBySMSC += 1
                smsc.shortestSilence = min(smsc.shortestSilence ?? silence, silence)
                smsc.idleActions[state.unbindFromSMSC != nil ? "unbind" : "close", default: 0] += 1
            }
            // The older connection of a login the SMSC ended soon after a newer bind: replaced.
            if let index = smsc.replacementWatch.firstIndex(where: {
                $0.sessions.contains(session.id) && endedAt.seconds(since: $0.at) <= 2
            }) {
                smsc.replacements += 1
                smsc.replacementWatch.remove(at: index)
            }
        }
        smsc.replacementWatch.removeAll { end.timestamp.seconds(since: $0.at) > 2 }
        if state.bound, let login = state.systemID { smsc.boundByLogin[login]?.remove(session.id) }
        state.bound = false
        unanswered(state, until: end.timestamp, smsc: &smsc)
        smscs[server.description] = smsc
    }

    /// Requests still waiting when the connection ended although the other side went on sending for 10 s more; and
    /// responses no request came for.
    private func unanswered(_ state: SessionState, until end: Timestamp, smsc: inout SMSCState) {
        guard !state.sawGap else { return }
        for orphan in state.orphans {
            smsc.depart(.responseWithoutRequest, fromClient: orphan.fromClient, orphan.evidence)
        }
        for (fromClient, pending) in [(true, state.fromClient), (false, state.fromSMSC)] {
            let responderLast = fromClient ? state.lastSMSCPDU : state.lastClientPDU
            guard let responderLast else { continue }
            for request in pending.values.sorted(by: { $0.at < $1.at })
            where responderLast.seconds(since: request.at) > 10 && request.command != .unbind {
                let later = Int(responderLast.seconds(since: request.at))
                // The departure is the side's that did not answer.
                smsc.depart(
                    .requestNotAnswered, fromClient: !fromClient,
                    request.place.evidence(
                        "no \(request.command.name)_resp; the other side sent PDUs for \(later) s more"))
            }
        }
    }

    // MARK: The result

    /// What was learned, one entry per SMSC in the order they were first seen.
    public mutating func profile(source: String) -> ProviderProfile {
        finishSessions()
        return ProviderProfile(source: source, smscs: order.compactMap { key in smscs[key]?.profile(server: key) })
    }

    /// The departures from SMPP seen, by SMSC, side and kind.
    public mutating func conformance(source: String) -> ConformanceReport {
        finishSessions()
        var departures: [ConformanceReport.Departure] = []
        for key in order {
            guard let smsc = smscs[key] else { continue }
            for code in ConformanceCode.allCases {
                for (side, collector) in [
                    ("smsc", smsc.departures[.init(code: code, fromClient: false)]),
                    ("esme", smsc.departures[.init(code: code, fromClient: true)]),
                ] {
                    guard let collector, collector.count > 0 else { continue }
                    departures.append(
                        .init(
                            code: code.rawValue, clause: code.clause, side: side, server: key,
                            description: code.summary,
                            count: collector.count, evidence: collector.evidence))
                }
            }
        }
        return ConformanceReport(source: source, departures: departures)
    }

    /// The half of the connections followed that have been quiet longest, judged as if they had ended.
    private mutating func forgetQuietestSessions() {
        let quietest = sessions.values.map {
            ($0.id, max($0.lastClientPDU ?? .init(nanoseconds: 0), $0.lastSMSCPDU ?? .init(nanoseconds: 0)))
        }
        .sorted { $0.1 < $1.1 }.prefix(sessions.count / 2)
        for (id, last) in quietest {
            guard let state = sessions.removeValue(forKey: id), let server = state.server,
                var smsc = smscs.removeValue(forKey: server.description)
            else { continue }
            if state.bound, let login = state.systemID { smsc.boundByLogin[login]?.remove(id) }
            unanswered(state, until: last, smsc: &smsc)
            smscs[server.description] = smsc
        }
    }

    /// Sessions still open at the end of the input: their unanswered requests, their throttle checks.
    private mutating func finishSessions() {
        for state in sessions.values.sorted(by: { $0.id < $1.id }) {
            guard let server = state.server, var smsc = smscs.removeValue(forKey: server.description) else { continue }
            let last = max(state.lastClientPDU ?? .init(nanoseconds: 0), state.lastSMSCPDU ?? .init(nanoseconds: 0))
            unanswered(state, until: last, smsc: &smsc)
            smscs[server.description] = smsc
        }
        sessions.removeAll()
        for key in order {
            guard var smsc = smscs.removeValue(forKey: key) else { continue }
            smsc.finishThrottles()
            smscs[key] = smsc
        }
    }

    static func versionName(_ version: UInt8) -> String {
        version >= 0x50 ? "5.0" : version == 0x34 ? "3.4" : "3.\(version & 0x0F)"
    }
}

// MARK: Per connection

struct Part: Hashable {
    var key: String
    var sequence: UInt8
    var total: UInt8
    /// registered_delivery asks for a receipt.
    var asks: Bool
}

struct Submit {
    var identity: Int
    var part: Part?
}

/// Where a PDU is, kept per PDU: evidence is made of it only when it shows a departure.
struct PDUPlace {
    var session: Int
    var frame: Int
    var at: Timestamp
    var header: PDUHeader

    func evidence(_ detail: String = "") -> ConformanceReport.Evidence {
        .init(
            session: session, frame: frame, time: at.seconds, command: header.commandID.name,
            sequence: header.sequenceNumber, detail: detail)
    }
}

struct Request {
    var command: CommandID
    var at: Timestamp
    var outstandingBefore: Int
    var place: PDUPlace
    var submit: Submit?
    var malformed = false
    /// The system_id the connection was bound with.
    var account = ""
}

/// A response no outstanding request matched (yet).
struct Orphan {
    var command: CommandID
    var fromClient: Bool
    var evidence: ConformanceReport.Evidence
}

struct SessionState {
    var id: Int
    var server: Endpoint?
    var systemID: String?
    var interfaceVersion: UInt8?
    var counted = false
    var bound = false
    var firstPDUWasBind: Bool?
    var fromClient: [UInt32: Request] = [:]
    var fromSMSC: [UInt32: Request] = [:]
    var orphans: [Orphan] = []
    /// The input lacks bytes of this connection.
    var sawGap = false
    var lastClientPDU: Timestamp?
    var lastSMSCPDU: Timestamp?
    var lastSMSCEnquire: Timestamp?
    var unbindFromClient: Timestamp?
    var unbindFromSMSC: Timestamp?
    /// How long the ESME had sent nothing when the SMSC unbound.
    var silenceBeforeSMSCEnd: Double?

    init(id: Int) { self.id = id }

    init(session: Session) {
        id = session.id
        server = session.server
    }
}

extension Set where Element == String {
    /// Inserts unless the set holds 1,000 values already.
    mutating func insertBounded(_ value: String) {
        if count < 1000 { insert(value) }
    }
}

extension CommandID {
    var isBind: Bool { self == .bindTransmitter || self == .bindReceiver || self == .bindTransceiver }
    var isBindResponse: Bool {
        self == .bindTransmitterResp || self == .bindReceiverResp || self == .bindTransceiverResp
    }
}

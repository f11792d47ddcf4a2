// Follows a timeline and measures it: request/response matching, latency, throttling, window, receipts,
// duplicates, silences. Feed it every event, then ask for the report.
//
// Unsafe code, and its invariants: the counters and latency recorders per command are memory of the analyzer's own
// (`UnsafeMutableBufferPointer.values`, see IntegerTable.swift), freed in its deinit and indexed by a command's
// dense number only; a PDU's bytes are lent (`LentPDU`) and read within the call that handles it, every field at
// offsets its digest checked against the PDU's length.

@_spi(Lent) import Capture
import NIOCore
@_spi(Lent) import Reassembly
@_spi(Lent) import SMPP
@_spi(Lent) import Timeline

/// Measures a timeline. Single-threaded: feed events in order, then call ``finish()``.
public final class Analyzer {
    public let configuration: AnalysisConfiguration
    var sessions = SessionTable()
    var sessionOrder: [Int] = []
    /// PDUs per command: known commands by index, others by id.
    let knownCounts = UnsafeMutableBufferPointer<Int>.values(0, count: CommandID.knownCount)
    var otherCounts: [CommandID: Int] = [:]
    var errorResponses: [String: Int] = [:]
    var total = 0
    var throttledResponses = 0
    var queueFull = 0
    var pairs = 0
    var orphanList: [OrphanResponse] = []
    /// Response times by request command (by ``CommandID/knownIndex``, others apart); a recorder with nothing
    /// recorded stands for a command never answered.
    let latency = UnsafeMutableBufferPointer.values(LatencyRecorder(precision: .three), count: CommandID.knownCount)
    var otherLatency: [CommandID: LatencyRecorder] = [:]
    var peak = SlidingWindowCounter()
    var duplicates = 0
    var duplicateResponses: [String: Int] = [:]
    var throttleSweep = 0
    /// Message key -> (time of the throttled response, episode index in its session) for resubmissions.
    var throttledMessages = IntegerTable<(time: Int64, session: Int, episode: Int)>(placeholder: (0, 0, 0))
    /// submit_sm by channel, indexed like ``SMSCKZChannel/allCases``.
    var channels = [Int](repeating: 0, count: SMSCKZChannel.allCases.count)
    var comments = 0
    var gaps = 0
    var gapBytes = 0
    var diagnostics = 0
    var malformed = 0
    var receipts = ReceiptTracker()
    /// Copies of submits and of receipts, for the cause of each repeat.
    var submitResends = ResendTracker(command: "submit_sm", unexplained: .clientRepeat)
    var receiptResends = ResendTracker(command: "deliver_sm", unexplained: .smscRepeat)
    var encodings = EncodingTracker()
    var capacity = CapacityTracker()
    var longMessages = LongMessageTracker()
    var series = SeriesBuilder()
    /// Requests from clients awaiting a response, all sessions together.
    var clientOutstanding = 0
    /// Digits of the destination prefixes receipts are counted by (0: none).
    let prefixDigits: Int

    public init(configuration: AnalysisConfiguration = AnalysisConfiguration()) {
        self.configuration = configuration
        prefixDigits = min(max(0, configuration.destinationPrefixDigits), DestinationPrefix.maximumDigits)
        receipts.tooFastNanoseconds = Int64(configuration.receiptTooFast * 1e9)
        receipts.perPrefix = configuration.destinationPrefixDigits > 0
        encodings.told = configuration.defaultAlphabet
        submitResends.window = Int64(configuration.duplicateWindow * 1e9)
        receiptResends.window = Int64(configuration.duplicateWindow * 1e9)
    }

    deinit {
        knownCounts.freeValues()
        latency.freeValues()
    }

    /// Takes one timeline event.
    public func handle(_ event: TimelineEvent) {
        switch event {
        case .sessionOpened(let session):
            sessions[session.id] = SessionState(session: session)
            sessionOrder.append(session.id)
        case .pdu(let item):
            handle(pdu: item)
        case .gap(let gap):
            gaps += 1
            gapBytes += gap.size
        case .sessionEnded(let end, let session):
            guard let state = sessions[end.connection] else { return }
            state.session = session
            state.end = end
            state.endTime = end.timestamp.nanoseconds
        case .streamDiagnostic, .captureDiagnostic:
            diagnostics += 1
        }
    }

    /// Takes one timeline PDU (the same as ``handle(_:)`` with `.pdu`).
    public func handle(pdu item: TimelinePDU) {
        item.withLent { handle(lent: $0) }
    }

    /// Takes one timeline PDU whose bytes are lent (``handle(pdu:)``): nothing of them is kept.
    @_spi(Lent) public func handle(lent item: LentPDU) {
        if let state = sessions[item.session] { handle(item, state: state) }
    }

    @inline(__always)
    private func handle(_ item: LentPDU, state: SessionState) {
        let header = item.header
        let id = header.commandID
        let time = item.timestamp.nanoseconds
        total += 1
        if let index = id.knownIndex { knownCounts[index] += 1 } else { otherCounts[id, default: 0] += 1 }
        state.pdus += 1
        if let last = state.lastPDU {
            let silence = time - last
            if silence > state.longestSilence { state.longestSilence = silence }
            if Double(silence) / 1e9 > configuration.idleLimit {
                state.silences.append(Silence(start: Double(last) / 1e9, seconds: Double(silence) / 1e9))
            }
        }
        if state.firstPDU == nil { state.firstPDU = time }
        if !item.digest.isWellFormed { malformed += 1 }
        if time > (state.lastPDU ?? Int64.min) { state.lastPDU = time }
        let direction = state.direction(of: item.source)
        if id.isResponse {
            handleResponse(item, state: state, direction: direction, time: time)
        } else {
            handleRequest(item, state: state, direction: direction, time: time)
        }
    }

    // MARK: Requests

    private func handleRequest(_ item: LentPDU, state: SessionState, direction: Int, time: Int64) {
        let header = item.header
        let id = header.commandID
        var request = PendingRequest(command: id, time: time)
        switch id {
        case .submitSM:
            submitted(item, state: state, time: time, request: &request)
        case .deliverSM, .dataSM:
            delivered(item, state: state, time: time, request: &request)
        case .bindTransmitter, .bindReceiver, .bindTransceiver:
            let pdu = item.decoded()
            if case .bind(let bind) = pdu.body {
                state.pendingBindIndex[header.sequenceNumber] = state.binds.count
                state.bound(systemID: bind.systemID, systemType: bind.systemType)
                state.receiptAccount = receipts.accountIndex(bind.systemID)
                state.binds.append(
                    BindSummary(
                        command: id.name, systemID: bind.systemID, systemType: bind.systemType,
                        interfaceVersion: bind.interfaceVersion, status: nil, statusName: nil, statusMeaning: nil,
                        time: Double(time) / 1e9, flags: SystemTypeFlags(systemType: bind.systemType).summary,
                        sequenceNumber: header.sequenceNumber))
            }
        case .enquireLink:
            state.enquireLinks += 1
            if let last = state.enquireLinkLast[direction], time > last {
                state.enquireLinkIntervals[direction].sum += Double(time - last) / 1e9
                state.enquireLinkIntervals[direction].count += 1
            }
            state.enquireLinkLast[direction] = time
        case .unbind:
            if state.unbindFrom == nil, state.end == nil { state.unbindFrom = direction }
        default:
            break
        }
        guard id.expectsResponse else { return }
        request.fromClient = direction == state.clientDirection && state.session.client != nil
        if state.pending[direction].updateValue(request, forKey: UInt64(header.sequenceNumber)) == nil {
            state.windows[direction].change(by: 1, at: time)
            if request.fromClient {
                clientOutstanding += 1
                series.outstanding(at: time, count: clientOutstanding)
            }
        }
    }

    private func submitted(_ item: LentPDU, state: SessionState, time: Int64, request: inout PendingRequest) {
        state.submits += 1
        capacity.submitted(account: state.receiptAccount, at: time)
        peak.add(time)
        state.submitTimes.add(time)
        let second = time / 1_000_000_000
        if second != state.lastSubmitSecond {
            state.activeSeconds += 1
            state.lastSubmitSecond = second
        }
        series.submit(at: time)
        let bytes = item.bytes
        guard let location = item.digest.shortMessage else { return }
        let content: UInt64
        let facts: SubmitFacts
        if let prepared = item.prepared, let key = prepared.key {
            content = key
            facts = SubmitFacts(word: prepared.facts)
        } else {
            let message = PDULayout.messageOctets(in: bytes, at: location).range
            content = Self.messageContentKey(in: bytes, at: location, message: message)
            facts = SubmitFacts(in: bytes, at: location, message: message)
        }
        request.messageKey = MessageKey.forAccount(state.systemIDHash, content: content)
        let concatenation = facts.concatenation
        encodings.message(
            facts.encoding, account: state.receiptAccount, fromSMSC: false, concatenated: concatenation != nil,
            ucs2Octets: facts.encoding.fitsGSM ? PDULayout.messageOctets(in: bytes, at: location).range.count : 0,
            isoDefault: item.isoDefault, evidence: Self.evidence(item, time: time))
        let wants = location.registeredDelivery & 0x03
        request.wantsReceipt = wants == 1 || wants == 3
        if prefixDigits > 0 {
            // Worked out (to six digits) while the bytes were at hand, where the PDU came prepared.
            request.prefix =
                item.prepared.map {
                    DestinationPrefix.shortened(UInt32(truncatingIfNeeded: $0.extra), to: prefixDigits)
                }
                ?? DestinationPrefix.key(
                    of: UnsafeRawBufferPointer(rebasing: bytes[location.destination]), digits: prefixDigits)
        }
        if let concatenation {
            // The destination, to tell the long messages of one reference apart (read for parts only).
            var hash: UInt32 = 0x811C_9DC5
            for index in location.destination { hash = (hash ^ UInt32(bytes[index])) &* 0x0100_0193 }
            request.isPart = true
            if state.pendingParts.count >= SessionState.maximumPendingParts {
                state.pendingParts.removeAll { _, _ in true }
            }
            state.pendingParts[UInt64(item.header.sequenceNumber)] = PendingPart(part: concatenation, destination: hash)
        }
        let key = request.messageKey
        // The duplicate rule: the last accepted copy before this one.
        let acceptedAt = submitResends.sent(
            key: key, session: state.id, sequence: item.header.sequenceNumber, at: time,
            sessionStart: state.firstPDU ?? time
        ).acceptedAt
        if let acceptedAt, Double(time - acceptedAt) / 1e9 < configuration.duplicateWindow {
            duplicates += 1
            request.isDuplicate = true
        }
        if let throttledAt = throttledMessages.removeValue(forKey: key),
            let owner = sessions[throttledAt.session], throttledAt.episode < owner.episodes.count
        {
            var episode = owner.episodes[throttledAt.episode]
            let wait = Double(time - throttledAt.time) / 1e9
            let previous = (episode.meanWaitSeconds ?? 0) * Double(episode.resubmissions)
            episode.resubmissions += 1
            episode.meanWaitSeconds = (previous + wait) / Double(episode.resubmissions)
            owner.episodes[throttledAt.episode] = episode
        }
        guard concatenation.map({ $0.sequence <= 1 }) ?? true else { return }
        guard facts.special else {
            channels[0] += 1
            return
        }
        // A channel marker or a comment may be there: read the text.
        let decoded = PDULayout.message(in: item.copiedBytes(), at: location, isoDefault: item.isoDefault)
        guard let text = decoded.decoded.text else {
            channels[0] += 1
            return
        }
        var kz = SMSCKZMessage(text: text)
        // Clients that put ASCII in data_coding 0 write "__MMS__" and "~~~" as GSM 03.38 never would.
        if kz.channel == .sms, kz.comment == nil, location.dataCoding == 0, !item.isoDefault {
            let ascii = SMSCKZMessage(text: String(decoding: decoded.decoded.payload, as: UTF8.self))
            if ascii.channel != .sms || ascii.comment != nil { kz = ascii }
        }
        channels[SMSCKZChannel.allCases.firstIndex(of: kz.channel) ?? 0] += 1
        if kz.comment != nil { comments += 1 }
    }

    /// Concatenation information elements of a user data header (without its length octet).
    static func concatenation(in header: UnsafeRawBufferPointer) -> ConcatenatedPart? {
        var index = 0
        while index + 1 < header.count {
            let identifier = header[index]
            let length = Int(header[index + 1])
            let data = index + 2
            guard data + length <= header.count else { return nil }
            if identifier == 0x00, length == 3 {
                return ConcatenatedPart(
                    reference: UInt16(header[data]), total: header[data + 1], sequence: header[data + 2], kind: .udh8)
            }
            if identifier == 0x08, length == 4 {
                return ConcatenatedPart(
                    reference: UInt16(header[data]) << 8 | UInt16(header[data + 1]), total: header[data + 2],
                    sequence: header[data + 3], kind: .udh16)
            }
            index = data + length
        }
        return nil
    }

    /// True when a text may start with an SMSC.kz channel marker ("__" in GSM 03.38, ASCII or UCS-2) or hold a
    /// comment separator ("\n~~~\n" in the same encodings).
    static func mayBeSpecial(_ text: UnsafeRawBufferPointer) -> Bool {
        if text.count >= 2, (text[0] == 0x11 && text[1] == 0x11) || (text[0] == 0x5F && text[1] == 0x5F) { return true }
        if text.count >= 4, text[0] == 0, text[1] == 0x5F, text[2] == 0, text[3] == 0x5F { return true }
        guard text.count >= 5 else { return false }
        let limit = text.count - 4
        var index = 0
        while index < limit {
            // Eight bytes at a time past words without a line feed (nearly every text has none).
            if index + 8 <= limit {
                let word = text.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ 0x0A0A_0A0A_0A0A_0A0A
                if (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            if text[index] == 0x0A {
                let next = text[index + 1]
                if next == 0x7E || next == 0x1B { return true }
                if next == 0, index + 2 < text.count, text[index + 2] == 0x7E { return true }
            }
            index += 1
        }
        return false
    }

    /// A deliver_sm or data_sm: a receipt, or a mobile-originated message. The TLVs answer most receipts without
    /// reading the text.
    private func delivered(
        _ item: LentPDU, state: SessionState, time: Int64, request: inout PendingRequest
    ) {
        let bytes = item.bytes
        if item.header.commandID == .deliverSM, let location = item.digest.shortMessage {
            let facts = item.prepared.map { ReceiptFacts(word: $0.facts) } ?? ReceiptFacts(in: bytes, at: location)
            if let idRange = facts.idRange, facts.deliveredByTLV {
                let id = UnsafeRawBufferPointer(rebasing: bytes[idRange])
                let text = PDULayout.messageOctets(in: bytes, at: location).range
                let dates =
                    item.prepared.map { ReceiptDates(word: $0.extra) }
                    ?? DeliveryReceipt.dates(in: UnsafeRawBufferPointer(rebasing: bytes[text]))
                let key = item.prepared?.key ?? facts.idKey ?? MessageID.linkKeyAndShape(id).key
                request.messageKey = Self.receiptCopyKey(key, state: 2, account: state.systemIDHash)
                let copy = receiptResends.sent(
                    key: request.messageKey, session: state.id, sequence: item.header.sequenceNumber, at: time,
                    sessionStart: state.firstPDU ?? time
                ).repeated
                receipts.received(
                    id: id, key: item.prepared?.key ?? facts.idKey, flags: facts.idFlags, state: "DELIVRD", err: nil,
                    final: true, dates: dates, copy: copy, at: time, receipt: Self.receiptRef(item, time: time))
                return
            }
            if !facts.marked, !facts.startsLikeText {
                receipts.mobileOriginated += 1
                mobileOriginated(item, location: location, state: state, time: time)
                return
            }
        }
        // Read from the bytes where the frame's fields were located (a well-formed deliver_sm), else decoded.
        let found: DeliveryReceipt?
        if item.header.commandID == .deliverSM, let location = item.digest.shortMessage {
            let raw = item.copiedBytes()
            let text = PDULayout.message(in: raw, at: location, isoDefault: item.isoDefault).decoded.text
            found = PDULayout.deliveryReceipt(in: raw, at: location, text: text)
        } else {
            let pdu = item.decoded()
            found = pdu.deliveryReceipt(text: pdu.message(isoDefault: item.isoDefault)?.decoded.text)
        }
        if let receipt = found {
            let id = receipt.messageID ?? ""
            var bytes = Array(id.utf8)
            let dates = ReceiptDates(
                submit: receipt.submitDate.flatMap(DeliveryReceipt.epochSeconds(ofDate:)).map(Int64.init),
                done: receipt.doneDate.flatMap(DeliveryReceipt.epochSeconds(ofDate:)).map(Int64.init),
                doneResolution: receipt.doneDate?.utf8.count == 12 ? 1 : 60)
            var copy = false
            if !bytes.isEmpty {
                let key = bytes.withUnsafeBytes { MessageID.linkKeyAndShape($0).key }
                var stateHash: UInt64 = 0
                for byte in (receipt.state ?? "").utf8 { stateHash = stateHash &* 31 &+ UInt64(byte) }
                request.messageKey = Self.receiptCopyKey(key, state: stateHash, account: state.systemIDHash)
                copy =
                    receiptResends.sent(
                        key: request.messageKey, session: state.id, sequence: item.header.sequenceNumber, at: time,
                        sessionStart: state.firstPDU ?? time
                    ).repeated
            }
            bytes.withUnsafeMutableBytes { buffer in
                receipts.received(
                    id: UnsafeRawBufferPointer(buffer), state: receipt.state ?? "UNKNOWN", err: receipt.err,
                    final: receipt.isFinal, dates: dates, copy: copy, at: time,
                    receipt: Self.receiptRef(item, time: time))
            }
        } else if item.header.commandID == .deliverSM {
            receipts.mobileOriginated += 1
            if let location = item.digest.shortMessage {
                mobileOriginated(item, location: location, state: state, time: time)
            }
        }
    }

    // MARK: Responses

    private func handleResponse(_ item: LentPDU, state: SessionState, direction: Int, time: Int64) {
        let header = item.header
        let id = header.commandID
        let status = header.commandStatus
        if status == .throttled {
            throttledResponses += 1
            throttle(state: state, time: time, sequenceNumber: header.sequenceNumber)
        } else if status == .messageQueueFull {
            queueFull += 1
        }
        if status != .ok {
            errorResponses["\(id.name) \(status.name)", default: 0] += 1
        }
        let requester = 1 - direction
        let sequence = header.sequenceNumber
        guard let request = state.pending[requester][UInt64(sequence)],
            request.command.response == id || id == .genericNack
        else {
            state.orphans += 1
            orphanList.append(
                OrphanResponse(session: state.id, command: id.name, sequenceNumber: sequence, time: Double(time) / 1e9))
            return
        }
        state.pending[requester].removeValue(forKey: UInt64(sequence))
        state.windows[requester].change(by: -1, at: time)
        if request.fromClient { clientOutstanding -= 1 }
        pairs += 1
        let elapsed = time - request.time
        if let index = request.command.knownIndex {
            latency[index].record(nanoseconds: elapsed)
        } else {
            otherLatency[request.command, default: LatencyRecorder(precision: .three)].record(nanoseconds: elapsed)
        }
        state.recordLatency(request.command, elapsed)
        switch request.command {
        case .submitSM:
            if status == .messageQueueFull {
                capacity.queueFull(account: state.receiptAccount, outstanding: state.windows[requester].count)
            }
            answeredSubmit(item, request: request, state: state, time: time)
        case .deliverSM where request.messageKey != 0:
            receiptResends.answered(
                key: request.messageKey, requestTime: request.time, outcome: status == .ok ? 1 : 3, at: time)
        case .bindTransmitter, .bindReceiver, .bindTransceiver:
            if let index = state.pendingBindIndex.removeValue(forKey: sequence), index < state.binds.count {
                state.binds[index].status = status.rawValue
                state.binds[index].statusName = status.name
                state.binds[index].statusMeaning = status.meaning
            }
        default:
            break
        }
    }

    private func throttle(state: SessionState, time: Int64, sequenceNumber: UInt32) {
        state.throttled += 1
        series.throttled(at: time)
        let gap = configuration.throttleEpisodeGap
        if let last = state.lastThrottle, Double(time - last) / 1e9 < gap, var episode = state.episodes.last {
            episode.count += 1
            episode.end = Double(time) / 1e9
            state.episodes[state.episodes.count - 1] = episode
        } else {
            let before = state.submitTimes.count(endingAt: time)
            state.episodes.append(
                ThrottleEpisode(
                    session: state.id, start: Double(time) / 1e9, end: Double(time) / 1e9, count: 1, rateBefore: before,
                    resubmissions: 0, meanWaitSeconds: nil, firstSequenceNumber: sequenceNumber))
        }
        state.lastThrottle = time
    }

    private func answeredSubmit(_ item: LentPDU, request: PendingRequest, state: SessionState, time: Int64) {
        let status = item.header.commandStatus
        submitResends.answered(
            key: request.messageKey, requestTime: request.time,
            outcome: status == .ok ? 1 : status == .throttled || status == .messageQueueFull ? 2 : 3, at: time)
        if request.isDuplicate {
            duplicateResponses[status.name, default: 0] += 1
        }
        let concatenation =
            request.isPart ? state.pendingParts.removeValue(forKey: UInt64(item.header.sequenceNumber)) : nil
        if status == .ok {
            capacity.accepted(
                account: state.receiptAccount, at: time,
                wholeMessage: concatenation.map { $0.part.sequence <= 1 } ?? true)
            var long: UInt32 = 0
            if let pending = concatenation {
                let part = pending.part
                let submit = Finding.Evidence(
                    session: state.id, sequenceNumber: item.header.sequenceNumber, command: "submit_sm",
                    time: Double(request.time) / 1e9)
                long = longMessages.accepted(
                    part, account: state.systemIDHash, destination: pending.destination, content: request.messageKey,
                    session: state.id, submit: submit, at: time, wantsReceipt: request.wantsReceipt
                ) { receipts.newRollup(parts: Int(part.total), first: submit) }
            }
            throttleSweep += 1
            if throttleSweep >= 65_536 {
                throttleSweep = 0
                let throttleHorizon = time - 600 * 1_000_000_000
                throttledMessages.removeAll { $1.time < throttleHorizon }
            }
            let responseID: (key: UInt64, form: ReceiptIDForm)?
            if let prepared = item.prepared, let key = prepared.key {
                responseID = (key, ReceiptIDForm(bits: UInt16(truncatingIfNeeded: prepared.facts)))
            } else {
                responseID = Self.acceptedID(status: status, in: item.bytes)
            }
            if let (key, form) = responseID {
                receipts.accepted(
                    key: key, form: form, account: state.receiptAccount, submittedAt: request.time, session: state.id,
                    concatenation: concatenation.map { ($0.part.reference, $0.part.total) },
                    receiptPerPart: state.receiptPerPart, wantsReceipt: request.wantsReceipt,
                    horizon: time - Int64(configuration.receiptWindow * 1e9), long: long,
                    prefix: prefixDigits > 0 ? receipts.prefixIndex(request.prefix) : 0)
            }
        } else if status == .throttled {
            capacity.throttled(account: state.receiptAccount, at: time)
            if !state.episodes.isEmpty {
                throttledMessages[request.messageKey] = (time, state.id, state.episodes.count - 1)
            }
        }
    }

    /// The key of a receipt's copies: its id's link key, its state (a receipt saying another state of the same
    /// message is not a copy) and the account it came to (ids are unique per SMSC, not across them).
    @inline(__always)
    static func receiptCopyKey(_ idKey: UInt64, state: UInt64, account: UInt64) -> UInt64 {
        let key = MessageKey.forAccount(account, content: idKey ^ (state &* 0x9E37_79B9_7F4A_7C15))
        return key == 0 ? 1 : key
    }

    /// A mobile-originated deliver_sm: its encoding counted for the session's account, from the SMSC.
    private func mobileOriginated(
        _ item: LentPDU, location: ShortMessageLocation, state: SessionState, time: Int64
    ) {
        let bytes = item.bytes
        let message = PDULayout.messageOctets(in: bytes, at: location).range
        let facts = SubmitFacts(in: bytes, at: location, message: message)
        encodings.message(
            facts.encoding, account: state.receiptAccount, fromSMSC: true, concatenated: facts.concatenation != nil,
            ucs2Octets: message.count, isoDefault: item.isoDefault, evidence: Self.evidence(item, time: time))
    }

    /// A PDU as evidence of a finding.
    static func evidence(_ item: LentPDU, time: Int64) -> Finding.Evidence {
        Finding.Evidence(
            session: item.session, sequenceNumber: item.header.sequenceNumber, command: item.header.commandID.name,
            time: Double(time) / 1e9)
    }

    /// A receipt, for evidence of a finding.
    @inline(__always)
    static func receiptRef(_ item: LentPDU, time: Int64) -> ReceiptTracker.ReceiptRef {
        ReceiptTracker.ReceiptRef(
            session: item.session, sequenceNumber: item.header.sequenceNumber, command: item.header.commandID,
            time: time)
    }
}

// Follows a timeline and measures it: request/response matching, latency, throttling, window, receipts,
// duplicates, silences. Feed it every event, then ask for the report.

import Capture
import NIOCore
import Reassembly
import SMPP
import Timeline

/// Measures a timeline. Single-threaded: feed events in order, then call ``finish()``.
public final class Analyzer {
    public let configuration: AnalysisConfiguration
    var sessions: [Int: SessionState] = [:]
    var sessionOrder: [Int] = []
    var counts: [CommandID: Int] = [:]
    var errorResponses: [String: Int] = [:]
    var total = 0
    var throttledResponses = 0
    var queueFull = 0
    var pairs = 0
    var orphanList: [OrphanResponse] = []
    var latency: [CommandID: LatencyRecorder] = [:]
    var latencyBySystemID: [String: [CommandID: LatencyRecorder]] = [:]
    var peak = SlidingWindowCounter()
    var duplicates = 0
    var duplicateResponses: [String: Int] = [:]
    /// Message key -> time of the accepted submit, for the duplicate rule.
    var accepted: [UInt64: Int64] = [:]
    var acceptedSweep = 0
    /// Message key -> (time of the throttled response, episode index in its session) for resubmissions.
    var throttledMessages: [UInt64: (time: Int64, session: Int, episode: Int)] = [:]
    var channels: [String: Int] = [:]
    var comments = 0
    var gaps = 0
    var gapBytes = 0
    var diagnostics = 0
    var malformed = 0
    var receipts = ReceiptTracker()
    var series = SeriesBuilder()
    /// Requests from clients awaiting a response, all sessions together.
    var clientOutstanding = 0

    public init(configuration: AnalysisConfiguration = AnalysisConfiguration()) {
        self.configuration = configuration
    }

    /// Takes one timeline event.
    public func handle(_ event: TimelineEvent) {
        switch event {
        case .sessionOpened(let session):
            sessions[session.id] = SessionState(session: session)
            sessionOrder.append(session.id)
        case .pdu(let item):
            handlePDU(item)
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

    private func handlePDU(_ item: TimelinePDU) {
        guard let state = sessions[item.session] else { return }
        let header = item.header
        let id = header.commandID
        let time = item.timestamp.nanoseconds
        total += 1
        counts[id, default: 0] += 1
        state.pdus += 1
        if let last = state.lastPDU {
            let silence = time - last
            if silence > state.longestSilence { state.longestSilence = silence }
            if Double(silence) / 1e9 > configuration.idleLimit {
                state.silences.append(Silence(start: Double(last) / 1e9, seconds: Double(silence) / 1e9))
            }
        }
        if state.firstPDU == nil { state.firstPDU = time }
        if time > (state.lastPDU ?? Int64.min) { state.lastPDU = time }
        let direction = state.direction(of: item.source)
        if id.isResponse {
            handleResponse(item, state: state, direction: direction, time: time)
        } else {
            handleRequest(item, state: state, direction: direction, time: time)
        }
    }

    // MARK: Requests

    private func handleRequest(_ item: TimelinePDU, state: SessionState, direction: Int, time: Int64) {
        let header = item.header
        let id = header.commandID
        var request = PendingRequest(command: id, time: time)
        switch id {
        case .submitSM:
            submitted(item, state: state, time: time, request: &request)
        case .deliverSM, .dataSM:
            let pdu = item.decoded()
            if pdu.isMalformed { malformed += 1 }
            let text = pdu.message(isoDefault: item.isoDefault)?.decoded.text
            if let receipt = pdu.deliveryReceipt(text: text) {
                receipts.received(receipt, at: time, session: state.id)
            } else if id == .deliverSM {
                receipts.mobileOriginated += 1
            }
        case .bindTransmitter, .bindReceiver, .bindTransceiver:
            let pdu = item.decoded()
            if case .bind(let bind) = pdu.body {
                state.pendingBindIndex[header.sequenceNumber] = state.binds.count
                state.binds.append(
                    BindSummary(
                        command: id.name, systemID: bind.systemID, systemType: bind.systemType,
                        interfaceVersion: bind.interfaceVersion, status: nil, statusName: nil, statusMeaning: nil,
                        time: Double(time) / 1e9, flags: SystemTypeFlags(systemType: bind.systemType).summary))
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
        if state.pending[direction].updateValue(request, forKey: header.sequenceNumber) == nil {
            state.windows[direction].change(by: 1, at: time)
            if request.fromClient {
                clientOutstanding += 1
                series.outstanding(at: time, count: clientOutstanding)
            }
        }
    }

    private func submitted(_ item: TimelinePDU, state: SessionState, time: Int64, request: inout PendingRequest) {
        state.submits += 1
        peak.add(time)
        let windowCount = state.submitTimes.add(time)
        state.peakSubmitPerSecond = max(state.peakSubmitPerSecond, windowCount, state.submitTimes.peak)
        state.submitSeconds[time / 1_000_000_000, default: 0] += 1
        series.submit(at: time)
        let pdu = item.decoded()
        if pdu.isMalformed { malformed += 1 }
        guard case .shortMessage(let body) = pdu.body else { return }
        var hasher = Hasher()
        hasher.combine(state.systemID)
        hasher.combine(body.source.address)
        hasher.combine(body.destination.address)
        body.shortMessage.withUnsafeReadableBytes { hasher.combine(bytes: $0) }
        let key = UInt64(bitPattern: Int64(hasher.finalize()))
        request.messageKey = key
        request.wantsReceipt = body.registeredDelivery & 0x03 == 1 || body.registeredDelivery & 0x03 == 3
        if let acceptedAt = accepted[key], Double(time - acceptedAt) / 1e9 < configuration.duplicateWindow {
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
        let message = pdu.message(isoDefault: item.isoDefault)
        if let concatenation = message?.concatenation {
            request.concatenation = (concatenation.reference, concatenation.total)
        }
        if let message, let text = message.decoded.text {
            var kz = SMSCKZMessage(text: text)
            // Clients that put ASCII in data_coding 0 write "__MMS__" and "~~~" as GSM 03.38 never would.
            if kz.channel == .sms, kz.comment == nil, body.dataCoding == 0, !item.isoDefault,
                message.decoded.payload.contains(0x5F) || message.decoded.payload.contains(0x7E)
            {
                let ascii = SMSCKZMessage(text: String(decoding: message.decoded.payload, as: UTF8.self))
                if ascii.channel != .sms || ascii.comment != nil { kz = ascii }
            }
            if message.concatenation?.sequence ?? 1 == 1 {
                channels[kz.channel.rawValue, default: 0] += 1
            }
            if kz.comment != nil { comments += 1 }
        }
    }

    // MARK: Responses

    private func handleResponse(_ item: TimelinePDU, state: SessionState, direction: Int, time: Int64) {
        let header = item.header
        let id = header.commandID
        let status = header.commandStatus
        if status == .throttled {
            throttledResponses += 1
            throttle(state: state, time: time)
        } else if status == .messageQueueFull {
            queueFull += 1
        }
        if status != .ok {
            errorResponses["\(id.name) \(status.name)", default: 0] += 1
        }
        let requester = 1 - direction
        let sequence = header.sequenceNumber
        guard let request = state.pending[requester][sequence],
            request.command.response == id || id == .genericNack
        else {
            state.orphans += 1
            orphanList.append(
                OrphanResponse(session: state.id, command: id.name, sequenceNumber: sequence, time: Double(time) / 1e9))
            return
        }
        state.pending[requester][sequence] = nil
        state.windows[requester].change(by: -1, at: time)
        if request.fromClient { clientOutstanding -= 1 }
        pairs += 1
        let elapsed = time - request.time
        latency[request.command, default: LatencyRecorder()].record(nanoseconds: elapsed)
        state.latency[request.command, default: LatencyRecorder()].record(nanoseconds: elapsed)
        latencyBySystemID[state.systemID, default: [:]][request.command, default: LatencyRecorder()]
            .record(nanoseconds: elapsed)
        switch request.command {
        case .submitSM:
            state.submitLatency.record(nanoseconds: elapsed)
            answeredSubmit(item, request: request, state: state, time: time)
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

    private func throttle(state: SessionState, time: Int64) {
        state.throttled += 1
        series.throttled(at: time)
        let gap = configuration.throttleEpisodeGap
        if let last = state.lastThrottle, Double(time - last) / 1e9 < gap, var episode = state.episodes.last {
            episode.count += 1
            episode.end = Double(time) / 1e9
            state.episodes[state.episodes.count - 1] = episode
        } else {
            let before = state.submitSeconds.isEmpty ? 0 : submitsInSecondBefore(state: state, time: time)
            state.episodes.append(
                ThrottleEpisode(
                    session: state.id, start: Double(time) / 1e9, end: Double(time) / 1e9, count: 1, rateBefore: before,
                    resubmissions: 0, meanWaitSeconds: nil))
        }
        state.lastThrottle = time
    }

    /// submit_sm requests of a session in the second before `time`.
    private func submitsInSecondBefore(state: SessionState, time: Int64) -> Int {
        // Approximated from the per-second counts: the current and the previous second, weighted by overlap.
        let second = time / 1_000_000_000
        let fraction = Double(time % 1_000_000_000) / 1e9
        let current = state.submitSeconds[second] ?? 0
        let previous = state.submitSeconds[second - 1] ?? 0
        return current + Int((Double(previous) * (1 - fraction)).rounded())
    }

    private func answeredSubmit(_ item: TimelinePDU, request: PendingRequest, state: SessionState, time: Int64) {
        let status = item.header.commandStatus
        if request.isDuplicate {
            duplicateResponses[status.name, default: 0] += 1
        }
        if status == .ok {
            accepted[request.messageKey] = request.time
            acceptedSweep += 1
            if acceptedSweep >= 65_536 {
                acceptedSweep = 0
                let horizon = time - Int64(configuration.duplicateWindow * 1e9)
                accepted = accepted.filter { $0.value >= horizon }
                let throttleHorizon = time - 600 * 1_000_000_000
                throttledMessages = throttledMessages.filter { $0.value.time >= throttleHorizon }
            }
            let pdu = item.decoded()
            if let id = pdu.messageID, !id.isEmpty {
                receipts.accepted(
                    messageID: id, submittedAt: request.time, session: state.id, concatenation: request.concatenation,
                    receiptPerPart: state.session.bind?.flags.single ?? false, wantsReceipt: request.wantsReceipt,
                    horizon: time - Int64(configuration.receiptWindow * 1e9))
            }
        } else if status == .throttled, !state.episodes.isEmpty {
            throttledMessages[request.messageKey] = (time, state.id, state.episodes.count - 1)
        }
    }
}

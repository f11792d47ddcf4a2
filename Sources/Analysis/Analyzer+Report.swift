// Turns what the analyzer gathered into the report, with its findings in plain words.

import SMPP
import Timeline

extension Analyzer {
    /// The report of everything seen so far. Requests still waiting are counted as unanswered.
    public func finish() -> AnalysisReport {
        var unanswered: [UnansweredRequest] = []
        var sessionReports: [SessionReport] = []
        for id in sessionOrder {
            guard let state = sessions[id] else { continue }
            for direction in 0..<2 {
                for (sequence, request) in state.pending[direction].entries {
                    unanswered.append(
                        UnansweredRequest(
                            session: id, command: request.command.name,
                            sequenceNumber: UInt32(truncatingIfNeeded: sequence),
                            time: Double(request.time) / 1e9))
                }
                state.unanswered += state.pending[direction].count
            }
            sessionReports.append(sessionReport(state))
        }
        markReplacedSessions(&sessionReports)
        unanswered.sort { ($0.time, $0.session, $0.sequenceNumber) < ($1.time, $1.session, $1.sequenceNumber) }

        var countsByName: [String: Int] = [:]
        for id in CommandID.allKnown {
            if let index = id.knownIndex, knownCounts[index] > 0 { countsByName[id.name] = knownCounts[index] }
        }
        for (id, count) in otherCounts { countsByName[id.name] = count }
        var latencyByName: [String: LatencySummary] = [:]
        for id in CommandID.allKnown {
            if let index = id.knownIndex, let summary = latency[index].summary { latencyByName[id.name] = summary }
        }
        for (id, recorder) in otherLatency { latencyByName[id.name] = recorder.summary }
        var channelCounts: [String: Int] = [:]
        for (index, channel) in SMSCKZChannel.allCases.enumerated() where channels[index] > 0 {
            channelCounts[channel.rawValue] = channels[index]
        }
        var recordersBySystemID: [String: [CommandID: LatencyRecorder]] = [:]
        for state in sessions.values {
            for (command, recorder) in state.latencies {
                recordersBySystemID[state.systemID, default: [:]][command, default: LatencyRecorder(precision: .two)]
                    .merge(recorder)
            }
        }
        var bySystemID: [String: [String: LatencySummary]] = [:]
        for (systemID, recorders) in recordersBySystemID {
            var entry: [String: LatencySummary] = [:]
            for (id, recorder) in recorders { entry[id.name] = recorder.summary }
            bySystemID[systemID] = entry
        }
        let submitEdges: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000]
        let submitRecorder = CommandID.submitSM.knownIndex.map { latency[$0] }
        let receiptEdges: [Double] = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 3_600_000]
        // Messages submitted within the receipts' p99 latency (10 s at least) of the capture's end are too young to
        // count against the coverage.
        let captureEnd = Int64((sessionReports.map(\.end).max() ?? 0) * 1e9)
        let grace = Int64(max(10_000, receipts.latency.summary?.p99Ms ?? 0) * 1e6)
        var receiptReport = receipts.finish(pendingAfter: captureEnd - grace)
        receiptReport.mobileOriginated = receipts.report.mobileOriginated
        var report = AnalysisReport(
            pdusTotal: total, countsPerCommand: countsByName, errorResponses: errorResponses,
            throttledResponses: throttledResponses, queueFullResponses: queueFull, requestResponsePairs: pairs,
            unansweredRequests: unanswered.count, unanswered: unanswered, orphanResponses: orphanList,
            latency: latencyByName, latencyBySystemID: bySystemID,
            maxOutstanding: sessionReports.map(\.maxOutstanding).max() ?? 0, sessions: sessionReports,
            receipts: receiptReport, peakSubmitPerSecond: peak.peak,
            throttleEpisodes: sessionReports.flatMap(\.throttleEpisodes), duplicateSubmits: duplicates,
            duplicateResponses: duplicateResponses,
            idleViolations: sessionReports.reduce(0) { $0 + $1.silencesOverLimit.count },
            idleLimit: configuration.idleLimit, throughputLimit: configuration.throughputLimit,
            configuredWindow: configuration.window, channels: channelCounts, submitsWithComment: comments, gaps: gaps,
            gapBytes: gapBytes, diagnostics: diagnostics, malformedPDUs: malformed, series: series.build(),
            submitLatencyEdgesMs: submitEdges,
            submitLatencyBuckets: submitRecorder.flatMap { $0.count > 0 ? $0.buckets(edgesMs: submitEdges) : nil }
                ?? [],
            receiptLatencyEdgesMs: receiptEdges, receiptLatencyBuckets: receipts.latency.buckets(edgesMs: receiptEdges),
            findings: [])
        report.longMessages = longMessages.finish(pendingAfter: captureEnd - 10 * 1_000_000_000)
        submitResends.finish()
        receiptResends.finish()
        report.encodings = encodings.report { receipts.accountName($0) }
        var sentPeaks: [UInt16: Int] = [:]
        for id in sessionOrder {
            guard let state = sessions[id] else { continue }
            sentPeaks[state.receiptAccount] = max(sentPeaks[state.receiptAccount] ?? 0, state.submitTimes.peak)
        }
        report.capacity = capacity.report(
            account: { receipts.accountName($0) }, latency: { bySystemID[$0]?[CommandID.submitSM.name] },
            sent: { sentPeaks[$0] ?? 0 })
        report.submitResends = submitResends.causes
        report.receiptResends = receiptResends.causes
        report.findings = Findings.make(report, configuration: configuration)
        return report
    }

    private func sessionReport(_ state: SessionState) -> SessionReport {
        let session = state.session
        let clientDirection = state.clientDirection
        let client = session.client ?? state.first
        let server = session.server ?? state.second
        var close: String?
        var closedBy: String?
        if let unbindFrom = state.unbindFrom {
            close = "unbind"
            closedBy = state.role(unbindFrom)
        } else if let end = state.end {
            close = end.kind.rawValue
            closedBy = state.role(state.direction(of: end.by))
        }
        let start = Double(session.connection.firstSeen.nanoseconds) / 1e9
        var endTime = Double(max(state.lastPDU ?? 0, state.endTime ?? 0)) / 1e9
        if endTime < start { endTime = start }
        let clientWindow = state.windows[clientDirection].summary(window: configuration.window)
        let serverWindow = state.windows[1 - clientDirection].summary(window: nil)
        let activeSeconds = state.activeSeconds
        let meanRate = activeSeconds > 0 ? Double(state.submits) / Double(activeSeconds) : 0
        let submitLatency = state.submitLatency?.summary
        let (verdict, reason) = Self.verdict(
            submits: state.submits, throttled: state.throttled, window: clientWindow, meanRate: meanRate,
            latency: submitLatency, limit: configuration.throughputLimit)
        func interval(_ direction: Int) -> Double? {
            let entry = state.enquireLinkIntervals[direction]
            return entry.count > 0 ? entry.sum / Double(entry.count) : nil
        }
        return SessionReport(
            id: state.id, client: client.description, server: server.description, rolesKnown: session.client != nil,
            bind: state.binds.last, binds: state.binds, pdus: state.pdus, start: start, end: endTime, close: close,
            closedBy: closedBy, longestSilenceSeconds: Double(state.longestSilence) / 1e9,
            silencesOverLimit: state.silences,
            maxOutstanding: state.windows[clientDirection].max,
            maxOutstandingServer: state.windows[1 - clientDirection].max, clientWindow: clientWindow,
            serverWindow: serverWindow, submits: state.submits, throttled: state.throttled,
            throttleEpisodes: state.episodes, peakSubmitPerSecond: state.submitTimes.peak,
            meanSubmitPerSecond: meanRate, submitLatency: submitLatency, verdict: verdict, verdictReason: reason,
            enquireLinkIntervalClient: interval(clientDirection),
            enquireLinkIntervalServer: interval(1 - clientDirection),
            enquireLinks: state.enquireLinks, replacedBySession: nil, unanswered: state.unanswered,
            orphanResponses: state.orphans)
    }

    /// What limited a session's throughput, from rate ≈ window / latency.
    static func verdict(
        submits: Int, throttled: Int, window: WindowSummary?, meanRate: Double, latency: LatencySummary?,
        limit: Double?
    ) -> (String?, String?) {
        if submits > 0, Double(throttled) >= 0.01 * Double(submits) {
            var reason = "the SMSC answered ESME_RTHROTTLED to \(throttled) of \(submits) submit_sm"
            if let limit { reason += "; the account limit is \(formatNumber(limit))/s" }
            return ("throttled", reason)
        }
        guard submits >= 10, let window, let latency, latency.meanMs > 0 else { return (nil, nil) }
        let capacity = Double(window.window) / (latency.meanMs / 1_000)
        let rate = formatNumber(meanRate)
        if window.max <= 1 {
            return (
                "latency-bound",
                "one request at a time: \(rate)/s ≈ 1 / \(formatNumber(latency.meanMs)) ms; a window would raise it"
            )
        }
        if window.shareAtWindow >= 0.5 {
            return (
                "window-bound",
                "\(Int((window.shareAtWindow * 100).rounded()))% of the busy time at the window of \(window.window); "
                    + "window / latency = \(window.window) / \(formatNumber(latency.meanMs)) ms ≈ "
                    + "\(formatNumber(capacity))/s, observed \(rate)/s"
            )
        }
        return (
            "load-bound",
            "the window of \(window.window) was full \(Int((window.shareAtWindow * 100).rounded()))% of the busy time; "
                + "the client sent what it had (\(rate)/s, room for ≈ \(formatNumber(capacity))/s)"
        )
    }

    /// SMSC.kz closes the older connection of a login when a newer one binds (unless system_type has MCONn):
    /// sessions that ended without an unbind within 5 s after another session bound with the same system_id.
    private func markReplacedSessions(_ reports: inout [SessionReport]) {
        for index in reports.indices {
            let older = reports[index]
            guard older.close != "unbind", older.close != nil, let bind = older.bind, bind.status == 0 else { continue }
            for newer in reports where newer.id != older.id {
                guard let newerBind = newer.bind, newerBind.systemID == bind.systemID, newer.start > older.start,
                    newerBind.time <= older.end + 0.001, older.end - newerBind.time <= 5
                else { continue }
                if SystemTypeFlags(systemType: newerBind.systemType).maxConnections.map({ $0 > 1 }) == true { continue }
                reports[index].replacedBySession = newer.id
                break
            }
        }
    }
}

/// A number with at most one decimal, without trailing ".0".
func formatNumber(_ value: Double) -> String {
    if value >= 100 || value == value.rounded() { return String(Int(value.rounded())) }
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
}

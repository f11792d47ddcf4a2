// The report's findings in plain words: what a person reading it should know first.

enum Findings {
    static func make(_ report: AnalysisReport, configuration: AnalysisConfiguration) -> [String] {
        var findings: [String] = []
        let limit = configuration.throughputLimit

        for session in report.sessions {
            let name = sessionName(session)
            for bind in session.binds where bind.status != nil && bind.status != 0 {
                findings.append(
                    "\(name): \(bind.command) as \"\(bind.systemID)\" was refused: "
                        + "\(bind.statusName ?? "") (\(bind.statusMeaning ?? "")).")
            }
            if !session.throttleEpisodes.isEmpty {
                let episodes = session.throttleEpisodes
                var text =
                    "\(name) was throttled (ESME_RTHROTTLED) in \(episodes.count) "
                    + (episodes.count == 1 ? "episode" : "episodes")
                    + " (\(session.throttled) responses); it peaked at \(session.peakSubmitPerSecond) submit_sm/s"
                if let limit { text += " against a limit of \(formatNumber(limit))" }
                let waits = episodes.compactMap(\.meanWaitSeconds)
                let resubmitted = episodes.reduce(0) { $0 + $1.resubmissions }
                if resubmitted > 0, !waits.isEmpty {
                    text +=
                        " and resent \(resubmitted) throttled messages after waiting \(formatNumber(waits.reduce(0, +) / Double(waits.count))) s on average"
                }
                findings.append(text + ".")
            } else if let limit, Double(session.peakSubmitPerSecond) > limit {
                findings.append(
                    "\(name) peaked at \(session.peakSubmitPerSecond) submit_sm/s, above the limit of \(formatNumber(limit)), "
                        + "without being throttled.")
            }
            if let verdict = session.verdict, let reason = session.verdictReason, session.submits >= 10 {
                findings.append("\(name) is \(verdict): \(reason).")
            }
            if let window = session.clientWindow, window.windowConfigured {
                findings.append(
                    "\(name) kept at most \(window.max) requests outstanding against a configured window of "
                        + "\(window.window) (mean \(formatNumber(window.mean)), at the window "
                        + "\(Int((window.shareAtWindow * 100).rounded()))% of the busy time).")
            }
            for silence in session.silencesOverLimit {
                findings.append(
                    "\(name) was silent for \(formatNumber(silence.seconds)) s, over the idle limit of "
                        + "\(formatNumber(report.idleLimit)) s; SMSC.kz drops such connections.")
            }
            if let replaced = session.replacedBySession {
                findings.append(
                    "\(name) was closed shortly after session \(replaced) bound with the same system_id: SMSC.kz allows "
                        + "one connection per login unless system_type has MCONn.")
            }
            if session.close == "rst", session.unanswered > 0 {
                findings.append("\(name) was reset (RST) with \(session.unanswered) requests unanswered.")
            }
            if let expected = configuration.enquireLinkInterval, let interval = session.enquireLinkIntervalClient,
                interval > expected * 1.5
            {
                findings.append(
                    "\(name) sent enquire_link every \(formatNumber(interval)) s, not every \(formatNumber(expected)) s as configured."
                )
            }
        }
        if report.unansweredRequests > 0 {
            var byCommand: [String: Int] = [:]
            for request in report.unanswered { byCommand[request.command, default: 0] += 1 }
            let detail = byCommand.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.value) \($0.key)" }
                .joined(separator: ", ")
            findings.append("\(report.unansweredRequests) requests got no response in the capture (\(detail)).")
        }
        if !report.orphanResponses.isEmpty {
            findings.append(
                "\(report.orphanResponses.count) responses answer no request of the capture (it may have started mid-session)."
            )
        }
        if report.duplicateSubmits > 0 {
            let answers = report.duplicateResponses.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map {
                "\($0.key) \($0.value)"
            }
            .joined(separator: ", ")
            findings.append(
                "\(report.duplicateSubmits) submit_sm repeated an accepted one (same system_id, addresses and text) within "
                    + "\(formatNumber(configuration.duplicateWindow)) s; SMSC.kz refuses those. The SMSC answered: \(answers)."
            )
        }
        let receipts = report.receipts
        if receipts.count > 0 {
            let states = receipts.stat.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map {
                "\($0.key) \($0.value)"
            }.joined(separator: ", ")
            var text = "\(receipts.count) delivery receipts (\(states))"
            if let latency = receipts.latency {
                text += "; submit to receipt p50 \(formatSeconds(latency.p50Ms)), p99 \(formatSeconds(latency.p99Ms))"
            }
            if receipts.unknownIDs > 0 { text += "; \(receipts.unknownIDs) for ids no submit of the capture got" }
            findings.append(text + ".")
        }
        if receipts.withoutReceipt > 0 {
            findings.append("\(receipts.withoutReceipt) accepted messages got no final receipt in the capture.")
        }
        if report.gaps > 0 {
            findings.append(
                "The capture misses \(report.gapBytes) bytes in \(report.gaps) places; PDUs in them are not counted.")
        }
        if report.malformedPDUs > 0 {
            findings.append("\(report.malformedPDUs) PDUs are malformed (see decode for where).")
        }
        let otherChannels = report.channels.filter { $0.key != "sms" && $0.value > 0 }
        if !otherChannels.isEmpty {
            let list = otherChannels.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.value) \($0.key)" }
                .joined(separator: ", ")
            findings.append("Special SMSC.kz texts: \(list).")
        }
        return findings
    }

    static func sessionName(_ session: SessionReport) -> String {
        if let systemID = session.bind?.systemID, !systemID.isEmpty { return "session \(session.id) (\(systemID))" }
        return "session \(session.id)"
    }

    static func formatSeconds(_ milliseconds: Double) -> String {
        milliseconds >= 1_000 ? "\(formatNumber(milliseconds / 1_000)) s" : "\(formatNumber(milliseconds)) ms"
    }
}

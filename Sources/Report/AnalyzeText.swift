// `analyze` as text: findings first, then the figures behind them.

import Analysis

public enum AnalyzeText {
    public static func render(_ report: AnalysisReport) -> String {
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }
        line("SMPP analysis: \(report.pdusTotal) PDUs in \(report.sessions.count) sessions")
        line()
        if !report.findings.isEmpty {
            line("Findings")
            for finding in report.findings {
                line("  - " + (finding.severity == .info ? "" : "\(finding.severity.rawValue): ") + finding.message)
            }
            line()
        }
        line("Sessions")
        for session in report.sessions {
            var header = "  #\(session.id)  ESME \(session.client) -> SMSC \(session.server)"
            if !session.rolesKnown { header += " (roles not known)" }
            line(header)
            if let bind = session.bind {
                var text = "      \(bind.command) system_id=\(bind.systemID)"
                if !bind.systemType.isEmpty { text += " system_type=\(bind.systemType)" }
                if !bind.flags.isEmpty { text += " (\(bind.flags))" }
                text += " -> \(bind.statusName ?? "no response")"
                line(text)
            }
            var life = "      \(session.pdus) PDUs, \(formatDuration(session.end - session.start))"
            life += ", closed: \(closeText(session))"
            life += ", longest silence \(formatDuration(session.longestSilenceSeconds))"
            line(life)
            if session.submits > 0 {
                var text = "      submit_sm \(session.submits), throttled \(session.throttled)"
                text += ", peak \(session.peakSubmitPerSecond)/s, mean \(number(session.meanSubmitPerSecond))/s"
                if let latency = session.submitLatency {
                    text += ", latency p50 \(number(latency.p50Ms)) ms p99 \(number(latency.p99Ms)) ms"
                }
                line(text)
            }
            if let window = session.clientWindow {
                line(
                    "      window: max \(window.max), mean \(number(window.mean)), p99 \(window.p99), "
                        + "\(percent(window.shareAtWindow)) of busy time at \(window.window)"
                        + (window.windowConfigured ? " (configured)" : ""))
            }
            if let verdict = session.verdict, let reason = session.verdictReason {
                line("      verdict: \(verdict) — \(reason)")
            }
        }
        line()
        line("Commands")
        for (command, count) in report.countsPerCommand.sorted(by: { $0.key < $1.key }) {
            line("  " + pad(command, 28) + String(count))
        }
        if !report.errorResponses.isEmpty {
            line()
            line("Error responses")
            for (key, count) in report.errorResponses.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                line("  " + pad(key, 48) + String(count))
            }
        }
        line()
        line("Response times (ms)")
        line(
            "  " + pad("request", 22) + pad("n", 9) + pad("p50", 10) + pad("p90", 10) + pad("p99", 10) + pad("max", 10)
                + "mean")
        for (command, summary) in report.latency.sorted(by: { $0.key < $1.key }) {
            line(
                "  " + pad(command, 22) + pad(String(summary.n), 9) + pad(number(summary.p50Ms), 10)
                    + pad(number(summary.p90Ms), 10) + pad(number(summary.p99Ms), 10) + pad(number(summary.maxMs), 10)
                    + number(summary.meanMs))
        }
        line()
        line("Totals")
        line("  request/response pairs      \(report.requestResponsePairs)")
        line("  unanswered requests         \(report.unansweredRequests)")
        line("  ESME_RTHROTTLED responses   \(report.throttledResponses) in \(report.throttleEpisodes.count) episodes")
        line(
            "  peak submit_sm per second   \(report.peakSubmitPerSecond)"
                + (report.throughputLimit.map { " (limit \(number($0)))" } ?? ""))
        line("  max outstanding             \(report.maxOutstanding)")
        line("  duplicate submits (60 s)    \(report.duplicateSubmits)")
        line("  idle violations (> \(number(report.idleLimit)) s)  \(report.idleViolations)")
        let receipts = report.receipts
        line(
            "  delivery receipts           \(receipts.count) (linked \(receipts.linked), unknown ids \(receipts.unknownIDs))"
        )
        line("  mobile-originated messages  \(receipts.mobileOriginated)")
        if report.gaps > 0 { line("  capture gaps                \(report.gaps) (\(report.gapBytes) bytes)") }
        if !report.capacity.isEmpty {
            line()
            line("Capacity per account (what the SMSC let it do, and settings that fit)")
            for account in report.capacity {
                let name = account.account.isEmpty ? "(no bind)" : account.account
                var facts = ["sent up to \(account.peakOfferedPerSecond)/s"]
                if let rate = account.throttleRate {
                    facts.append(
                        "throttled from \(rate)/s" + (account.counts.map { " (counts \($0))" } ?? "")
                            + " in \(number((account.throttleConfidence ?? 0) * 100))% of \(account.throttleSamples) refusals"
                    )
                }
                if let window = account.windowLimit { facts.append("window \(window)") }
                line("  " + pad(name, 20) + facts.joined(separator: ", "))
                var settings: [String] = []
                if let rate = account.recommendedRate { settings.append("rate \(rate)/s") }
                if let window = account.recommendedWindow { settings.append("window \(window)") }
                if let timeout = account.recommendedTimeoutSeconds { settings.append("response timeout \(timeout) s") }
                if !settings.isEmpty { line("  " + pad("", 20) + "settings: " + settings.joined(separator: ", ")) }
            }
        }
        let alphabets = report.encodings.filter { $0.scored > 0 }
        if !alphabets.isEmpty {
            line()
            line("data_coding 0 (what the texts are written in)")
            for group in alphabets {
                let name = (group.peer.isEmpty ? "(no bind)" : group.peer) + " " + group.direction
                let inferred = group.inferred.map(\.rawValue) ?? "unknown"
                line(
                    "  " + pad(name, 28) + "\(inferred) (\(group.scored) messages; the SMSC reads "
                        + "\(group.declared.rawValue))")
            }
        }
        return out
    }

    static func closeText(_ session: SessionReport) -> String {
        guard let close = session.close else { return "still open" }
        let who = session.closedBy.map { $0 == "client" ? " by the ESME" : " by the SMSC" } ?? ""
        switch close {
        case "unbind": return "unbind\(who)"
        case "rst": return "reset\(who)"
        default: return "FIN\(who)"
        }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func number(_ value: Double) -> String {
        if value >= 100 || value == value.rounded() { return String(Int(value.rounded())) }
        return formatFixed(value, decimals: value >= 10 ? 1 : 2)
    }

    static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

    static func formatDuration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(number(seconds * 1_000)) ms" }
        if seconds < 120 { return "\(number(seconds)) s" }
        if seconds < 7_200 { return "\(number(seconds / 60)) min" }
        return "\(number(seconds / 3_600)) h"
    }
}

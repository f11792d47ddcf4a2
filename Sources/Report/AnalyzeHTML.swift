// `analyze --html`: one self-contained page (no network, no script) with inline SVG charts.

import Analysis
import Capture

public enum AnalyzeHTML {
    /// A finding: its severity and code, its words, and the PDUs that show it (session, sequence_number, command,
    /// time), each linked to its session's row.
    static func findingItem(_ finding: Finding) -> String {
        var item =
            "<li class=\"\(finding.severity.rawValue)\" id=\"finding-\(finding.code.rawValue)\">"
            + "<span class=\"severity\">\(finding.severity.rawValue)</span> "
            + "<code>\(finding.code.rawValue)</code> \(escapeHTML(finding.message))"
        if !finding.evidence.isEmpty {
            item += "<ul class=\"evidence\">"
            for evidence in finding.evidence {
                item +=
                    "<li><a href=\"#session-\(evidence.session)\">session \(evidence.session)</a> "
                    + "\(escapeHTML(evidence.command)) sequence_number \(evidence.sequenceNumber) at "
                    + "\(evidenceTime(evidence.time)) UTC</li>"
            }
            item += "</ul>"
        }
        return item + "</li>"
    }

    public static func render(_ report: AnalysisReport, title: String) -> String {
        var page = head(title: title)
        page += """
            <h1>SMPP analysis</h1>
            <p class="sub">\(escapeHTML(title)) — \(report.pdusTotal) PDUs, \(report.sessions.count) sessions</p>

            """
        page += cards(report)
        page += "<h2>Findings</h2>"
        if report.findings.isEmpty {
            page += "<p class=\"empty\">Nothing stands out.</p>"
        } else {
            page += "<ul class=\"findings\">" + report.findings.map(findingItem).joined() + "</ul>"
        }
        let series = report.series
        page += "<h2>Submit rate</h2>"
        page += SVGChart.timeSeries(
            title: "submit_sm per second (sliding 1 s), with ESME_RTHROTTLED", yLabel: "per second",
            start: series.start, step: series.step,
            series: [
                .init(name: "submit_sm/s", values: series.submitsPerSecond, color: "#1f77b4", style: .bars),
                .init(name: "ESME_RTHROTTLED/s", values: series.throttledPerSecond, color: "#d62728", style: .line),
                .init(name: "throttled", values: series.throttledPerSecond, color: "#ff7f0e", style: .marks),
            ],
            horizontal: report.throughputLimit.map { ($0, "limit \(formatNumberText($0))/s") })
        page += "<h2>Window</h2>"
        page += SVGChart.timeSeries(
            title: "requests awaiting a response (all clients)", yLabel: "outstanding",
            start: series.start, step: series.step,
            series: [
                .init(name: "outstanding", values: series.outstanding.map(Double.init), color: "#2ca02c", style: .line)
            ],
            horizontal: report.configuredWindow.map { (Double($0), "window \($0)") })
        page += "<h2>Response time of submit_sm</h2>"
        page += SVGChart.histogram(
            title: "submit_sm response time", labels: bucketLabels(report.submitLatencyEdgesMs, unit: "ms"),
            counts: report.submitLatencyBuckets, color: "#9467bd")
        page += latencyTable(report)
        page += "<h2>Delivery receipts</h2>"
        page += receiptSection(report)
        page += SVGChart.histogram(
            title: "submit_sm to receipt", labels: bucketLabels(report.receiptLatencyEdgesMs, unit: "ms"),
            counts: report.receiptLatencyBuckets, color: "#8c564b")
        page += "<h2>Sessions</h2>"
        page += sessionTable(report)
        page += "<h2>Commands</h2>"
        page += countsTable(report.countsPerCommand, header: "command")
        if !report.errorResponses.isEmpty {
            page += "<h2>Error responses</h2>" + countsTable(report.errorResponses, header: "response and status")
        }
        page += "<p class=\"sub\">Made by smppscope analyze.</p></body></html>\n"
        return page
    }

    /// The document head and style every smppscope page shares.
    static func head(title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>smppscope — \(escapeHTML(title))</title>
        <style>
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#1d1d1f;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        .sub{color:#666;margin:0 0 16px} ul.findings li{margin:4px 0}
        ul.findings li.error .severity{color:#b00020;font-weight:bold} ul.findings li.warning .severity{color:#b26a00;font-weight:bold}
        ul.findings li.info .severity{color:#666} ul.evidence{font-size:90%;color:#444}
        table{border-collapse:collapse;width:100%;font-size:13px} th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
        th{background:#f6f6f6} td.n{text-align:right;font-variant-numeric:tabular-nums}
        .chart{width:100%;height:auto;margin:4px 0 12px} .tick{font-size:11px;fill:#555} .note{font-size:11px;fill:#333}
        .bad{color:#b00020} .ok{color:#1a7f37} .empty{color:#888}
        .cards{display:flex;flex-wrap:wrap;gap:10px} .card{border:1px solid #e2e2e2;border-radius:6px;padding:8px 12px;min-width:140px}
        .card b{display:block;font-size:20px}
        </style></head><body>
        """
    }

    static func cards(_ report: AnalysisReport) -> String {
        var cards: [(String, String)] = [
            ("PDUs", "\(report.pdusTotal)"),
            ("sessions", "\(report.sessions.count)"),
            ("peak submit_sm/s", "\(report.peakSubmitPerSecond)"),
            ("ESME_RTHROTTLED", "\(report.throttledResponses)"),
            ("max outstanding", "\(report.maxOutstanding)"),
            ("receipts", "\(report.receipts.count)"),
            ("unanswered", "\(report.unansweredRequests)"),
        ]
        if let submit = report.latency["submit_sm"] {
            cards.append(("submit_sm p99", "\(formatFixed(submit.p99Ms, decimals: 1)) ms"))
        }
        return "<div class=\"cards\">"
            + cards.map { "<div class=\"card\"><b>\(escapeHTML($0.1))</b>\(escapeHTML($0.0))</div>" }.joined()
            + "</div>"
    }

    static func bucketLabels(_ edges: [Double], unit: String) -> [String] {
        func text(_ ms: Double) -> String {
            ms >= 1_000 ? "\(formatNumberText(ms / 1_000)) s" : "\(formatNumberText(ms)) ms"
        }
        return edges.map { "≤ " + text($0) } + ["> " + text(edges.last ?? 0)]
    }

    static func latencyTable(_ report: AnalysisReport) -> String {
        guard !report.latency.isEmpty else { return "" }
        var html =
            "<table><tr><th>request</th><th>n</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>mean ms</th></tr>"
        for (command, summary) in report.latency.sorted(by: { $0.key < $1.key }) {
            html += "<tr><td>\(escapeHTML(command))</td><td class=n>\(summary.n)</td>"
            for value in [summary.p50Ms, summary.p90Ms, summary.p99Ms, summary.p999Ms, summary.maxMs, summary.meanMs] {
                html += "<td class=n>\(formatFixed(value, decimals: 3))</td>"
            }
            html += "</tr>"
        }
        return html + "</table>"
    }

    static func receiptSection(_ report: AnalysisReport) -> String {
        let receipts = report.receipts
        guard receipts.count > 0 || receipts.mobileOriginated > 0 else { return "<p class=\"empty\">No receipts.</p>" }
        var html =
            "<table><tr><th>receipts</th><th>linked to a submit</th><th>unknown ids</th><th>accepted without receipt</th><th>mobile-originated</th><th>states</th></tr>"
        let states = receipts.stat.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        html +=
            "<tr><td class=n>\(receipts.count)</td><td class=n>\(receipts.linked)</td><td class=n>\(receipts.unknownIDs)</td>"
        html +=
            "<td class=n>\(receipts.withoutReceipt)</td><td class=n>\(receipts.mobileOriginated)</td><td>\(escapeHTML(states))</td></tr></table>"
        return html
    }

    static func sessionTable(_ report: AnalysisReport) -> String {
        var html =
            "<table><tr><th>#</th><th>ESME → SMSC</th><th>bind</th><th>PDUs</th><th>submit_sm</th><th>0x58</th><th>peak/s</th><th>window max / mean</th><th>p99 ms</th><th>verdict</th><th>closed</th></tr>"
        for session in report.sessions {
            let bind: String
            if let summary = session.bind {
                let status = summary.statusName ?? "no response"
                let good = summary.status == 0
                bind =
                    "\(escapeHTML(summary.systemID)) <span class=\"\(good ? "ok" : "bad")\">\(escapeHTML(status))</span>"
            } else {
                bind = "—"
            }
            let window = session.clientWindow.map { "\($0.max) / \(formatFixed($0.mean, decimals: 1))" } ?? "—"
            let latency = session.submitLatency.map { formatFixed($0.p99Ms, decimals: 2) } ?? "—"
            var closed = session.close ?? "open"
            if let by = session.closedBy { closed += " by \(by)" }
            if let replaced = session.replacedBySession { closed += " (newer bind, session \(replaced))" }
            html +=
                "<tr id=\"session-\(session.id)\"><td>\(session.id)</td><td>\(escapeHTML(session.client)) → \(escapeHTML(session.server))</td><td>\(bind)</td>"
            html +=
                "<td class=n>\(session.pdus)</td><td class=n>\(session.submits)</td><td class=n>\(session.throttled)</td>"
            html +=
                "<td class=n>\(session.peakSubmitPerSecond)</td><td class=n>\(window)</td><td class=n>\(latency)</td>"
            html += "<td>\(escapeHTML(session.verdict ?? "—"))</td><td>\(escapeHTML(closed))</td></tr>"
        }
        return html + "</table>"
    }

    static func countsTable(_ counts: [String: Int], header: String) -> String {
        var html = "<table><tr><th>\(escapeHTML(header))</th><th>count</th></tr>"
        for (key, value) in counts.sorted(by: { $0.key < $1.key }) {
            html += "<tr><td>\(escapeHTML(key))</td><td class=n>\(value)</td></tr>"
        }
        return html + "</table>"
    }
}

/// A number without trailing zeros: 30, 2.5.
func formatNumberText(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : formatFixed(value, decimals: value < 10 ? 2 : 1)
}

/// An evidence's time (seconds since 1970) as decode prints times; a time no capture can hold as it is.
func evidenceTime(_ seconds: Double) -> String {
    let nanoseconds = seconds * 1e9
    guard nanoseconds.isFinite, abs(nanoseconds) < 9e18 else { return "\(seconds)" }
    return utcString(Timestamp(nanoseconds: Int64(nanoseconds.rounded())))
}

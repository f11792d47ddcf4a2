// `trace`'s page: the findings, a latency chart per hop, and a ladder diagram per message (the first 200).

import Capture
import Trace

extension TraceRender {
    public static func html(_ report: TraceReport, title: String) -> String {
        var page = AnalyzeHTML.head(title: title)
        page +=
            "<h1>Messages across hops</h1><p class=\"sub\">\(escapeHTML(title)) — \(report.journeys.count) messages</p>"
        if !report.clockOffsets.isEmpty {
            page += "<h2>Clocks</h2><ul>"
            for offset in report.clockOffsets {
                page +=
                    "<li>\(escapeHTML(report.inputs[offset.input])) is a copy of \(escapeHTML(report.inputs[offset.reference])): "
                page +=
                    "clock \(signed(offset.offset * 1_000)) ms, drift \(formatFixed(offset.driftPPM, decimals: 1)) ppm, "
                page += "\(offset.matches) PDUs in both</li>"
            }
            page += "</ul>"
        }
        page += "<h2>Findings</h2><ul class=\"findings\">"
        for finding in report.findings {
            page +=
                "<li class=\"\(finding.severity.rawValue)\"><span class=\"severity\">\(finding.severity.rawValue)</span> "
            page += "<b>\(finding.code.rawValue)</b> \(escapeHTML(finding.message))</li>"
        }
        if report.findings.isEmpty { page += "<li class=\"empty\">none</li>" }
        page += "</ul><h2>Latency per hop</h2>" + latencyChart(report)
        page += "<h2>Messages</h2>"
        for (index, journey) in report.journeys.prefix(shownMessages).enumerated() {
            guard let first = journey.hops.first else { continue }
            page +=
                "<h3 id=\"message-\(index)\">\(escapeHTML(first.destination)) — \(escapeHTML(String(first.text.prefix(60))))</h3>"
            page += ladder(journey)
        }
        if report.journeys.count > shownMessages {
            page += "<p class=\"sub\">\(report.journeys.count - shownMessages) more messages: see --format json</p>"
        }
        return page + "</body></html>\n"
    }

    /// p50, p90 and p99 of each stage as bars.
    static func latencyChart(_ report: TraceReport) -> String {
        guard !report.stages.isEmpty else { return "<p class=\"empty\">no latency</p>" }
        let rowHeight = 26
        let width = 900
        let left = 300
        let height = report.stages.count * rowHeight + 30
        let maximum = max(1, report.stages.map(\.summary.p99).max() ?? 1)
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"latency per hop\">"
        for (row, (name, summary)) in report.stages.enumerated() {
            let y = 10 + row * rowHeight
            svg += "<text class=\"tick\" x=\"0\" y=\"\(y + 14)\">\(escapeHTML(name))</text>"
            for (value, color) in [(summary.p99, "#f2c4c4"), (summary.p90, "#f0a35e"), (summary.p50, "#2f7fd8")] {
                let bar = Int(Double(width - left - 120) * value / maximum)
                svg +=
                    "<rect x=\"\(left)\" y=\"\(y + 2)\" width=\"\(max(1, bar))\" height=\"16\" fill=\"\(color)\"></rect>"
            }
            svg +=
                "<text class=\"note\" x=\"\(width - 115)\" y=\"\(y + 14)\">p50 \(formatFixed(summary.p50, decimals: 1)) ms</text>"
        }
        return svg + "</svg>"
    }

    /// The message's PDUs between the ESME, each hop's SMSC, in time order.
    static func ladder(_ journey: Journey) -> String {
        var columns: [String] = []
        for hop in journey.hops {
            if columns.isEmpty { columns.append(hop.esme) }
            columns.append(hop.smsc)
        }
        struct Arrow {
            var time: Timestamp
            var from: Int
            var to: Int
            var label: String
            var color: String
        }
        var arrows: [Arrow] = []
        for (index, hop) in journey.hops.enumerated() {
            for part in hop.parts {
                arrows.append(
                    Arrow(
                        time: part.time, from: index, to: index + 1, label: "submit_sm #\(part.sequenceNumber)",
                        color: "#2f7fd8"))
                if let response = part.response {
                    let ok = part.statusValue == 0
                    arrows.append(
                        Arrow(
                            time: response, from: index + 1, to: index,
                            label: "\(part.status ?? "") \(part.messageID ?? "")", color: ok ? "#2e7d32" : "#b3261e"))
                }
                if let receipt = part.receipt {
                    arrows.append(
                        Arrow(
                            time: receipt.time, from: index + 1, to: index, label: "receipt \(receipt.state ?? "")",
                            color: "#7b3fb0"))
                }
            }
        }
        arrows.sort { $0.time < $1.time }
        let left = 150
        let spacing = 280
        let width = left + spacing * max(1, columns.count - 1) + 120
        let height = 40 + arrows.count * 24 + 10
        var svg = "<svg class=\"chart ladder\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"ladder\">"
        for (index, column) in columns.enumerated() {
            let x = left + index * spacing
            svg += "<text class=\"tick\" x=\"\(x)\" y=\"14\" text-anchor=\"middle\">\(escapeHTML(column))</text>"
            svg += "<line x1=\"\(x)\" y1=\"20\" x2=\"\(x)\" y2=\"\(height - 5)\" stroke=\"#9aa5b1\"></line>"
        }
        let start = arrows.first?.time.nanoseconds ?? 0
        for (row, arrow) in arrows.enumerated() {
            let y = 40 + row * 24
            let x1 = left + arrow.from * spacing
            let x2 = left + arrow.to * spacing
            svg +=
                "<text class=\"tick\" x=\"0\" y=\"\(y + 4)\">+\(formatFixed((Double(arrow.time.nanoseconds) - Double(start)) / 1e6, decimals: 1)) ms</text>"
            svg +=
                "<line x1=\"\(x1)\" y1=\"\(y)\" x2=\"\(x2)\" y2=\"\(y)\" stroke=\"\(arrow.color)\" stroke-width=\"1.5\"></line>"
            let head = x2 > x1 ? x2 - 7 : x2 + 7
            svg += "<polygon points=\"\(x2),\(y) \(head),\(y - 4) \(head),\(y + 4)\" fill=\"\(arrow.color)\"></polygon>"
            svg +=
                "<text class=\"note\" x=\"\((x1 + x2) / 2)\" y=\"\(y - 4)\" text-anchor=\"middle\">\(escapeHTML(arrow.label))</text>"
        }
        return svg + "</svg>"
    }
}

// `trace`'s report as text, JSON (docs/trace.md) and an HTML page with a ladder diagram per message and the latency
// of each hop.

import Capture
import Trace

/// Renders a trace report.
public enum TraceRender {
    /// The most messages the text and the page show one by one (JSON has them all).
    public static let shownMessages = 200

    public static func text(_ report: TraceReport) -> String {
        var out =
            "trace of \(report.inputs.count) input\(report.inputs.count == 1 ? "" : "s"): \(report.journeys.count) messages, "
        let multi = report.journeys.filter { $0.hops.count > 1 }.count
        out += "\(multi) followed over more than one hop\n"
        for offset in report.clockOffsets {
            out +=
                "  \(report.inputs[offset.input]) is a copy of \(report.inputs[offset.reference]) (\(offset.matches) PDUs in both): "
            out +=
                "its clock \(signed(offset.offset * 1_000)) ms, drift \(formatFixed(offset.driftPPM, decimals: 1)) ppm\n"
        }
        if !report.stages.isEmpty {
            out += "\nlatency per hop (ms)            n      p50      p90      p99      max\n"
            for (name, s) in report.stages {
                out += pad(name, 30) + lpad(String(s.count), 7) + lpad(formatFixed(s.p50, decimals: 1), 9)
                out += lpad(formatFixed(s.p90, decimals: 1), 9) + lpad(formatFixed(s.p99, decimals: 1), 9)
                out += lpad(formatFixed(s.max, decimals: 1), 9) + "\n"
            }
        }
        if !report.findings.isEmpty {
            out += "\nfindings\n"
            for finding in report.findings {
                out += "  \(finding.severity.rawValue): \(finding.code.rawValue): \(finding.message)\n"
            }
        }
        out += "\nmessages\n"
        for journey in report.journeys.prefix(shownMessages) {
            guard let first = journey.hops.first else { continue }
            out += "  \(first.destination) \"\(first.text.prefix(40))\"\n"
            for (index, hop) in journey.hops.enumerated() {
                let statuses = hop.parts.map { $0.status ?? "no response" }
                out +=
                    "    hop \(index + 1) \(hop.esme) -> \(hop.smsc) (\(hop.systemID ?? "?"), session \(hop.session)): "
                out +=
                    "\(hop.parts.count) part\(hop.parts.count == 1 ? "" : "s") \(Set(statuses).sorted().joined(separator: ","))"
                out += ", id \(hop.parts.compactMap(\.messageID).joined(separator: ","))"
                if let receipt = hop.parts.compactMap(\.receipt).first {
                    out += ", receipt \(receipt.state ?? "?") after \(ms(hop.time, receipt.time)) ms"
                }
                out += "\n"
            }
        }
        if report.journeys.count > shownMessages { out += "  ... \(report.journeys.count - shownMessages) more\n" }
        return out
    }

    public static func json(_ report: TraceReport) -> [UInt8] {
        var json = JSONWriter(capacity: 64 * 1_024)
        json.beginObject()
        json.key("inputs")
        json.beginArray()
        for input in report.inputs { json.string(input) }
        json.endArray()
        json.key("clock_offsets")
        json.beginArray()
        for offset in report.clockOffsets {
            json.beginObject()
            json.key("input"); json.string(report.inputs[offset.input])
            json.key("reference"); json.string(report.inputs[offset.reference])
            json.key("offset_ms"); json.double(offset.offset * 1_000, decimals: 6)
            json.key("drift_ppm"); json.double(offset.driftPPM, decimals: 3)
            json.key("matches"); json.int(offset.matches)
            json.key("residual_ms"); json.double(offset.residual * 1_000, decimals: 6)
            json.endObject()
        }
        json.endArray()
        json.key("messages")
        json.beginArray()
        for journey in report.journeys {
            json.beginObject()
            json.key("destination"); json.string(journey.hops.first?.destination ?? "")
            json.key("text"); json.string(journey.hops.first?.text ?? "")
            json.key("hops")
            json.beginArray()
            for (index, hop) in journey.hops.enumerated() {
                writeHop(
                    hop, next: index + 1 < journey.hops.count ? journey.hops[index + 1] : nil, inputs: report.inputs,
                    into: &json)
            }
            json.endArray()
            json.key("duplicates")
            json.beginArray()
            for (_, copies) in journey.duplicates.sorted(by: { $0.key < $1.key }) {
                for copy in copies { writeHop(copy, next: nil, inputs: report.inputs, into: &json) }
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.key("hops")
        json.beginObject()
        for (name, s) in report.stages {
            json.dynamicKey(name)
            write(s, into: &json)
        }
        json.endObject()
        json.key("accounts")
        json.beginArray()
        for account in report.accounts {
            json.beginObject()
            json.key("system_id"); json.string(account.systemID)
            json.key("messages"); json.int(account.messages)
            json.key("end_to_end")
            if let summary = account.endToEnd { write(summary, into: &json) } else { json.null() }
            json.endObject()
        }
        json.endArray()
        json.key("findings")
        json.beginArray()
        for finding in report.findings {
            json.beginObject()
            json.key("code"); json.string(finding.code.rawValue)
            json.key("severity"); json.string(finding.severity.rawValue)
            json.key("message"); json.string(finding.message)
            json.key("session"); json.null()
            json.key("count"); json.int(finding.count)
            json.key("evidence"); json.beginArray(); json.endArray()
            json.key("messages")
            json.beginArray()
            for index in finding.journeys { json.int(index) }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.bytes
    }

    /// One hop of a journey as `messages[].hops[]` gives it; `inputs` names the inputs.
    public static func writeHop(_ hop: HopMessage, next: HopMessage?, inputs: [String], into json: inout JSONWriter) {
        json.beginObject()
        json.key("input"); json.string(hop.input < inputs.count ? inputs[hop.input] : String(hop.input))
        json.key("session"); json.int(hop.session)
        json.key("system_id")
        if let systemID = hop.systemID { json.string(systemID) } else { json.null() }
        json.key("esme"); json.string(hop.esme)
        json.key("smsc"); json.string(hop.smsc)
        json.key("ts"); json.raw(hop.time.description)
        json.key("accepted"); json.bool(hop.accepted)
        json.key("parts")
        json.beginArray()
        for part in hop.parts {
            json.beginObject()
            json.key("seq")
            if let seq = part.seq { json.int(seq) } else { json.null() }
            json.key("sequence_number"); json.int(part.sequenceNumber)
            json.key("frame"); json.int(part.frame)
            json.key("ts"); json.raw(part.time.description)
            json.key("status")
            if let status = part.status { json.string(status) } else { json.null() }
            json.key("message_id")
            if let id = part.messageID { json.string(id) } else { json.null() }
            json.key("latency_ms")
            if let response = part.response { json.double(ms(part.time, response), decimals: 3) } else { json.null() }
            json.key("receipt")
            if let receipt = part.receipt {
                json.beginObject()
                json.key("ts"); json.raw(receipt.time.description)
                json.key("state")
                if let state = receipt.state { json.string(state) } else { json.null() }
                json.key("session"); json.int(receipt.session)
                json.key("frame"); json.int(receipt.frame)
                json.key("after_ms"); json.double(ms(part.time, receipt.time), decimals: 3)
                json.endObject()
            } else {
                json.null()
            }
            json.endObject()
        }
        json.endArray()
        json.key("forward_ms")
        if let next { json.double(ms(hop.time, next.time), decimals: 3) } else { json.null() }
        json.endObject()
    }

    static func write(_ summary: LatencySummary, into json: inout JSONWriter) {
        json.beginObject()
        json.key("n"); json.int(summary.count)
        json.key("p50_ms"); json.double(summary.p50, decimals: 3)
        json.key("p90_ms"); json.double(summary.p90, decimals: 3)
        json.key("p99_ms"); json.double(summary.p99, decimals: 3)
        json.key("max_ms"); json.double(summary.max, decimals: 3)
        json.endObject()
    }

    static func ms(_ from: Timestamp, _ to: Timestamp) -> Double {
        (Double(to.nanoseconds) - Double(from.nanoseconds)) / 1e6
    }

    static func signed(_ value: Double) -> String { (value >= 0 ? "+" : "") + formatFixed(value, decimals: 3) }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func lpad(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}

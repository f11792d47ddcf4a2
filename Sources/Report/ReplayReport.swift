// The comparison of a replay with its recording, as text for people and JSON for machines.

import ReplayCore

public enum ReplayText {
    public static func render(_ comparison: ReplayComparison) -> String {
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }
        let verdict =
            comparison.differences == 0
            ? "no differences" : comparison.differences == 1 ? "1 difference" : "\(comparison.differences) differences"
        line(
            "Replay of \(comparison.sessions) sessions in \(formatFixed(comparison.seconds, decimals: 1)) s: \(verdict)."
        )
        line(
            "\(comparison.planned) requests planned, \(comparison.sent) sent, \(comparison.answered) answered; "
                + "\(comparison.unchanged) with the recorded status.")
        for skipped in comparison.skipped { line("Skipped \(skipped).") }
        for failed in comparison.failedSessions { line("Session \(failed.session) failed: \(failed.reason).") }
        if comparison.missing > 0 { line("\(comparison.missing) requests got no response (none was recorded either).") }
        if comparison.notSent > 0 { line("\(comparison.notSent) requests were not sent (the session ended first).") }
        if comparison.extraResponses > 0 {
            line("\(comparison.extraResponses) responses answered nothing the replay sent.")
        }
        if !comparison.statusChanges.isEmpty {
            line()
            line("Statuses that changed (recording -> replay):")
            for (change, count) in comparison.statusChanges.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                line(
                    "  \(count) \(change.command): \(change.original) -> \(change.replay): \(ReplayComparison.explanation(change))"
                )
            }
        }
        if !comparison.ignoredChanges.isEmpty {
            line()
            line("Changes set aside by the ignore rules (not counted):")
            for (change, count) in comparison.ignoredChanges.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                line("  \(count) \(change.command): \(change.original) -> \(change.replay)")
            }
        }
        line()
        line(
            "Throttled (ESME_RTHROTTLED): \(comparison.throttledOriginal) in the recording, \(comparison.throttledReplay) in the replay."
        )
        line(
            "Receipts: \(comparison.receiptsOriginal) in the recording, \(comparison.receiptsReplay) in the replay"
                + (comparison.unknownReceipts > 0
                    ? " (\(comparison.unknownReceipts) for ids the replay did not get)" : "") + ".")
        let states = Set(comparison.receiptStatesOriginal.keys).union(comparison.receiptStatesReplay.keys).sorted()
        if !states.isEmpty {
            line(
                "  "
                    + states.map {
                        "\($0) \(comparison.receiptStatesOriginal[$0] ?? 0) -> \(comparison.receiptStatesReplay[$0] ?? 0)"
                    }.joined(separator: ", "))
        }
        if !comparison.latency.isEmpty {
            line()
            line("Response times (ms)        recording p50 / p99          replay p50 / p99")
            for (command, pair) in comparison.latency.sorted(by: { $0.key < $1.key }) {
                let name = command.padding(toLength: 26, withPad: " ", startingAt: 0)
                line(
                    "  \(name)\(ms(pair.original.p50)) / \(ms(pair.original.p99)) (n=\(pair.original.count))".padding(
                        toLength: 58, withPad: " ", startingAt: 0)
                        + "\(ms(pair.replay.p50)) / \(ms(pair.replay.p99)) (n=\(pair.replay.count))")
            }
        }
        if let deviation = comparison.deviation {
            line()
            line(
                "Timing: requests left \(ms(deviation.p50)) ms after their scheduled time at the median, "
                    + "\(ms(deviation.p99)) ms at p99, \(ms(deviation.max)) ms at most.")
        }
        if let rate = comparison.submitsPerSecond {
            line("submit_sm sent at \(Int(rate.rounded())) per second.")
        }
        return out
    }

    static func ms(_ seconds: Double) -> String { formatFixed(seconds * 1_000, decimals: 3) }
}

public enum ReplayJSON {
    public static func render(_ comparison: ReplayComparison) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("sessions"); json.int(comparison.sessions)
        json.key("seconds"); json.double(comparison.seconds)
        json.key("differences"); json.int(comparison.differences)
        json.key("requests")
        json.beginObject()
        json.key("planned"); json.int(comparison.planned)
        json.key("sent"); json.int(comparison.sent)
        json.key("answered"); json.int(comparison.answered)
        json.key("unchanged"); json.int(comparison.unchanged)
        json.key("missing_responses"); json.int(comparison.missing)
        json.key("not_sent"); json.int(comparison.notSent)
        json.key("extra_responses"); json.int(comparison.extraResponses)
        json.endObject()
        json.key("failed_sessions")
        json.beginArray()
        for failed in comparison.failedSessions {
            json.beginObject()
            json.key("session"); json.int(failed.session)
            json.key("reason"); json.string(failed.reason)
            json.endObject()
        }
        json.endArray()
        json.key("skipped")
        json.beginArray()
        for skipped in comparison.skipped { json.string(skipped) }
        json.endArray()
        json.key("status_changes"); changes(comparison.statusChanges, &json)
        json.key("ignored_changes"); changes(comparison.ignoredChanges, &json)
        json.key("throttled")
        json.beginObject()
        json.key("recording"); json.int(comparison.throttledOriginal)
        json.key("replay"); json.int(comparison.throttledReplay)
        json.endObject()
        json.key("receipts")
        json.beginObject()
        json.key("recording"); json.int(comparison.receiptsOriginal)
        json.key("replay"); json.int(comparison.receiptsReplay)
        json.key("unknown_ids"); json.int(comparison.unknownReceipts)
        json.key("states_recording"); counts(comparison.receiptStatesOriginal, &json)
        json.key("states_replay"); counts(comparison.receiptStatesReplay, &json)
        json.endObject()
        json.key("latency_ms")
        json.beginObject()
        for (command, pair) in comparison.latency.sorted(by: { $0.key < $1.key }) {
            json.dynamicKey(command)
            json.beginObject()
            json.key("recording"); percentiles(pair.original, &json)
            json.key("replay"); percentiles(pair.replay, &json)
            json.endObject()
        }
        json.endObject()
        json.key("timing_deviation_ms")
        if let deviation = comparison.deviation { percentiles(deviation, &json) } else { json.null() }
        json.key("submit_sm_per_second")
        if let rate = comparison.submitsPerSecond { json.double(rate, decimals: 1) } else { json.null() }
        json.endObject()
        return json.bytes
    }

    /// Status changes with their counts and what they mean, in a stable order.
    private static func changes(_ values: [ReplayComparison.StatusChange: Int], _ json: inout JSONWriter) {
        json.beginArray()
        for (change, count) in values.sorted(by: { $0.key < $1.key }) {
            json.beginObject()
            json.key("command"); json.string(change.command)
            json.key("recording"); json.string(change.original)
            json.key("replay"); json.string(change.replay)
            json.key("count"); json.int(count)
            json.key("explanation"); json.string(ReplayComparison.explanation(change))
            json.endObject()
        }
        json.endArray()
    }

    private static func counts(_ values: [String: Int], _ json: inout JSONWriter) {
        json.beginObject()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            json.dynamicKey(key)
            json.int(value)
        }
        json.endObject()
    }

    private static func percentiles(_ values: ReplayComparison.Percentiles, _ json: inout JSONWriter) {
        json.beginObject()
        json.key("n"); json.int(values.count)
        json.key("p50"); json.double(values.p50 * 1_000)
        json.key("p90"); json.double(values.p90 * 1_000)
        json.key("p99"); json.double(values.p99 * 1_000)
        json.key("max"); json.double(values.max * 1_000)
        json.endObject()
    }
}

/// `replay --html`: the comparison as one self-contained page, styled like the analysis report.
public enum ReplayHTML {
    public static func render(_ comparison: ReplayComparison, title: String) -> String {
        var page = AnalyzeHTML.head(title: "replay of \(title)")
        let verdict =
            comparison.differences == 0
            ? "no differences" : comparison.differences == 1 ? "1 difference" : "\(comparison.differences) differences"
        page += "<h1>SMPP replay</h1>"
        page +=
            "<p class=\"sub\">\(escapeHTML(title)) — \(comparison.sessions) sessions in \(formatFixed(comparison.seconds, decimals: 1)) s: "
        page += "<span class=\"\(comparison.differences == 0 ? "ok" : "bad")\">\(verdict)</span></p>"
        var cards: [(String, String)] = [
            ("planned", "\(comparison.planned)"), ("sent", "\(comparison.sent)"),
            ("answered", "\(comparison.answered)"),
            ("same status", "\(comparison.unchanged)"), ("differences", "\(comparison.differences)"),
            ("throttled (rec. / replay)", "\(comparison.throttledOriginal) / \(comparison.throttledReplay)"),
            ("receipts (rec. / replay)", "\(comparison.receiptsOriginal) / \(comparison.receiptsReplay)"),
        ]
        if let deviation = comparison.deviation {
            cards.append(("send time p99 late", "\(ReplayText.ms(deviation.p99)) ms"))
        }
        if let rate = comparison.submitsPerSecond { cards.append(("submit_sm/s", "\(Int(rate.rounded()))")) }
        page +=
            "<div class=\"cards\">"
            + cards.map { "<div class=\"card\"><b>\(escapeHTML($0.1))</b>\(escapeHTML($0.0))</div>" }.joined()
            + "</div>"

        var problems: [String] = comparison.skipped.map { "Skipped \($0)." }
        problems += comparison.failedSessions.map { "Session \($0.session) failed: \($0.reason)." }
        if comparison.missing > 0 {
            problems.append("\(comparison.missing) requests got no response (none was recorded either).")
        }
        if comparison.notSent > 0 {
            problems.append("\(comparison.notSent) requests were not sent (the session ended first).")
        }
        if comparison.extraResponses > 0 {
            problems.append("\(comparison.extraResponses) responses answered nothing the replay sent.")
        }
        if !problems.isEmpty {
            page +=
                "<h2>Sessions and requests</h2><ul class=\"findings\">"
                + problems.map { "<li>\(escapeHTML($0))</li>" }.joined() + "</ul>"
        }
        page += "<h2>Statuses that changed</h2>"
        if comparison.statusChanges.isEmpty && comparison.ignoredChanges.isEmpty {
            page += "<p class=\"empty\">Every answered request got the recorded status.</p>"
        } else {
            page +=
                "<table><tr><th>count</th><th>request</th><th>recording</th><th>replay</th><th>what it means</th></tr>"
            for (change, count) in comparison.statusChanges.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                page +=
                    "<tr><td class=n>\(count)</td><td>\(escapeHTML(change.command))</td><td>\(escapeHTML(change.original))</td>"
                page +=
                    "<td class=bad>\(escapeHTML(change.replay))</td><td>\(escapeHTML(ReplayComparison.explanation(change)))</td></tr>"
            }
            for (change, count) in comparison.ignoredChanges.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                page +=
                    "<tr class=empty><td class=n>\(count)</td><td>\(escapeHTML(change.command))</td><td>\(escapeHTML(change.original))</td>"
                page += "<td>\(escapeHTML(change.replay))</td><td>ignored by a rule</td></tr>"
            }
            page += "</table>"
        }
        page += "<h2>Response times</h2>"
        if comparison.latency.isEmpty {
            page += "<p class=\"empty\">No responses.</p>"
        } else {
            page +=
                "<table><tr><th>request</th><th>recording n</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>replay n</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th></tr>"
            for (command, pair) in comparison.latency.sorted(by: { $0.key < $1.key }) {
                page += "<tr><td>\(escapeHTML(command))</td>"
                for side in [pair.original, pair.replay] {
                    page +=
                        "<td class=n>\(side.count)</td><td class=n>\(ReplayText.ms(side.p50))</td><td class=n>\(ReplayText.ms(side.p99))</td><td class=n>\(ReplayText.ms(side.max))</td>"
                }
                page += "</tr>"
            }
            page += "</table>"
        }
        page += "<h2>Timing</h2>"
        if let rate = comparison.submitsPerSecond {
            page += "<p>submit_sm sent at \(Int(rate.rounded())) per second.</p>"
        }
        if comparison.deviation == nil {
            page += "<p class=\"empty\">No schedule to keep: the requests were sent as fast as the window allowed.</p>"
        } else {
            page += SVGChart.histogram(
                title: "how late each request left against its schedule",
                labels: AnalyzeHTML.bucketLabels(ReplayComparison.deviationEdgesMs, unit: "ms"),
                counts: comparison.deviationBuckets, color: "#1f77b4")
        }
        page += "<h2>Receipts</h2>"
        let states = Set(comparison.receiptStatesOriginal.keys).union(comparison.receiptStatesReplay.keys).sorted()
        if states.isEmpty {
            page += "<p class=\"empty\">No receipts linked to a request.</p>"
        } else {
            page += "<table><tr><th>final state</th><th>recording</th><th>replay</th></tr>"
            for state in states {
                page +=
                    "<tr><td>\(escapeHTML(state))</td><td class=n>\(comparison.receiptStatesOriginal[state] ?? 0)</td><td class=n>\(comparison.receiptStatesReplay[state] ?? 0)</td></tr>"
            }
            page += "</table>"
        }
        if comparison.unknownReceipts > 0 {
            page += "<p>\(comparison.unknownReceipts) receipts named message ids the replay did not get.</p>"
        }
        page += "<p class=\"sub\">Made by smppscope replay.</p></body></html>\n"
        return page
    }
}

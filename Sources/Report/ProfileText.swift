// A provider profile and a conformance report as text for a terminal.

import Profile

/// Renders `smppscope profile` output.
public enum ProfileText {
    public static func render(_ profile: ProviderProfile) -> String {
        var out = "Provider profile of \(profile.source)\n"
        for smsc in profile.smscs {
            out += "\nSMSC \(smsc.server)"
            if !smsc.smscSystemIDs.isEmpty { out += " (\(smsc.smscSystemIDs.joined(separator: ", ")))" }
            out += ": \(smsc.sessions) sessions"
            if !smsc.systemIDs.isEmpty { out += ", logins \(smsc.systemIDs.joined(separator: ", "))" }
            if !smsc.interfaceVersions.isEmpty { out += ", SMPP \(smsc.interfaceVersions.joined(separator: "/"))" }
            out += "\n"
            let ids = smsc.messageIDs
            if ids.seen > 0 {
                out += "  message ids       \(ids.format), case \(ids.letterCase), length \(ids.minLength)"
                if ids.maxLength != ids.minLength { out += "-\(ids.maxLength)" }
                if ids.zeroPadded { out += ", zero-padded" }
                out += ", \(percent(ids.sequentialShare)) sequential, e.g. \(ids.examples.joined(separator: " "))\n"
            }
            if smsc.longMessages.seen > 0 {
                out +=
                    "  long messages     \(smsc.longMessages.seen), ids \(smsc.longMessages.ids.replacing("_", with: " "))\n"
            }
            for command in smsc.responses.keys.sorted() {
                guard let responses = smsc.responses[command] else { continue }
                out += "  \(command.padding(18))\(responses.count) answered, \(latency(responses.latency)); "
                out += statuses(responses.statuses) + "\n"
            }
            let receipts = smsc.receipts
            if receipts.seen > 0 {
                out += "  receipts          \(receipts.seen) (\(receipts.linked) linked), id in \(receipts.idIn), "
                out += "written \(receipts.idForm), "
                out += receipts.per == "unknown" ? "per part or message not known" : "one per \(receipts.per)"
                out += "; delay \(latency(receipts.delay))\n"
                out += "                    states \(statuses(receipts.states))\n"
                if let template = receipts.template {
                    out += "                    text \(template) (\(percent(receipts.templateShare)))\n"
                }
            }
            let throttling = smsc.throttling
            if throttling.throttled > 0 {
                out +=
                    "  throttling        \(throttling.throttled) ESME_RTHROTTLED in \(throttling.episodes) episodes, "
                out += "counting \(throttling.counts)\n"
                for account in throttling.accounts {
                    out += "                    \(account.systemID): "
                    out +=
                        account.limitPerSecond.map { "limit \($0)/s, " }
                        ?? (account.throttled > 0 ? "\(account.throttled) throttled, not by a rate per second, " : "")
                    out += "peak \(account.peakAcceptedPerSecond) accepted/s\n"
                }
            } else if let peak = throttling.accounts.map(\.peakAcceptedPerSecond).max() {
                out += "  throttling        none, up to \(peak) accepted/s per login\n"
            }
            let window = smsc.window
            out += "  window            "
            out += window.queueFullAt.map { "ESME_RMSGQFUL from \($0) outstanding" } ?? "no ESME_RMSGQFUL"
            out += ", up to \(window.largestAccepted) accepted\n"
            let binds = smsc.binds
            out += "  binds             \(binds.accepted) accepted"
            if !binds.refused.isEmpty { out += ", refused \(statuses(binds.refused))" }
            out += ", up to \(binds.mostConcurrentPerLogin) per login"
            if binds.replacements > 0 { out += ", \(binds.replacements) replaced an older connection" }
            out += "\n"
            let enquire = smsc.enquireLink
            out += "  enquire_link      \(enquire.fromESME) from the ESME, \(enquire.fromSMSC) from the SMSC"
            if let interval = enquire.smscIntervalSeconds { out += " every \(interval) s" }
            out += enquire.answered ? "\n" : ", not all answered\n"
            if let silence = smsc.idle.endedAfterSilenceSeconds {
                out += "  idle              \(smsc.idle.action ?? "close") after \(silence) s silent\n"
            }
            if smsc.duplicates.refused > 0 {
                out += "  duplicates        \(smsc.duplicates.refused) identical submits refused "
                out += "(\(smsc.duplicates.status ?? "")) within \(smsc.duplicates.refusedWithinSeconds ?? 0) s\n"
            }
            let quirks = smsc.quirks
            if !quirks.genericNacks.isEmpty { out += "  generic_nack      \(statuses(quirks.genericNacks))\n" }
            if !quirks.vendorTLVs.isEmpty { out += "  vendor TLVs       \(statuses(quirks.vendorTLVs))\n" }
            if !quirks.nonStandardStatuses.isEmpty {
                out += "  other statuses    \(statuses(quirks.nonStandardStatuses))\n"
            }
            if !quirks.departures.isEmpty {
                out += "  departures        \(statuses(quirks.departures)) (smppscope profile --conformance)\n"
            }
        }
        return out
    }

    public static func render(_ report: ConformanceReport) -> String {
        guard !report.departures.isEmpty else {
            return "No departure from SMPP 3.4 / 5.0 seen in \(report.source).\n"
        }
        var out = "Departures from SMPP 3.4 / 5.0 in \(report.source)\n"
        for departure in report.departures {
            out +=
                "\n\(departure.code): \(departure.count) by the \(departure.side.uppercased()) of \(departure.server)\n"
            out += "  \(departure.description)\n  clause: \(departure.clause)\n"
            for evidence in departure.evidence {
                out += "  session \(evidence.session) frame \(evidence.frame) \(evidence.command) "
                out += "seq \(evidence.sequence): \(evidence.detail)\n"
            }
        }
        return out
    }

    static func latency(_ histogram: DelayHistogram) -> String {
        guard let p50 = histogram.p50, let p90 = histogram.p90, let p99 = histogram.p99 else { return "no times" }
        return "p50 \(milliseconds(p50)) p90 \(milliseconds(p90)) p99 \(milliseconds(p99))"
    }

    static func milliseconds(_ value: Double) -> String {
        value >= 1000 ? "\((value / 10).rounded() / 100) s" : "\((value * 10).rounded() / 10) ms"
    }

    static func percent(_ share: Double) -> String { "\((share * 1000).rounded() / 10)%" }

    static func statuses(_ counts: [String: Int]) -> String {
        counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

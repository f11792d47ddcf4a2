// A provider profile (`smppscope profile`) turned into the simulator's settings, so that the simulator behaves
// like the SMSC the traffic came from.

import Profile

extension SimulatorConfiguration {
    /// Takes on what the profile learned of one SMSC; what it did not learn keeps its current value. Returns what
    /// was set, one line each, for the simulator to say at start.
    @discardableResult
    public mutating func apply(_ smsc: ProviderProfile.SMSC) -> [String] {
        var applied: [String] = []
        // Ids.
        let ids = smsc.messageIDs
        if ids.format == "decimal" || ids.format == "hex" {
            let format = MessageIDFormat(
                radix: ids.format == "hex" ? 16 : 10, uppercase: ids.letterCase != "lower",
                width: ids.zeroPadded ? ids.maxLength : 0)
            messageIDFormat = format
            if let first = ids.examples.first, let value = UInt64(first, radix: format.radix) {
                firstMessageID = value
            }
            applied.append("message ids: \(ids.format), \(ids.letterCase) case, width \(format.width)")
        }
        if let name = smsc.smscSystemIDs.first {
            smscSystemID = name
        }
        // Response times: those of accepted submit_sm for every answer.
        if let submit = smsc.responses["submit_sm"], submit.acceptedLatency.count > 0 {
            let times = submit.acceptedLatency
            latencyDistribution = times.percentilePoints
            applied.append("response time: accepted submit_sm's, p50 \(times.p50 ?? 0) ms, p90 \(times.p90 ?? 0) ms")
        }
        // Error answers with or without a body, as the SMSC sent most.
        if let submit = smsc.responses["submit_sm"], submit.errorsWithBody + submit.errorsWithoutBody > 0 {
            errorResponsesWithBody = submit.errorsWithBody >= submit.errorsWithoutBody
            applied.append("error answers \(errorResponsesWithBody ? "with" : "without") a body")
        }
        // Receipts.
        let receipts = smsc.receipts
        if receipts.seen > 0 {
            switch receipts.idIn {
            case "tlv": receiptCarries = .tlv
            case "text": receiptCarries = .text
            default: receiptCarries = .both
            }
            switch receipts.idForm {
            case "hex_to_decimal": receiptIDForm = .decimalForHex
            case "decimal_to_hex": receiptIDForm = .hexForDecimal
            case "zero_padding": receiptIDForm = .zeroPadded
            case "letter_case": receiptIDForm = .otherCase
            default: receiptIDForm = .asResponse
            }
            if receipts.per == "part" || smsc.longMessages.ids == "per_part" { receiptPerPart = true }
            if let template = receipts.template, receiptCarries != .tlv { receiptTemplate = template }
            var shares = ReceiptShares()
            shares.delivered = Double(receipts.states["DELIVRD"] ?? 0)
            shares.undeliverable = Double(receipts.states["UNDELIV"] ?? 0)
            shares.expired = Double(receipts.states["EXPIRED"] ?? 0)
            shares.rejected = Double(receipts.states["REJECTD"] ?? 0)
            if shares.delivered + shares.undeliverable + shares.expired + shares.rejected > 0 { receiptShares = shares }
            if receipts.delay.count > 0 { receiptDelayDistribution = receipts.delay.percentilePoints }
            applied.append(
                "receipts: id in \(receipts.idIn), written \(receipts.idForm), one per \(receiptPerPart ? "part" : "message"), "
                    + "states \(receipts.states.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))"
            )
        }
        // Throttling: each login's limit, the commonest for logins the profile did not see.
        let limits = smsc.throttling.accounts.compactMap { account in
            account.limitPerSecond.map { (account.systemID, $0) }
        }
        if !limits.isEmpty {
            let byLogin = Dictionary(limits, uniquingKeysWith: { first, _ in first })
            for index in accounts.indices where accounts[index].throughput == nil {
                if let limit = byLogin[accounts[index].systemID] { accounts[index].throughput = Double(limit) }
            }
            throughput = Double(limits.map(\.1).max() ?? Int(throughput))
            if smsc.throttling.counts == "messages" { throttleCounts = .messages }
            if smsc.throttling.counts == "parts" { throttleCounts = .parts }
            applied.append(
                "throttling: " + limits.map { "\($0.0) \($0.1)/s" }.joined(separator: ", ")
                    + ", counting \(throttleCounts.rawValue)")
        }
        if let queueFullAt = smsc.window.queueFullAt {
            window = queueFullAt
            applied.append("window: \(queueFullAt)")
        }
        if let silence = smsc.idle.endedAfterSilenceSeconds {
            idleTimeout = silence
            idleAction = smsc.idle.action == "unbind" ? .unbind : .close
            applied.append("idle: \(idleAction.rawValue) after \(silence) s")
        }
        if smsc.duplicates.refused > 0, let within = smsc.duplicates.refusedWithinSeconds {
            duplicateWindow = max(within, 1).rounded(.up)
            applied.append("identical submits refused within \(duplicateWindow) s")
        } else if let again = smsc.duplicates.acceptedAgainAfterSeconds {
            duplicateWindow = min(duplicateWindow, again * 0.9)
        }
        return applied
    }
}

// The report's findings in plain words: what a person reading it should know first.

enum Findings {
    static func make(_ report: AnalysisReport, configuration: AnalysisConfiguration) -> [Finding] {
        var findings: [Finding] = []
        let limit = configuration.throughputLimit

        for session in report.sessions {
            let name = sessionName(session)
            let id = session.id
            for bind in session.binds where bind.status != nil && bind.status != 0 {
                findings.append(
                    Finding(
                        .bindRefused, .error,
                        "\(name): \(bind.command) as \"\(bind.systemID)\" was refused: "
                            + "\(bind.statusName ?? "") (\(bind.statusMeaning ?? "")).",
                        session: id,
                        evidence: [
                            .init(
                                session: id, sequenceNumber: bind.sequenceNumber, command: bind.command, time: bind.time
                            )
                        ],
                        fields: [
                            .init("system_id", .string(bind.systemID)),
                            .init("status", .string(bind.statusName ?? "")),
                        ]))
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
                        " and resent \(resubmitted) throttled messages after waiting "
                        + "\(formatNumber(waits.reduce(0, +) / Double(waits.count))) s on average"
                }
                var fields: [Finding.Field] = [
                    .init("episodes", .int(episodes.count)),
                    .init("peak_per_second", .int(session.peakSubmitPerSecond)),
                    .init("resubmitted", .int(resubmitted)),
                ]
                if let limit { fields.append(.init("limit", .double(limit))) }
                findings.append(
                    Finding(
                        .throttled, .warning, text + ".", session: id, count: session.throttled,
                        evidence: episodes.map {
                            .init(
                                session: id, sequenceNumber: $0.firstSequenceNumber, command: "submit_sm_resp",
                                time: $0.start)
                        }, fields: fields))
            } else if let limit, Double(session.peakSubmitPerSecond) > limit {
                findings.append(
                    Finding(
                        .overThroughputLimit, .warning,
                        "\(name) peaked at \(session.peakSubmitPerSecond) submit_sm/s, above the limit of "
                            + "\(formatNumber(limit)), without being throttled.",
                        session: id,
                        fields: [
                            .init("peak_per_second", .int(session.peakSubmitPerSecond)), .init("limit", .double(limit)),
                        ]))
            }
            if let verdict = session.verdict, let reason = session.verdictReason, session.submits >= 10 {
                findings.append(
                    Finding(
                        .sessionVerdict, .info, "\(name) is \(verdict): \(reason).", session: id,
                        fields: [.init("verdict", .string(verdict))]))
            }
            if let window = session.clientWindow, window.windowConfigured {
                findings.append(
                    Finding(
                        .windowUsage, .info,
                        "\(name) kept at most \(window.max) requests outstanding against a configured window of "
                            + "\(window.window) (mean \(formatNumber(window.mean)), at the window "
                            + "\(Int((window.shareAtWindow * 100).rounded()))% of the busy time).",
                        session: id,
                        fields: [
                            .init("max", .int(window.max)), .init("window", .int(window.window)),
                            .init("share_at_window", .double(window.shareAtWindow)),
                        ]))
            }
            if !session.silencesOverLimit.isEmpty {
                for silence in session.silencesOverLimit {
                    findings.append(
                        Finding(
                            .idleOverLimit, .warning,
                            "\(name) was silent for \(formatNumber(silence.seconds)) s, over the idle limit of "
                                + "\(formatNumber(report.idleLimit)) s; SMSC.kz drops such connections.",
                            session: id,
                            fields: [
                                .init("seconds", .double(silence.seconds)), .init("start", .double(silence.start)),
                                .init("limit", .double(report.idleLimit)),
                            ]))
                }
            }
            if let replaced = session.replacedBySession {
                findings.append(
                    Finding(
                        .sessionReplaced, .warning,
                        "\(name) was closed shortly after session \(replaced) bound with the same system_id: SMSC.kz "
                            + "allows one connection per login unless system_type has MCONn.",
                        session: id, fields: [.init("replaced_by", .int(replaced))]))
            }
            if session.close == "rst", session.unanswered > 0 {
                findings.append(
                    Finding(
                        .resetWithUnanswered, .warning,
                        "\(name) was reset (RST) with \(session.unanswered) requests unanswered.", session: id,
                        count: session.unanswered,
                        evidence: unansweredEvidence(report.unanswered.filter { $0.session == id })))
            }
            if let expected = configuration.enquireLinkInterval, let interval = session.enquireLinkIntervalClient,
                interval > expected * 1.5
            {
                findings.append(
                    Finding(
                        .enquireLinkInterval, .warning,
                        "\(name) sent enquire_link every \(formatNumber(interval)) s, not every "
                            + "\(formatNumber(expected)) s as configured.",
                        session: id,
                        fields: [.init("interval", .double(interval)), .init("expected", .double(expected))]))
            }
        }
        if report.unansweredRequests > 0 {
            var byCommand: [String: Int] = [:]
            for request in report.unanswered { byCommand[request.command, default: 0] += 1 }
            let detail = byCommand.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.value) \($0.key)" }
                .joined(separator: ", ")
            findings.append(
                Finding(
                    .unansweredRequests, .warning,
                    "\(report.unansweredRequests) requests got no response in the capture (\(detail)).",
                    count: report.unansweredRequests, evidence: unansweredEvidence(report.unanswered)))
        }
        if !report.orphanResponses.isEmpty {
            findings.append(
                Finding(
                    .orphanResponses, .info,
                    "\(report.orphanResponses.count) responses answer no request of the capture (it may have started "
                        + "mid-session).",
                    count: report.orphanResponses.count,
                    evidence: report.orphanResponses.map {
                        .init(
                            session: $0.session, sequenceNumber: $0.sequenceNumber, command: $0.command, time: $0.time)
                    }))
        }
        findings += encodingFindings(report.encodings)
        findings += capacityFindings(report.capacity, resends: report.submitResends)
        findings += resendFindings(report.submitResends, receipts: false, configuration: configuration)
        findings += resendFindings(report.receiptResends, receipts: true, configuration: configuration)
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
            findings.append(
                Finding(
                    .receipts, .info, text + ".", count: receipts.count,
                    fields: [.init("linked", .int(receipts.linked)), .init("unknown_ids", .int(receipts.unknownIDs))]))
        }
        findings += longMessageFindings(report.longMessages)
        let rolled = report.receipts.longMessageReceipts
        if rolled.someDelivered > 0 {
            let example = rolled.partlyDelivered.first.map {
                "; e.g. \($0.delivered) of \($0.receipts) receipts DELIVRD for a message of \($0.parts) parts"
            }
            findings.append(
                Finding(
                    .longMessagePartlyDelivered, .warning,
                    "\(rolled.someDelivered) long messages were delivered in part\(example ?? ""): the phone shows "
                        + "them cut.",
                    count: rolled.someDelivered, evidence: rolled.partlyDelivered.map(\.first),
                    fields: [
                        .init("all_delivered", .int(rolled.allDelivered)),
                        .init("none_delivered", .int(rolled.noneDelivered)),
                    ]))
        }
        findings += receiptIDFindings(receipts)
        findings += receiptQualityFindings(receipts, configuration: configuration)
        if receipts.withoutReceipt > 0 {
            findings.append(
                Finding(
                    .receiptsMissing, .warning,
                    "\(receipts.withoutReceipt) accepted messages got no final receipt in the capture.",
                    count: receipts.withoutReceipt))
        }
        if report.gaps > 0 {
            findings.append(
                Finding(
                    .captureGaps, .warning,
                    "The capture misses \(report.gapBytes) bytes in \(report.gaps) places; PDUs in them are not counted.",
                    count: report.gaps, fields: [.init("bytes", .int(report.gapBytes))]))
        }
        if report.malformedPDUs > 0 {
            findings.append(
                Finding(
                    .malformedPDUs, .error, "\(report.malformedPDUs) PDUs are malformed (see decode for where).",
                    count: report.malformedPDUs))
        }
        let otherChannels = report.channels.filter { $0.key != "sms" && $0.value > 0 }
        if !otherChannels.isEmpty {
            let list = otherChannels.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.value) \($0.key)" }
                .joined(separator: ", ")
            findings.append(
                Finding(
                    .specialTexts, .info, "Special SMSC.kz texts: \(list).",
                    count: otherChannels.values.reduce(0, +)))
        }
        // Most important first; in the order found within a severity.
        return findings.enumerated().sorted { ($0.element.severity, $1.offset) > ($1.element.severity, $0.offset) }
            .map(\.element)
    }

    /// For each way receipts wrote their response's id other than as it was (and for those that matched none),
    /// a finding with the setting each client needs.
    static func receiptIDFindings(_ receipts: ReceiptReport) -> [Finding] {
        var findings: [Finding] = []
        let unmatched = receipts.idTransforms[.unmatched] ?? 0
        for transform in [ReceiptIDTransform.hexToDecimal, .decimalToHex, .zeroPadding, .letterCase] {
            guard let count = receipts.idTransforms[transform], count > 0 else { continue }
            let example = receipts.idTransformExample[transform].map { " (receipt id \($0))" } ?? ""
            let what: String
            let advice: String
            switch transform {
            case .hexToDecimal:
                what = "give the id of their submit_sm_resp in decimal where the response gave it in hexadecimal"
                advice =
                    "Kannel needs msg-id-type = 0x01, Jasmin dlr_msgid = 1, and an smpplib application must read the "
                    + "receipt's id as decimal and the response's as hexadecimal"
            case .decimalToHex:
                what = "give the id of their submit_sm_resp in hexadecimal where the response gave it in decimal"
                advice =
                    "Kannel needs msg-id-type = 0x02, Jasmin dlr_msgid = 2, and an smpplib application must read the "
                    + "receipt's id as hexadecimal and the response's as decimal"
            case .zeroPadding:
                what = "write the id of their submit_sm_resp with leading zeros added or taken away"
                advice =
                    "Kannel links them when msg-id-type reads both as numbers (0x00 for decimal ids, 0x03 for "
                    + "hexadecimal); Jasmin compares the text, so strip the zeros on one side in an interceptor; an "
                    + "smpplib application should compare the ids as numbers"
            default:
                what = "write the id of their submit_sm_resp in other letter case"
                advice =
                    "Kannel links them with msg-id-type = 0x03 (both read as hexadecimal numbers); Jasmin and smpplib "
                    + "applications should compare the ids without regard to case"
            }
            findings.append(
                Finding(
                    .receiptIDMismatch, .warning,
                    "\(count) receipts \(what)\(example). smppscope linked them; a client that compares ids as text "
                        + "does not: \(advice).",
                    count: count, evidence: receipts.idTransformEvidence[transform] ?? [],
                    fields: [
                        .init("transform", .string(transform.rawValue)), .init("matched", .int(count)),
                        .init("unmatched", .int(unmatched)),
                    ]))
        }
        if unmatched > 0 {
            // Receipts that link to nothing while accepted messages wait for theirs: the ids are written in a way
            // none of the forms above explains. Without waiting messages, the capture most likely began after the
            // submits.
            let waiting = receipts.withoutReceipt > 0
            let example = receipts.idTransformExample[.unmatched].map { " (receipt id \($0))" } ?? ""
            findings.append(
                Finding(
                    .receiptIDMismatch, waiting ? .warning : .info,
                    "\(unmatched) receipts carry ids that no submit_sm_resp of the capture gave in any form tried (as "
                        + "written, leading zeros, letter case, hexadecimal and decimal)\(example)"
                        + (waiting
                            ? " while \(receipts.withoutReceipt) accepted messages wait for theirs: compare the ids in "
                                + "the responses and the receipts (the text's id: and receipted_message_id)."
                            : "; the capture may have begun after their submits."),
                    count: unmatched, evidence: receipts.idTransformEvidence[.unmatched] ?? [],
                    fields: [
                        .init("transform", .string(ReceiptIDTransform.unmatched.rawValue)), .init("matched", .int(0)),
                        .init("unmatched", .int(unmatched)),
                    ]))
        }
        return findings
    }

    /// Per peer and direction: texts in an alphabet the SMSC does not read data_coding 0 as, UCS-2 under data_coding
    /// 0, headers without UDHI, escapes cut between parts, UCS-2 that GSM 03.38 would have carried.
    static func encodingFindings(_ encodings: [EncodingReport]) -> [Finding] {
        var findings: [Finding] = []
        for group in encodings {
            let who =
                group.direction == "submit"
                ? (group.peer.isEmpty ? "messages before any bind" : "account \"\(group.peer)\"")
                : "the SMSC (to \(group.peer.isEmpty ? "a session with no bind" : "account \"\(group.peer)\""))"
            let fields: [Finding.Field] = [
                .init("peer", .string(group.peer)), .init("direction", .string(group.direction)),
            ]
            if let inferred = group.differing, let only = group.cleanOnly[inferred] {
                findings.append(
                    Finding(
                        .defaultAlphabet, .warning,
                        "\(who) writes data_coding 0 as \(inferred.charsetName)"
                            + (inferred == .gsm7Packed ? " packed" : "") + ", while the SMSC reads it as "
                            + "\(group.declared.charsetName): \(only) of \(group.scored) messages read cleanly only that "
                            + "way, and the phone shows them garbled. "
                            + (inferred == .latin1 || inferred == .ascii
                                ? "Send them with data_coding 3 (ISO-8859-1) or 1 (ASCII), or set system_type ISO "
                                    + "(SMSC.kz)."
                                : "Have the client write GSM 03.38 the SMSC's way."),
                        count: only,
                        fields: fields + [
                            .init("inferred", .string(inferred.rawValue)),
                            .init("declared", .string(group.declared.rawValue)),
                        ]))
            }
            let troubles: [(Finding.Code, Finding.Severity, Int, String, [Finding.Field])] = [
                (
                    .ucs2UnderDefault, .warning, group.ucs2UnderDefault,
                    "\(who): \(group.ucs2UnderDefault) messages with data_coding 0 carry UCS-2 (every other octet 0x00 "
                        + "or 0x04): the phone shows them garbled. Send UCS-2 with data_coding 8.", []
                ),
                (
                    .udhWithoutUDHI, .warning, group.headerWithoutUDHI,
                    "\(who): \(group.headerWithoutUDHI) messages start with a concatenation user data header but "
                        + "esm_class lacks UDHI (0x40): the phone shows the header as characters and does not join "
                        + "the parts. Set esm_class 0x40.", []
                ),
                (
                    .gsmEscapeSplit, .warning, group.escapeSplit,
                    "\(who): \(group.escapeSplit) parts of long messages end with the GSM 03.38 escape (0x1B), the "
                        + "character it starts (€ [ ] { } | ^ ~ \\) cut into the next part: the phone shows other "
                        + "characters. Split before the escape.", []
                ),
                (
                    .costlierEncoding, .info, group.costlier,
                    "\(who): \(group.costlier) messages sent as UCS-2 hold only GSM 03.38 characters; "
                        + (group.segmentsSaved > 0
                            ? "as data_coding 0 they would have taken about \(group.segmentsSaved) fewer segments."
                            : "these fit one segment either way, but longer ones would take fewer as data_coding 0."),
                    [.init("segments_saved", .int(group.segmentsSaved))]
                ),
            ]
            for (code, severity, count, message, extra) in troubles where count > 0 {
                findings.append(
                    Finding(
                        code, severity, message, count: count, evidence: group.evidence[code] ?? [],
                        fields: fields + extra))
            }
        }
        return findings
    }

    /// Per account: a rate above the SMSC's, more outstanding than its window, and (once) a response timeout
    /// shorter than the SMSC's response times; each with the settings of Kannel, Jasmin and python smpplib.
    static func capacityFindings(_ capacity: [CapacityReport], resends: ResendCauses) -> [Finding] {
        var findings: [Finding] = []
        for account in capacity {
            let name = account.account.isEmpty ? "messages before any bind" : "account \"\(account.account)\""
            let field = Finding.Field("account", .string(account.account))
            if account.throttled > 0, let rate = account.throttleRate {
                let unit = account.counts == "messages" ? "messages" : "submit_sm"
                let confidence = Int(((account.throttleConfidence ?? 0) * 100).rounded())
                findings.append(
                    Finding(
                        .rateAboveLimit, .warning,
                        "\(name) sent up to \(account.peakOfferedPerSecond) submit_sm a second; the SMSC accepts about "
                            + "\(rate) \(unit) a second (it answered ESME_RTHROTTLED with that many accepted in the "
                            + "second before in \(confidence)% of \(account.throttleSamples) cases)"
                            + (account.counts.map { ", counting \($0)" } ?? "")
                            + ". Send at most \(rate) a second: Kannel throughput = \(rate), Jasmin submit_throughput = "
                            + "\(rate), with smpplib pace send_message calls.",
                        count: account.throttled,
                        fields: [
                            field, .init("limit_per_second", .int(rate)),
                            .init("confidence", .double(account.throttleConfidence ?? 0)),
                            .init("counts", .string(account.counts ?? "unknown")),
                            .init("peak_per_second", .int(account.peakOfferedPerSecond)),
                        ]))
            }
            if account.queueFull > 0, let window = account.windowLimit {
                findings.append(
                    Finding(
                        .windowAboveLimit, .warning,
                        "\(name) had more requests outstanding than the SMSC takes: it answered ESME_RMSGQFUL with as "
                            + "few as \(window) others waiting (\(account.queueFull) times). Keep at most \(window) "
                            + "unanswered: Kannel max-pending-submits = \(window); with smpplib or Jasmin, wait for "
                            + "responses before sending more.",
                        count: account.queueFull,
                        fields: [field, .init("window", .int(window))]))
            }
        }
        if let timeout = resends.lateWaitMinimum, resends.counts[.lateResponse, default: 0] > 0 {
            let slowest = capacity.compactMap { $0.latency?.maxMs }.max() ?? 0
            let recommended = capacity.compactMap(\.recommendedTimeoutSeconds).max() ?? 0
            if slowest / 1_000 > timeout {
                findings.append(
                    Finding(
                        .timeoutBelowLatency, .warning,
                        "The client gives up on a response after about \(formatNumber(timeout)) s, while the SMSC "
                            + "answered submit_sm as late as \(formatSeconds(slowest)): messages are sent twice. Wait at "
                            + "least \(recommended) s: Kannel wait-ack = \(recommended), Jasmin res_to = "
                            + "\(recommended), smpplib Client(timeout=\(recommended)).",
                        count: resends.counts[.lateResponse, default: 0],
                        evidence: resends.evidence[.lateResponse] ?? [],
                        fields: [
                            .init("client_timeout_s", .double(timeout)), .init("latency_max_ms", .double(slowest)),
                            .init("recommended_timeout_s", .int(recommended)),
                        ]))
            }
        }
        return findings
    }

    /// A finding per cause of repeated submits (`duplicate_submit`) or receipts (`duplicate_receipt`).
    static func resendFindings(_ causes: ResendCauses, receipts: Bool, configuration: AnalysisConfiguration)
        -> [Finding]
    {
        var findings: [Finding] = []
        let window = formatNumber(configuration.duplicateWindow)
        for cause in ResendCause.allCases {
            guard let count = causes.counts[cause], count > 0 else { continue }
            var fields: [Finding.Field] = [.init("cause", .string(cause.rawValue))]
            var severity = Finding.Severity.warning
            let message: String
            if !receipts {
                let what = "\(count) submit_sm sent again within \(window) s"
                switch cause {
                case .lateResponse:
                    let low = causes.lateWaitMinimum ?? 0
                    let high = causes.lateWaitMaximum ?? low
                    fields.append(.init("client_timeout_s", .double(low)))
                    message =
                        "\(what) while the SMSC's answer to the earlier copy was still coming: the client gave up after "
                        + (high - low < 0.5
                            ? "about \(formatNumber(low)) s" : "\(formatNumber(low))–\(formatNumber(high)) s")
                        + ", sooner than the SMSC answers, and the SMSC accepted the earlier copy: unless it refuses "
                        + "the repeat, the phone gets the message twice. Raise the response timeout (Kannel wait-ack, smpplib's read timeout) above the "
                        + "SMSC's response times."
                case .noResponse:
                    message =
                        "\(what) after the earlier copy got no answer in the capture: the SMSC may have taken it, and "
                        + "the phone may get the message twice."
                case .throttledResend:
                    severity = .info
                    message =
                        "\(what) after the earlier copy was refused with ESME_RTHROTTLED or ESME_RMSGQFUL, as "
                        + "the SMSC asked."
                case .reconnectResend:
                    message =
                        "\(what) on a new bind after the earlier copy's connection closed: a client that sends again "
                        + "what was in flight when the connection dropped sends messages the SMSC may already have "
                        + "taken (Kannel requeues them; wait-ack-expire 0x01 reconnects)."
                case .clientRepeat, .smscRepeat:
                    message =
                        "\(what) repeat one the SMSC had already accepted and answered, with nothing in the traffic "
                        + "to explain it: the application sent the message twice (SMSC.kz refuses repeats within 60 s "
                        + "with ESME_RSUBMITFAIL)."
                }
            } else {
                let what = "\(count) receipts (same id and state) sent again within \(window) s"
                switch cause {
                case .lateResponse:
                    message =
                        "\(what) while the client's deliver_sm_resp to the earlier copy was still to come: the "
                        + "client answers receipts slower than the SMSC waits."
                case .noResponse:
                    message = "\(what) after the client never answered the earlier copy (deliver_sm_resp)."
                case .reconnectResend:
                    message = "\(what) on a new bind after the earlier copy's connection closed."
                case .smscRepeat, .clientRepeat:
                    message =
                        "\(what) although the client answered the earlier copy in time: the SMSC repeats "
                        + "receipts; count them once per id and state."
                case .throttledResend:
                    severity = .info
                    message = "\(what) after the client refused the earlier copy."
                }
            }
            findings.append(
                Finding(
                    receipts ? .duplicateReceipt : .duplicateSubmit, severity, message, count: count,
                    evidence: causes.evidence[cause] ?? [],
                    fields: fields + [.init("window_seconds", .double(configuration.duplicateWindow))]))
        }
        return findings
    }

    /// Per account: receipts that do not come for enough messages, come faster than a phone answers, all look
    /// alike, stop at an intermediate state or say they were done before the submit. Per destination prefix:
    /// coverage and sameness a route can have apart from its account's, when no account shows them.
    static func receiptQualityFindings(_ receipts: ReceiptReport, configuration: AnalysisConfiguration) -> [Finding] {
        var findings: [Finding] = []
        for account in receipts.accounts {
            let name = account.account.isEmpty ? "messages before any bind" : "account \"\(account.account)\""
            findings += qualityFindings(
                account, name: name, field: .init("account", .string(account.account)), minimum: 10,
                configuration: configuration)
        }
        let perRoute: Set<Finding.Code> = [.receiptCoverageLow, .receiptUniform]
        let shownPerAccount = Set(findings.map(\.code))
        for prefix in receipts.prefixes {
            findings += qualityFindings(
                prefix, name: "messages to \(prefix.account)…", field: .init("prefix", .string(prefix.account)),
                minimum: 20, configuration: configuration
            ).filter { perRoute.contains($0.code) && !shownPerAccount.contains($0.code) }
        }
        return findings
    }

    /// The receipt quality findings of one group of messages (an account or a destination prefix), `name` in
    /// words and `field` in the JSON; coverage is judged on `minimum` messages or more.
    static func qualityFindings(
        _ group: ReceiptQuality, name: String, field: Finding.Field, minimum: Int, configuration: AnalysisConfiguration
    ) -> [Finding] {
        var findings: [Finding] = []
        let counted = group.asked - group.pending
        if let coverage = group.coverage, counted >= minimum, coverage < configuration.receiptCoverageThreshold {
            findings.append(
                Finding(
                    .receiptCoverageLow, .warning,
                    "\(name): \(group.final) of \(counted) accepted messages that asked for a receipt got a "
                        + "final one (\(formatNumber(coverage * 100))%, below "
                        + "\(formatNumber(configuration.receiptCoverageThreshold * 100))%)"
                        + (group.pending > 0 ? "; \(group.pending) more were too recent to count" : "")
                        + ". Ask the SMSC whether receipts are lost or not sent for some routes.",
                    count: counted - group.final,
                    fields: [
                        field, .init("coverage", .double(coverage)), .init("asked", .int(counted)),
                        .init("final", .int(group.final)), .init("pending", .int(group.pending)),
                    ]))
        }
        if group.tooFast > 0 {
            let threshold = configuration.receiptTooFast * 1_000
            findings.append(
                Finding(
                    .receiptTooFast, .warning,
                    "\(name): \(group.tooFast) of \(group.delivered) DELIVRD receipts came less than "
                        + "\(formatNumber(threshold)) ms after the submit, sooner than a phone can be reached: "
                        + "the SMSC may report delivery it has not seen.",
                    count: group.tooFast, evidence: group.tooFastEvidence,
                    fields: [
                        field, .init("too_fast", .int(group.tooFast)), .init("delivered", .int(group.delivered)),
                        .init("threshold_ms", .double(threshold)),
                    ]))
        }
        if group.linkedFinal >= 20, let state = group.onlyState, let error = group.onlyError,
            let low = group.minimumLatencyMs, let high = group.maximumLatencyMs, high - low < 100
        {
            findings.append(
                Finding(
                    .receiptUniform, .warning,
                    "\(name): all \(group.linkedFinal) final receipts say \(state) with error "
                        + "\(error.isEmpty ? "none" : error), within "
                        + "\(formatNumber(high - low)) ms of the same delay: they look generated, not reported by "
                        + "the network.",
                    count: group.linkedFinal,
                    fields: [
                        field, .init("state", .string(state)), .init("err", .string(error)),
                        .init("latency_spread_ms", .double(high - low)),
                    ]))
        }
        if group.notFinal > 0 {
            findings.append(
                Finding(
                    .receiptNotFinal, .warning,
                    "\(name): \(group.notFinal) messages got an intermediate receipt (such as ENROUTE or "
                        + "ACCEPTD) and no final one in the capture.",
                    count: group.notFinal, fields: [field, .init("not_final", .int(group.notFinal))]))
        }
        if group.doneBeforeSubmit > 0 {
            let own = group.doneBeforeOwnSubmitDate
            let against =
                own == group.doneBeforeSubmit
                ? "before the submit date they give themselves"
                : own == 0
                    ? "before their messages were submitted (as captured, in the time zone their submit dates show)"
                    : "before their messages were submitted (\(own) of them before the submit date they give "
                        + "themselves)"
            findings.append(
                Finding(
                    .receiptDoneBeforeSubmit, .warning,
                    "\(name): \(group.doneBeforeSubmit) of \(group.datesChecked) final receipts have a done date "
                        + "\(against), by up to \(formatDuration(seconds: group.earliestBySeconds)): the SMSC's clock "
                        + "is off, or it dates receipts from another clock. Delivery times read from these dates "
                        + "are wrong; measure them from the capture.",
                    count: group.doneBeforeSubmit, evidence: group.doneBeforeSubmitEvidence,
                    fields: [
                        field, .init("done_before_submit", .int(group.doneBeforeSubmit)),
                        .init("checked", .int(group.datesChecked)),
                        .init("before_own_submit_date", .int(own)),
                        .init("earliest_by_s", .int(Int(group.earliestBySeconds))),
                    ]))
        }
        return findings
    }

    /// "45 s", "12 min", "3 h 5 min".
    static func formatDuration(seconds: Int64) -> String {
        if seconds < 120 { return "\(seconds) s" }
        let minutes = seconds / 60
        if minutes < 120 { return "\(minutes) min" }
        return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
    }

    /// Long messages that will not arrive whole, or arrive twice, or mixed with another.
    static func longMessageFindings(_ long: LongMessageReport) -> [Finding] {
        var findings: [Finding] = []
        if long.incomplete > 0 {
            var example = ""
            if let first = long.incompleteExamples.first {
                let parts = first.missing.map { String($0) }.joined(separator: ", ")
                example = "; e.g. part\(first.missing.count == 1 ? "" : "s") \(parts) of \(first.total)"
            }
            findings.append(
                Finding(
                    .longMessageIncomplete, .warning,
                    "\(long.incomplete) of \(long.messages) long messages lack parts the SMSC never accepted "
                        + "(\(long.missingParts) parts in all\(example)): the phone shows them cut, or not at all.",
                    count: long.incomplete, evidence: long.incompleteEvidence,
                    fields: [.init("missing_parts", .int(long.missingParts)), .init("messages", .int(long.messages))]))
        }
        // Each kind of trouble: how many, in words, the PDUs that show it, its own fields.
        let troubles: [(Finding.Code, Int, String, [Finding.Evidence], [Finding.Field])] = [
            (
                .longMessageDuplicatePart, long.duplicateParts,
                "\(long.duplicateParts) parts of long messages were accepted a second time with the same content (a "
                    + "resend of a part already accepted): the phone may show them twice.",
                long.duplicateEvidence, []
            ),
            (
                .longMessageReferenceClash, long.referenceClashes,
                "\(long.referenceClashes) parts reused the reference and part number of a long message to the same "
                    + "number still being sent, with other text: the phone joins parts of two messages. Use a new "
                    + "reference per message (16-bit references wrap later).",
                long.clashEvidence, []
            ),
            (
                .longMessageMixedConcat, long.mixedMethods,
                "\(long.mixedMethods) long messages number their parts in more than one way (UDH with 8-bit or 16-bit "
                    + "references, SAR TLVs): a phone joins only parts numbered alike.",
                long.mixedMethodsEvidence, [.init("cause", .string("methods"))]
            ),
            (
                .longMessageMixedConcat, long.mixedSessions,
                "\(long.mixedSessions) long messages had their parts sent over more than one bind: an SMSC that puts "
                    + "parts together per connection sends them apart.",
                long.mixedSessionsEvidence, [.init("cause", .string("sessions"))]
            ),
        ]
        for (code, count, message, evidence, fields) in troubles where count > 0 {
            findings.append(Finding(code, .warning, message, count: count, evidence: evidence, fields: fields))
        }
        return findings
    }

    static func unansweredEvidence(_ requests: [UnansweredRequest]) -> [Finding.Evidence] {
        requests.prefix(Finding.evidenceLimit).map {
            .init(session: $0.session, sequenceNumber: $0.sequenceNumber, command: $0.command, time: $0.time)
        }
    }

    static func sessionName(_ session: SessionReport) -> String {
        if let systemID = session.bind?.systemID, !systemID.isEmpty { return "session \(session.id) (\(systemID))" }
        return "session \(session.id)"
    }

    static func formatSeconds(_ milliseconds: Double) -> String {
        milliseconds >= 1_000 ? "\(formatNumber(milliseconds / 1_000)) s" : "\(formatNumber(milliseconds)) ms"
    }
}

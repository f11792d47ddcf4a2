// `analyze --format json`: the report as one JSON object (docs/output.md), keys in a stable order.

import Analysis
import SMPP

public enum AnalyzeJSON {
    /// The whole report as one JSON object.
    public static func render(_ report: AnalysisReport) -> [UInt8] {
        var json = JSONWriter(capacity: 1 << 16)
        json.beginObject()
        json.key("pdus_total"); json.int(report.pdusTotal)
        json.key("counts_per_command"); writeCounts(report.countsPerCommand, into: &json)
        json.key("throttled_responses"); json.int(report.throttledResponses)
        json.key("queue_full_responses"); json.int(report.queueFullResponses)
        json.key("error_responses"); writeCounts(report.errorResponses, into: &json)
        json.key("request_response_pairs"); json.int(report.requestResponsePairs)
        json.key("unanswered_requests"); json.int(report.unansweredRequests)
        json.key("latency"); writeLatencies(report.latency, into: &json)
        json.key("latency_by_system_id")
        json.beginObject()
        for (systemID, latencies) in report.latencyBySystemID.sorted(by: { $0.key < $1.key }) {
            json.dynamicKey(systemID); writeLatencies(latencies, into: &json)
        }
        json.endObject()
        json.key("max_outstanding"); json.int(report.maxOutstanding)
        json.key("sessions")
        json.beginArray()
        for session in report.sessions { writeSession(session, into: &json) }
        json.endArray()
        json.key("delivery_receipts"); writeReceipts(report.receipts, into: &json)
        json.key("encoding"); writeEncodings(report.encodings, into: &json)
        json.key("capacity"); writeCapacity(report.capacity, into: &json)
        json.key("peak_submit_sm_per_second"); json.int(report.peakSubmitPerSecond)
        json.key("throttle_episodes"); json.int(report.throttleEpisodes.count)
        json.key("throttle_episode_list")
        json.beginArray()
        for episode in report.throttleEpisodes { writeEpisode(episode, into: &json) }
        json.endArray()
        json.key("duplicate_submits"); json.int(report.duplicateSubmits)
        json.key("duplicate_responses"); writeCounts(report.duplicateResponses, into: &json)
        json.key("duplicate_submit_causes")
        writeCounts(
            Dictionary(uniqueKeysWithValues: report.submitResends.counts.map { ($0.key.rawValue, $0.value) }),
            into: &json)
        json.key("duplicate_receipt_causes")
        writeCounts(
            Dictionary(uniqueKeysWithValues: report.receiptResends.counts.map { ($0.key.rawValue, $0.value) }),
            into: &json)
        json.key("idle_violations"); json.int(report.idleViolations)
        json.key("idle_limit_s"); json.double(report.idleLimit, decimals: 3)
        json.key("throughput_limit")
        if let limit = report.throughputLimit { json.double(limit, decimals: 3) } else { json.null() }
        json.key("configured_window")
        if let window = report.configuredWindow { json.int(window) } else { json.null() }
        json.key("channels"); writeCounts(report.channels, into: &json)
        json.key("submits_with_comment"); json.int(report.submitsWithComment)
        json.key("unanswered")
        json.beginArray()
        for request in report.unanswered.prefix(1_000) {
            writePDU(
                session: request.session, command: request.command, sequenceNumber: request.sequenceNumber,
                time: request.time, into: &json)
        }
        json.endArray()
        json.key("orphan_responses"); json.int(report.orphanResponses.count)
        json.key("gaps"); json.int(report.gaps)
        json.key("gap_bytes"); json.int(report.gapBytes)
        json.key("diagnostics"); json.int(report.diagnostics)
        json.key("malformed_pdus"); json.int(report.malformedPDUs)
        json.key("messages")
        json.beginObject()
        json.key("long")
        json.beginObject()
        let long = report.longMessages
        json.key("count"); json.int(long.messages)
        json.key("complete"); json.int(long.complete)
        json.key("incomplete"); json.int(long.incomplete)
        json.key("missing_parts"); json.int(long.missingParts)
        json.key("in_flight"); json.int(long.inFlight)
        json.key("duplicate_parts"); json.int(long.duplicateParts)
        json.key("reference_clashes"); json.int(long.referenceClashes)
        json.key("mixed_methods"); json.int(long.mixedMethods)
        json.key("mixed_sessions"); json.int(long.mixedSessions)
        json.key("malformed_parts"); json.int(long.malformed)
        let rolled = report.receipts.longMessageReceipts
        json.key("receipts")
        json.beginObject()
        json.key("all_delivered"); json.int(rolled.allDelivered)
        json.key("some_delivered"); json.int(rolled.someDelivered)
        json.key("none_delivered"); json.int(rolled.noneDelivered)
        json.key("unknown"); json.int(rolled.unknown)
        json.endObject()
        json.endObject()
        json.endObject()
        json.key("findings")
        json.beginArray()
        for finding in report.findings { writeFinding(finding, into: &json) }
        json.endArray()
        json.endObject()
        return json.bytes
    }

    /// One finding as the output contract gives it: code, severity, message, session, count, evidence, then the
    /// code's own fields.
    public static func writeFinding(_ finding: Finding, into json: inout JSONWriter) {
        json.beginObject()
        json.key("code"); json.string(finding.code.rawValue)
        json.key("severity"); json.string(finding.severity.rawValue)
        json.key("message"); json.string(finding.message)
        json.key("session")
        if let session = finding.session { json.int(session) } else { json.null() }
        json.key("count"); json.int(finding.count)
        json.key("evidence")
        json.beginArray()
        for evidence in finding.evidence {
            writePDU(
                session: evidence.session, command: evidence.command, sequenceNumber: evidence.sequenceNumber,
                time: evidence.time, into: &json)
        }
        json.endArray()
        for field in finding.fields {
            json.dynamicKey(field.name)
            switch field.value {
            case .int(let value): json.int(value)
            case .double(let value): json.double(value)
            case .string(let value): json.string(value)
            }
        }
        json.endObject()
    }

    /// A PDU named by its session, command, sequence_number and time: `{"session", "command", "sequence_number",
    /// "ts"}`, as unanswered requests and the evidence of findings give it.
    static func writePDU(
        session: Int, command: String, sequenceNumber: UInt32, time: Double, into json: inout JSONWriter
    ) {
        json.beginObject()
        json.key("session"); json.int(session)
        json.key("command"); json.string(command)
        json.key("sequence_number"); json.int(sequenceNumber)
        json.key("ts"); json.double(time, decimals: 6)
        json.endObject()
    }

    static func writeCounts(_ counts: [String: Int], into json: inout JSONWriter) {
        json.beginObject()
        for (key, value) in counts.sorted(by: { $0.key < $1.key }) {
            json.dynamicKey(key); json.int(value)
        }
        json.endObject()
    }

    static func writeLatencies(_ latencies: [String: LatencySummary], into json: inout JSONWriter) {
        json.beginObject()
        for (command, summary) in latencies.sorted(by: { $0.key < $1.key }) {
            json.dynamicKey(command); writeLatency(summary, into: &json)
        }
        json.endObject()
    }

    static func writeLatency(_ summary: LatencySummary, into json: inout JSONWriter) {
        json.beginObject()
        json.key("n"); json.int(summary.n)
        json.key("min_ms"); json.double(summary.minMs)
        json.key("p50_ms"); json.double(summary.p50Ms)
        json.key("p90_ms"); json.double(summary.p90Ms)
        json.key("p99_ms"); json.double(summary.p99Ms)
        json.key("p999_ms"); json.double(summary.p999Ms)
        json.key("max_ms"); json.double(summary.maxMs)
        json.key("mean_ms"); json.double(summary.meanMs)
        json.endObject()
    }

    static func writeBind(_ bind: BindSummary, into json: inout JSONWriter) {
        json.beginObject()
        json.key("command"); json.string(bind.command)
        json.key("system_id"); json.string(bind.systemID)
        json.key("system_type"); json.string(bind.systemType)
        json.key("interface_version"); json.int(bind.interfaceVersion)
        json.key("command_status")
        if let status = bind.status { json.int(status) } else { json.null() }
        json.key("command_status_name")
        if let name = bind.statusName { json.string(name) } else { json.null() }
        json.key("flags"); json.string(bind.flags)
        json.key("ts"); json.double(bind.time, decimals: 6)
        json.endObject()
    }

    static func writeWindow(_ window: WindowSummary?, into json: inout JSONWriter) {
        guard let window else {
            json.null()
            return
        }
        json.beginObject()
        json.key("max"); json.int(window.max)
        json.key("mean"); json.double(window.mean)
        json.key("p99"); json.int(window.p99)
        json.key("window"); json.int(window.window)
        json.key("window_configured"); json.bool(window.windowConfigured)
        json.key("share_at_window"); json.double(window.shareAtWindow, decimals: 4)
        json.key("busy_s"); json.double(window.busySeconds)
        json.endObject()
    }

    static func writeEpisode(_ episode: ThrottleEpisode, into json: inout JSONWriter) {
        json.beginObject()
        json.key("session"); json.int(episode.session)
        json.key("start"); json.double(episode.start, decimals: 6)
        json.key("end"); json.double(episode.end, decimals: 6)
        json.key("count"); json.int(episode.count)
        json.key("submit_sm_in_second_before"); json.int(episode.rateBefore)
        json.key("resubmissions"); json.int(episode.resubmissions)
        json.key("mean_wait_s")
        if let wait = episode.meanWaitSeconds { json.double(wait) } else { json.null() }
        json.endObject()
    }

    static func writeSession(_ session: SessionReport, into json: inout JSONWriter) {
        json.beginObject()
        json.key("id"); json.int(session.id)
        json.key("client"); json.string(session.client)
        json.key("server"); json.string(session.server)
        json.key("roles_known"); json.bool(session.rolesKnown)
        json.key("bind")
        if let bind = session.bind { writeBind(bind, into: &json) } else { json.null() }
        json.key("binds")
        json.beginArray()
        for bind in session.binds { writeBind(bind, into: &json) }
        json.endArray()
        json.key("pdus"); json.int(session.pdus)
        json.key("max_outstanding"); json.int(session.maxOutstanding)
        json.key("max_outstanding_server"); json.int(session.maxOutstandingServer)
        json.key("start"); json.double(session.start, decimals: 6)
        json.key("end"); json.double(session.end, decimals: 6)
        json.key("close")
        if let close = session.close { json.string(close) } else { json.null() }
        json.key("closed_by")
        if let closedBy = session.closedBy { json.string(closedBy) } else { json.null() }
        json.key("longest_silence_s"); json.double(session.longestSilenceSeconds, decimals: 6)
        json.key("silences_over_limit")
        json.beginArray()
        for silence in session.silencesOverLimit {
            json.beginObject()
            json.key("start"); json.double(silence.start, decimals: 6)
            json.key("seconds"); json.double(silence.seconds, decimals: 6)
            json.endObject()
        }
        json.endArray()
        json.key("client_window"); writeWindow(session.clientWindow, into: &json)
        json.key("server_window"); writeWindow(session.serverWindow, into: &json)
        json.key("submits"); json.int(session.submits)
        json.key("throttled"); json.int(session.throttled)
        json.key("throttle_episodes"); json.int(session.throttleEpisodes.count)
        json.key("peak_submit_sm_per_second"); json.int(session.peakSubmitPerSecond)
        json.key("mean_submit_sm_per_second"); json.double(session.meanSubmitPerSecond)
        json.key("submit_sm_latency")
        if let latency = session.submitLatency { writeLatency(latency, into: &json) } else { json.null() }
        json.key("verdict")
        if let verdict = session.verdict { json.string(verdict) } else { json.null() }
        json.key("verdict_reason")
        if let reason = session.verdictReason { json.string(reason) } else { json.null() }
        json.key("enquire_links"); json.int(session.enquireLinks)
        json.key("enquire_link_interval_client_s")
        if let interval = session.enquireLinkIntervalClient { json.double(interval) } else { json.null() }
        json.key("enquire_link_interval_server_s")
        if let interval = session.enquireLinkIntervalServer { json.double(interval) } else { json.null() }
        json.key("replaced_by_session")
        if let replaced = session.replacedBySession { json.int(replaced) } else { json.null() }
        json.key("unanswered"); json.int(session.unanswered)
        json.key("orphan_responses"); json.int(session.orphanResponses)
        json.endObject()
    }

    static func writeReceipts(_ receipts: ReceiptReport, into json: inout JSONWriter) {
        json.beginObject()
        json.key("count"); json.int(receipts.count)
        json.key("stat"); writeCounts(receipts.stat, into: &json)
        json.key("errors"); writeCounts(receipts.errors, into: &json)
        json.key("linked"); json.int(receipts.linked)
        json.key("unknown_ids"); json.int(receipts.unknownIDs)
        json.key("copies"); json.int(receipts.copies)
        json.key("accepted_without_receipt"); json.int(receipts.withoutReceipt)
        json.key("latency")
        if let latency = receipts.latency { writeLatency(latency, into: &json) } else { json.null() }
        json.key("mobile_originated"); json.int(receipts.mobileOriginated)
        json.key("long_messages")
        json.beginObject()
        json.key("count"); json.int(receipts.longMessages)
        json.key("shared_id"); json.int(receipts.longMessagesSharedID)
        json.key("id_per_part"); json.int(receipts.longMessagesPerPartID)
        json.key("one_receipt"); json.int(receipts.longMessagesOneReceipt)
        json.key("receipt_per_part"); json.int(receipts.longMessagesReceiptPerPart)
        json.endObject()
        json.key("id_forms")
        writeCounts(
            Dictionary(uniqueKeysWithValues: receipts.idTransforms.map { ($0.key.rawValue, $0.value) }), into: &json)
        json.key("accounts")
        writeQualities(receipts.accounts, key: "account", into: &json)
        json.key("prefixes")
        writeQualities(receipts.prefixes, key: "prefix", into: &json)
        json.endObject()
    }

    /// Receipt figures per group (account or destination prefix), the group's name under `key`.
    private static func writeQualities(_ groups: [ReceiptQuality], key: StaticString, into json: inout JSONWriter) {
        json.beginArray()
        for group in groups {
            json.beginObject()
            json.key(key); json.string(group.account)
            json.key("asked"); json.int(group.asked)
            json.key("pending"); json.int(group.pending)
            json.key("final"); json.int(group.final)
            json.key("coverage")
            if let coverage = group.coverage { json.double(coverage, decimals: 4) } else { json.null() }
            json.key("not_final"); json.int(group.notFinal)
            json.key("delivered"); json.int(group.delivered)
            json.key("too_fast"); json.int(group.tooFast)
            json.key("latency_min_ms")
            if let value = group.minimumLatencyMs { json.double(value) } else { json.null() }
            json.key("latency_max_ms")
            if let value = group.maximumLatencyMs { json.double(value) } else { json.null() }
            json.key("dates_checked"); json.int(group.datesChecked)
            json.key("done_before_submit"); json.int(group.doneBeforeSubmit)
            json.endObject()
        }
        json.endArray()
    }

    /// Per peer and direction: what data_coding 0 carries, and the encoding troubles counted.
    private static func writeEncodings(_ encodings: [EncodingReport], into json: inout JSONWriter) {
        json.beginArray()
        for group in encodings {
            json.beginObject()
            json.key("peer"); json.string(group.peer)
            json.key("direction"); json.string(group.direction)
            json.key("messages"); json.int(group.messages)
            json.key("dcs0_messages"); json.int(group.scored)
            json.key("dcs0_clean")
            json.beginObject()
            for alphabet in DefaultAlphabet.allCases {
                json.dynamicKey(alphabet.rawValue)
                if let share = group.cleanShares[alphabet] { json.double(share, decimals: 4) } else { json.null() }
            }
            json.endObject()
            json.key("dcs0_inferred")
            if let inferred = group.inferred { json.string(inferred.rawValue) } else { json.null() }
            json.key("dcs0_declared"); json.string(group.declared.rawValue)
            json.key("ucs2_under_dcs0"); json.int(group.ucs2UnderDefault)
            json.key("udh_without_udhi"); json.int(group.headerWithoutUDHI)
            json.key("gsm_escape_split"); json.int(group.escapeSplit)
            json.key("costlier_encoding"); json.int(group.costlier)
            json.key("segments_saved"); json.int(group.segmentsSaved)
            json.endObject()
        }
        json.endArray()
    }

    /// Per account: the limits the traffic shows, the response times, and the client settings that fit them.
    private static func writeCapacity(_ accounts: [CapacityReport], into json: inout JSONWriter) {
        func optional(_ value: Int?) { if let value { json.int(value) } else { json.null() } }
        json.beginArray()
        for account in accounts {
            json.beginObject()
            json.key("account"); json.string(account.account)
            json.key("submits"); json.int(account.submits)
            json.key("accepted"); json.int(account.accepted)
            json.key("peak_sent_per_second"); json.int(account.peakOfferedPerSecond)
            json.key("peak_accepted_per_second"); json.int(account.peakAcceptedPerSecond)
            json.key("throttled"); json.int(account.throttled)
            json.key("throttle_rate"); optional(account.throttleRate)
            json.key("throttle_confidence")
            if let confidence = account.throttleConfidence { json.double(confidence, decimals: 3) } else { json.null() }
            json.key("throttle_refusals"); json.int(account.throttleSamples)
            json.key("throttle_refusals_near_long_messages"); json.int(account.refusalsNearLongMessages)
            json.key("throttle_counts")
            if let counts = account.counts { json.string(counts) } else { json.null() }
            json.key("queue_full"); json.int(account.queueFull)
            json.key("window_limit"); optional(account.windowLimit)
            json.key("latency")
            if let latency = account.latency { writeLatency(latency, into: &json) } else { json.null() }
            json.key("recommended")
            json.beginObject()
            json.key("rate_per_second"); optional(account.recommendedRate)
            json.key("window"); optional(account.recommendedWindow)
            json.key("response_timeout_s"); optional(account.recommendedTimeoutSeconds)
            json.key("kannel")
            json.beginObject()
            json.key("throughput"); optional(account.recommendedRate)
            json.key("max-pending-submits"); optional(account.recommendedWindow)
            json.key("wait-ack"); optional(account.recommendedTimeoutSeconds)
            json.endObject()
            json.key("jasmin")
            json.beginObject()
            json.key("submit_throughput"); optional(account.recommendedRate)
            json.key("res_to"); optional(account.recommendedTimeoutSeconds)
            json.endObject()
            json.key("smpplib")
            json.beginObject()
            json.key("timeout"); optional(account.recommendedTimeoutSeconds)
            json.endObject()
            json.endObject()
            json.endObject()
        }
        json.endArray()
    }
}

// What the profiler keeps of one SMSC while it reads, and the profile made of it at the end.

import Capture
import SMPP

struct DepartureKey: Hashable {
    var code: ConformanceCode
    var fromClient: Bool
}

/// An accepted submit waiting for its receipt.
struct Awaited {
    var id: String
    var at: Timestamp
    var part: Part?
}

/// One account's accepted submits of the last seconds and its throttled ones waiting to be judged.
struct AccountRate {
    /// Request times of accepted submit_sm, ascending, the last 3 s.
    var accepted: [Timestamp] = []
    /// Request times of throttled submit_sm whose second is not yet over (responses come late).
    var pending: [Timestamp] = []
    /// Accepted in the second before a throttled one → times.
    var atThrottle: [Int: Int] = [:]
    /// Request times of accepted parts after the first of long messages, waiting to be judged as throttles are.
    var pendingParts: [Timestamp] = []
    /// Accepted in the second before such a part (the part aside) → times: a part accepted with the limit reached
    /// shows that parts after the first are not counted.
    var beforeLaterPart: [Int: Int] = [:]
    var peak = 0
    var throttled = 0
}

/// The SMSC's answers to one command.
struct ResponseCounts {
    var count = 0
    var statuses: [String: Int] = [:]
    var latency = DelayHistogram.Builder()
    var acceptedLatency = DelayHistogram.Builder()
    var body = 0
    var bare = 0
}

struct SMSCState {
    var sessions = 0
    var systemIDs: Set<String> = []
    var smscSystemIDs: Set<String> = []
    var interfaceVersions: Set<String> = []
    var systemTypes: [String: Int] = [:]

    // Responses
    var responses: [CommandID: ResponseCounts] = [:]

    // Message ids
    var ids = IDShape()

    // Long messages: key → ids given and parts accepted.
    var longMessages: [String: (ids: Set<String>, parts: Set<UInt8>, total: UInt8, asked: Int, receipts: Int)] = [:]

    // Receipts
    var awaited: [String: Awaited] = [:]
    var awaitedOrder: [String] = []
    var receiptsSeen = 0
    var receiptsLinked = 0
    var idInText = 0
    var idInTLV = 0
    var idForms: [String: Int] = [:]
    var templates: [String: Int] = [:]
    var untemplated = 0
    var receiptTLVs: [String: Int] = [:]
    var states: [String: Int] = [:]
    var errors: [String: Int] = [:]
    var receiptDelay = DelayHistogram.Builder()

    // Throttling
    var rates: [String: AccountRate] = [:]
    var throttled = 0
    var episodes = 0
    var lastThrottle: Timestamp?
    var throttledLaterParts = 0

    // Window
    var queueFullAt: Int?
    var queueFull = 0
    var largestAccepted = 0

    // Binds
    var bindsAccepted = 0
    var bindsRefused: [String: Int] = [:]
    var refusedWhileBound: [String: Int] = [:]
    var mostConcurrent = 0
    var boundByLogin: [String: Set<Int>] = [:]
    var replacementWatch: [(at: Timestamp, sessions: Set<Int>)] = []
    var replacements = 0

    // Keep-alives and idle
    var enquireFromESME = 0
    var enquireFromSMSC = 0
    var enquireIntervals: [Double] = []
    var enquireAnswered = 0
    var endedBySMSC = 0
    var shortestSilence: Double?
    var idleActions: [String: Int] = [:]

    // Duplicates: account and identity → when accepted.
    var acceptedIdentities: [Int: (account: String, at: Timestamp)] = [:]
    var duplicatesRefused = 0
    var duplicateStatuses: [String: Int] = [:]
    var refusedWithin: Double?
    var acceptedAgainAfter: Double?

    // Quirks and departures
    var genericNacks: [String: Int] = [:]
    var vendorTLVs: [String: Int] = [:]
    var nonStandardStatuses: [String: Int] = [:]
    var departures: [DepartureKey: DepartureCollector] = [:]

    mutating func depart(_ code: ConformanceCode, fromClient: Bool, _ evidence: ConformanceReport.Evidence) {
        departures[DepartureKey(code: code, fromClient: fromClient), default: .init()].add(evidence)
    }

    /// The codec's findings, reserved values and vendor extensions of one PDU.
    mutating func checkFields(_ pdu: PDU, fromClient: Bool, place: PDUPlace) {
        for diagnostic in pdu.diagnostics {
            depart(.malformedField, fromClient: fromClient, place.evidence(diagnostic.description))
        }
        if !pdu.commandID.isKnown {
            depart(.reservedCommandID, fromClient: fromClient, place.evidence(String(format8: pdu.commandID.rawValue)))
        }
        let status = pdu.commandStatus
        if pdu.commandID.isResponse, !status.isKnown {
            if !fromClient { nonStandardStatuses[String(format8: status.rawValue), default: 0] += 1 }
            if !(0x400...0x4FF).contains(status.rawValue) {
                depart(
                    .reservedCommandStatus, fromClient: fromClient,
                    place.evidence("command_status " + String(format8: status.rawValue)))
            }
        }
        for tlv in pdu.tlvs where !tlv.tag.isKnown {
            let name = tlv.tag.description
            if !fromClient, vendorTLVs[name] != nil || vendorTLVs.count < 1000 { vendorTLVs[name, default: 0] += 1 }
            if !tlv.tag.isVendorSpecific {
                depart(.reservedTLVTag, fromClient: fromClient, place.evidence("TLV tag \(name)"))
            }
        }
    }

    // MARK: Answers to the ESME

    mutating func answered(_ request: Request, _ pdu: PDU, at now: Timestamp) {
        let status = pdu.commandStatus
        // Counted in place: the histograms' counters are not copied per answer.
        func count(_ entry: inout ResponseCounts) {
            entry.count += 1
            entry.statuses[status.name, default: 0] += 1
            let milliseconds = now.seconds(since: request.at) * 1000
            entry.latency.add(milliseconds: milliseconds)
            if status == .ok {
                entry.acceptedLatency.add(milliseconds: milliseconds)
            } else if pdu.header.commandLength > 16 {
                entry.body += 1
            } else {
                entry.bare += 1
            }
        }
        count(&responses[request.command, default: ResponseCounts()])
        if request.command == .enquireLink { enquireAnswered += 1 }
        if status == .messageQueueFull {
            queueFull += 1
            queueFullAt = min(queueFullAt ?? request.outstandingBefore, request.outstandingBefore)
        } else if status == .ok {
            largestAccepted = max(largestAccepted, request.outstandingBefore + 1)
        }
        guard let submit = request.submit else { return }
        let account = request.account
        if status == .ok {
            accepted(submit, request: request, id: pdu.messageID ?? "", account: account)
        } else if status == .throttled {
            throttledSubmit(submit, request: request, account: account)
        } else if status != .messageQueueFull, let earlier = acceptedIdentities[submit.identity],
            earlier.account == account, request.at.seconds(since: earlier.at) <= 600
        {
            duplicatesRefused += 1
            duplicateStatuses[status.name, default: 0] += 1
            let gap = request.at.seconds(since: earlier.at)
            refusedWithin = max(refusedWithin ?? gap, gap)
        }
    }

    private mutating func accepted(_ submit: Submit, request: Request, id: String, account: String) {
        if let earlier = acceptedIdentities[submit.identity], earlier.account == account {
            let gap = request.at.seconds(since: earlier.at)
            acceptedAgainAfter = min(acceptedAgainAfter ?? gap, gap)
        }
        if acceptedIdentities.count >= ProviderProfiler.maximumIdentities {
            acceptedIdentities = acceptedIdentities.filter { request.at.seconds(since: $0.value.at) <= 600 }
            if acceptedIdentities.count >= ProviderProfiler.maximumIdentities { acceptedIdentities.removeAll() }
        }
        acceptedIdentities[submit.identity] = (account, request.at)
        // The rate: accepted submit_sm per second of this account. (Taken out of its table while it changes, so
        // that its array is not copied.)
        var rate = rates.removeValue(forKey: account) ?? AccountRate()
        let insertAt =
            rate.accepted.last.map { $0 <= request.at } ?? true
            ? rate.accepted.count : rate.accepted.firstIndex(after: request.at)
        rate.accepted.insert(request.at, at: insertAt)
        let windowStart = Timestamp(nanoseconds: request.at.nanoseconds - 1_000_000_000)
        rate.peak = max(
            rate.peak, rate.accepted.firstIndex(after: request.at) - rate.accepted.firstIndex(after: windowStart))
        if let part = submit.part, part.sequence > 1, rate.pendingParts.count < ProviderProfiler.maximumOutstanding {
            rate.pendingParts.append(request.at)
        }
        rates[account] = rate
        // Throttled submits are judged on the accepted times around them before older ones are let go.
        judgeThrottles(account: account, now: request.at)
        rate = rates.removeValue(forKey: account) ?? AccountRate()
        // Older than 3 s before the newest: let go once they are half of the array (amortized, no shifting per
        // submit).
        let keepFrom = Timestamp(nanoseconds: (rate.accepted.last ?? request.at).nanoseconds - 3_000_000_000)
        let expired = rate.accepted.firstIndex(after: Timestamp(nanoseconds: keepFrom.nanoseconds - 1))
        if expired > 0, expired * 2 >= rate.accepted.count { rate.accepted.removeFirst(expired) }
        rates[account] = rate
        // The id.
        guard !id.isEmpty else { return }
        ids.add(id)
        if let part = submit.part {
            if longMessages[part.key] == nil, longMessages.count >= ProviderProfiler.maximumLongMessages {
                longMessages.removeAll()
            }
            var entry = longMessages[part.key] ?? ([], [], part.total, 0, 0)
            entry.ids.insert(id)
            if entry.parts.insert(part.sequence).inserted, part.asks { entry.asked += 1 }
            longMessages[part.key] = entry
        }
        if awaited[id] == nil { awaitedOrder.append(id) }
        awaited[id] = Awaited(id: id, at: request.at, part: submit.part)
        if !Self.isCanonical(id), case let canonical = MessageID.canonical(id), canonical != id {
            awaited[canonical] = Awaited(id: id, at: request.at, part: submit.part)
            awaitedOrder.append(canonical)
        }
        if awaitedOrder.count > ProviderProfiler.maximumIDs {
            let drop = awaitedOrder.count / 10
            for old in awaitedOrder.prefix(drop) { awaited[old] = nil }
            awaitedOrder.removeFirst(drop)
        }
    }

    private mutating func throttledSubmit(_ submit: Submit, request: Request, account: String) {
        throttled += 1
        if lastThrottle.map({ request.at.seconds(since: $0) >= 1 }) ?? true { episodes += 1 }
        lastThrottle = max(lastThrottle ?? request.at, request.at)
        if let part = submit.part, part.sequence > 1 { throttledLaterParts += 1 }
        rates[account, default: AccountRate()].throttled += 1
        // Judged when their second is over; past the bound (a flood within two seconds) they are only counted.
        if rates[account, default: AccountRate()].pending.count < ProviderProfiler.maximumOutstanding {
            rates[account, default: AccountRate()].pending.append(request.at)
        }
        judgeThrottles(account: account, now: request.at)
    }

    /// Throttled submits whose second has passed by 2 s: the accepted ones in the second before each.
    private mutating func judgeThrottles(account: String, now: Timestamp?) {
        guard rates[account].map({ !$0.pending.isEmpty || !$0.pendingParts.isEmpty }) == true,
            var rate = rates.removeValue(forKey: account)
        else { return }
        defer { rates[account] = rate }
        /// Accepted in the second up to `at`: after `at` - 1 s, up to `at` (or before it).
        func acceptedInSecond(before at: Timestamp, including: Bool) -> Int {
            let start = Timestamp(nanoseconds: at.nanoseconds - 1_000_000_000)
            let end = including ? at : Timestamp(nanoseconds: at.nanoseconds - 1)
            return max(0, rate.accepted.firstIndex(after: end) - rate.accepted.firstIndex(after: start))
        }
        /// The times whose second is over by 2 s (all of them at the end), taken out of `times`.
        func due(_ times: inout [Timestamp]) -> [Timestamp] {
            guard let now else {
                defer { times.removeAll() }
                return times
            }
            let ready = times.filter { now.seconds(since: $0) >= 2 }
            times.removeAll { now.seconds(since: $0) >= 2 }
            return ready
        }
        // A later part: the part itself aside. A throttled submit: up to and with it.
        for at in due(&rate.pendingParts) {
            rate.beforeLaterPart[acceptedInSecond(before: at, including: false), default: 0] += 1
        }
        for at in due(&rate.pending) {
            rate.atThrottle[acceptedInSecond(before: at, including: true), default: 0] += 1
        }
    }

    mutating func finishThrottles() {
        for account in rates.keys { judgeThrottles(account: account, now: nil) }
    }

    // MARK: Receipts

    mutating func receipt(_ receipt: DeliveryReceipt, pdu: PDU, text: String?, at now: Timestamp) {
        receiptsSeen += 1
        if receipt.id != nil { idInText += 1 }
        if receipt.receiptedMessageID != nil { idInTLV += 1 }
        for tlv in pdu.tlvs {
            receiptTLVs[tlv.tag.isKnown ? tlv.tag.name : tlv.tag.description, default: 0] += 1
        }
        if let state = receipt.state { states[state, default: 0] += 1 }
        if let err = receipt.err { errors[err, default: 0] += 1 }
        if let text, !text.isEmpty {
            let template = ReceiptTemplate.of(text)
            if templates[template] != nil || templates.count < ProviderProfiler.maximumTemplates {
                templates[template, default: 0] += 1
            } else {
                untemplated += 1
            }
        }
        guard let id = receipt.messageID, let (found, form) = link(id) else { return }
        receiptsLinked += 1
        idForms[form, default: 0] += 1
        receiptDelay.add(milliseconds: now.seconds(since: found.at) * 1000)
        if let part = found.part { longMessages[part.key]?.receipts += 1 }
    }

    /// The accepted submit a receipt's id names, and how the receipt writes it.
    private func link(_ id: String) -> (Awaited, String)? {
        let trimmed = Self.trimmed(id)
        if let found = awaited[trimmed] { return (found, "exact") }
        if let found = awaited[MessageID.canonical(trimmed)] {
            let form = found.id.uppercased() == trimmed.uppercased() ? "letter_case" : "zero_padding"
            return (found, form)
        }
        if let value = MessageID.decimalValue(trimmed) {
            let hex = String(value, radix: 16, uppercase: true)
            if let found = awaited[hex] ?? awaited[hex.lowercased()] ?? awaited[MessageID.canonical(hex)] {
                return (found, "hex_to_decimal")
            }
        }
        if let value = MessageID.hexValue(trimmed) {
            let decimal = String(value)
            if let found = awaited[decimal] ?? awaited[MessageID.canonical(decimal)] {
                return (found, "decimal_to_hex")
            }
        }
        return nil
    }

    /// The id without spaces around it (as it is, most often, without a copy).
    static func trimmed(_ id: String) -> String {
        let bytes = id.utf8
        guard bytes.first == UInt8(ascii: " ") || bytes.last == UInt8(ascii: " ") else { return id }
        return String(id.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    /// True when ``MessageID/canonical(_:)`` would give the id back: no space, no lower-case letter, no leading 0.
    static func isCanonical(_ id: String) -> Bool {
        let bytes = id.utf8
        guard let first = bytes.first, first != UInt8(ascii: "0") || bytes.count == 1 else { return false }
        return !bytes.contains {
            $0 == UInt8(ascii: " ") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 >= 0x80
        }
    }

    // MARK: The profile

    func profile(server: String) -> ProviderProfile.SMSC {
        let sortedResponses = responses.map { command, entry in
            (
                command.name,
                ProviderProfile.Responses(
                    count: entry.count, statuses: entry.statuses, latency: entry.latency.histogram,
                    acceptedLatency: entry.acceptedLatency.histogram, errorsWithBody: entry.body,
                    errorsWithoutBody: entry.bare)
            )
        }
        let complete = longMessages.values.filter { $0.parts.count >= Int($0.total) }
        let shared = complete.filter { $0.ids.count == 1 }.count
        let longIDs =
            complete.isEmpty ? "unknown" : shared == complete.count ? "shared" : shared == 0 ? "per_part" : "mixed"
        // Receipts per part or per message: the receipts of the complete long messages that asked for one on more
        // than one part.
        let answered = complete.filter { $0.receipts > 0 && $0.asked > 1 }
        var per = "unknown"
        if !answered.isEmpty {
            if answered.allSatisfy({ $0.receipts >= $0.asked }) {
                per = "part"
            } else if answered.allSatisfy({ $0.receipts == 1 }) {
                per = "message"
            } else {
                per = "mixed"
            }
        }
        let commonest = templates.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
        let textual = templates.values.reduce(0, +) + untemplated
        var idIn = "none"
        if idInText > 0 && idInTLV > 0 {
            idIn = "both"
        } else if idInText > 0 {
            idIn = "text"
        } else if idInTLV > 0 {
            idIn = "tlv"
        }
        let idForm = idForms.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? "unknown"
        let accounts = rates.keys.sorted().compactMap { account -> ProviderProfile.Throttling.Account? in
            guard let rate = rates[account] else { return nil }
            // The commonest count (the larger of two as common); none when throttles came with nothing accepted in
            // the second before them most often (they follow another rule than a rate per second).
            let commonest = rate.atThrottle.max { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }
            let limit = commonest.flatMap { $0.key > 0 ? $0.key : nil }
            return .init(
                systemID: account, limitPerSecond: limit, peakAcceptedPerSecond: rate.peak, throttled: rate.throttled)
        }
        var counts = "unknown"
        if throttledLaterParts > 0 {
            counts = "parts"
        } else if accounts.contains(where: { account in
            guard let limit = account.limitPerSecond, let rate = rates[account.systemID] else { return false }
            return rate.beforeLaterPart.keys.contains { $0 >= limit }
        }) {
            counts = "messages"
        }
        let intervals = enquireIntervals.sorted()
        return ProviderProfile.SMSC(
            server: server, systemIDs: systemIDs.sorted(), smscSystemIDs: smscSystemIDs.sorted(),
            interfaceVersions: interfaceVersions.sorted(), sessions: sessions, messageIDs: ids.summary,
            longMessages: .init(seen: complete.count, ids: longIDs),
            receipts: .init(
                seen: receiptsSeen, linked: receiptsLinked, idIn: idIn, idForm: idForm, per: per,
                template: commonest?.key,
                templateShare: textual > 0 ? Self.share(commonest?.value ?? 0, of: textual) : 0,
                tlvs: receiptTLVs.mapValues { Self.share($0, of: receiptsSeen) }, states: states, errors: errors,
                stateShares: states.mapValues { Self.share($0, of: states.values.reduce(0, +)) },
                errorShares: errors.mapValues { Self.share($0, of: errors.values.reduce(0, +)) },
                delay: receiptDelay.histogram),
            responses: Dictionary(uniqueKeysWithValues: sortedResponses),
            throttling: .init(
                throttled: throttled, episodes: episodes, counts: throttled > 0 ? counts : "unknown",
                accounts: accounts),
            window: .init(queueFullAt: queueFullAt, queueFull: queueFull, largestAccepted: largestAccepted),
            binds: .init(
                accepted: bindsAccepted, refused: bindsRefused, mostConcurrentPerLogin: mostConcurrent,
                refusedWhileBound: refusedWhileBound, replacements: replacements, systemTypes: systemTypes),
            enquireLink: .init(
                fromESME: enquireFromESME, fromSMSC: enquireFromSMSC,
                smscIntervalSeconds: intervals.isEmpty ? nil : (intervals[intervals.count / 2] * 1000).rounded() / 1000,
                answered: enquireAnswered >= enquireFromESME),
            idle: .init(
                endedBySMSC: endedBySMSC,
                endedAfterSilenceSeconds: shortestSilence.map { ($0 * 1000).rounded() / 1000 },
                action: idleActions.max { $0.value < $1.value }?.key),
            duplicates: .init(
                refused: duplicatesRefused,
                status: duplicateStatuses.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key,
                refusedWithinSeconds: refusedWithin.map { ($0 * 1000).rounded() / 1000 },
                acceptedAgainAfterSeconds: acceptedAgainAfter.map { ($0 * 1000).rounded() / 1000 }),
            quirks: .init(
                genericNacks: genericNacks, vendorTLVs: vendorTLVs, nonStandardStatuses: nonStandardStatuses,
                departures: departures.reduce(into: [:]) { $0[$1.key.code.rawValue, default: 0] += $1.value.count }))
    }

    static func share(_ part: Int, of total: Int) -> Double {
        total > 0 ? (Double(part) / Double(total) * 10000).rounded() / 10000 : 0
    }
}

extension Array where Element == Timestamp {
    /// The index of the first time after `time` (the count of those at or before it), the array ascending.
    func firstIndex(after time: Timestamp) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] <= time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension String {
    /// Eight hex digits with 0x, as statuses and command ids are written.
    init(format8 value: UInt32) {
        self = "0x" + String(String(value, radix: 16, uppercase: true).leftPadded(to: 8))
    }

    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

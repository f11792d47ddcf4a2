// Links delivery receipts to the submits they report on, by message id in any of the forms SMSCs use.

@_spi(Lent) import SMPP

/// Accepted messages waiting for receipts, and what the receipts said.
struct ReceiptTracker {
    struct Waiting {
        var submittedAt: Int64
        /// Receipts still expected for this id (more than one for a long message with one shared id, when the
        /// SMSC sends one per part).
        var expected: Int32
        var received: Int32 = 0
        var longMessage: Bool
        /// registered_delivery asked for a receipt.
        var wanted: Bool
        /// How the submit_sm_resp wrote the id (``ReceiptIDForm``).
        var form: UInt16 = 0
        /// The account that submitted it (``accountIndex(_:)``) and its destination's prefix (``prefixIndex(_:)``).
        var account: UInt16 = 0
        var prefix: UInt16 = 0
        /// A final receipt came.
        var finalSeen = false
        /// The long message it is part of (``rollups``, from 1); 0 for none.
        var long: UInt32 = 0
    }

    /// What the receipts of one long message said.
    struct LongRollup {
        var parts: Int
        /// Receipts the message's ids expect, final receipts that came, DELIVRD ones among them.
        var expected = 0
        var finals = 0
        var delivered = 0
        var first: Finding.Evidence
    }

    /// Long messages by index (from 1), at most `maximumRollups`.
    private var rollups: [LongRollup] = []
    static let maximumRollups = 1_000_000

    /// A roll-up for the receipts of a long message; 0 when there are too many already.
    mutating func newRollup(parts: Int, first: Finding.Evidence) -> UInt32 {
        guard rollups.count < Self.maximumRollups else { return 0 }
        rollups.append(LongRollup(parts: parts, first: first))
        return UInt32(rollups.count)
    }

    /// A receipt, for evidence: plain values (no reference counting on the path of every receipt); made into a
    /// ``Finding/Evidence`` only when kept.
    struct ReceiptRef {
        var session: Int
        var sequenceNumber: UInt32
        var command: CommandID
        var time: Int64

        var evidence: Finding.Evidence {
            Finding.Evidence(
                session: session, sequenceNumber: sequenceNumber, command: command.name, time: Double(time) / 1e9)
        }
    }

    /// Accounts (by system_id) and destination prefixes (``DestinationPrefix``), each with its figures.
    private var accounts = QualityGroups<String>(first: "")
    private var prefixes = QualityGroups<UInt32>(first: 0)
    /// Receipts by ``ReceiptIDTransform`` (by its position in `allCases`).
    private var transformCounts = [Int](repeating: 0, count: ReceiptIDTransform.allCases.count)
    static let maximumAccounts = QualityGroups<String>.maximumCount
    /// Settings of the quality figures.
    var tooFastNanoseconds: Int64 = 100_000_000
    /// Figures per destination prefix are kept (``AnalysisConfiguration/destinationPrefixDigits`` above 0).
    var perPrefix = true

    /// The index of an account's figures.
    mutating func accountIndex(_ systemID: String) -> UInt16 {
        accounts.index(of: systemID)
    }

    /// The system_id of an account's index ("other" past the last one kept).
    func accountName(_ index: UInt16) -> String {
        accounts.name(at: Int(index))
    }

    /// The index of a destination prefix's figures (``DestinationPrefix/key``).
    mutating func prefixIndex(_ key: UInt32) -> UInt16 {
        prefixes.index(of: key)
    }

    /// Messages by id key, waiting for their receipt.
    private var waiting = IntegerTable(
        placeholder: Waiting(submittedAt: 0, expected: 0, longMessage: false, wanted: false))
    private var sweepCounter = 0
    /// Parts of long messages not yet all answered: (session, reference, total) -> id keys seen.
    private var longParts: [LongKey: [UInt64]] = [:]
    /// Ids of whole long messages: id key -> parts.
    private var longMessageIDs: [UInt64: Int] = [:]
    var report = ReceiptReport()
    var latency = LatencyRecorder(precision: .three)
    var mobileOriginated: Int {
        get { report.mobileOriginated }
        set { report.mobileOriginated = newValue }
    }

    struct LongKey: Hashable {
        var session: Int
        var reference: UInt16
        var total: UInt8
    }

    /// Starts loading the table slot of an id's key (``MessageID/linkKey(_:)-(UnsafeRawBufferPointer)``), before
    /// ``accepted(key:submittedAt:session:concatenation:receiptPerPart:wantsReceipt:horizon:)`` or
    /// ``received(id:key:state:err:final:at:)`` looks it up. Changes nothing (`mutating` so as to be reached in
    /// place, not copied out of the analyzer for the call).
    mutating func prefetch(_ key: UInt64) {
        waiting.prefetch(key)
    }

    /// A submit_sm_resp accepted a message whose id has this key (``MessageID/linkKey(_:)-(UnsafeRawBufferPointer)``).
    mutating func accepted(
        key: UInt64, form: ReceiptIDForm, account: UInt16 = 0, submittedAt: Int64, session: Int,
        concatenation: (reference: UInt16, total: UInt8)?, receiptPerPart: Bool, wantsReceipt: Bool, horizon: Int64,
        long: UInt32 = 0, prefix: UInt16 = 0
    ) {
        if let concatenation, concatenation.total > 1 {
            let long = LongKey(session: session, reference: concatenation.reference, total: concatenation.total)
            var keys = longParts[long] ?? []
            keys.append(key)
            if keys.count >= Int(concatenation.total) {
                longParts[long] = nil
                report.longMessages += 1
                if Set(keys).count == 1 {
                    report.longMessagesSharedID += 1
                    longMessageIDs[key] = keys.count
                } else {
                    report.longMessagesPerPartID += 1
                }
            } else {
                longParts[long] = keys
            }
        }
        if var existing = waiting[key] {
            // The same id again: a part of a long message sharing its id.
            existing.expected += receiptPerPart ? 1 : 0
            existing.longMessage = true
            if existing.long != 0, receiptPerPart, wantsReceipt { rollups[Int(existing.long) - 1].expected += 1 }
            waiting[key] = existing
        } else {
            waiting[key] = Waiting(
                submittedAt: submittedAt, expected: 1, longMessage: concatenation != nil, wanted: wantsReceipt,
                form: form.bits, account: account, prefix: prefix, long: wantsReceipt ? long : 0)
            if long != 0, wantsReceipt { rollups[Int(long) - 1].expected += 1 }
            if wantsReceipt {
                accounts.counters[Int(account)].asked += 1
                prefixes.counters[Int(prefix)].asked += 1
            }
        }
        sweepCounter += 1
        if sweepCounter >= 65_536 {
            sweepCounter = 0
            var forgotten = 0
            var notFinal: [(UInt16, UInt16)] = []
            waiting.removeAll { _, entry in
                guard entry.submittedAt < horizon else { return false }
                if entry.wanted { forgotten += 1 }
                if entry.received > 0, !entry.finalSeen { notFinal.append((entry.account, entry.prefix)) }
                return true
            }
            for (account, prefix) in notFinal {
                accounts.counters[Int(account)].notFinal += 1
                prefixes.counters[Int(prefix)].notFinal += 1
            }
            report.withoutReceipt += forgotten
        }
    }

    /// A receipt for this id arrived; `key`, when known, is the id's link key, `flags` its form's
    /// (``ReceiptIDForm/flags(_:)``), `receipt` the deliver_sm (for evidence).
    mutating func received(
        id: UnsafeRawBufferPointer, key: UInt64? = nil, flags: UInt16? = nil, state: String, err: String?,
        final: Bool, dates: ReceiptDates = ReceiptDates(), copy: Bool = false, at time: Int64, receipt: ReceiptRef
    ) {
        report.count += 1
        let stateIndex = countState(state)
        if state != "DELIVRD", let err, !err.isEmpty {
            report.errors[err, default: 0] += 1
        }
        guard !id.isEmpty, let (key, entry, transform) = lookup(id, key: key, flags: flags) else {
            // A copy of a receipt whose message is done with: a repeat (``ResendTracker``), not an unknown id.
            if copy {
                report.copies += 1
                return
            }
            report.unknownIDs += 1
            noteTransform(.unmatched, id: id, receipt: receipt)
            return
        }
        noteTransform(transform, id: id, receipt: receipt)
        report.linked += 1
        latency.record(nanoseconds: time - entry.submittedAt)
        var updated = entry
        updated.received += 1
        if final {
            let early = ReceiptDateCheck(dates: dates, submittedAt: entry.submittedAt)
            let final = FinalReceipt(
                delivered: state == "DELIVRD", state: stateIndex, err: err ?? "", latency: time - entry.submittedAt,
                firstOfMessage: !updated.finalSeen, wanted: updated.wanted, early: early, receipt: receipt)
            updated.finalSeen = true
            accounts.note(final, at: Int(updated.account), tooFast: tooFastNanoseconds)
            prefixes.note(final, at: Int(updated.prefix), tooFast: tooFastNanoseconds)
            if updated.long != 0 {
                rollups[Int(updated.long) - 1].finals += 1
                if state == "DELIVRD" { rollups[Int(updated.long) - 1].delivered += 1 }
            }
        }
        if updated.longMessage, let parts = longMessageIDs[key] {
            if updated.received == 1 { report.longMessagesOneReceipt += 1 }
            if updated.received == 2 {
                report.longMessagesOneReceipt -= 1
                report.longMessagesReceiptPerPart += 1
            }
            if updated.received >= Int32(clamping: parts) { longMessageIDs[key] = nil }
        }
        if updated.received >= updated.expected && final {
            waiting.removeValue(forKey: key)
        } else {
            waiting[key] = updated
        }
    }

    /// Receipts by final state, few distinct ones: counted in a short list (no hashing per receipt), turned into
    /// the report's dictionary at the end.
    private var stateCounts: [(state: String, count: Int)] = []

    /// Counts a receipt's state; returns its index in `stateCounts` (-1 past the first 64 states).
    @discardableResult
    private mutating func countState(_ state: String) -> Int {
        for index in stateCounts.indices where stateCounts[index].state == state {
            stateCounts[index].count += 1
            return index
        }
        if stateCounts.count < 64 {
            stateCounts.append((state, 1))
            return stateCounts.count - 1
        }
        report.stat[state, default: 0] += 1
        return -1
    }

    /// Looks an id up as written, then as the other number form (hex for decimal and back); says how the receipt
    /// wrote the response's id.
    private func lookup(_ id: UnsafeRawBufferPointer, key: UInt64?, flags: UInt16?) -> (
        UInt64, Waiting, ReceiptIDTransform
    )? {
        var primary: UInt64
        var shape = flags
        if let key {
            primary = key
        } else {
            let worked = MessageID.linkKeyAndShape(id)
            primary = worked.key
            shape = shape ?? worked.shape & 0xFF00
        }
        if let entry = waiting[primary] {
            let form = ReceiptIDForm(flags: shape ?? ReceiptIDForm.flags(id), length: id.count)
            return (primary, entry, form.difference(from: ReceiptIDForm(bits: entry.form)))
        }
        let alternatives = MessageID.alternativeLinkKeysByForm(id)
        if let key = alternatives.hexOfDecimal, let entry = waiting[key] { return (key, entry, .hexToDecimal) }
        if let key = alternatives.decimalOfHex, let entry = waiting[key] { return (key, entry, .decimalToHex) }
        return nil
    }

    /// Counts a receipt under how it wrote its id; keeps the first few that were not written alike.
    private mutating func noteTransform(
        _ transform: ReceiptIDTransform, id: UnsafeRawBufferPointer, receipt: ReceiptRef
    ) {
        transformCounts[transform.position] += 1
        guard transform != .exact else { return }
        var evidence = report.idTransformEvidence[transform] ?? []
        if evidence.count < Finding.evidenceLimit {
            evidence.append(receipt.evidence)
            report.idTransformEvidence[transform] = evidence
        }
        if report.idTransformExample[transform] == nil {
            report.idTransformExample[transform] = String(decoding: id, as: UTF8.self)
        }
    }

    /// Closes the books: messages still waiting had no receipt; those submitted after `pendingAfter` (capture
    /// time) are too young to say.
    mutating func finish(pendingAfter: Int64 = .max) -> ReceiptReport {
        for (_, entry) in waiting.entries {
            if entry.wanted, !entry.finalSeen, entry.submittedAt > pendingAfter {
                accounts.counters[Int(entry.account)].pending += 1
                prefixes.counters[Int(entry.prefix)].pending += 1
            }
            if entry.received > 0, !entry.finalSeen {
                accounts.counters[Int(entry.account)].notFinal += 1
                prefixes.counters[Int(entry.prefix)].notFinal += 1
            }
        }
        var partly: [LongRollup] = []
        for rollup in rollups {
            if rollup.finals == 0 {
                report.longMessageReceipts.unknown += 1
            } else if rollup.delivered >= rollup.expected {
                report.longMessageReceipts.allDelivered += 1
            } else if rollup.delivered == 0 {
                report.longMessageReceipts.noneDelivered += 1
            } else {
                report.longMessageReceipts.someDelivered += 1
                if partly.count < Finding.evidenceLimit { partly.append(rollup) }
            }
        }
        report.longMessageReceipts.partlyDelivered = partly.map {
            PartlyDelivered(parts: $0.parts, receipts: $0.expected, delivered: $0.delivered, first: $0.first)
        }
        report.accounts = accounts.qualities(states: stateCounts) { $0 }
        if perPrefix { report.prefixes = prefixes.qualities(states: stateCounts) { DestinationPrefix.name(ofKey: $0) } }
        for transform in ReceiptIDTransform.allCases where transformCounts[transform.position] > 0 {
            report.idTransforms[transform] = transformCounts[transform.position]
        }
        report.withoutReceipt += waiting.entries.filter(\.value.wanted).count
        for (state, count) in stateCounts { report.stat[state, default: 0] += count }
        stateCounts = []
        report.latency = latency.summary
        return report
    }
}

// Links delivery receipts to the submits they report on, by message id in any of the forms SMSCs use.

import SMPP

/// Accepted messages waiting for receipts, and what the receipts said.
struct ReceiptTracker {
    struct Waiting {
        var submittedAt: Int64
        var session: Int
        /// Receipts still expected for this id (more than one for a long message with one shared id, when the
        /// SMSC sends one per part).
        var expected: Int
        var received = 0
        var longMessage: Bool
        /// registered_delivery asked for a receipt.
        var wanted: Bool
    }

    /// Messages by id key, waiting for their receipt.
    private var waiting: [UInt64: Waiting] = [:]
    private var sweepCounter = 0
    /// Parts of long messages not yet all answered: (session, reference, total) -> ids seen.
    private var longParts: [LongKey: [String]] = [:]
    /// Ids of whole long messages: id key -> parts.
    private var longMessageIDs: [UInt64: Int] = [:]
    var report = ReceiptReport()
    var latency = LatencyRecorder()
    var mobileOriginated: Int {
        get { report.mobileOriginated }
        set { report.mobileOriginated = newValue }
    }

    struct LongKey: Hashable {
        var session: Int
        var reference: UInt16
        var total: UInt8
    }

    /// A submit_sm_resp accepted a message.
    mutating func accepted(
        messageID: String, submittedAt: Int64, session: Int, concatenation: (reference: UInt16, total: UInt8)?,
        receiptPerPart: Bool, wantsReceipt: Bool, horizon: Int64
    ) {
        let key = Self.key(MessageID.canonical(messageID))
        if let concatenation, concatenation.total > 1 {
            let long = LongKey(session: session, reference: concatenation.reference, total: concatenation.total)
            var ids = longParts[long] ?? []
            ids.append(messageID)
            if ids.count >= Int(concatenation.total) {
                longParts[long] = nil
                report.longMessages += 1
                let distinct = Set(ids.map(MessageID.canonical))
                if distinct.count == 1 {
                    report.longMessagesSharedID += 1
                    longMessageIDs[key] = ids.count
                } else {
                    report.longMessagesPerPartID += 1
                }
            } else {
                longParts[long] = ids
            }
        }
        if var existing = waiting[key] {
            // The same id again: a part of a long message sharing its id.
            existing.expected += receiptPerPart ? 1 : 0
            existing.longMessage = true
            waiting[key] = existing
        } else {
            waiting[key] = Waiting(
                submittedAt: submittedAt, session: session, expected: 1, longMessage: concatenation != nil, wanted: wantsReceipt)
        }
        sweepCounter += 1
        if sweepCounter >= 65_536 {
            sweepCounter = 0
            report.withoutReceipt += waiting.values.filter { $0.submittedAt < horizon && $0.wanted }.count
            waiting = waiting.filter { $0.value.submittedAt >= horizon }
        }
    }

    /// A receipt arrived.
    mutating func received(_ receipt: DeliveryReceipt, at time: Int64, session: Int) {
        report.count += 1
        let state = receipt.state ?? "UNKNOWN"
        report.stat[state, default: 0] += 1
        if state != "DELIVRD", let err = receipt.err, !err.isEmpty {
            report.errors[err, default: 0] += 1
        }
        guard let id = receipt.messageID, !id.isEmpty, let (key, entry) = lookup(id) else {
            report.unknownIDs += 1
            return
        }
        report.linked += 1
        latency.record(nanoseconds: time - entry.submittedAt)
        var updated = entry
        updated.received += 1
        if updated.longMessage, let parts = longMessageIDs[key] {
            if updated.received == 1 { report.longMessagesOneReceipt += 1 }
            if updated.received == 2 {
                report.longMessagesOneReceipt -= 1
                report.longMessagesReceiptPerPart += 1
            }
            if updated.received >= parts { longMessageIDs[key] = nil }
        }
        if updated.received >= updated.expected && receipt.isFinal {
            waiting[key] = nil
        } else {
            waiting[key] = updated
        }
    }

    /// Looks an id up as written, then as the other number form (hex for decimal and back).
    private func lookup(_ id: String) -> (UInt64, Waiting)? {
        let canonical = MessageID.canonical(id)
        let primary = Self.key(canonical)
        if let entry = waiting[primary] { return (primary, entry) }
        if let decimal = MessageID.decimalValue(canonical) {
            let asHex = Self.key(MessageID.canonical(String(decimal, radix: 16, uppercase: true)))
            if let entry = waiting[asHex] { return (asHex, entry) }
        }
        if let hex = MessageID.hexValue(canonical) {
            let asDecimal = Self.key(String(hex))
            if let entry = waiting[asDecimal] { return (asDecimal, entry) }
        }
        return nil
    }

    /// A compact key for a canonical id: the number itself for decimal ids, a hash otherwise.
    static func key(_ canonical: String) -> UInt64 {
        if canonical.utf8.count <= 18, let number = UInt64(canonical) { return number }
        var hasher = Hasher()
        hasher.combine(canonical)
        return UInt64(bitPattern: Int64(hasher.finalize())) | (1 << 63)
    }

    /// Closes the books: messages still waiting had no receipt.
    mutating func finish() -> ReceiptReport {
        report.withoutReceipt += waiting.values.filter(\.wanted).count
        report.latency = latency.summary
        return report
    }
}

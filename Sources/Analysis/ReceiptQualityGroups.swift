// Receipt figures per group of messages (an account, a destination prefix): coverage, speed, sameness, dates.

import SMPP

/// One group's receipt figures while the input is read: plain counters (``ReceiptQuality`` at the end).
struct QualityCounters {
    var asked = 0
    var pending = 0
    var final = 0
    var notFinal = 0
    var linkedFinal = 0
    var delivered = 0
    var tooFast = 0
    /// The first final state (its index in the tracker's state counts) and whether others came.
    var firstState = -1
    var stateVaried = false
    var errorVaried = false
    var minimumLatency = Int64.max
    var maximumLatency = Int64.min
    /// Final receipts whose dates could be compared with the submit, those done before it, those done before the
    /// submit date they give themselves, and the most any was early by (seconds).
    var datesChecked = 0
    var doneEarly = 0
    var doneEarlyOwnDate = 0
    var earliestBy: Int64 = 0
}

/// A final receipt linked to its submit, as the groups count it.
struct FinalReceipt {
    var delivered: Bool
    /// Its state's index among the tracker's state counts (-1 past them).
    var state: Int
    var err: String
    /// Nanoseconds from the submit (capture time).
    var latency: Int64
    /// The message's first final receipt (a long message with one id may get one per part).
    var firstOfMessage: Bool
    /// The submit asked for a receipt.
    var wanted: Bool
    var early: ReceiptDateCheck
    var receipt: ReceiptTracker.ReceiptRef
}

/// Whether a receipt says it was done before its message was submitted.
///
/// Receipt dates have no time zone: the SMSC writes its own clock, often its local time. A receipt's done date is
/// compared with the submit date it gives itself, and with the submit as captured, read in the time zone that
/// the receipt's submit date shows (its distance from the captured submit, rounded to a quarter of an hour). A
/// done date is a minute long (`YYMMDDhhmm`), so it is early when it ends more than a minute before the captured
/// submit's own minute: an SMSC clock more than about a minute behind shows, a coarse date does not.
struct ReceiptDateCheck {
    /// Both dates were there to compare.
    var checked = false
    /// Seconds the done date is early by; 0 when it is not early.
    var earlyBy: Int64 = 0
    /// Early against the receipt's own submit date (else against the captured submit).
    var againstOwnDate = false

    init() {}

    init(dates: ReceiptDates, submittedAt nanoseconds: Int64) {
        guard let done = dates.done, let submit = dates.submit else { return }
        checked = true
        if done < submit {
            earlyBy = submit - done
            againstOwnDate = true
            return
        }
        let captured = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds + 1) / 1_000_000_000 - 1
        let quarter: Int64 = 900
        let distance = submit - captured
        let zone = (distance >= 0 ? distance + quarter / 2 : distance - quarter / 2) / quarter * quarter
        let resolution = max(1, dates.doneResolution)
        let remainder = captured % resolution
        let capturedStep = captured - (remainder < 0 ? remainder + resolution : remainder)
        let doneThere = done - zone
        if doneThere < capturedStep - 60 { earlyBy = capturedStep - doneThere }
    }
}

/// Groups of messages, each with its receipt figures: at most ``maximumCount``, the last standing for all the
/// rest ("other").
struct QualityGroups<Key: Hashable> {
    static var maximumCount: Int { 4_096 }
    private var keys: [Key]
    private var indices: [Key: UInt16]
    var counters: [QualityCounters] = [QualityCounters()]
    /// Per group: the first final receipt's error, and the first few too-fast and early receipts.
    private var firstErrors: [String?] = [nil]
    private var tooFastEvidence: [[Finding.Evidence]] = [[]]
    private var earlyEvidence: [[Finding.Evidence]] = [[]]

    /// Groups with `first` at index 0 (the one messages belong to before any other is named).
    init(first: Key) {
        keys = [first]
        indices = [first: 0]
    }

    /// The index of a group's figures, made when new.
    mutating func index(of key: Key) -> UInt16 {
        if let index = indices[key] { return index }
        guard keys.count < Self.maximumCount else { return UInt16(Self.maximumCount - 1) }
        let index = UInt16(keys.count)
        keys.append(key)
        counters.append(QualityCounters())
        firstErrors.append(nil)
        tooFastEvidence.append([])
        earlyEvidence.append([])
        indices[key] = index
        return index
    }

    /// The key of the group at `index`.
    func name(at index: Int) -> Key { keys[min(index, keys.count - 1)] }

    /// Counts a final receipt of a message of the group at `index`.
    mutating func note(_ final: FinalReceipt, at index: Int, tooFast: Int64) {
        let isTooFast = final.delivered && final.latency < tooFast
        counters.withUnsafeMutableBufferPointer { all in
            var counters = all[index]
            counters.linkedFinal += 1
            if final.delivered {
                counters.delivered += 1
                if isTooFast { counters.tooFast += 1 }
            }
            counters.minimumLatency = min(counters.minimumLatency, final.latency)
            counters.maximumLatency = max(counters.maximumLatency, final.latency)
            if counters.firstState == -1, counters.linkedFinal == 1 {
                counters.firstState = final.state
            } else if final.state != counters.firstState {
                counters.stateVaried = true
            }
            if final.firstOfMessage, final.wanted { counters.final += 1 }
            if final.early.checked {
                counters.datesChecked += 1
                if final.early.earlyBy > 0 {
                    counters.doneEarly += 1
                    if final.early.againstOwnDate { counters.doneEarlyOwnDate += 1 }
                    counters.earliestBy = max(counters.earliestBy, final.early.earlyBy)
                }
            }
            all[index] = counters
        }
        if isTooFast, tooFastEvidence[index].count < Finding.evidenceLimit {
            tooFastEvidence[index].append(final.receipt.evidence)
        }
        if final.early.earlyBy > 0, earlyEvidence[index].count < Finding.evidenceLimit {
            earlyEvidence[index].append(final.receipt.evidence)
        }
        if let first = firstErrors[index] {
            if !counters[index].errorVaried, first != final.err { counters[index].errorVaried = true }
        } else {
            firstErrors[index] = final.err
        }
    }

    /// The figures of every group that has any, named by `name` (the last group "other" when groups ran out).
    func qualities(states: [(state: String, count: Int)], name: (Key) -> String) -> [ReceiptQuality] {
        var qualities: [ReceiptQuality] = []
        for (index, counters) in counters.enumerated()
        where counters.asked > 0 || counters.linkedFinal > 0 || counters.notFinal > 0 {
            var quality = ReceiptQuality(account: index == Self.maximumCount - 1 ? "other" : name(keys[index]))
            quality.asked = counters.asked
            quality.pending = counters.pending
            quality.final = counters.final
            quality.notFinal = counters.notFinal
            quality.linkedFinal = counters.linkedFinal
            quality.delivered = counters.delivered
            quality.tooFast = counters.tooFast
            quality.tooFastEvidence = tooFastEvidence[index]
            quality.datesChecked = counters.datesChecked
            quality.doneBeforeSubmit = counters.doneEarly
            quality.doneBeforeOwnSubmitDate = counters.doneEarlyOwnDate
            quality.earliestBySeconds = counters.earliestBy
            quality.doneBeforeSubmitEvidence = earlyEvidence[index]
            if counters.linkedFinal > 0 {
                quality.minimumLatencyMs = Double(counters.minimumLatency) / 1e6
                quality.maximumLatencyMs = Double(counters.maximumLatency) / 1e6
                if !counters.stateVaried, counters.firstState >= 0, counters.firstState < states.count {
                    quality.onlyState = states[counters.firstState].state
                }
                if !counters.errorVaried { quality.onlyError = firstErrors[index] }
            }
            qualities.append(quality)
        }
        return qualities
    }
}

/// The first digits of a destination address, to group messages by country and network.
public enum DestinationPrefix {
    /// The key of an address's first `digits` leading digits (after a "+"): their count in the top byte and their
    /// value below; fewer when fewer digits lead. 0 when none does (an alphanumeric address, an empty one). The
    /// key of fewer digits is the same as the shortened one of more (``shortened(_:to:)``).
    static func key(of address: UnsafeRawBufferPointer, digits: Int) -> UInt32 {
        var index = 0
        if index < address.count, address[index] == UInt8(ascii: "+") { index += 1 }
        var value: UInt32 = 0
        var count: UInt32 = 0
        while index < address.count, count < UInt32(digits) {
            // The leading digits only: anything else (a NUL ending a C-octet string, a letter) ends them.
            let digit = address[index] &- 0x30
            guard digit < 10 else { break }
            value = value * 10 + UInt32(digit)
            count += 1
            index += 1
        }
        return count == 0 ? 0 : count << 24 | value
    }

    /// The key of the first `digits` digits of a key of more.
    static func shortened(_ key: UInt32, to digits: Int) -> UInt32 {
        let count = Int(key >> 24)
        guard count > digits else { return key }
        var value = key & 0xFF_FFFF
        for _ in digits..<count { value /= 10 }
        return UInt32(digits) << 24 | value
    }

    /// The prefix a key stands for ("7701"), or "non-numeric".
    static func name(ofKey key: UInt32) -> String {
        let count = Int(key >> 24)
        guard count > 0 else { return "non-numeric" }
        let digits = String(key & 0xFF_FFFF)
        return String(repeating: "0", count: max(0, count - digits.count)) + digits
    }

    /// Prefixes longer than this are not kept (six digits cover a country and network code).
    public static let maximumDigits = 6
}

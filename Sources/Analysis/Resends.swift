// Why a message was sent twice: each repeat of a submit_sm (same account, addresses and octets) and of a receipt
// (same id and state) within the duplicate window, given the cause its earlier copy's fate shows.

/// Why a request came again.
public enum ResendCause: String, Hashable, Sendable, CaseIterable {
    /// The earlier copy was answered, but only after the repeat was sent: the sender gave up waiting (its timeout
    /// is estimated) although the answer was coming.
    case lateResponse = "late_response"
    /// The earlier copy was never answered in the capture.
    case noResponse = "no_response"
    /// The earlier copy was refused with ESME_RTHROTTLED or ESME_RMSGQFUL: a resend as the SMSC asked.
    case throttledResend = "throttled_resend"
    /// Sent again on a new bind, after the earlier copy's connection closed.
    case reconnectResend = "reconnect_resend"
    /// Sent again although the earlier copy was answered in time: nothing in the traffic explains it.
    case clientRepeat = "client_repeat"
    /// A receipt sent again by the SMSC although the client answered the earlier one in time.
    case smscRepeat = "smsc_repeat"
}

/// One kind of repeat (submits or receipts) per cause: how many, the first few, the estimated timeout.
public struct ResendCauses: Hashable, Sendable {
    public var counts: [ResendCause: Int] = [:]
    /// The first repeats of each cause (the repeating PDU).
    public var evidence: [ResendCause: [Finding.Evidence]] = [:]
    /// For late responses: the shortest and longest wait before a repeat (seconds), the sender's timeout lies in
    /// between or just under the shortest.
    public var lateWaitMinimum: Double?
    public var lateWaitMaximum: Double?

    public init() {}

    public var total: Int { counts.values.reduce(0, +) }
}

/// Follows the copies of each message (by key) for their repeats. Entries older than the window are swept.
///
/// Kept small (24 bytes a message, one table for every message of the window): what a repeat is judged by is the
/// latest copy's time, session and fate; the rare repeats that wait for an earlier copy's answer are kept apart.
struct ResendTracker {
    /// The latest copy of a message.
    struct Entry {
        /// When the latest copy was sent, and when the last accepted copy was (0 for none).
        var time: Int64
        var acceptedAt: Int64 = 0
        var session: Int32
        /// 0 unanswered, 1 accepted, 2 throttled or queue full, 3 refused otherwise.
        var outcome: UInt8 = 0
        /// Repeats wait in `waiting` for an earlier copy's answer.
        var waited = false
    }

    /// Repeats sent while an earlier copy was unanswered: judged when it is answered, or never is.
    struct Waiting {
        /// The earlier copy: when it was sent, on which session.
        var earlier: Int64
        var session: Int32
        var repeats: Int
        /// The first repeat (evidence, and the wait before it).
        var first: Finding.Evidence
        var firstTime: Int64
    }

    private var entries = IntegerTable(placeholder: Entry(time: 0, session: 0))
    private var waiting: [UInt64: Waiting] = [:]
    private var sweepCounter = 0
    var causes = ResendCauses()
    /// Repeats are looked for within this many nanoseconds of the latest copy.
    var window: Int64 = 60_000_000_000
    /// A command name for evidence (submit_sm or deliver_sm).
    let command: String
    /// The cause given to repeats of an answered copy (client_repeat for submits, smsc_repeat for receipts).
    let unexplained: ResendCause
    /// Messages waiting for an earlier copy's answer, at most (more are judged at once as unanswered).
    static let maximumWaiting = 100_000

    init(command: String, unexplained: ResendCause) {
        self.command = command
        self.unexplained = unexplained
    }

    /// Starts loading the table slot of `key` (changes nothing).
    mutating func prefetch(_ key: UInt64) {
        entries.prefetch(key)
    }

    /// A copy of the message `key` was sent; `ended(session)` gives when a session's connection closed, if it did.
    /// Returns when the last accepted copy before it was sent, if one was.
    @discardableResult
    mutating func sent(
        key: UInt64, session: Int, sequence: UInt32, at time: Int64, ended: (Int) -> Int64?
    ) -> Int64? {
        sweep(now: time)
        let current = Int32(truncatingIfNeeded: session)
        let existing = entries[key]
        let acceptedAt = existing.flatMap { $0.acceptedAt == 0 ? nil : $0.acceptedAt }
        guard var entry = existing, time - entry.time < window else {
            var fresh = Entry(time: time, session: current)
            fresh.acceptedAt = existing?.acceptedAt ?? 0
            entries[key] = fresh
            return acceptedAt
        }
        let evidence = Finding.Evidence(
            session: session, sequenceNumber: sequence, command: command, time: Double(time) / 1e9)
        let earlierClosed = entry.session != current && (ended(Int(entry.session)).map { $0 <= time } ?? false)
        switch entry.outcome {
        case 3:
            // Refused for good: the repeat is a new try, not a second copy.
            break
        case 2:
            note(.throttledResend, evidence)
        case 1:
            note(earlierClosed ? .reconnectResend : unexplained, evidence)
        default:
            if earlierClosed {
                note(.reconnectResend, evidence)
            } else if entry.waited, var waits = waiting[key] {
                // Another repeat while the earlier copy still waits: judged with it.
                waits.repeats += 1
                waiting[key] = waits
            } else if waiting.count < Self.maximumWaiting {
                waiting[key] = Waiting(
                    earlier: entry.time, session: entry.session, repeats: 1, first: evidence, firstTime: time)
                entry.waited = true
            } else {
                note(.noResponse, evidence)
            }
        }
        entry.time = time
        entry.session = current
        entry.outcome = 0
        entries[key] = entry
        return acceptedAt
    }

    /// The copy of `key` sent at `requestTime` on `session` was answered at `time`: accepted, throttled (or queue
    /// full), or refused.
    mutating func answered(key: UInt64, requestTime: Int64, session: Int, outcome: UInt8, at time: Int64) {
        guard var entry = entries[key] else { return }
        if entry.waited, let waits = waiting[key], waits.earlier == requestTime,
            waits.session == Int32(truncatingIfNeeded: session)
        {
            // The earlier copy's answer, after its repeats.
            if outcome == 1 {
                let wait = Double(waits.firstTime - requestTime) / 1e9
                causes.lateWaitMinimum = min(causes.lateWaitMinimum ?? wait, wait)
                causes.lateWaitMaximum = max(causes.lateWaitMaximum ?? wait, wait)
                note(.lateResponse, waits.first, count: waits.repeats)
            } else if outcome == 2 {
                note(.throttledResend, waits.first, count: waits.repeats)
            }
            waiting[key] = nil
            entry.waited = false
        }
        if outcome == 1 { entry.acceptedAt = max(entry.acceptedAt, requestTime) }
        if entry.time == requestTime { entry.outcome = outcome }
        entries[key] = entry
    }

    /// The end of the input: repeats still waiting for an earlier copy's answer had none.
    mutating func finish() {
        // In the order the repeats came (the table's order is not the input's).
        for waits in waiting.values.sorted(by: { ($0.firstTime, $0.first.session) < ($1.firstTime, $1.first.session) })
        {
            note(.noResponse, waits.first, count: waits.repeats)
        }
        waiting = [:]
        entries.removeAll { _, _ in true }
    }

    private mutating func note(_ cause: ResendCause, _ evidence: Finding.Evidence, count: Int = 1) {
        causes.counts[cause, default: 0] += count
        if causes.evidence[cause, default: []].count < Finding.evidenceLimit {
            causes.evidence[cause, default: []].append(evidence)
        }
    }

    /// Every 65,536 copies, forgets messages whose latest copy (and last accepted one) is older than the window;
    /// repeats still waiting on an unanswered copy then had no answer within it.
    private mutating func sweep(now: Int64) {
        sweepCounter += 1
        guard sweepCounter >= 65_536 else { return }
        sweepCounter = 0
        let horizon = now - window
        var unanswered: [UInt64] = []
        entries.removeAll { key, entry in
            guard entry.time < horizon, entry.acceptedAt < horizon else { return false }
            if entry.waited { unanswered.append(key) }
            return true
        }
        let waits = unanswered.compactMap { waiting.removeValue(forKey: $0) }
        for waits in waits.sorted(by: { ($0.firstTime, $0.first.session) < ($1.firstTime, $1.first.session) }) {
            note(.noResponse, waits.first, count: waits.repeats)
        }
    }
}

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
/// Kept small, one 16-byte slot a message (every message of the window is in it): the latest copy's time and fate
/// packed in one word (``Copy``); when the last accepted copy was, for the duplicate rule, in a second table of
/// accepted messages only; the rare repeats that wait for an earlier copy's answer apart.
struct ResendTracker {
    /// The latest copy of a message, in one word: its time in nanoseconds with the low 3 bits taken by its fate
    /// (bits 0-1: 0 unanswered, 1 accepted, 2 throttled or queue full, 3 refused otherwise) and by bit 2, set when
    /// repeats wait for it in `waiting`. Times compare to 8 ns.
    struct Copy {
        var word: UInt64

        init(time: Int64) { word = UInt64(bitPattern: time) & ~7 }
        init(word: UInt64) { self.word = word }

        var time: Int64 { Int64(bitPattern: word & ~7) }
        var outcome: UInt8 {
            get { UInt8(word & 3) }
            set { word = word & ~3 | UInt64(newValue & 3) }
        }
        var waited: Bool {
            get { word & 4 != 0 }
            set { word = newValue ? word | 4 : word & ~4 }
        }
        /// True when `time` is this copy's (to 8 ns).
        func isAt(_ time: Int64) -> Bool { UInt64(bitPattern: time) & ~7 == word & ~7 }
    }

    /// Repeats sent while an earlier copy was unanswered: judged when it is answered, or never is.
    struct Waiting {
        /// When the earlier copy was sent.
        var earlier: Int64
        var repeats: Int
        /// The first repeat (evidence, and the wait before it).
        var first: Finding.Evidence
        var firstTime: Int64
    }

    private var copies = IntegerTable<UInt64>()
    /// Message key -> when its last accepted copy was sent (the duplicate rule); kept when `tracksAccepted`.
    private var accepted = IntegerTable<Int64>()
    private var waiting: [UInt64: Waiting] = [:]
    private var sweepCounter = 0
    var causes = ResendCauses()
    /// Repeats are looked for within this many nanoseconds of the latest copy.
    var window: Int64 = 60_000_000_000
    /// A command name for evidence (submit_sm or deliver_sm).
    let command: String
    /// The cause given to repeats of an answered copy (client_repeat for submits, smsc_repeat for receipts).
    let unexplained: ResendCause
    /// Whether the last accepted copy of each message is kept (``sent(key:session:sequence:at:sessionStart:)``
    /// returns it).
    let tracksAccepted: Bool
    /// Messages waiting for an earlier copy's answer, at most (more are judged at once as unanswered).
    static let maximumWaiting = 100_000

    init(command: String, unexplained: ResendCause, tracksAccepted: Bool) {
        self.command = command
        self.unexplained = unexplained
        self.tracksAccepted = tracksAccepted
    }

    /// Starts loading the table slots of `key` (changes nothing).
    mutating func prefetch(_ key: UInt64) {
        copies.prefetch(key)
        if tracksAccepted { accepted.prefetch(key) }
    }

    /// A copy of the message `key` was sent at `time` on a session that began at `sessionStart` (a copy sent
    /// before it was on another connection: a repeat on a new bind). Returns when the last accepted copy before it
    /// was sent, if one was (and `tracksAccepted`).
    @discardableResult
    mutating func sent(key: UInt64, session: Int, sequence: UInt32, at time: Int64, sessionStart: Int64) -> Int64? {
        sweep(now: time)
        let acceptedAt = tracksAccepted ? accepted[key] : nil
        guard let word = copies[key], case var copy = Copy(word: word), time - copy.time < window else {
            copies[key] = Copy(time: time).word
            return acceptedAt
        }
        let evidence = Finding.Evidence(
            session: session, sequenceNumber: sequence, command: command, time: Double(time) / 1e9)
        let newBind = sessionStart > copy.time
        switch copy.outcome {
        case 3:
            // Refused for good: the repeat is a new try, not a second copy.
            break
        case 2:
            note(.throttledResend, evidence)
        case 1:
            note(newBind ? .reconnectResend : unexplained, evidence)
        default:
            if newBind {
                note(.reconnectResend, evidence)
            } else if copy.waited, var waits = waiting[key] {
                // Another repeat while the earlier copy still waits: judged with it.
                waits.repeats += 1
                waiting[key] = waits
            } else if waiting.count < Self.maximumWaiting {
                waiting[key] = Waiting(earlier: copy.time, repeats: 1, first: evidence, firstTime: time)
            } else {
                note(.noResponse, evidence)
            }
        }
        // Repeats may still wait on an earlier copy (this one's, or one before).
        let waited = (copy.waited || copy.outcome == 0) && waiting[key] != nil
        copy = Copy(time: time)
        copy.waited = waited
        copies[key] = copy.word
        return acceptedAt
    }

    /// The copy of `key` sent at `requestTime` was answered at `time`: accepted, throttled (or queue full), or
    /// refused.
    mutating func answered(key: UInt64, requestTime: Int64, outcome: UInt8, at time: Int64) {
        if outcome == 1, tracksAccepted { accepted[key] = max(accepted[key] ?? 0, requestTime) }
        guard let word = copies[key] else { return }
        var copy = Copy(word: word)
        if copy.waited, let waits = waiting[key], Copy(time: waits.earlier).isAt(requestTime) {
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
            copy.waited = false
        }
        if copy.isAt(requestTime) { copy.outcome = outcome }
        copies[key] = copy.word
    }

    /// The end of the input: repeats still waiting for an earlier copy's answer had none.
    mutating func finish() {
        // In the order the repeats came (the table's order is not the input's).
        for waits in waiting.values.sorted(by: { ($0.firstTime, $0.first.session) < ($1.firstTime, $1.first.session) })
        {
            note(.noResponse, waits.first, count: waits.repeats)
        }
        waiting = [:]
        copies = IntegerTable()
        accepted = IntegerTable()
    }

    private mutating func note(_ cause: ResendCause, _ evidence: Finding.Evidence, count: Int = 1) {
        causes.counts[cause, default: 0] += count
        if causes.evidence[cause, default: []].count < Finding.evidenceLimit {
            causes.evidence[cause, default: []].append(evidence)
        }
    }

    /// Every 65,536 copies, or as many as the table holds when it holds more (a pass over it costs as much),
    /// forgets messages whose latest copy (and last accepted one) is older than the window; repeats still waiting
    /// on an unanswered copy then had no answer within it.
    private mutating func sweep(now: Int64) {
        sweepCounter += 1
        guard sweepCounter >= max(65_536, copies.count) else { return }
        sweepCounter = 0
        let horizon = now - window
        var unanswered: [UInt64] = []
        copies.removeAll { key, word in
            let copy = Copy(word: word)
            guard copy.time < horizon else { return false }
            if copy.waited { unanswered.append(key) }
            return true
        }
        if tracksAccepted { accepted.removeAll { $1 < horizon } }
        let waits = unanswered.compactMap { waiting.removeValue(forKey: $0) }
        for waits in waits.sorted(by: { ($0.firstTime, $0.first.session) < ($1.firstTime, $1.first.session) }) {
            note(.noResponse, waits.first, count: waits.repeats)
        }
    }
}

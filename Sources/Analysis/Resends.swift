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

/// Follows the copies of each message (by key) for their repeats.
///
/// What a repeat is judged by lives in three tables, two of them small: the copies still unanswered (removed
/// when answered: as many as are outstanding), the copies refused and not sent again yet, and when the last
/// accepted copy of each message was sent (the duplicate rule's table, swept past the window). The rare repeats
/// that wait for an earlier copy's answer are kept apart.
struct ResendTracker {
    /// Unanswered copies of a message, in one word: the latest one's time in nanoseconds with its low 8 bits
    /// holding how many there are (at most 255 counted). Times compare to 256 ns.
    struct Pending {
        var word: UInt64

        init(time: Int64, count: Int) {
            word = UInt64(bitPattern: time) & ~0xFF | UInt64(min(255, max(0, count)))
        }
        init(word: UInt64) { self.word = word }

        var time: Int64 { Int64(bitPattern: word & ~0xFF) }
        var count: Int { Int(word & 0xFF) }
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

    private var pending = IntegerTable<UInt64>()
    /// Message key -> when its latest copy was refused, bit 0 set for a throttle (ESME_RTHROTTLED, ESME_RMSGQFUL),
    /// until it is sent again.
    private var refused = IntegerTable<UInt64>()
    /// Message key -> when its last accepted copy was sent.
    private var accepted = IntegerTable<Int64>()
    private var waiting: [UInt64: Waiting] = [:]
    private var sweepCounter = 0
    var causes = ResendCauses()
    /// Repeats are looked for within this many nanoseconds of the earlier copy.
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

    /// Starts loading the table slots of `key` (changes nothing).
    mutating func prefetch(_ key: UInt64) {
        accepted.prefetch(key)
    }

    /// What ``sent(key:session:sequence:at:sessionStart:)`` found.
    struct Sent {
        /// When the last accepted copy before this one was sent, if one was.
        var acceptedAt: Int64?
        /// A copy was sent within the window before.
        var repeated: Bool
    }

    /// A copy of the message `key` was sent at `time` on a session that began at `sessionStart` (a copy sent
    /// before it was on another connection: a repeat on a new bind).
    @discardableResult
    mutating func sent(key: UInt64, session: Int, sequence: UInt32, at time: Int64, sessionStart: Int64) -> Sent {
        sweep(now: time)
        let acceptedAt = accepted[key]
        var cause: ResendCause?
        var repeated = true
        let earlier = pending[key].map(Pending.init(word:))
        if let earlier, time - earlier.time < window {
            if sessionStart > earlier.time {
                cause = .reconnectResend
            } else if var waits = waiting[key] {
                // Another repeat while the earlier copy still waits: judged with it.
                waits.repeats += 1
                waiting[key] = waits
            } else if waiting.count < Self.maximumWaiting {
                waiting[key] = Waiting(
                    earlier: earlier.time, repeats: 1, first: evidence(session, sequence, time), firstTime: time)
            } else {
                cause = .noResponse
            }
        } else if let word = refused.removeValue(forKey: key), time - Int64(bitPattern: word & ~1) < window {
            // Refused with a throttle: sent again as asked. Refused for good: a new try, with no cause.
            if word & 1 != 0 { cause = .throttledResend }
        } else if let acceptedAt, time - acceptedAt < window {
            cause = sessionStart > acceptedAt ? .reconnectResend : unexplained
        } else {
            repeated = false
        }
        pending[key] = Pending(time: time, count: (earlier?.count ?? 0) + 1).word
        if let cause { note(cause, evidence(session, sequence, time)) }
        return Sent(acceptedAt: acceptedAt, repeated: repeated)
    }

    private func evidence(_ session: Int, _ sequence: UInt32, _ time: Int64) -> Finding.Evidence {
        Finding.Evidence(session: session, sequenceNumber: sequence, command: command, time: Double(time) / 1e9)
    }

    /// The copy of `key` sent at `requestTime` was answered at `time`: accepted (1), throttled or queue full (2),
    /// or refused (3).
    mutating func answered(key: UInt64, requestTime: Int64, outcome: UInt8, at time: Int64) {
        if let word = pending[key] {
            let copies = Pending(word: word)
            if copies.count <= 1 {
                pending.removeValue(forKey: key)
            } else {
                pending[key] = Pending(time: copies.time, count: copies.count - 1).word
            }
        }
        if !waiting.isEmpty, let waits = waiting[key], Pending(time: requestTime, count: 0).time == waits.earlier {
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
        }
        switch outcome {
        case 1:
            // One look-up: a later accepted copy answered first keeps its time.
            if let later = accepted.updateValue(requestTime, forKey: key), later > requestTime {
                accepted[key] = later
            }
        // When, and (bit 0) whether by a throttle.
        case 2: refused[key] = UInt64(bitPattern: time) | 1
        default: refused[key] = UInt64(bitPattern: time) & ~1
        }
    }

    /// The end of the input: repeats still waiting for an earlier copy's answer had none.
    mutating func finish() {
        // In the order the repeats came (the table's order is not the input's).
        for waits in waiting.values.sorted(by: { ($0.firstTime, $0.first.session) < ($1.firstTime, $1.first.session) })
        {
            note(.noResponse, waits.first, count: waits.repeats)
        }
        waiting = [:]
        pending = IntegerTable()
        refused = IntegerTable()
        accepted = IntegerTable()
    }

    private mutating func note(_ cause: ResendCause, _ evidence: Finding.Evidence, count: Int = 1) {
        causes.counts[cause, default: 0] += count
        if causes.evidence[cause, default: []].count < Finding.evidenceLimit {
            causes.evidence[cause, default: []].append(evidence)
        }
    }

    /// Every 65,536 copies, or half as many as the tables hold when they hold more (a pass costs as much), forgets
    /// what is older than the window; repeats still waiting on an unanswered copy then had no answer within it.
    private mutating func sweep(now: Int64) {
        sweepCounter += 1
        // Half the entries in copies since the last pass: while the tables grow as fast as copies come, a pass
        // still comes (after as many copies as were kept then).
        guard sweepCounter >= max(65_536, (accepted.count + pending.count) / 2) else { return }
        sweepCounter = 0
        let horizon = now - window
        accepted.removeAll { $1 < horizon }
        refused.removeAll { Int64(bitPattern: $1 & ~1) < horizon }
        pending.removeAll { Pending(word: $1).time < horizon }
        let stale = waiting.filter { $0.value.earlier < horizon }
        for (key, _) in stale { waiting[key] = nil }
        for waits in stale.values.sorted(by: { ($0.firstTime, $0.first.session) < ($1.firstTime, $1.first.session) }) {
            note(.noResponse, waits.first, count: waits.repeats)
        }
    }
}

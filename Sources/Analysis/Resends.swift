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
struct ResendTracker {
    /// The latest copy of a message and, when a repeat came while an earlier copy was unanswered, that copy.
    struct Entry {
        var time: Int64
        var session: Int32
        var sequence: UInt32
        /// 0 unanswered, 1 accepted, 2 throttled or queue full, 3 refused otherwise.
        var outcome: UInt8 = 0
        /// An earlier copy still unanswered when repeats came: its request time, and the repeats waiting on it.
        var waitingFor: Int64 = 0
        var waitingSession: Int32 = 0
        var repeats: UInt16 = 0
        /// The first repeat waiting (evidence) and its time.
        var firstRepeatSequence: UInt32 = 0
        var firstRepeatSession: Int32 = 0
        var firstRepeatTime: Int64 = 0
    }

    private var entries = IntegerTable(placeholder: Entry(time: 0, session: 0, sequence: 0))
    private var sweepCounter = 0
    var causes = ResendCauses()
    /// Repeats are looked for within this many nanoseconds of the latest copy.
    var window: Int64 = 60_000_000_000
    /// A command name for evidence (submit_sm or deliver_sm).
    let command: String
    /// The cause given to repeats of an answered copy (client_repeat for submits, smsc_repeat for receipts).
    let unexplained: ResendCause

    init(command: String, unexplained: ResendCause) {
        self.command = command
        self.unexplained = unexplained
    }

    /// A copy of the message `key` was sent; `ended(session)` gives when a session's connection closed, if it did.
    /// Returns true when it repeats an earlier copy.
    @discardableResult
    mutating func sent(
        key: UInt64, session: Int, sequence: UInt32, at time: Int64, ended: (Int) -> Int64?
    ) -> Bool {
        sweep(now: time)
        let current = Int32(truncatingIfNeeded: session)
        guard var entry = entries[key], time - entry.time < window else {
            entries[key] = Entry(time: time, session: current, sequence: sequence)
            return false
        }
        let repeatEvidence = Finding.Evidence(
            session: session, sequenceNumber: sequence, command: command, time: Double(time) / 1e9)
        let earlierClosed = entry.session != current && (ended(Int(entry.session)).map { $0 <= time } ?? false)
        switch entry.outcome {
        case 3:
            // Refused for good: the repeat is a new try, not a second copy.
            break
        case 2:
            note(.throttledResend, repeatEvidence)
        case 1:
            note(earlierClosed ? .reconnectResend : unexplained, repeatEvidence)
        default:
            if earlierClosed {
                note(.reconnectResend, repeatEvidence)
            } else if entry.repeats > 0 {
                // Another repeat while the earlier copy still waits: judged with it.
                entry.repeats &+= 1
            } else {
                entry.waitingFor = entry.time
                entry.waitingSession = entry.session
                entry.repeats = 1
                entry.firstRepeatSequence = sequence
                entry.firstRepeatSession = current
                entry.firstRepeatTime = time
            }
        }
        entry.time = time
        entry.session = current
        entry.sequence = sequence
        entry.outcome = 0
        entries[key] = entry
        return true
    }

    /// The copy of `key` sent at `requestTime` was answered at `time`: accepted, throttled (or queue full), or
    /// refused.
    mutating func answered(key: UInt64, requestTime: Int64, session: Int, outcome: UInt8, at time: Int64) {
        guard var entry = entries[key] else { return }
        if entry.repeats > 0, entry.waitingFor == requestTime,
            entry.waitingSession == Int32(truncatingIfNeeded: session)
        {
            // The earlier copy's answer, after its repeats.
            if outcome == 1 {
                let wait = Double(entry.firstRepeatTime - requestTime) / 1e9
                causes.lateWaitMinimum = min(causes.lateWaitMinimum ?? wait, wait)
                causes.lateWaitMaximum = max(causes.lateWaitMaximum ?? wait, wait)
                note(.lateResponse, firstRepeat(entry), count: Int(entry.repeats))
            } else if outcome == 2 {
                note(.throttledResend, firstRepeat(entry), count: Int(entry.repeats))
            }
            entry.repeats = 0
        }
        if entry.time == requestTime { entry.outcome = outcome }
        entries[key] = entry
    }

    /// The end of the input: repeats still waiting for an earlier copy's answer had none.
    mutating func finish() {
        for (_, entry) in entries.entries where entry.repeats > 0 {
            note(.noResponse, firstRepeat(entry), count: Int(entry.repeats))
        }
        entries.removeAll { _, _ in true }
    }

    private func firstRepeat(_ entry: Entry) -> Finding.Evidence {
        Finding.Evidence(
            session: Int(entry.firstRepeatSession), sequenceNumber: entry.firstRepeatSequence, command: command,
            time: Double(entry.firstRepeatTime) / 1e9)
    }

    private mutating func note(_ cause: ResendCause, _ evidence: Finding.Evidence, count: Int = 1) {
        causes.counts[cause, default: 0] += count
        if causes.evidence[cause, default: []].count < Finding.evidenceLimit {
            causes.evidence[cause, default: []].append(evidence)
        }
    }

    /// Every 65,536 copies, forgets messages whose latest copy is older than the window (repeats still waiting on
    /// an unanswered copy then had no answer within it).
    private mutating func sweep(now: Int64) {
        sweepCounter += 1
        guard sweepCounter >= 65_536 else { return }
        sweepCounter = 0
        let horizon = now - window
        var unanswered: [Entry] = []
        entries.removeAll { _, entry in
            guard entry.time < horizon else { return false }
            if entry.repeats > 0 { unanswered.append(entry) }
            return true
        }
        for entry in unanswered { note(.noResponse, firstRepeat(entry), count: Int(entry.repeats)) }
    }
}

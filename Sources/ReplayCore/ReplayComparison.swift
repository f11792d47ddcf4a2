// The replay against the recording: statuses request by request, missing and extra responses, latencies side by
// side, throttles, receipts, and how closely the sends kept to the schedule. Message ids and dates differ by
// nature and are not compared.

import SMPP

/// Differences the user expects and does not want counted: they are still reported, apart from the others.
public struct ReplayIgnoreRules: Sendable {
    /// A status change to or from one of these statuses.
    public var statuses: Set<UInt32> = []
    /// Any status change of these commands (by name: "query_sm").
    public var commands: Set<String> = []
    /// Requests that got no response in the replay.
    public var missingResponses = false

    public init() {}

    func ignores(_ change: ReplayComparison.StatusChange, original: CommandStatus?, replay: CommandStatus?) -> Bool {
        if commands.contains(change.command) { return true }
        if let original, statuses.contains(original.rawValue) { return true }
        if let replay, statuses.contains(replay.rawValue) { return true }
        if replay == nil && missingResponses { return true }
        return false
    }
}

public struct ReplayComparison: Sendable {
    public struct StatusChange: Hashable, Sendable, Comparable {
        public var command: String
        public var original: String
        public var replay: String
        /// Why, when the replay knows better than the status alone says.
        public var cause: String?

        public init(command: String, original: String, replay: String, cause: String? = nil) {
            self.command = command
            self.original = original
            self.replay = replay
            self.cause = cause
        }

        public static func < (lhs: StatusChange, rhs: StatusChange) -> Bool {
            (lhs.command, lhs.original, lhs.replay, lhs.cause ?? "") < (
                rhs.command, rhs.original, rhs.replay, rhs.cause ?? ""
            )
        }
    }

    public struct Percentiles: Sendable {
        public var count = 0
        public var p50 = 0.0
        public var p90 = 0.0
        public var p99 = 0.0
        public var max = 0.0

        init(_ values: [Double]) {
            guard !values.isEmpty else { return }
            let sorted = values.sorted()
            func at(_ p: Double) -> Double { sorted[Swift.min(sorted.count - 1, Int(p / 100 * Double(sorted.count)))] }
            count = sorted.count
            p50 = at(50)
            p90 = at(90)
            p99 = at(99)
            max = sorted[sorted.count - 1]
        }
    }

    public var sessions = 0
    public var failedSessions: [(session: Int, reason: String)] = []
    public var planned = 0
    public var sent = 0
    public var answered = 0
    public var missing = 0
    public var notSent = 0
    public var unchanged = 0
    public var statusChanges: [StatusChange: Int] = [:]
    /// Status changes the ignore rules set apart: reported, not counted.
    public var ignoredChanges: [StatusChange: Int] = [:]
    public var extraResponses = 0
    /// Response times in seconds, per command: the recording's and the replay's.
    public var latency: [String: (original: Percentiles, replay: Percentiles)] = [:]
    public var throttledOriginal = 0
    public var throttledReplay = 0
    public var receiptsOriginal = 0
    public var receiptsReplay = 0
    public var unknownReceipts = 0
    public var receiptStatesOriginal: [String: Int] = [:]
    public var receiptStatesReplay: [String: Int] = [:]
    /// Seconds each request was sent after its scheduled time.
    public var deviation: Percentiles?
    /// How many requests left within each of `deviationEdgesMs` of their schedule; the last bucket is the rest.
    public var deviationBuckets: [Int] = []
    public static let deviationEdgesMs: [Double] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 100]
    /// submit_sm sent per second, from the first to the last.
    public var submitsPerSecond: Double?
    public var seconds = 0.0
    public var skipped: [String] = []

    /// Differences that count against `--max-differences`: changed statuses, missing responses, requests not
    /// sent, sessions that failed.
    public var differences: Int {
        statusChanges.values.reduce(0, +) + (ignoring.missingResponses ? 0 : missing) + notSent + failedSessions.count
    }

    public var ignoring: ReplayIgnoreRules

    public init(plan: ReplayPlan, outcome: ReplayOutcome, ignoring: ReplayIgnoreRules = ReplayIgnoreRules()) {
        self.ignoring = ignoring
        seconds = outcome.seconds
        skipped = plan.skipped
        let planned = Dictionary(plan.sessions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var originalLatency: [String: [Double]] = [:]
        var replayLatency: [String: [Double]] = [:]
        var deviations: [Double] = []
        var submitTimes: [Double] = []
        for session in outcome.sessions {
            sessions += 1
            if let error = session.error { failedSessions.append((session.recordedSession, error)) }
            extraResponses += session.extraResponses
            throttledReplay += session.throttled
            receiptsReplay += session.receipts
            unknownReceipts += session.unknownReceipts
            guard let plannedSession = planned[session.recordedSession] else { continue }
            receiptsOriginal += plannedSession.originalReceipts
            for result in session.requests {
                let request = plannedSession.requests[result.index]
                let command = request.command.name
                self.planned += 1
                if request.originalStatus == .throttled { throttledOriginal += 1 }
                if let state = request.originalReceiptState { receiptStatesOriginal[state, default: 0] += 1 }
                if let state = result.receiptState { receiptStatesReplay[state, default: 0] += 1 }
                if let latency = request.originalLatency { originalLatency[command, default: []].append(latency) }
                guard let sentAt = result.sent else {
                    notSent += 1
                    continue
                }
                sent += 1
                if request.command == .submitSM { submitTimes.append(sentAt) }
                if let scheduled = result.scheduled { deviations.append(max(0, sentAt - scheduled)) }
                guard let status = result.status else {
                    missing += 1
                    if let originalStatus = request.originalStatus {
                        missing -= 1
                        let change = StatusChange(
                            command: command, original: originalStatus.name, replay: "no response")
                        record(change, original: originalStatus, replay: nil)
                    }
                    continue
                }
                answered += 1
                if let latency = result.latency { replayLatency[command, default: []].append(latency) }
                let original = request.originalStatus?.name ?? "no response"
                if original == status.name {
                    unchanged += 1
                } else {
                    var change = StatusChange(command: command, original: original, replay: status.name)
                    if status != .throttled, Self.anEarlierAttemptWasAccepted(request, plannedSession, session) {
                        change.cause =
                            "the recorded client sent this again after ESME_RTHROTTLED; in the replay the first attempt "
                            + "was accepted, so this one is a second copy"
                            + (status == .submitFailed ? " (refused as a repeat)" : "")
                    }
                    record(change, original: request.originalStatus, replay: status)
                }
            }
        }
        for command in Set(originalLatency.keys).union(replayLatency.keys) {
            latency[command] = (Percentiles(originalLatency[command] ?? []), Percentiles(replayLatency[command] ?? []))
        }
        if !deviations.isEmpty {
            deviation = Percentiles(deviations)
            deviationBuckets = Array(repeating: 0, count: Self.deviationEdgesMs.count + 1)
            for value in deviations {
                let ms = value * 1_000
                deviationBuckets[
                    Self.deviationEdgesMs.firstIndex(where: { ms <= $0 }) ?? Self.deviationEdgesMs.count] += 1
            }
        }
        if submitTimes.count > 1, let first = submitTimes.min(), let last = submitTimes.max(), last > first {
            submitsPerSecond = Double(submitTimes.count - 1) / (last - first)
        }
    }

    /// Whether the replay got ESME_ROK for an attempt this request (a recorded resend) repeats.
    private static func anEarlierAttemptWasAccepted(
        _ request: PlannedRequest, _ planned: PlannedSession, _ outcome: SessionOutcome
    ) -> Bool {
        var attempt = request.resendOf
        var steps = 0
        while let index = attempt, index < request.index, outcome.requests.indices.contains(index), steps < 100 {
            if outcome.requests[index].status == .ok { return true }
            attempt = planned.requests[index].resendOf
            steps += 1
        }
        return false
    }

    private mutating func record(_ change: StatusChange, original: CommandStatus?, replay: CommandStatus?) {
        if ignoring.ignores(change, original: original, replay: replay) {
            ignoredChanges[change, default: 0] += 1
        } else {
            statusChanges[change, default: 0] += 1
        }
    }

    /// A sentence for a changed status: what the new status means.
    public static func explanation(_ change: StatusChange) -> String {
        if let cause = change.cause { return cause }
        if change.replay == "no response" { return "the target did not answer within the response timeout" }
        guard let status = CommandStatus.allKnown.first(where: { $0.name == change.replay }) else {
            return "a status SMPP does not define (vendor-specific)"
        }
        switch status {
        case .throttled:
            return status.meaning
                + "; the target's rate limit is lower than the recording's SMSC's, or the replay ran faster"
        case .submitFailed:
            return status.meaning
                + "; an SMSC that refuses identical messages (SMSC.kz: within a minute) sees the replay as a repeat"
        case .invalidBindStatus: return status.meaning + "; the session was not bound as the recording's was"
        case .messageQueueFull:
            return status.meaning + "; the replay had more requests outstanding than the target accepts"
        case .ok: return "accepted now where the recording's SMSC refused"
        default: return status.meaning
        }
    }
}

// What an account can really do: the rate at which the SMSC starts answering ESME_RTHROTTLED (and whether it counts
// messages or parts), the outstanding count at which it answers ESME_RMSGQFUL, the response-time tail, and the
// client settings that follow.

/// Events of the last second, counted two ways (all, and those that are whole messages), with the most events seen
/// in any one second. Times are taken in capture order; one earlier than the last counts at the last (a capture's
/// rare step back in time moves nothing out of the second).
struct RateWindow {
    /// Times kept (from `head`), and the whole messages among the events up to each one.
    private var times: [Int64] = []
    private var wholeBefore: [Int] = []
    private var head = 0
    private var wholeTotal = 0
    /// Whole messages among the events dropped from the front of `times`.
    private var wholeDropped = 0
    private(set) var peak = 0
    static let width: Int64 = 1_000_000_000

    mutating func add(_ time: Int64, whole: Bool = true) {
        let time = max(time, times.last ?? time)
        if whole { wholeTotal += 1 }
        times.append(time)
        wholeBefore.append(wholeTotal)
        while times[head] <= time - Self.width { head += 1 }
        peak = max(peak, times.count - head)
        if head > 4_096, head * 2 > times.count {
            wholeDropped = wholeBefore[head - 1]
            times.removeFirst(head)
            wholeBefore.removeFirst(head)
            head = 0
        }
    }

    /// Events, and whole messages among them, in the second ending at `time` (not before the last one added).
    func counts(endingAt time: Int64) -> (parts: Int, messages: Int) {
        // The first kept time inside the second: a binary search from `head`.
        var low = head
        var high = times.count
        while low < high {
            let middle = (low + high) / 2
            if times[middle] <= time - Self.width { low = middle + 1 } else { high = middle }
        }
        return (times.count - low, wholeTotal - (low > 0 ? wholeBefore[low - 1] : wholeDropped))
    }
}

/// One account's figures while the input is read.
struct CapacityCounters {
    /// submit_sm accepted (every part; whole messages: single ones and first parts), per second.
    var accepted = RateWindow()
    var submits = 0
    var acceptedCount = 0
    /// At each ESME_RTHROTTLED (the first ``CapacityTracker/maximumEvents``): parts and messages accepted in the
    /// second before it.
    var atThrottle: [(parts: Int, messages: Int)] = []
    var throttled = 0
    /// At each ESME_RMSGQFUL: the other requests outstanding on the session.
    var atQueueFull: [Int] = []
    var queueFull = 0
    var used = false
}

/// Follows each account's submits and the SMSC's refusals.
struct CapacityTracker {
    /// By account index (``ReceiptTracker/accountIndex(_:)``).
    private var accounts: [CapacityCounters] = []
    /// Refusals kept per account for the estimates (the rest are counted only).
    static let maximumEvents = 10_000

    private mutating func withAccount(_ index: UInt16, _ body: (inout CapacityCounters) -> Void) {
        let index = Int(index)
        accounts.grow(toInclude: index, with: CapacityCounters())
        accounts[index].used = true
        body(&accounts[index])
    }

    mutating func submitted(account: UInt16, at time: Int64) {
        withAccount(account) { $0.submits += 1 }
    }

    /// A submit_sm answered ESME_ROK at `time`; `wholeMessage` for a single message or the first part of one.
    mutating func accepted(account: UInt16, at time: Int64, wholeMessage: Bool) {
        withAccount(account) {
            $0.acceptedCount += 1
            $0.accepted.add(time, whole: wholeMessage)
        }
    }

    mutating func throttled(account: UInt16, at time: Int64) {
        withAccount(account) {
            $0.throttled += 1
            guard $0.atThrottle.count < Self.maximumEvents else { return }
            // What was accepted in the second before: the window as it stood at the last acceptance, less what
            // has left it since.
            $0.atThrottle.append($0.accepted.counts(endingAt: time))
        }
    }

    mutating func queueFull(account: UInt16, outstanding: Int) {
        withAccount(account) {
            $0.queueFull += 1
            if $0.atQueueFull.count < Self.maximumEvents { $0.atQueueFull.append(outstanding) }
        }
    }

    /// The figures per account, named by `account`; `latency` gives an account's submit_sm response times, `sent`
    /// the most submit_sm one of its connections sent in a second.
    func report(
        account name: (UInt16) -> String, latency: (String) -> LatencySummary?, sent: (UInt16) -> Int
    ) -> [CapacityReport] {
        accounts.enumerated().filter { $0.element.used && $0.element.submits > 0 }.map { index, counters in
            var report = CapacityReport(account: name(UInt16(index)))
            report.submits = counters.submits
            report.accepted = counters.acceptedCount
            report.peakOfferedPerSecond = sent(UInt16(index))
            report.peakAcceptedPerSecond = counters.accepted.peak
            report.throttled = counters.throttled
            report.queueFull = counters.queueFull
            report.latency = latency(report.account)
            if !counters.atThrottle.isEmpty {
                let parts = CapacityReport.estimate(counters.atThrottle.map(\.parts))
                let messages = CapacityReport.estimate(counters.atThrottle.map(\.messages))
                report.counts = CapacityReport.whatIsCounted(counters.atThrottle)
                report.refusalsNearLongMessages = counters.atThrottle.filter { $0.parts != $0.messages }.count
                let chosen = report.counts == "messages" ? messages : parts
                (report.throttleRate, report.throttleConfidence) = (chosen.value, chosen.confidence)
                report.throttleSamples = counters.atThrottle.count
            }
            if let smallest = counters.atQueueFull.min() {
                report.windowLimit = max(1, smallest)
                report.queueFullSamples = counters.atQueueFull.count
            }
            report.recommend()
            return report
        }
    }
}

/// What one account can do, as the traffic shows.
public struct CapacityReport: Hashable, Sendable {
    public var account: String
    public var submits = 0
    public var accepted = 0
    /// The most submit_sm sent on one connection, and accepted on all, in any one second.
    public var peakOfferedPerSecond = 0
    public var peakAcceptedPerSecond = 0
    public var throttled = 0
    /// The rate (per second) at which the SMSC starts answering ESME_RTHROTTLED: the median of what it had accepted
    /// in the second before each refusal; `throttleConfidence` the share of refusals within 5% (at least 1) of it.
    public var throttleRate: Int?
    public var throttleConfidence: Double?
    public var throttleSamples = 0
    /// Of those, the refusals with long messages in the second before (the rest had single messages only).
    public var refusalsNearLongMessages = 0
    /// What the SMSC counts against the rate: "parts" or "messages" when refusals near long messages tell, else nil.
    public var counts: String?
    public var queueFull = 0
    /// The fewest other requests outstanding when the SMSC answered ESME_RMSGQFUL: the window it allows.
    public var windowLimit: Int?
    public var queueFullSamples = 0
    /// submit_sm response times of the account.
    public var latency: LatencySummary?
    /// Client settings that fit: at most this many submit_sm per second, this many outstanding, a response timeout
    /// of this many seconds.
    public var recommendedRate: Int?
    public var recommendedWindow: Int?
    public var recommendedTimeoutSeconds: Int?

    public init(account: String) { self.account = account }

    /// What the SMSC counts against its rate, from what it had accepted before each refusal: where only single
    /// messages came, parts and messages are one count, the limit itself; where long messages came, the count the
    /// SMSC keeps stays at that level and the other moves away. So the one whose median near long messages is
    /// closer to the median without them. Nil unless each kind of refusal came 3 times or more. (Comparing how
    /// steady each count is would not do: near long messages of one length both are steady.)
    static func whatIsCounted(_ events: [(parts: Int, messages: Int)]) -> String? {
        let plain = events.filter { $0.parts == $0.messages }.map(\.parts)
        let mixed = events.filter { $0.parts != $0.messages }
        guard plain.count >= 3, mixed.count >= 3 else { return nil }
        let limit = estimate(plain).value
        let parts = abs(estimate(mixed.map(\.parts)).value - limit)
        let messages = abs(estimate(mixed.map(\.messages)).value - limit)
        if parts == messages { return nil }
        return parts < messages ? "parts" : "messages"
    }

    /// The median of counts, and the share within 5% (at least 1) of it.
    static func estimate(_ values: [Int]) -> (value: Int, confidence: Double) {
        let sorted = values.sorted()
        let median = sorted[(sorted.count - 1) / 2]
        let tolerance = max(1, median / 20)
        let near = sorted.filter { abs($0 - median) <= tolerance }.count
        return (median, Double(near) / Double(sorted.count))
    }

    /// The settings that keep the account under the limits seen: the rate found (or none when never throttled),
    /// the window found or twice the one that sustains the rate at the p99.9 response time (Little's law), 10 at
    /// least; a timeout of three times the p99.9 response time or one and a half the slowest, 5 s at least.
    mutating func recommend() {
        recommendedRate = throttleRate
        if let windowLimit {
            recommendedWindow = windowLimit
        } else if let rate = throttleRate, let p999 = latency?.p999Ms {
            recommendedWindow = max(10, Int((Double(rate) * p999 / 1_000 * 2).rounded(.up)))
        }
        if let latency {
            let seconds = max(latency.p999Ms * 3, latency.maxMs * 1.5) / 1_000
            recommendedTimeoutSeconds = max(5, Int(seconds.rounded(.up)))
        }
    }
}

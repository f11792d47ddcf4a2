// Rates and outstanding requests over time, for charts. The bins adapt to the input's span: 100 ms wide at first,
// and wider (1 s, 10 s, 1 min, 10 min, 1 h, 1 day, 1 week, then tenfold) whenever the times seen would need more
// than `SeriesBuilder.maximumBins` of them. Memory is the same whatever the span (three arrays of `maximumBins`),
// and a damaged timestamp years away only makes the chart coarser.

/// Builds the chart series; times are nanoseconds since the epoch.
struct SeriesBuilder {
    /// The most bins a chart has (30 minutes at 100 ms).
    static let maximumBins = 18_000
    /// The bin widths in turn, in nanoseconds; each a multiple of the one before, so that bins merge exactly.
    static let widths: [Int64] = {
        var widths: [Int64] = [100_000_000, 1_000_000_000, 10_000_000_000, 60_000_000_000, 600_000_000_000]
        widths += [3_600_000_000_000, 86_400_000_000_000, 604_800_000_000_000]
        while let last = widths.last, last <= Int64.max / 10 { widths.append(last * 10) }
        return widths
    }()

    private var level = 0
    private var width: Int64 { Self.widths[level] }
    /// The bin number (time / width, rounded down) of the first bin kept, once a time was seen.
    private var origin: Int64?
    /// Bins kept: a ring of `maximumBins`, the first at `head`.
    private var head = 0
    private var count = 0
    private var submits: [Int] = []
    private var throttled: [Int] = []
    private var outstanding: [Int] = []

    mutating func submit(at time: Int64) {
        let slot = self.slot(time)
        submits[slot] += 1
    }

    mutating func throttled(at time: Int64) {
        let slot = self.slot(time)
        throttled[slot] += 1
    }

    mutating func outstanding(at time: Int64, count value: Int) {
        let slot = self.slot(time)
        if value > outstanding[slot] { outstanding[slot] = value }
    }

    /// The bin of `time` rounded down, without overflow at the ends of the range.
    private static func bin(_ time: Int64, width: Int64) -> Int64 {
        let quotient = time / width
        return time % width < 0 ? quotient - 1 : quotient
    }

    /// The storage index of the bin holding `time`, widening the bins when it would not fit.
    private mutating func slot(_ time: Int64) -> Int {
        guard let first = origin else {
            submits = [Int](repeating: 0, count: Self.maximumBins)
            throttled = submits
            outstanding = submits
            origin = Self.bin(time, width: width)
            count = 1
            return head
        }
        var origin = first
        var bin = Self.bin(time, width: width)
        while true {
            // Bins from the first kept to this one, or from this one to the last kept.
            let (after, overflowAfter) = bin.subtractingReportingOverflow(origin)
            if !overflowAfter, after >= 0 {
                if after < Int64(Self.maximumBins) {
                    if after >= Int64(count) { grow(to: Int(after) + 1) }
                    return index(Int(after))
                }
            } else if !overflowAfter {
                let (span, overflowSpan) = (origin + Int64(count) - 1).subtractingReportingOverflow(bin)
                if !overflowSpan, span < Int64(Self.maximumBins) {
                    prepend(Int(-after))
                    self.origin = bin
                    return head
                }
            }
            coarsen()
            origin = self.origin ?? origin
            bin = Self.bin(time, width: width)
        }
    }

    private func index(_ logical: Int) -> Int {
        let slot = head + logical
        return slot >= Self.maximumBins ? slot - Self.maximumBins : slot
    }

    /// Makes the first `newCount` bins part of the chart (they are zero already).
    private mutating func grow(to newCount: Int) {
        count = newCount
    }

    /// Adds `shift` empty bins before the first.
    private mutating func prepend(_ shift: Int) {
        for _ in 0..<shift {
            head = head == 0 ? Self.maximumBins - 1 : head - 1
            submits[head] = 0
            throttled[head] = 0
            outstanding[head] = 0
        }
        count += shift
    }

    /// Moves to the next width: bins merge (counts add up, outstanding keeps the highest).
    private mutating func coarsen() {
        guard level + 1 < Self.widths.count, let first = origin else { return }
        let factor = Self.widths[level + 1] / width
        let newOrigin = Self.bin(first, width: factor)
        var newSubmits = [Int](repeating: 0, count: Self.maximumBins)
        var newThrottled = newSubmits
        var newOutstanding = newSubmits
        var newCount = 0
        for logical in 0..<count {
            let target = Int(Self.bin(first + Int64(logical), width: factor) - newOrigin)
            let slot = index(logical)
            newSubmits[target] += submits[slot]
            newThrottled[target] += throttled[slot]
            newOutstanding[target] = max(newOutstanding[target], outstanding[slot])
            newCount = target + 1
        }
        submits = newSubmits
        throttled = newThrottled
        outstanding = newOutstanding
        head = 0
        count = newCount
        origin = newOrigin
        level += 1
    }

    func build() -> TimeSeries {
        guard let first = origin else {
            return TimeSeries(start: 0, step: 1, submitsPerSecond: [], throttledPerSecond: [], outstanding: [])
        }
        let perSecond = 1_000_000_000 / width
        let seconds = Double(width) / 1e9
        /// Events in the second ending at each bin: a rolling sum of narrow bins, or a wide bin's average.
        func perSecondRate(_ values: [Int]) -> [Double] {
            var result = [Double](repeating: 0, count: count)
            var running = 0
            for logical in 0..<count {
                if perSecond >= 1 {
                    running += values[index(logical)]
                    if logical >= Int(perSecond) { running -= values[index(logical - Int(perSecond))] }
                    result[logical] = Double(running)
                } else {
                    result[logical] = Double(values[index(logical)]) / seconds
                }
            }
            return result
        }
        let (start, overflow) = first.multipliedReportingOverflow(by: width)
        return TimeSeries(
            start: overflow ? Double(first) * Double(width) / 1e9 : Double(start) / 1e9, step: seconds,
            submitsPerSecond: perSecondRate(submits), throttledPerSecond: perSecondRate(throttled),
            outstanding: (0..<count).map { outstanding[index($0)] })
    }
}

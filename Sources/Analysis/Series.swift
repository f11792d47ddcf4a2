// Rates and outstanding requests over time, for charts: in 100 ms steps for captures up to half an hour, in
// 1 s steps beyond.

/// Builds the chart series; times are nanoseconds since the epoch.
struct SeriesBuilder {
    private struct Bins {
        let width: Int64
        var submits: [Int64: Int] = [:]
        var throttled: [Int64: Int] = [:]
        var outstanding: [Int64: Int] = [:]
        var keys: Set<Int64> = []
    }

    private var fine: Bins? = Bins(width: 100_000_000)
    private var coarse = Bins(width: 1_000_000_000)
    /// Fine bins are kept up to this many (30 minutes), then dropped.
    static let fineLimit = 18_000

    private mutating func update(_ time: Int64, _ body: (inout Bins, Int64) -> Void) {
        body(&coarse, time / coarse.width)
        if var bins = fine {
            let bin = time / bins.width
            body(&bins, bin)
            bins.keys.insert(bin)
            fine = bins.keys.count > Self.fineLimit ? nil : bins
        }
    }

    mutating func submit(at time: Int64) { update(time) { $0.submits[$1, default: 0] += 1 } }
    mutating func throttled(at time: Int64) { update(time) { $0.throttled[$1, default: 0] += 1 } }

    mutating func outstanding(at time: Int64, count: Int) {
        update(time) { bins, bin in
            if count > bins.outstanding[bin] ?? 0 { bins.outstanding[bin] = count }
        }
    }

    /// Dense series from the first to the last bin seen (at most a day of seconds).
    func build() -> TimeSeries {
        let bins = fine ?? coarse
        let all = Array(bins.submits.keys) + Array(bins.throttled.keys) + Array(bins.outstanding.keys)
        guard let first = all.min(), let last = all.max() else {
            return TimeSeries(start: 0, step: 1, submitsPerSecond: [], throttledPerSecond: [], outstanding: [])
        }
        let length = Int(min(86_400, last - first + 1))
        let perSecond = Int(1_000_000_000 / bins.width)
        func rolling(_ counts: [Int64: Int]) -> [Double] {
            // Events in the second that ends with each bin.
            var dense = [Int](repeating: 0, count: length)
            for (bin, count) in counts where bin - first < Int64(length) { dense[Int(bin - first)] = count }
            var result = [Double](repeating: 0, count: length)
            var running = 0
            for index in 0..<length {
                running += dense[index]
                if index >= perSecond { running -= dense[index - perSecond] }
                result[index] = Double(running)
            }
            return result
        }
        var outstanding = [Int](repeating: 0, count: length)
        for (bin, count) in bins.outstanding where bin - first < Int64(length) { outstanding[Int(bin - first)] = count }
        return TimeSeries(
            start: Double(first * bins.width) / 1e9, step: Double(bins.width) / 1e9,
            submitsPerSecond: rolling(bins.submits), throttledPerSecond: rolling(bins.throttled), outstanding: outstanding)
    }
}

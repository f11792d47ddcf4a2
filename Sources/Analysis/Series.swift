// Per-second counts over the whole input, for charts: submits, throttles, outstanding requests.

/// Builds per-second series; seconds are epoch seconds.
struct SeriesBuilder {
    private var submits: [Int64: Int] = [:]
    private var throttled: [Int64: Int] = [:]
    private var outstanding: [Int64: Int] = [:]

    mutating func submit(at time: Int64) { submits[time / 1_000_000_000, default: 0] += 1 }
    mutating func throttled(at time: Int64) { throttled[time / 1_000_000_000, default: 0] += 1 }

    mutating func outstanding(at time: Int64, count: Int) {
        let second = time / 1_000_000_000
        if count > outstanding[second] ?? 0 { outstanding[second] = count }
    }

    /// Dense arrays from the first to the last second seen (at most `limit` seconds, the rest cut).
    func build(limit: Int = 86_400) -> TimeSeries {
        let seconds = Array(submits.keys) + Array(throttled.keys) + Array(outstanding.keys)
        guard let first = seconds.min(), let last = seconds.max() else {
            return TimeSeries(start: 0, submits: [], throttled: [], outstanding: [])
        }
        let length = Int(min(Int64(limit), last - first + 1))
        var series = TimeSeries(
            start: first, submits: [Int](repeating: 0, count: length), throttled: [Int](repeating: 0, count: length),
            outstanding: [Int](repeating: 0, count: length))
        for (second, count) in submits where second - first < Int64(length) { series.submits[Int(second - first)] = count }
        for (second, count) in throttled where second - first < Int64(length) { series.throttled[Int(second - first)] = count }
        for (second, count) in outstanding where second - first < Int64(length) {
            series.outstanding[Int(second - first)] = count
        }
        return series
    }
}

// Rates and outstanding requests over time, for charts: in 100 ms steps for captures up to half an hour, in
// 1 s steps beyond.

/// Values per bin, for bins that come nearly in order. Bins further than `span` from the first are ignored, so a
/// damaged timestamp cannot make the array huge.
struct BinnedValues {
    private(set) var first: Int64?
    private(set) var values: [Int] = []
    let span: Int

    init(span: Int) { self.span = span }

    @inline(__always)
    private mutating func index(_ bin: Int64) -> Int? {
        guard let first else {
            self.first = bin
            values = [0]
            return 0
        }
        if bin < first {
            let shift = first - bin
            guard shift + Int64(values.count) <= Int64(span) else { return nil }
            values.insert(contentsOf: [Int](repeating: 0, count: Int(shift)), at: 0)
            self.first = bin
            return 0
        }
        let offset = bin - first
        guard offset < Int64(span) else { return nil }
        if offset >= Int64(values.count) {
            values.append(contentsOf: [Int](repeating: 0, count: Int(offset) - values.count + 1))
        }
        return Int(offset)
    }

    mutating func add(_ bin: Int64) {
        if let index = index(bin) { values[index] += 1 }
    }

    mutating func raise(_ bin: Int64, to value: Int) {
        if let index = index(bin), value > values[index] { values[index] = value }
    }

    func value(at bin: Int64) -> Int {
        guard let first, bin >= first, bin - first < Int64(values.count) else { return 0 }
        return values[Int(bin - first)]
    }
}

/// Builds the chart series; times are nanoseconds since the epoch.
struct SeriesBuilder {
    private struct Bins {
        let width: Int64
        var submits: BinnedValues
        var throttled: BinnedValues
        var outstanding: BinnedValues

        init(width: Int64, span: Int) {
            self.width = width
            submits = BinnedValues(span: span)
            throttled = BinnedValues(span: span)
            outstanding = BinnedValues(span: span)
        }
    }

    /// 100 ms bins for up to 30 minutes; 1 s bins for up to a week.
    private var fine = Bins(width: 100_000_000, span: 18_000)
    private var coarse = Bins(width: 1_000_000_000, span: 7 * 86_400)
    private var fineEnabled = true

    mutating func submit(at time: Int64) {
        coarse.submits.add(time / coarse.width)
        if fineEnabled {
            let bin = time / fine.width
            fine.submits.add(bin)
            checkFine(bin)
        }
    }

    mutating func throttled(at time: Int64) {
        coarse.throttled.add(time / coarse.width)
        if fineEnabled { fine.throttled.add(time / fine.width) }
    }

    mutating func outstanding(at time: Int64, count: Int) {
        coarse.outstanding.raise(time / coarse.width, to: count)
        if fineEnabled {
            let bin = time / fine.width
            fine.outstanding.raise(bin, to: count)
            checkFine(bin)
        }
    }

    /// Past the fine span, the coarse bins are used.
    private mutating func checkFine(_ bin: Int64) {
        if let first = fine.submits.first ?? fine.outstanding.first, bin - first >= 18_000 {
            fineEnabled = false
            fine = Bins(width: fine.width, span: 0)
        }
    }

    func build() -> TimeSeries {
        let bins = fineEnabled ? fine : coarse
        let firsts = [bins.submits.first, bins.throttled.first, bins.outstanding.first].compactMap { $0 }
        guard let first = firsts.min() else {
            return TimeSeries(start: 0, step: 1, submitsPerSecond: [], throttledPerSecond: [], outstanding: [])
        }
        func last(_ values: BinnedValues) -> Int64 { (values.first ?? first) + Int64(values.values.count) - 1 }
        let end = max(last(bins.submits), last(bins.throttled), last(bins.outstanding))
        let length = Int(end - first + 1)
        let perSecond = Int(1_000_000_000 / bins.width)
        func rolling(_ values: BinnedValues) -> [Double] {
            var result = [Double](repeating: 0, count: length)
            var running = 0
            for index in 0..<length {
                running += values.value(at: first + Int64(index))
                if index >= perSecond { running -= values.value(at: first + Int64(index - perSecond)) }
                result[index] = Double(running)
            }
            return result
        }
        return TimeSeries(
            start: Double(first * bins.width) / 1e9, step: Double(bins.width) / 1e9,
            submitsPerSecond: rolling(bins.submits), throttledPerSecond: rolling(bins.throttled),
            outstanding: (0..<length).map { bins.outstanding.value(at: first + Int64($0)) })
    }
}

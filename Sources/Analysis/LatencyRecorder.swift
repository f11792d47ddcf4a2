// Response times: exact nearest-rank percentiles up to 10,000 samples, then an HDR histogram (at most 0.1% error);
// count, minimum, maximum and mean always exact.

import Histogram

/// Percentiles of a set of durations, in milliseconds.
public struct LatencySummary: Hashable, Sendable {
    public var n: Int
    public var minMs: Double
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var p999Ms: Double
    public var maxMs: Double
    public var meanMs: Double
}

/// Records durations in microseconds; memory stays constant whatever their number.
///
/// The histogram is made only when it is needed (past `exactLimit` samples, or for a chart or a merge), from the
/// samples kept so far: most recorders (one per session and command) never need one, and making one costs as much
/// as recording thousands of samples. Either there is no histogram and the samples are every value, or the
/// histogram holds every value.
public struct LatencyRecorder: Sendable {
    /// Microseconds from 1 to an hour; longer ones are recorded as an hour (the maximum stays exact).
    static let highest: UInt64 = 3_600_000_000
    private let precision: SignificantDigits
    /// Set when `hasHistogram` is (the flag is what the path of every sample tests: testing the optional goes
    /// through the generic type's value witnesses).
    private var histogram: Histogram<UInt32>?
    private var hasHistogram = false
    public private(set) var count = 0
    private var sum: Double = 0
    private var minimum = Int64.max
    private var maximum = Int64.min
    /// Every sample while there are few (`keepsSamples`); dropped (and the histogram used) past `exactLimit`.
    private var samples: [Int64] = []
    private var keepsSamples = true
    static let exactLimit = 10_000

    /// `.three` significant digits (0.1% error, ~80 KiB) or `.two` (1%, ~12 KiB).
    public init(precision: SignificantDigits = .three) {
        self.precision = precision
    }

    /// A duration in nanoseconds as the histogram records it.
    @inline(__always)
    private static func microseconds(_ nanoseconds: Int64) -> UInt64 {
        min(UInt64(nanoseconds / 1_000), highest)
    }

    /// A histogram of `samples`.
    private static func histogram(of samples: [Int64], precision: SignificantDigits) -> Histogram<UInt32> {
        var histogram = Histogram<UInt32>(highestTrackableValue: highest, numberOfSignificantValueDigits: precision)
        for value in samples { _ = histogram.record(microseconds(value)) }
        return histogram
    }

    /// The histogram of every value recorded.
    private var wholeHistogram: Histogram<UInt32> {
        if hasHistogram, let histogram { return histogram }
        return Self.histogram(of: samples, precision: precision)
    }

    /// Records a duration in nanoseconds (negative ones, from clock steps between interfaces, count as 0).
    public mutating func record(nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        count += 1
        sum += Double(value)
        minimum = min(minimum, value)
        maximum = max(maximum, value)
        if keepsSamples {
            if count <= Self.exactLimit {
                samples.append(value)
                if !hasHistogram { return }
            } else {
                if !hasHistogram {
                    histogram = Self.histogram(of: samples, precision: precision)
                    hasHistogram = true
                }
                keepsSamples = false
                samples = []
            }
        }
        _ = histogram?.record(Self.microseconds(value))
    }

    public mutating func merge(_ other: LatencyRecorder) {
        guard other.count > 0 else { return }
        let keeps = keepsSamples && other.keepsSamples && count + other.count <= Self.exactLimit
        if !keeps || hasHistogram || other.hasHistogram {
            var merged = wholeHistogram
            let theirs = other.wholeHistogram
            if merged.numberOfSignificantValueDigits == theirs.numberOfSignificantValueDigits {
                merged.add(theirs)
            } else {
                for value in theirs.recordedValues() {
                    _ = merged.record(value.value, count: value.count)
                }
            }
            histogram = merged
            hasHistogram = true
        }
        if keeps {
            samples += other.samples
        } else {
            keepsSamples = false
            samples = []
        }
        count += other.count
        sum += other.sum
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
    }

    /// Nil when nothing was recorded.
    public var summary: LatencySummary? {
        guard count > 0 else { return nil }
        let percents = [50, 90, 99, 99.9]
        var exact: [Double] = []
        if keepsSamples {
            // Nearest rank: the smallest value with at least p% of the samples at or below it.
            let ranks = percents.map { p in
                min(max(1, Int((p * Double(samples.count) / 100 - 1e-9).rounded(.up))), samples.count) - 1
            }
            exact = Self.select(ranks, of: samples).map { Double($0) / 1e6 }
        }
        let fromHistogram = keepsSamples ? [] : Self.values(atPercentiles: percents, of: wholeHistogram)
        func percentile(_ index: Int) -> Double {
            if keepsSamples { return exact[index] }
            // The histogram holds whole microseconds; clamp to the exact extremes.
            let value = Double(fromHistogram[index]) / 1_000
            return min(max(value, Double(minimum) / 1e6), Double(maximum) / 1e6)
        }
        return LatencySummary(
            n: count, minMs: Double(minimum) / 1e6, p50Ms: percentile(0), p90Ms: percentile(1), p99Ms: percentile(2),
            p999Ms: percentile(3), maxMs: Double(maximum) / 1e6, meanMs: sum / Double(count) / 1e6)
    }

    /// What `histogram.valueAtPercentile(_:)` gives for each of `percents` (ascending, each below 100), in one walk
    /// over the recorded values rather than one walk over every bucket per percentile.
    static func values(atPercentiles percents: [Double], of histogram: Histogram<UInt32>) -> [UInt64] {
        let total = histogram.totalCount
        guard total > 0 else { return percents.map { _ in 0 } }
        // The count each percentile reaches, as the histogram works it out (one ulp less, rounded up, at least 1).
        let targets = percents.map { percent in
            Swift.max(1, UInt64((Swift.min(Swift.max(percent.nextDown, 0), 100) * Double(total) / 100).rounded(.up)))
        }
        var result = [UInt64](repeating: 0, count: percents.count)
        var next = 0
        let lowest = histogram.min
        let highest = histogram.maxRecorded
        for bucket in histogram.recordedValues() {
            while next < targets.count, bucket.totalCountToThisValue >= targets[next] {
                result[next] = Swift.max(Swift.min(bucket.value, highest), lowest)
                next += 1
            }
            if next == targets.count { break }
        }
        return result
    }

    /// The values that sorting `values` would put at `positions` (ascending, each in range), without sorting them:
    /// quickselect for each position in turn, the next one searched only above the last.
    static func select(_ positions: [Int], of values: [Int64]) -> [Int64] {
        var values = values
        return values.withUnsafeMutableBufferPointer { buffer in
            var low = 0
            return positions.map { position in
                var high = buffer.count - 1
                var from = low
                while from < high {
                    // Median of three as the pivot; Hoare partition.
                    let middle = from + (high - from) / 2
                    if buffer[middle] < buffer[from] { buffer.swapAt(middle, from) }
                    if buffer[high] < buffer[from] { buffer.swapAt(high, from) }
                    if buffer[high] < buffer[middle] { buffer.swapAt(high, middle) }
                    let pivot = buffer[middle]
                    var i = from
                    var j = high
                    while i <= j {
                        while buffer[i] < pivot { i += 1 }
                        while pivot < buffer[j] { j -= 1 }
                        if i <= j {
                            buffer.swapAt(i, j)
                            i += 1
                            j -= 1
                        }
                    }
                    // Now [from, j] ≤ pivot ≤ [i, high], and anything between equals the pivot.
                    if position <= j {
                        high = j
                    } else if position >= i {
                        from = i
                    } else {
                        break
                    }
                }
                low = position
                return buffer[position]
            }
        }
    }

    /// Counts per bucket for a chart: `edges` in milliseconds (ascending); the result has one more entry than
    /// `edges` (the last counts everything above the last edge).
    public func buckets(edgesMs edges: [Double]) -> [Int] {
        var result = [Int](repeating: 0, count: edges.count + 1)
        guard count > 0 else { return result }
        for value in wholeHistogram.recordedValues() {
            let ms = Double(value.value) / 1_000
            let index = edges.firstIndex { ms <= $0 } ?? edges.count
            result[index] += Int(value.count)
        }
        return result
    }
}

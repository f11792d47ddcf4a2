// A distribution of delays (response times, receipt delays) as a histogram: buckets a twentieth of a decade wide
// (each bound 12% above the one before), from 10 µs to beyond 10 minutes. Its memory is one counter per bucket
// used, at most `DelayHistogram.bucketCount`, whatever the number of values.

/// Delays in milliseconds, counted in logarithmic buckets.
public struct DelayHistogram: Codable, Hashable, Sendable {
    /// One bucket: values from `fromMilliseconds` up to (not including) `toMilliseconds`.
    public struct Bucket: Codable, Hashable, Sendable {
        public var fromMilliseconds: Double
        public var toMilliseconds: Double
        public var count: Int

        public init(fromMilliseconds: Double, toMilliseconds: Double, count: Int) {
            self.fromMilliseconds = fromMilliseconds
            self.toMilliseconds = toMilliseconds
            self.count = count
        }

        enum CodingKeys: String, CodingKey {
            case count
            case fromMilliseconds = "from_ms"
            case toMilliseconds = "to_ms"
        }
    }

    /// Values counted.
    public var count: Int
    /// The non-empty buckets, ascending.
    public var buckets: [Bucket]
    /// Percentiles read from the buckets (linear within a bucket), in milliseconds; nil when empty.
    public var p50: Double?
    public var p90: Double?
    public var p99: Double?

    enum CodingKeys: String, CodingKey {
        case count, buckets
        case p50 = "p50_ms"
        case p90 = "p90_ms"
        case p99 = "p99_ms"
    }

    /// Buckets per power of ten.
    static let perDecade = 20.0
    /// The lowest bound: values below it count in bucket 0, from 0.
    static let lowest = 0.01
    /// Bucket indices: 0 for values below `lowest`, then one per twentieth of a decade; the last holds the rest.
    public static let bucketCount = 200

    public init(count: Int = 0, buckets: [Bucket] = []) {
        self.count = count
        self.buckets = buckets
        p50 = percentile(50)
        p90 = percentile(90)
        p99 = percentile(99)
    }

    /// The lower bound of bucket `index`, in milliseconds.
    static func lowerBound(_ index: Int) -> Double { lowerBounds[index] }

    /// The lower bounds of the buckets, rounded as the JSON shows them.
    static let lowerBounds: [Double] = (0..<bucketCount).map {
        $0 == 0 ? 0 : rounded(lowest * pow10((Double($0) - 1) / perDecade))
    }

    /// The bucket a value falls in: a binary search of the bounds.
    static func index(_ milliseconds: Double) -> Int {
        guard milliseconds.isFinite else { return bucketCount - 1 }
        var low = 0
        var high = bucketCount - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lowerBounds[middle] <= milliseconds { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The ratio of one bound to the one below.
    static let step = pow10(1 / perDecade)

    /// 10^x for the bucket bounds, by exp and log series kept exact enough (1e-12) for bounds; no Foundation.
    static func pow10(_ x: Double) -> Double {
        // 10^x = e^(x ln 10); split the exponent into an integer power of 10 and a remainder below 1.
        let whole = x.rounded(.down)
        let fraction = x - whole
        var result = 1.0
        var base = whole >= 0 ? 10.0 : 0.1
        var n = Int(abs(whole))
        while n > 0 {
            if n & 1 == 1 { result *= base }
            base *= base
            n >>= 1
        }
        let y = fraction * 2.302_585_092_994_046
        var term = 1.0
        var sum = 1.0
        for k in 1...40 {
            term *= y / Double(k)
            sum += term
            if term < 1e-17 { break }
        }
        return result * sum
    }

    /// A bound kept to four significant digits, as the JSON shows it.
    static func rounded(_ value: Double) -> Double {
        guard value > 0 else { return 0 }
        var scale = 1.0
        while value * scale < 1000 { scale *= 10 }
        while value * scale >= 10000 { scale /= 10 }
        return (value * scale).rounded() / scale
    }

    /// The value below which `percent` of the values fall, linear within the bucket that holds it.
    public func percentile(_ percent: Double) -> Double? {
        guard count > 0 else { return nil }
        let target = Double(count) * percent / 100
        var below = 0.0
        for bucket in buckets {
            let next = below + Double(bucket.count)
            if next >= target {
                let fraction = bucket.count > 0 ? (target - below) / Double(bucket.count) : 0
                let value = bucket.fromMilliseconds + fraction * (bucket.toMilliseconds - bucket.fromMilliseconds)
                return (value * 1000).rounded() / 1000
            }
            below = next
        }
        return buckets.last?.toMilliseconds
    }

    /// The distribution as (percentile 0...100, seconds) points, ascending, for drawing values from it: within a
    /// bucket the values are spread evenly, and no value falls between buckets that held none.
    public var percentilePoints: [(percentile: Double, seconds: Double)] {
        guard count > 0 else { return [] }
        var points: [(percentile: Double, seconds: Double)] = []
        var below = 0
        for bucket in buckets where bucket.count > 0 {
            let start = Double(below) * 100 / Double(count)
            points.append((start, bucket.fromMilliseconds / 1000))
            below += bucket.count
            points.append((Double(below) * 100 / Double(count), bucket.toMilliseconds / 1000))
        }
        return points
    }

    /// Counts values, then makes the histogram.
    public struct Builder: Sendable {
        private var counts = [Int](repeating: 0, count: DelayHistogram.bucketCount)
        private var total = 0

        public init() {}

        public mutating func add(milliseconds: Double) {
            counts[DelayHistogram.index(max(0, milliseconds))] += 1
            total += 1
        }

        public var histogram: DelayHistogram {
            var buckets: [Bucket] = []
            for (index, count) in counts.enumerated() where count > 0 {
                let upper =
                    index == DelayHistogram.bucketCount - 1
                    ? DelayHistogram.lowerBound(index) * DelayHistogram.step : DelayHistogram.lowerBound(index + 1)
                buckets.append(
                    Bucket(
                        fromMilliseconds: DelayHistogram.lowerBound(index),
                        toMilliseconds: DelayHistogram.rounded(upper),
                        count: count))
            }
            return DelayHistogram(count: total, buckets: buckets)
        }
    }
}

// Response-time recording: exact percentiles while samples are few, a histogram past them (made only then, from the
// samples kept), and merges that give what recording every value into one recorder gives.

import Histogram
import TestSupport
import Testing

@testable import Analysis

@Suite("Latency recorder")
struct LatencyRecorderTests {
    /// Durations in nanoseconds, from tens of microseconds to seconds, in no order.
    static func durations(_ count: Int, seed: UInt64) -> [Int64] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int64(10_000 + random.next() % 3_000_000_000) }
    }

    /// A recorder of `values`, at 1% (as per session) or, `fine`, at 0.1% (as for the whole capture).
    static func recorder(_ values: [Int64], fine: Bool = false) -> LatencyRecorder {
        var recorder = fine ? LatencyRecorder(precision: .three) : LatencyRecorder(precision: .two)
        for value in values { recorder.record(nanoseconds: value) }
        return recorder
    }

    static let edges: [Double] = [1, 5, 10, 50, 100, 500, 1_000, 2_000]

    @Test func exactNearestRankWhileSamplesAreFew() throws {
        let values = Self.durations(10_000, seed: 1)
        let summary = try #require(Self.recorder(values).summary)
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double {
            Double(sorted[max(1, Int((p * Double(sorted.count) / 100 - 1e-9).rounded(.up))) - 1]) / 1e6
        }
        #expect(summary.n == 10_000)
        #expect(summary.p50Ms == rank(50) && summary.p90Ms == rank(90) && summary.p99Ms == rank(99))
        #expect(summary.p999Ms == rank(99.9))
        #expect(summary.minMs == Double(sorted[0]) / 1e6 && summary.maxMs == Double(sorted[sorted.count - 1]) / 1e6)
    }

    @Test func pastTheLimitPercentilesComeFromEveryValue() throws {
        let values = Self.durations(25_000, seed: 2)
        let summary = try #require(Self.recorder(values, fine: true).summary)
        let sorted = values.sorted()
        for (p, got) in [(50.0, summary.p50Ms), (90, summary.p90Ms), (99, summary.p99Ms)] {
            let exact = Double(sorted[Int((p * Double(sorted.count) / 100).rounded(.up)) - 1]) / 1e6
            // 0.1% of the histogram, and a microsecond of rounding.
            #expect(abs(got - exact) <= exact * 0.001 + 0.001, "p\(p): \(got) against \(exact)")
        }
        #expect(summary.n == 25_000)
        #expect(summary.maxMs == Double(sorted[sorted.count - 1]) / 1e6)
    }

    /// Crossing the limit by recording, or by merging, or in another order: the same summary and the same chart.
    @Test func theHistogramHoldsEveryValueHoweverItWasMade() throws {
        let values = Self.durations(15_000, seed: 3)
        let whole = Self.recorder(values)
        var merged = Self.recorder(Array(values[..<10_000]))
        merged.merge(Self.recorder(Array(values[10_000...])))
        let reversed = Self.recorder(values.reversed())
        var fromSmallOnes = Self.recorder(Array(values[..<4_000]))
        fromSmallOnes.merge(Self.recorder(Array(values[4_000..<8_000])))
        fromSmallOnes.merge(Self.recorder(Array(values[8_000...])))
        for other in [merged, reversed, fromSmallOnes] {
            #expect(other.count == whole.count)
            #expect(other.summary == whole.summary)
            #expect(other.buckets(edgesMs: Self.edges) == whole.buckets(edgesMs: Self.edges))
        }
        #expect(whole.buckets(edgesMs: Self.edges).reduce(0, +) == 15_000)
    }

    /// The exact percentiles are found by selection: the values sorting would put at the ranks, on inputs made to
    /// trouble a partition (runs, duplicates, every value equal, one or two values).
    @Test func selectionFindsWhatSortingPlaces() {
        var random = SplitMix64(seed: 5)
        var inputs: [[Int64]] = [[7], [3, 1], [1, 3], [5, 5], [2, 2, 2, 2, 2, 2, 2]]
        inputs.append(Array(0..<1_000))
        inputs.append(Array((0..<1_000).reversed()))
        inputs.append((0..<1_000).map { Int64($0 % 3) })
        inputs.append((0..<2_000).map { _ in Int64(random.next() % 10) })
        inputs.append((0..<5_000).map { _ in Int64(random.next() % 1_000_000_000) })
        inputs.append((0..<999).map { Int64($0 < 500 ? $0 : 999 - $0) })
        for values in inputs {
            let sorted = values.sorted()
            let count = values.count
            var positions = [0, count / 2, count * 9 / 10, count * 99 / 100, count - 1]
            positions.append(contentsOf: (0..<4).map { _ in Int(random.next() % UInt64(count)) })
            positions.sort()
            #expect(LatencyRecorder.select(positions, of: values) == positions.map { sorted[$0] }, "\(count) values")
        }
    }

    /// Under the limit, merged samples stay exact, and a chart of them counts every value.
    @Test func smallMergesStayExact() throws {
        let values = Self.durations(6_000, seed: 4)
        var merged = Self.recorder(Array(values[..<3_000]))
        merged.merge(Self.recorder(Array(values[3_000...])))
        let whole = Self.recorder(values)
        #expect(merged.summary == whole.summary)
        #expect(merged.buckets(edgesMs: Self.edges) == whole.buckets(edgesMs: Self.edges))
        #expect(whole.buckets(edgesMs: Self.edges).reduce(0, +) == 6_000)
        #expect(LatencyRecorder().summary == nil)
    }

    /// Percentiles read in one walk over a histogram are the histogram's own, at both precisions, for spread-out
    /// durations, for a few distinct ones, and for one.
    @Test(arguments: [SignificantDigits.two, .three])
    func oneWalkPercentilesAreTheHistogramsOwn(precision: SignificantDigits) {
        let percents = [50, 90, 99, 99.9]
        var random = SplitMix64(seed: 9)
        let sets: [[UInt64]] = [
            (0..<30_000).map { _ in 10 + random.next() % 3_000_000 },
            (0..<5_000).map { _ in [120, 4_500, 4_501, 900_000][Int(random.next() % 4)] },
            [77],
        ]
        for values in sets {
            var histogram = Histogram<UInt32>(
                highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: precision)
            for value in values { histogram.record(value) }
            #expect(
                LatencyRecorder.values(atPercentiles: percents, of: histogram)
                    == percents.map { histogram.valueAtPercentile($0) })
        }
    }
}

// The chart series: bins that widen with the span, at most `maximumBins` of them, exact counts whatever the order
// or the distance of the times.

import Testing

@testable import Analysis

@Suite("Chart series")
struct SeriesTests {
    static let second: Int64 = 1_000_000_000

    @Test func shortInputsGetTenthOfASecondBinsAndRollingRates() {
        var builder = SeriesBuilder()
        let start = 1_800_000_000 * Self.second
        for index in 0..<50 { builder.submit(at: start + Int64(index) * Self.second / 10) }
        builder.throttled(at: start + 2 * Self.second)
        builder.outstanding(at: start + Self.second, count: 7)
        let series = builder.build()
        #expect(series.step == 0.1)
        #expect(series.start == 1_800_000_000)
        #expect(series.submitsPerSecond.count == 50)
        // Ten submits a second, each in its own bin: the rolling second holds ten once it is full.
        #expect(series.submitsPerSecond[9] == 10)
        #expect(series.submitsPerSecond.last == 10)
        #expect(series.throttledPerSecond[20] == 1)
        #expect(series.outstanding[10] == 7)
        #expect(series.outstanding.max() == 7)
    }

    @Test func anHourWidensTheBinsAndKeepsEveryCount() {
        var builder = SeriesBuilder()
        let start = 1_800_000_000 * Self.second
        for index in 0..<3_600 { builder.submit(at: start + Int64(index) * Self.second) }
        // One out of order, before the first.
        builder.submit(at: start - 5 * Self.second)
        let series = builder.build()
        #expect(series.step == 1)
        #expect(series.submitsPerSecond.count == 3_605)
        #expect(series.submitsPerSecond.reduce(0, +) == 3_601)
        #expect(series.start == 1_800_000_000 - 5)
    }

    @Test(arguments: [Int64(20 * 86_400), Int64(136 * 365 * 86_400), Int64(1) << 32])
    func anySpanStaysWithinTheMaximumNumberOfBins(seconds: Int64) {
        var builder = SeriesBuilder()
        let start = Int64(1) * Self.second
        builder.submit(at: start)
        builder.outstanding(at: start, count: 3)
        builder.submit(at: start + seconds * Self.second)
        builder.throttled(at: start + seconds * Self.second)
        let series = builder.build()
        #expect(series.submitsPerSecond.count <= SeriesBuilder.maximumBins)
        #expect(series.outstanding.count == series.submitsPerSecond.count)
        // The two submits are still there (as rates over their bins), and so is the outstanding peak.
        #expect(abs(series.submitsPerSecond.reduce(0, +) * series.step - 2) < 1e-6)
        #expect(series.outstanding.max() == 3)
        #expect(Double(series.submitsPerSecond.count) * series.step >= Double(seconds))
    }

    @Test func timesAtTheEndsOfTheRangeDoNotTrap() {
        var builder = SeriesBuilder()
        builder.submit(at: Int64.min)
        builder.submit(at: Int64.max)
        builder.outstanding(at: 0, count: 1)
        let series = builder.build()
        #expect(series.submitsPerSecond.count <= SeriesBuilder.maximumBins)
        #expect(series.outstanding.max() == 1)
    }
}

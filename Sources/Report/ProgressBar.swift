// A progress line on standard error while a large capture is read, when standard error is a terminal.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Draws "[#####.....] 47%  312 MB of 660 MB  1.2M PDUs  180 MB/s" on standard error, at most 5 times a second.
public final class ProgressBar {
    private let start: Double
    private var lastDraw = 0.0
    private var drawn = false
    public let label: String

    /// A bar, or nil when standard error is not a terminal or the input is small.
    public static func make(label: String, totalBytes: Int?, minimumBytes: Int = 32 << 20) -> ProgressBar? {
        guard isatty(2) == 1 else { return nil }
        if let totalBytes, totalBytes < minimumBytes { return nil }
        return ProgressBar(label: label)
    }

    init(label: String) {
        self.label = label
        start = monotonicSeconds()
    }

    public func update(bytes: Int, total: Int?, items: Int, itemName: String = "PDUs") {
        let now = monotonicSeconds()
        guard now - lastDraw >= 0.2 else { return }
        lastDraw = now
        let elapsed = max(now - start, 0.001)
        let megabytes = Double(bytes) / 1_048_576
        var line = "\r\(label) "
        if let total, total > 0 {
            let fraction = min(1, Double(bytes) / Double(total))
            let filled = Int(fraction * 20)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "] "
            line += "\(Int(fraction * 100))%  \(Int(megabytes)) of \(total / 1_048_576) MB"
        } else {
            line += "\(Int(megabytes)) MB"
        }
        line += "  \(compact(items)) \(itemName)  \(Int(megabytes / elapsed)) MB/s   "
        writeStandardError(line)
        drawn = true
    }

    /// Clears the line.
    public func finish() {
        guard drawn else { return }
        writeStandardError("\r" + String(repeating: " ", count: 100) + "\r")
    }

    private func compact(_ value: Int) -> String {
        if value >= 1_000_000 { return formatFixed(Double(value) / 1_000_000, decimals: 1) + "M" }
        if value >= 10_000 { return "\(value / 1_000)k" }
        return String(value)
    }
}

/// Seconds from a monotonic clock.
public func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

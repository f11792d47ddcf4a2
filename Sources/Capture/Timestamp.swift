// Packet time, in nanoseconds since the epoch.

/// A capture timestamp: nanoseconds since 1970-01-01T00:00:00Z.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    @inlinable
    public init(seconds: Int64, nanoseconds: Int64) {
        self.nanoseconds = seconds &* 1_000_000_000 &+ nanoseconds
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The times inputs may carry: within ±2^62 ns of 1970 (about 1823 to 2116). The difference of any two of them,
    /// and any of them plus or minus a window of up to 146 years, fit in 64 bits, so arithmetic on times cannot
    /// overflow. Readers clamp times outside it, with a diagnostic.
    public static let representable = Timestamp(nanoseconds: -(1 << 62) + 1)...Timestamp(nanoseconds: (1 << 62) - 1)

    static let representableDescription = "the range smppscope handles (1823-11-12 to 2116-02-20)"

    /// This time, moved into `representable` if it is outside.
    public var clamped: Timestamp {
        Swift.min(Swift.max(self, Self.representable.lowerBound), Self.representable.upperBound)
    }

    /// Seconds since the epoch as a floating point number.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// Seconds from `other` to `self`.
    @inlinable
    public func seconds(since other: Timestamp) -> Double { Double(nanoseconds &- other.nanoseconds) / 1e9 }

    /// "1795682046.272603": seconds with 6 decimals, or 9 when the time has sub-microsecond digits.
    public var description: String {
        // Whole seconds rounded down and a fraction in 0..<1e9, without overflow at the ends of the range.
        var whole = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000
        if fraction < 0 {
            whole -= 1
            fraction += 1_000_000_000
        }
        if fraction % 1_000 == 0 {
            return "\(whole)." + padded(fraction / 1_000, 6)
        }
        return "\(whole)." + padded(fraction, 9)
    }

    private func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

// How a selection of a store is spelled by people: statuses by name or number, times as epoch seconds or ISO 8601.
// The command line and the web API read them alike.

import Capture
import Foundation
import SMPP

/// Values of a store selection, as a person writes them.
public enum SelectionValue {
    /// A command_status by its name (ESME_RTHROTTLED) or number (0x58, 88).
    public static func status(_ text: String) -> UInt32? {
        let upper = text.uppercased()
        if let known = CommandStatus.allKnown.first(where: { $0.name == upper }) { return known.rawValue }
        if upper.hasPrefix("0X") { return UInt32(upper.dropFirst(2), radix: 16) }
        return UInt32(text)
    }

    /// Epoch seconds, or an ISO 8601 date and time (UTC unless it says otherwise).
    public static func time(_ text: String) -> Timestamp? {
        if let exact = exactSeconds(text) { return exact }
        if let seconds = Double(text), seconds.isFinite, abs(seconds) < 9e9 {
            return Timestamp(nanoseconds: Int64(seconds * 1e9))
        }
        let formatter = ISO8601DateFormatter()
        for candidate in [text, text.replacingOccurrences(of: " ", with: "T")] {
            for suffix in ["", "Z"] {
                formatter.formatOptions = [.withInternetDateTime]
                if let date = formatter.date(from: candidate + suffix) {
                    return Timestamp(nanoseconds: Int64(date.timeIntervalSince1970 * 1e9))
                }
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                if let date = formatter.date(from: candidate + suffix) {
                    return Timestamp(nanoseconds: Int64(date.timeIntervalSince1970 * 1e9))
                }
            }
        }
        return nil
    }

    /// Seconds written as digits with at most nine decimals, to the nanosecond (a Double would round a time copied
    /// from an output, 1795682046.290711, to a nanosecond after the PDU it names).
    static func exactSeconds(_ text: String) -> Timestamp? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 10, whole.allSatisfy(\.isASCIIDigit),
            let seconds = Int64(whole)
        else { return nil }
        var nanoseconds = seconds * 1_000_000_000
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 9, fraction.allSatisfy(\.isASCIIDigit),
                let value = Int64(fraction)
            else { return nil }
            var scale: Int64 = 1
            for _ in fraction.count..<9 { scale *= 10 }
            nanoseconds += value * scale
        }
        return Timestamp(nanoseconds: nanoseconds)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

// The times the simulated SMSC writes: receipt dates ("YYMMDDhhmm") and absolute SMPP times, in UTC.

enum SMSCTime {
    /// "YYMMDDhhmm" (UTC) of a receipt.
    static func receiptDate(_ time: Double) -> String {
        let (year, month, day, hour, minute, _) = civil(time)
        return two(year % 100) + two(month) + two(day) + two(hour) + two(minute)
    }

    /// An absolute SMPP time "YYMMDDhhmmss000+" (UTC).
    static func smppTime(_ time: Double) -> String {
        let (year, month, day, hour, minute, second) = civil(time)
        return two(year % 100) + two(month) + two(day) + two(hour) + two(minute) + two(second) + "000+"
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    /// Year, month, day, hour, minute, second of seconds since the epoch (days-from-civil inverted).
    private static func civil(_ time: Double) -> (Int, Int, Int, Int, Int, Int) {
        let seconds = Int(time)
        let days = seconds / 86_400
        let rest = seconds % 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, rest / 3_600, rest % 3_600 / 60, rest % 60)
    }
}

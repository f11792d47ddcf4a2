// SMPP time fields (schedule_delivery_time, validity_period, final_date, broadcast_end_time):
// "YYMMDDhhmmsstnnp", absolute with a UTC offset in quarter hours, or relative when p is 'R'.

/// A parsed SMPP time value (SMPP 3.4 §7.1).
public enum SMPPTime: Hashable, Sendable {
    /// An absolute time: local date and time, tenths of a second, and the local time's offset from UTC in
    /// quarter hours (positive east of UTC).
    case absolute(Absolute)
    /// A time relative to the SMSC's current time.
    case relative(Relative)

    public struct Absolute: Hashable, Sendable {
        public var year: Int
        public var month: Int
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int
        public var tenths: Int
        /// Offset from UTC in quarter hours, signed.
        public var utcOffsetQuarterHours: Int

        /// Seconds since 1970-01-01T00:00:00Z.
        public var epochSeconds: Double {
            let days = daysFromCivil(year: year, month: month, day: day)
            let local = Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + Double(tenths) / 10
            return local - Double(utcOffsetQuarterHours * 15 * 60)
        }
    }

    public struct Relative: Hashable, Sendable {
        public var years: Int
        public var months: Int
        public var days: Int
        public var hours: Int
        public var minutes: Int
        public var seconds: Int

        /// An approximate length in seconds (years of 365 days, months of 30).
        public var approximateSeconds: Int {
            ((((years * 365 + months * 30 + days) * 24 + hours) * 60 + minutes) * 60) + seconds
        }
    }

    /// Why a time field could not be parsed.
    /// A time field's text that is not an SMPP time.
    public struct ParseError: LocatedError, Hashable {
        public enum Code: String, Hashable, Sendable, CaseIterable {
            /// Not 16 characters.
            case wrongLength = "wrong_length"
            /// A character that is not a digit where one is required, or a digit out of its range.
            case invalidField = "invalid_field"
            /// The last character is not `+`, `-` or `R`.
            case invalidKind = "invalid_kind"
        }

        public var code: Code
        public var reason: String
        /// The text that was parsed.
        public var text: String

        public var location: String? { "\"\(text)\"" }
        public var hint: String? { "an SMPP time is YYMMDDhhmmsstnnp (16 characters), p one of + - R" }
        public var description: String { reason }
    }

    /// Parses a time field's text (without its NUL).
    public static func parse(_ text: String) -> Result<SMPPTime, ParseError> {
        let bytes = Array(text.utf8)
        guard bytes.count == 16 else {
            return .failure(
                ParseError(
                    code: .wrongLength,
                    reason: "time \"\(text)\" is \(bytes.count) characters, not 16 (YYMMDDhhmmsstnnp)", text: text))
        }
        var digits: [Int] = []
        digits.reserveCapacity(15)
        for byte in bytes.prefix(15) {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                return .failure(
                    ParseError(
                        code: .invalidField, reason: "time \"\(text)\" has a non-digit in its first 15 characters",
                        text: text))
            }
            digits.append(Int(byte - UInt8(ascii: "0")))
        }
        func pair(_ index: Int) -> Int { digits[index] * 10 + digits[index + 1] }
        let yy = pair(0)
        let mm = pair(2)
        let dd = pair(4)
        let hh = pair(6)
        let mi = pair(8)
        let ss = pair(10)
        let tenths = digits[12]
        let offset = digits[13] * 10 + digits[14]
        switch bytes[15] {
        case UInt8(ascii: "R"):
            return .success(.relative(Relative(years: yy, months: mm, days: dd, hours: hh, minutes: mi, seconds: ss)))
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard (1...12).contains(mm), (1...31).contains(dd), hh < 24, mi < 60, ss < 60, offset <= 48 else {
                return .failure(
                    ParseError(code: .invalidField, reason: "time \"\(text)\" has a field out of range", text: text))
            }
            let sign = bytes[15] == UInt8(ascii: "-") ? -1 : 1
            return .success(
                .absolute(
                    Absolute(
                        year: 2000 + yy, month: mm, day: dd, hour: hh, minute: mi, second: ss, tenths: tenths,
                        utcOffsetQuarterHours: sign * offset)))
        default:
            return .failure(
                ParseError(code: .invalidKind, reason: "time \"\(text)\" ends in neither '+', '-' nor 'R'", text: text))
        }
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

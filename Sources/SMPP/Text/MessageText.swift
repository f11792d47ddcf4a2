// Short message octets -> user data header + text, by data_coding; and text -> octets for the simulator and tests.

/// A short message read: its user data header, its text when the data_coding is a character set, and what was odd.
public struct DecodedMessage: Hashable, Sendable {
    public var udh: UserDataHeader?
    /// The octets after the user data header.
    public var payload: [UInt8]
    public var charset: DataCoding.Charset
    /// The text, or nil for binary data and character sets that are not decoded.
    public var text: String?
    /// What did not fit (odd UCS-2 length, octets that are not GSM septets, a damaged header).
    public var problems: [String]
}

/// Text encodings of short messages.
public enum MessageText {
    /// Decodes short message octets.
    ///
    /// - Parameters:
    ///   - hasUDH: esm_class has UDHI set, so the octets start with a user data header.
    ///   - isoDefault: data_coding 0 is ISO-8859-1 (SMSC.kz `ISO` flag) rather than GSM 03.38.
    public static func decode(_ octets: [UInt8], dataCoding: UInt8, hasUDH: Bool, isoDefault: Bool = false)
        -> DecodedMessage
    {
        var problems: [String] = []
        var udh: UserDataHeader?
        var payload = octets
        if hasUDH {
            let parsed = UserDataHeader.parse(octets)
            if let problem = parsed.problem { problems.append(problem) }
            if let header = parsed.header {
                udh = header
                payload = Array(octets.dropFirst(header.length))
            }
        }
        let charset = DataCoding(dataCoding).charset(isoDefault: isoDefault)
        let text = decodeText(payload, charset: charset, problems: &problems)
        return DecodedMessage(udh: udh, payload: payload, charset: charset, text: text, problems: problems)
    }

    /// True when `octets` in `charset` read as the same bytes in UTF-8 (so as ASCII): GSM 03.38 septets whose
    /// character is the ASCII one (letters, digits, most punctuation, line feed, carriage return), or IA5 and
    /// ISO-8859-1 octets below 0x80.
    @_spi(Lent) public static func readsAsASCII(_ octets: UnsafeRawBufferPointer, charset: DataCoding.Charset) -> Bool {
        switch charset {
        case .gsm7:
            return gsmASCII.withUnsafeBufferPointer { table in octets.allSatisfy { table[Int($0)] } }
        case .ascii, .latin1:
            return octets.allSatisfy { $0 < 0x80 }
        default:
            return false
        }
    }

    /// For each octet, true when it is a GSM 03.38 septet whose character is the ASCII one (0x0A, 0x0D, 0x20-0x23,
    /// 0x25-0x3F, 0x41-0x5A, 0x61-0x7A); the escape to the extension table (0x1B) is not.
    private static let gsmASCII: [Bool] = (0..<256).map { octet in
        octet < 0x80 && octet != 0x1B && GSM0338.basic[octet] == Unicode.Scalar(UInt8(octet))
    }

    /// Decodes octets in a character set; nil for sets that are not text.
    public static func decodeText(_ octets: [UInt8], charset: DataCoding.Charset, problems: inout [String]) -> String? {
        switch charset {
        case .gsm7:
            let (text, invalid) = GSM0338.decode(octets)
            if invalid > 0 {
                problems.append("\(invalid) octets above 0x7F are not GSM 03.38 septets (shown as ISO-8859-1)")
            }
            return text
        case .ascii:
            return latin1String(octets)
        case .latin1:
            return latin1String(octets)
        case .cyrillic:
            return String(String.UnicodeScalarView(octets.map(iso8859_5)))
        case .hebrew:
            return String(String.UnicodeScalarView(octets.map(iso8859_8)))
        case .ucs2:
            return decodeUCS2(octets, problems: &problems)
        default:
            return nil
        }
    }

    /// UCS-2 big-endian, surrogate pairs read as UTF-16. An odd last octet and lone surrogates are reported.
    static func decodeUCS2(_ octets: [UInt8], problems: inout [String]) -> String {
        if octets.count % 2 != 0 {
            problems.append("UCS-2 text has an odd number of octets (\(octets.count)); the last one is dropped")
        }
        // UTF-16 big-endian to UTF-8; each unit that is not part of a valid surrogate pair reads as U+FFFD, as the
        // standard library's decoder reads it.
        let count = octets.count / 2
        func unit(_ index: Int) -> UInt32 { UInt32(octets[2 * index]) << 8 | UInt32(octets[2 * index + 1]) }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(count * 3)
        var lone = 0
        var index = 0
        while index < count {
            var scalar = unit(index)
            index += 1
            if scalar & 0xF800 == 0xD800 {
                if scalar < 0xDC00, index < count, unit(index) & 0xFC00 == 0xDC00 {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10 | (unit(index) - 0xDC00))
                    index += 1
                } else {
                    lone += 1
                    scalar = 0xFFFD
                }
            }
            switch scalar {
            case 0..<0x80:
                utf8.append(UInt8(scalar))
            case 0x80..<0x800:
                utf8.append(0xC0 | UInt8(scalar >> 6))
                utf8.append(0x80 | UInt8(scalar & 0x3F))
            case 0x800..<0x10000:
                utf8.append(0xE0 | UInt8(scalar >> 12))
                utf8.append(0x80 | UInt8(scalar >> 6 & 0x3F))
                utf8.append(0x80 | UInt8(scalar & 0x3F))
            default:
                utf8.append(0xF0 | UInt8(scalar >> 18))
                utf8.append(0x80 | UInt8(scalar >> 12 & 0x3F))
                utf8.append(0x80 | UInt8(scalar >> 6 & 0x3F))
                utf8.append(0x80 | UInt8(scalar & 0x3F))
            }
        }
        if lone > 0 { problems.append("\(lone) lone UTF-16 surrogates in UCS-2 text") }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Encodes text for a data_coding; nil when the text cannot be expressed in it.
    public static func encode(_ text: String, dataCoding: UInt8, isoDefault: Bool = false) -> [UInt8]? {
        switch DataCoding(dataCoding).charset(isoDefault: isoDefault) {
        case .gsm7:
            return GSM0338.encode(text)
        case .ascii:
            let octets = Array(text.utf8)
            return octets.allSatisfy { $0 < 0x80 } ? octets : nil
        case .latin1:
            var octets: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value <= 0xFF else { return nil }
                octets.append(UInt8(scalar.value))
            }
            return octets
        case .ucs2:
            var octets: [UInt8] = []
            for unit in text.utf16 {
                octets.append(UInt8(unit >> 8))
                octets.append(UInt8(unit & 0xFF))
            }
            return octets
        default:
            return nil
        }
    }

    /// ISO-8859-5 (Cyrillic) to Unicode.
    static func iso8859_5(_ octet: UInt8) -> Unicode.Scalar {
        switch octet {
        case 0x00...0xA0, 0xAD: return Unicode.Scalar(octet)
        case 0xF0: return "\u{2116}"
        case 0xFD: return "\u{00A7}"
        default: return Unicode.Scalar(UInt32(octet) - 0xA0 + 0x0400) ?? "\u{FFFD}"
        }
    }

    /// ISO-8859-8 (Hebrew) to Unicode; unassigned octets read as U+FFFD.
    static func iso8859_8(_ octet: UInt8) -> Unicode.Scalar {
        switch octet {
        case 0x00...0xA0, 0xA2...0xA9, 0xAB...0xB9, 0xBB...0xBE: return Unicode.Scalar(octet)
        case 0xAA: return "\u{00D7}"
        case 0xBA: return "\u{00F7}"
        case 0xDF: return "\u{2017}"
        case 0xE0...0xFA: return Unicode.Scalar(UInt32(octet) - 0xE0 + 0x05D0) ?? "\u{FFFD}"
        case 0xFD: return "\u{200E}"
        case 0xFE: return "\u{200F}"
        default: return "\u{FFFD}"
        }
    }
}

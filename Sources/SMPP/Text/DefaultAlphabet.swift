// What data_coding 0 carries: the SMSC's default alphabet is not the same everywhere (GSM 03.38 one septet per
// octet, GSM 03.38 packed, ISO-8859-1, ASCII). Which of them read a message's octets cleanly, and septet packing.

/// An alphabet data_coding 0 may mean. The raw values are the `--dcs0` values.
public enum DefaultAlphabet: String, Hashable, Sendable, CaseIterable {
    /// GSM 03.38, one septet per octet (as SMPP carries it).
    case gsm7
    /// GSM 03.38 septets packed eight into seven octets (as on the air interface).
    case gsm7Packed = "gsm7-packed"
    /// ISO-8859-1.
    case latin1
    /// ASCII (IA5).
    case ascii

    /// Its name in words.
    public var charsetName: String {
        switch self {
        case .gsm7, .gsm7Packed: "GSM 03.38"
        case .latin1: "ISO-8859-1"
        case .ascii: "ASCII"
        }
    }

    /// Its bit in ``DefaultAlphabetScore/clean``.
    public var bit: UInt8 { 1 << UInt8(Self.allCases.firstIndex(of: self)!) }

    /// What the octets read as under it: its character set, and whether they must be unpacked first.
    public var charset: DataCoding.Charset {
        switch self {
        case .gsm7, .gsm7Packed: .gsm7
        case .latin1: .latin1
        case .ascii: .ascii
        }
    }

    /// The text of octets in this alphabet (packed septets unpacked first).
    public func decode(_ octets: [UInt8]) -> String {
        var problems: [String] = []
        switch self {
        case .gsm7Packed:
            return MessageText.decodeText(GSM0338.unpack(octets), charset: .gsm7, problems: &problems) ?? ""
        default:
            return MessageText.decodeText(octets, charset: charset, problems: &problems) ?? ""
        }
    }
}

/// Which default alphabets read a message's octets cleanly.
///
/// Clean means: ASCII, printable ASCII with tab, line feed and carriage return; ISO-8859-1, the same and
/// 0xA0-0xFF (no C0 or C1 controls); GSM 03.38, septets only (no octet above 0x7F), escapes followed by a
/// character of the extension table, and none of the four septets where ASCII writes `$ @ _ \``, whose GSM
/// characters (`¤ ¡ § ¿`) are rare in messages while the ASCII ones are common; packed GSM 03.38, the septets
/// unpacked are clean in that sense, at least 90% of them letters, digits, spaces and common punctuation and 60%
/// small letters, digits and spaces (any octets unpack to septets: the shares tell text from chance), tried only on
/// octets that do not read cleanly as one septet each.
public enum DefaultAlphabetScore {
    /// A bit per alphabet (``DefaultAlphabet/bit``) that reads the octets cleanly. Empty octets read cleanly in the one-septet alphabets.
    @_spi(Lent) public static func clean(_ octets: UnsafeRawBufferPointer) -> UInt8 {
        var ascii = true
        var latin1 = true
        var gsm = true
        var escaped = false
        var index = 0
        // Eight octets at a time while they are plain printable ASCII (0x20-0x7E) other than $ @ _ `: clean in all
        // three one-septet readings, nothing to look up.
        while index + 8 <= octets.count {
            let word = octets.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            guard Self.isPlain(word) else { break }
            index += 8
        }
        for octet in UnsafeRawBufferPointer(rebasing: octets[index...]) {
            let kind = classes[Int(octet)]
            if kind & notASCII != 0 { ascii = false }
            if kind & notLatin1 != 0 { latin1 = false }
            if escaped {
                if kind & gsmExtension == 0 { gsm = false }
                escaped = false
            } else if octet == 0x1B {
                escaped = true
            } else if kind & notGSM != 0 {
                gsm = false
            }
            if !ascii, !latin1, !gsm { break }
        }
        if escaped { gsm = false }
        var bits: UInt8 = 0
        if gsm { bits |= DefaultAlphabet.gsm7.bit }
        if latin1 { bits |= DefaultAlphabet.latin1.bit }
        if ascii { bits |= DefaultAlphabet.ascii.bit }
        // Octets that read as one septet each are taken as such: packed is tried on the others only.
        if !gsm, packedReadsAsText(octets) { bits |= DefaultAlphabet.gsm7Packed.bit }
        return bits
    }

    /// True when the octets unpacked are clean GSM 03.38 septets, at least 90% of them common characters and 60%
    /// small letters, digits and spaces (septets that octets of another alphabet unpack to are spread over the
    /// whole set, about 30% of them such).
    static func packedReadsAsText(_ octets: UnsafeRawBufferPointer) -> Bool {
        guard !octets.isEmpty else { return true }
        var common = 0
        var plain = 0
        var count = 0
        var escaped = false
        var clean = true
        GSM0338.forEachPackedSeptet(octets) { septet in
            count += 1
            let kind = classes[Int(septet)]
            if escaped {
                if kind & gsmExtension == 0 { clean = false }
                escaped = false
                common += 1
            } else if septet == 0x1B {
                escaped = true
                common += 1
            } else {
                if kind & notGSM != 0 { clean = false }
                if kind & gsmCommon != 0 { common += 1 }
                if kind & gsmPlain != 0 { plain += 1 }
            }
        }
        return clean && common * 10 >= count * 9 && plain * 5 >= count * 3
    }

    /// True when every octet of `word` is 0x20-0x7E and none is 0x24, 0x40, 0x5F or 0x60.
    @inline(__always)
    static func isPlain(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        // A high bit set, or an octet below 0x20 (adding 0x60 sets no high bit), or 0x7F.
        if word & highs != 0 { return false }
        if (word &+ 0x6060_6060_6060_6060) & highs != highs { return false }
        if hasZero(word ^ 0x7F7F_7F7F_7F7F_7F7F) { return false }
        return !hasZero(word ^ 0x2424_2424_2424_2424) && !hasZero(word ^ 0x4040_4040_4040_4040)
            && !hasZero(word ^ 0x5F5F_5F5F_5F5F_5F5F) && !hasZero(word ^ 0x6060_6060_6060_6060)
    }

    private static let notASCII: UInt8 = 1
    private static let notLatin1: UInt8 = 2
    private static let notGSM: UInt8 = 4
    private static let gsmExtension: UInt8 = 8
    private static let gsmCommon: UInt8 = 16
    private static let gsmPlain: UInt8 = 32

    /// Per octet: the alphabets it rules out and what it is in GSM 03.38.
    private static let classes: [UInt8] = (0..<256).map { value in
        var kind: UInt8 = 0
        let printable = (0x20...0x7E).contains(value) || value == 0x09 || value == 0x0A || value == 0x0D
        if !printable { kind |= notASCII }
        if !printable && value < 0xA0 { kind |= notLatin1 }
        if value > 0x7F || [0x24, 0x40, 0x5F, 0x60].contains(value) { kind |= notGSM }
        if GSM0338.extended[UInt8(truncatingIfNeeded: value)] != nil, value < 0x80 { kind |= gsmExtension }
        if value < 0x80 {
            let scalar = GSM0338.basic[value]
            let properties = scalar.properties
            if properties.isAlphabetic || properties.numericType != nil
                || " .,!?'\"-:;()/+%&*#=\n\r".unicodeScalars
                    .contains(scalar)
            {
                kind |= gsmCommon
            }
            if (0x61...0x7A).contains(value) || (0x30...0x39).contains(value) || value == 0x20 { kind |= gsmPlain }
        }
        return kind
    }
}

extension GSM0338 {
    /// Septets packed eight into seven octets (3GPP TS 23.038 §6.1.2.1), each as an octet; a last septet of zeros
    /// that only fills the final octet is dropped.
    public static func unpack(_ octets: [UInt8]) -> [UInt8] {
        var septets: [UInt8] = []
        septets.reserveCapacity(octets.count * 8 / 7)
        octets.withUnsafeBytes { forEachPackedSeptet($0) { septets.append($0) } }
        return septets
    }

    /// Calls `body` with each packed septet, in order.
    static func forEachPackedSeptet(_ octets: UnsafeRawBufferPointer, _ body: (UInt8) -> Void) {
        let count = octets.count * 8 / 7
        for index in 0..<count {
            let bit = index * 7
            let byte = bit / 8
            let shift = bit % 8
            var value = UInt16(octets[byte]) >> shift
            if shift > 1, byte + 1 < octets.count { value |= UInt16(octets[byte + 1]) << (8 - shift) }
            let septet = UInt8(value & 0x7F)
            // Seven octets hold eight septets exactly; a final zero septet is padding (§6.1.2.3.1 uses CR instead,
            // but zero is what encoders write).
            if index == count - 1, septet == 0, octets.count % 7 == 0 { continue }
            body(septet)
        }
    }
}

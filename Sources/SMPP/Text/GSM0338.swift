// The GSM 03.38 default alphabet and its extension table, one septet per octet as SMPP carries it.

/// GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet, unpacked: SMPP puts one septet in each octet.
public enum GSM0338 {
    /// The basic character set, indexed by septet. 0x1B is the escape to the extension table.
    static let basic: [Unicode.Scalar] = [
        "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
        "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", "\u{1B}", "Æ", "æ", "ß", "É",
        " ", "!", "\"", "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
        "¡", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
        "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "Ä", "Ö", "Ñ", "Ü", "§",
        "¿", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
        "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "ä", "ö", "ñ", "ü", "à",
    ]

    /// The extension table: the septet after an escape (0x1B).
    static let extended: [UInt8: Unicode.Scalar] = [
        0x0A: "\u{0C}", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
        0x40: "|", 0x65: "€",
    ]

    static let basicReverse: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (index, scalar) in basic.enumerated() where index != 0x1B { map[scalar] = UInt8(index) }
        return map
    }()

    static let extendedReverse: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (septet, scalar) in extended { map[scalar] = septet }
        return map
    }()

    /// Decodes unpacked septets. Octets above 0x7F are not septets: they are read as ISO-8859-1 and counted in
    /// `invalidOctets`. An escape followed by an unlisted septet reads as the basic character (23.038 §6.2.1.1);
    /// a lone escape at the end reads as a space.
    public static func decode<Bytes: Collection>(_ octets: Bytes) -> (text: String, invalidOctets: Int)
    where Bytes.Element == UInt8 {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(octets.count + 8)
        var invalid = 0
        var escaped = false
        for octet in octets {
            if octet > 0x7F {
                invalid += 1
                escaped = false
                appendUTF8(Unicode.Scalar(octet), to: &utf8)
                continue
            }
            if escaped {
                escaped = false
                if let scalar = extended[octet] {
                    appendUTF8(scalar, to: &utf8)
                } else if octet == 0x1B {
                    utf8.append(0x20)
                } else {
                    utf8.append(contentsOf: basicUTF8[Int(octet)])
                }
                continue
            }
            if octet == 0x1B {
                escaped = true
                continue
            }
            let encoded = basicUTF8[Int(octet)]
            if encoded.count == 1 {
                utf8.append(encoded[0])
            } else {
                utf8.append(contentsOf: encoded)
            }
        }
        if escaped { utf8.append(0x20) }
        return (String(decoding: utf8, as: UTF8.self), invalid)
    }

    /// The basic set as UTF-8, indexed by septet.
    static let basicUTF8: [[UInt8]] = basic.map { scalar in
        var bytes: [UInt8] = []
        appendUTF8(scalar, to: &bytes)
        return bytes
    }

    static func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        UTF8.encode(scalar) { bytes.append($0) }
    }

    /// Encodes text as unpacked septets; nil when a character is not in the alphabet or its extension.
    public static func encode(_ text: String) -> [UInt8]? {
        var octets: [UInt8] = []
        octets.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if let septet = basicReverse[scalar] {
                octets.append(septet)
            } else if let septet = extendedReverse[scalar] {
                octets.append(0x1B)
                octets.append(septet)
            } else {
                return nil
            }
        }
        return octets
    }

    /// True when every character of `text` has a GSM 03.38 septet.
    public static func canEncode(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { basicReverse[$0] != nil || extendedReverse[$0] != nil }
    }

    /// The septets a UTF-16 unit takes in GSM 03.38 (1, or 2 for the extension table), nil when it has none.
    public static func septets(ofUnit unit: UInt16) -> Int? {
        if unit == 0x20AC { return 2 }
        guard unit < 0x400 else { return nil }
        let cost = unitCosts[Int(unit)]
        return cost == 0 ? nil : Int(cost)
    }

    /// Per UTF-16 unit below 0x400 (Latin and Greek): 1 in the basic set, 2 in the extension table, 0 not at all.
    private static let unitCosts: [UInt8] = (0..<0x400).map { unit in
        guard let scalar = Unicode.Scalar(UInt32(unit)) else { return 0 }
        if basicReverse[scalar] != nil { return 1 }
        if extendedReverse[scalar] != nil { return 2 }
        return 0
    }
}

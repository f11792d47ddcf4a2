// data_coding: which character set a short message is in (SMPP 3.4 §5.2.19, GSM 03.38 coding groups).

/// The `data_coding` of a message. An open set: every octet value is kept; ``charset(isoDefault:)`` says how
/// the octets read.
public struct DataCoding: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static let smscDefault = DataCoding(0x00)
    public static let ia5 = DataCoding(0x01)
    public static let latin1 = DataCoding(0x03)
    public static let ucs2 = DataCoding(0x08)

    /// How the octets of a message read.
    public enum Charset: String, Hashable, Sendable {
        case gsm7 = "GSM 03.38"
        case ascii = "IA5 (ASCII)"
        case latin1 = "ISO-8859-1"
        case cyrillic = "ISO-8859-5"
        case hebrew = "ISO-8859-8"
        case ucs2 = "UCS-2"
        case binary = "binary"
        case jis = "JIS X 0208"
        case pictogram = "pictogram"
        case iso2022jp = "ISO-2022-JP"
        case kanji = "extended Kanji JIS"
        case ksc5601 = "KS C 5601"
        case compressed = "compressed"
        case reserved = "reserved"

        /// True when the octets can be shown as text.
        public var isText: Bool {
            switch self {
            case .gsm7, .ascii, .latin1, .cyrillic, .hebrew, .ucs2: return true
            default: return false
            }
        }
    }

    /// The character set. `isoDefault` makes data_coding 0 ISO-8859-1 instead of GSM 03.38, as the SMSC.kz
    /// `ISO` system_type flag does.
    public func charset(isoDefault: Bool = false) -> Charset {
        switch rawValue {
        case 0x00: return isoDefault ? .latin1 : .gsm7
        case 0x01: return .ascii
        case 0x02, 0x04: return .binary
        case 0x03: return .latin1
        case 0x05: return .jis
        case 0x06: return .cyrillic
        case 0x07: return .hebrew
        case 0x08: return .ucs2
        case 0x09: return .pictogram
        case 0x0A: return .iso2022jp
        case 0x0D: return .kanji
        case 0x0E: return .ksc5601
        case 0x0B, 0x0C, 0x0F: return .reserved
        case 0x10...0x7F:
            // General data coding (00xx) and automatic deletion (01xx) groups: bit 5 compressed, bits 3-2 alphabet.
            if rawValue & 0x20 != 0 { return .compressed }
            switch rawValue & 0x0C {
            case 0x00: return .gsm7
            case 0x04: return .binary
            case 0x08: return .ucs2
            default: return .reserved
            }
        case 0xC0...0xDF: return .gsm7
        case 0xE0...0xEF: return .ucs2
        case 0xF0...0xFF: return rawValue & 0x04 == 0 ? .gsm7 : .binary
        default: return .reserved
        }
    }
}

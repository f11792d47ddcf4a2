// How a message id is written, beyond what links it: enough to tell whether a receipt writes the id of its
// submit_sm_resp the same way, or in a form a client comparing ids as text would not match.

@_spi(Lent) import SMPP

/// The look of a message id: its length and four flags. Two ids that link (``MessageID``) and have the same form
/// are written alike; otherwise the difference is a ``ReceiptIDTransform``.
struct ReceiptIDForm: Hashable {
    /// Length (capped at 255) in the low byte, flags above.
    var bits: UInt16

    static let digitsOnly: UInt16 = 1 << 8
    static let leadingZero: UInt16 = 1 << 9
    static let lowercase: UInt16 = 1 << 10
    static let uppercase: UInt16 = 1 << 11

    init(bits: UInt16) { self.bits = bits }

    init(_ id: UnsafeRawBufferPointer) {
        bits = MessageID.linkKeyAndShape(id).shape
    }

    init(flags: UInt16, length: Int) {
        bits = flags | UInt16(min(length, 255))
    }

    var length: Int { Int(bits & 0xFF) }
    var flags: UInt16 { bits & 0xFF00 }

    /// The flags of an id's bytes (spaces around it are not part of the id).
    static func flags(_ id: UnsafeRawBufferPointer) -> UInt16 {
        MessageID.linkKeyAndShape(id).shape & 0xFF00
    }

    /// How a receipt's id (`self`) is written against the submit_sm_resp id it linked to by its own key.
    func difference(from response: ReceiptIDForm) -> ReceiptIDTransform {
        if self == response { return .exact }
        if flags & Self.leadingZero != response.flags & Self.leadingZero || length != response.length {
            return .zeroPadding
        }
        return .letterCase
    }
}

/// How a receipt writes the id its submit_sm_resp gave. A closed set; the raw values are the JSON names.
public enum ReceiptIDTransform: String, Hashable, Sendable, CaseIterable {
    /// Written alike.
    case exact = "exact"
    /// The same id with leading zeros added or removed (or spaces around it).
    case zeroPadding = "zero_padding"
    /// The same id in other letter case.
    case letterCase = "letter_case"
    /// The decimal form of the response's hexadecimal id.
    case hexToDecimal = "hex_to_decimal"
    /// The hexadecimal form of the response's decimal id.
    case decimalToHex = "decimal_to_hex"
    /// No form of any response id of the capture.
    case unmatched = "unmatched"

    /// Its position among `allCases`, for counting in an array.
    var position: Int {
        switch self {
        case .exact: 0
        case .zeroPadding: 1
        case .letterCase: 2
        case .hexToDecimal: 3
        case .decimalToHex: 4
        case .unmatched: 5
        }
    }
}

// What can be wrong with SMPP bytes, and where.

/// A problem found while framing or decoding SMPP bytes: a code, the field, the byte offset within the PDU,
/// and a reason in plain words.
///
/// Decoding is lenient where it can be: most problems are attached to the decoded ``PDU`` as diagnostics
/// and the rest of the PDU (and of the stream) is still decoded.
public struct SMPPDecodingError: LocatedError, Hashable {
    /// The kind of problem. A closed set.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// Fewer than 16 bytes where a PDU header was expected.
        case shortHeader = "short_header"
        /// `command_length` below 16.
        case lengthTooSmall = "length_too_small"
        /// `command_length` above the configured maximum.
        case lengthTooLarge = "length_too_large"
        /// A C-string field with no NUL before the end of the PDU.
        case unterminatedCString = "unterminated_cstring"
        /// A C-string longer than the specification allows (decoded anyway).
        case fieldTooLong = "field_too_long"
        /// A fixed-size field runs past the end of the PDU.
        case fieldPastEnd = "field_past_end"
        /// `sm_length` runs past the end of the PDU.
        case smLengthPastEnd = "sm_length_past_end"
        /// Fewer than 4 bytes left where a TLV header was expected.
        case tlvHeaderTruncated = "tlv_header_truncated"
        /// A TLV's length runs past the end of the PDU.
        case tlvLengthPastEnd = "tlv_length_past_end"
        /// A TLV whose length does not fit its type.
        case tlvBadLength = "tlv_bad_length"
        /// Bytes after the last field of a PDU that has no optional part.
        case trailingBytes = "trailing_bytes"
        /// A time field that is neither an absolute nor a relative SMPP time.
        case invalidTime = "invalid_time"
        /// A response with status 0 but without the body it should carry.
        case missingBody = "missing_body"
        /// A field value outside its defined range.
        case invalidValue = "invalid_value"
    }

    public var code: Code
    /// The SMPP field name (`sm_length`, `tlv 0x0424`), when the problem is in one field.
    public var field: String?
    /// Byte offset within the PDU (0 is the first byte of `command_length`).
    public var offset: Int
    /// What is wrong, in plain words.
    public var reason: String

    public init(_ code: Code, field: String? = nil, offset: Int, reason: String) {
        self.code = code
        self.field = field
        self.offset = offset
        self.reason = reason
    }

    /// The field and the offset within the PDU.
    public var location: String? {
        if let field { return "\(field), PDU offset \(offset)" }
        return "PDU offset \(offset)"
    }

    public var hint: String? { nil }

    public var description: String {
        if let field {
            return "\(reason) (\(field), PDU offset \(offset))"
        }
        return "\(reason) (PDU offset \(offset))"
    }
}

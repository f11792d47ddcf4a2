// One TLV (optional parameter): its tag, its raw value, and the value read by the tag's type.

import NIOCore

/// A TLV as it was on the wire. The raw octets are kept, so every TLV re-encodes to the same bytes;
/// ``value`` reads them by the tag's type.
public struct TLV: Hashable, Sendable {
    public var tag: TLVTag
    public var raw: ByteBuffer

    public init(tag: TLVTag, raw: ByteBuffer) {
        self.tag = tag
        self.raw = raw
    }

    /// A TLV holding an integer of `width` bytes, big-endian.
    public init(tag: TLVTag, integer: UInt64, width: Int) {
        var buffer = ByteBuffer()
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            buffer.writeInteger(UInt8(truncatingIfNeeded: integer >> UInt64(shift)))
        }
        self.init(tag: tag, raw: buffer)
    }

    /// A TLV holding a C-octet string (its NUL included).
    public init(tag: TLVTag, cString: String) {
        var buffer = ByteBuffer()
        buffer.writeCString(cString)
        self.init(tag: tag, raw: buffer)
    }

    /// A TLV holding octets.
    public init(tag: TLVTag, octets: [UInt8]) {
        self.init(tag: tag, raw: ByteBuffer(bytes: octets))
    }

    /// The length of the value in bytes.
    public var length: Int { raw.readableBytes }

    /// A TLV value read by its tag's type.
    public enum Value: Hashable, Sendable {
        case integer(UInt64)
        case string(String)
        case octets([UInt8])
        case networkErrorCode(networkType: UInt8, errorCode: UInt16)
        case broadcastContentType(networkType: UInt8, contentType: UInt16)
        case broadcastFrequencyInterval(unit: UInt8, number: UInt16)
        case broadcastAreaIdentifier(format: UInt8, area: [UInt8])
        /// A flag TLV with no value.
        case present
    }

    /// The value by the tag's type; octets when the length does not fit the type (see ``lengthProblem``).
    public var value: Value {
        let kind = tag.kind
        return raw.withUnsafeReadableBytes { bytes -> Value in
            if Self.lengthProblem(kind: kind, length: bytes.count) { return .octets(Array(bytes)) }
            switch kind {
            case .integer:
                return .integer(bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            case .cString:
                let content = bytes.last == 0 ? UnsafeRawBufferPointer(rebasing: bytes.dropLast()) : bytes
                return .string(fieldString(content))
            case .octets:
                return .octets(Array(bytes))
            case .networkErrorCode:
                return .networkErrorCode(networkType: bytes[0], errorCode: UInt16(bytes[1]) << 8 | UInt16(bytes[2]))
            case .broadcastContentType:
                return .broadcastContentType(
                    networkType: bytes[0], contentType: UInt16(bytes[1]) << 8 | UInt16(bytes[2]))
            case .broadcastFrequencyInterval:
                return .broadcastFrequencyInterval(unit: bytes[0], number: UInt16(bytes[1]) << 8 | UInt16(bytes[2]))
            case .broadcastAreaIdentifier:
                return .broadcastAreaIdentifier(format: bytes[0], area: Array(bytes.dropFirst()))
            case .presence:
                return bytes.isEmpty ? .present : .integer(UInt64(bytes[0]))
            }
        }
    }

    /// True when `length` does not fit `kind` (``lengthProblem`` says why).
    private static func lengthProblem(kind: TLVTag.Kind, length: Int) -> Bool {
        switch kind {
        case .integer(let widths): return !widths.contains(length)
        case .networkErrorCode, .broadcastContentType, .broadcastFrequencyInterval: return length != 3
        case .broadcastAreaIdentifier: return length < 1
        case .presence: return length > 1
        case .cString, .octets: return false
        }
    }

    /// Why the length does not fit the tag's type, or nil when it fits.
    public var lengthProblem: String? {
        let length = raw.readableBytes
        let kind = tag.kind
        guard Self.lengthProblem(kind: kind, length: length) else { return nil }
        switch kind {
        case .integer(let widths):
            let allowed = widths.map(String.init).joined(separator: " or ")
            return "\(tag.name) is \(length) bytes long, expected \(allowed)"
        case .broadcastAreaIdentifier:
            return "\(tag.name) is empty, expected a format byte"
        case .presence:
            return "\(tag.name) is \(length) bytes long, expected 0 or 1"
        default:
            return "\(tag.name) is \(length) bytes long, expected 3"
        }
    }

    /// The integer value, when the TLV holds one.
    public var integerValue: UInt64? {
        if case .integer(let value) = value { return value }
        return nil
    }

    /// The string value, when the TLV holds a C-octet string.
    public var stringValue: String? {
        if case .string(let value) = value { return value }
        return nil
    }

    /// Writes tag, length and value.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(tag.rawValue, endianness: .big)
        buffer.writeInteger(UInt16(truncatingIfNeeded: raw.readableBytes), endianness: .big)
        buffer.writeImmutableBuffer(raw)
    }
}

extension Array where Element == TLV {
    /// The first TLV with this tag.
    public subscript(tag: TLVTag) -> TLV? {
        first { $0.tag == tag }
    }
}

// Bounds-checked readers for PDU bodies: every read checks what is left first, and every failure names the field
// and its offset within the PDU.

import NIOCore

/// Reads the fields of one PDU body. Throws an ``SMPPDecodingError`` for what cannot be decoded at all and collects
/// warnings for what can (a C-string over its maximum length, an odd time field).
struct BodyReader {
    var buffer: ByteBuffer
    private let startIndex: Int
    private(set) var warnings: [SMPPDecodingError] = []

    init(body: ByteBuffer) {
        self.buffer = body
        self.startIndex = body.readerIndex
    }

    /// Offset of the next byte within the PDU (the header is 16 bytes).
    var offset: Int { PDUHeader.size + buffer.readerIndex - startIndex }

    var remaining: Int { buffer.readableBytes }

    mutating func warn(_ error: SMPPDecodingError) {
        warnings.append(error)
    }

    mutating func u8(_ field: StaticString) throws -> UInt8 {
        guard let value = buffer.readInteger(as: UInt8.self) else {
            throw SMPPDecodingError(
                .fieldPastEnd, field: "\(field)", offset: offset,
                reason: "the PDU ends where \(field) (1 byte) was expected")
        }
        return value
    }

    mutating func u16(_ field: StaticString) throws -> UInt16 {
        guard let value = buffer.readInteger(endianness: .big, as: UInt16.self) else {
            throw SMPPDecodingError(
                .fieldPastEnd, field: "\(field)", offset: offset,
                reason: "the PDU ends where \(field) (2 bytes) was expected, \(remaining) left")
        }
        return value
    }

    mutating func u32(_ field: StaticString) throws -> UInt32 {
        guard let value = buffer.readInteger(endianness: .big, as: UInt32.self) else {
            throw SMPPDecodingError(
                .fieldPastEnd, field: "\(field)", offset: offset,
                reason: "the PDU ends where \(field) (4 bytes) was expected, \(remaining) left")
        }
        return value
    }

    /// A C-octet string of at most `max` bytes including its NUL.
    ///
    /// The NUL is searched for within the rest of the body; one found beyond `max` still decodes, with a
    /// ``SMPPDecodingError/Code/fieldTooLong`` warning, since real peers overrun limits more often than they mean
    /// harm. No NUL at all is an error.
    mutating func cString(_ field: StaticString, max: Int) throws -> String {
        let fieldOffset = offset
        let nulIndex: Int? = buffer.withUnsafeReadableBytes { bytes in
            bytes.firstIndex(of: 0)
        }
        guard let length = nulIndex else {
            throw SMPPDecodingError(
                .unterminatedCString, field: "\(field)", offset: fieldOffset,
                reason: "\(field) has no terminating NUL within the \(remaining) bytes left (maximum \(max))")
        }
        if length + 1 > max {
            warn(
                SMPPDecodingError(
                    .fieldTooLong, field: "\(field)", offset: fieldOffset,
                    reason: "\(field) is \(length + 1) bytes with its NUL, more than the maximum of \(max)"))
        }
        let value = buffer.withUnsafeReadableBytes { bytes in
            fieldString(UnsafeRawBufferPointer(rebasing: bytes[..<length]))
        }
        buffer.moveReaderIndex(forwardBy: length + 1)
        return value
    }

    /// `count` octets as a slice of the PDU (no copy).
    mutating func octets(_ field: StaticString, count: Int) throws -> ByteBuffer {
        let fieldOffset = offset
        guard let slice = buffer.readSlice(length: count) else {
            throw SMPPDecodingError(
                .smLengthPastEnd, field: "\(field)", offset: fieldOffset,
                reason: "\(field) is \(count) bytes but only \(remaining) are left in the PDU")
        }
        return slice
    }

    /// sm_length followed by that many octets of short_message.
    mutating func shortMessage() throws -> ByteBuffer {
        let lengthOffset = offset
        let length = Int(try u8("sm_length"))
        guard let slice = buffer.readSlice(length: length) else {
            throw SMPPDecodingError(
                .smLengthPastEnd, field: "sm_length", offset: lengthOffset,
                reason: "sm_length \(length) runs past the end of the PDU, \(remaining) bytes left")
        }
        return slice
    }

    /// An address triple: TON, NPI and a C-string address of at most `max` bytes.
    mutating func address(
        _ tonField: StaticString, _ npiField: StaticString, _ addressField: StaticString, max: Int
    ) throws -> Address {
        let ton = try u8(tonField)
        let npi = try u8(npiField)
        let value = try cString(addressField, max: max)
        return Address(ton: ton, npi: npi, address: value)
    }

    /// A time field (schedule_delivery_time, validity_period, final_date): a C-string of 1 or 17 bytes,
    /// checked against the absolute and relative forms.
    mutating func time(_ field: StaticString) throws -> String {
        let fieldOffset = offset
        let value = try cString(field, max: 17)
        if !value.isEmpty, case .failure(let reason) = SMPPTime.parse(value) {
            warn(SMPPDecodingError(.invalidTime, field: "\(field)", offset: fieldOffset, reason: reason.reason))
        }
        return value
    }
}

extension ByteBuffer {
    /// Writes a C-octet string: the UTF-8 bytes of `value` and a NUL.
    @inlinable
    mutating func writeCString(_ value: String) {
        writeString(value)
        writeInteger(UInt8(0))
    }

    /// Writes an address triple.
    mutating func writeAddress(_ address: Address) {
        writeInteger(address.ton)
        writeInteger(address.npi)
        writeCString(address.address)
    }

    /// Writes sm_length and short_message. Octets past 255 cannot be expressed and are cut off; callers that
    /// build messages put longer texts into message_payload.
    mutating func writeShortMessage(_ message: ByteBuffer) {
        let length = Swift.min(message.readableBytes, 255)
        writeInteger(UInt8(truncatingIfNeeded: length))
        writeImmutableBuffer(message.getSlice(at: message.readerIndex, length: length) ?? ByteBuffer())
    }
}

/// A field's bytes as a String: UTF-8 when they are valid UTF-8 (ASCII always is), else ISO-8859-1 so that no byte
/// is lost.
@inlinable
@_spi(Lent) public func fieldString(_ bytes: UnsafeRawBufferPointer) -> String {
    if let valid = String(validating: bytes, as: UTF8.self) { return valid }
    return latin1String(bytes)
}

/// ISO-8859-1: each byte is the code point of the same value.
@inlinable
public func latin1String<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var utf8: [UInt8] = []
    utf8.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        if byte < 0x80 {
            utf8.append(byte)
        } else {
            utf8.append(0xC0 | byte >> 6)
            utf8.append(0x80 | byte & 0x3F)
        }
    }
    return String(decoding: utf8, as: UTF8.self)
}

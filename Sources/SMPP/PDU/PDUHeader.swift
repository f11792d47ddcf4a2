// The 16-byte header every SMPP PDU starts with.

import NIOCore

/// The SMPP PDU header: command_length, command_id, command_status, sequence_number, big-endian.
public struct PDUHeader: Hashable, Sendable {
    /// The size of the header in bytes.
    public static let size = 16

    public var commandLength: UInt32
    public var commandID: CommandID
    public var commandStatus: CommandStatus
    public var sequenceNumber: UInt32

    public init(
        commandLength: UInt32 = 16, commandID: CommandID, commandStatus: CommandStatus = .ok, sequenceNumber: UInt32
    ) {
        self.commandLength = commandLength
        self.commandID = commandID
        self.commandStatus = commandStatus
        self.sequenceNumber = sequenceNumber
    }

    /// Reads a header at the reader index without moving it; nil when fewer than 16 bytes are readable.
    @inlinable
    public static func peek(in buffer: ByteBuffer) -> PDUHeader? {
        peek(in: buffer, at: buffer.readerIndex)
    }

    /// Reads a header at `index` without moving the reader index.
    @inlinable
    public static func peek(in buffer: ByteBuffer, at index: Int) -> PDUHeader? {
        let offset = index - buffer.readerIndex
        guard offset >= 0, offset + 16 <= buffer.readableBytes,
            let length = buffer.getInteger(at: index, as: UInt32.self),
            let command = buffer.getInteger(at: index + 4, as: UInt32.self),
            let status = buffer.getInteger(at: index + 8, as: UInt32.self),
            let sequence = buffer.getInteger(at: index + 12, as: UInt32.self)
        else { return nil }
        return PDUHeader(
            commandLength: length, commandID: CommandID(command), commandStatus: CommandStatus(status),
            sequenceNumber: sequence)
    }

    /// Reads a header `offset` bytes into `bytes`; nil when fewer than 16 bytes are there.
    @inlinable
    @_spi(Lent) public static func peek(in bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> PDUHeader? {
        guard offset >= 0, offset <= bytes.count - 16 else { return nil }
        func word(_ at: Int) -> UInt32 {
            UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + at, as: UInt32.self))
        }
        return PDUHeader(
            commandLength: word(0), commandID: CommandID(word(4)), commandStatus: CommandStatus(word(8)),
            sequenceNumber: word(12))
    }

    /// Writes the header, big-endian.
    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(
            commandLength, commandID.rawValue, commandStatus.rawValue, sequenceNumber, endianness: .big)
    }
}

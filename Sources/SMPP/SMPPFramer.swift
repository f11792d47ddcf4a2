// The one SMPP framer: peek command_length, check it, wait for the whole PDU, hand it out as a slice.
// Files, the proxy, replay and the simulator all frame through it.

import NIOCore

/// Splits a byte stream into whole SMPP PDUs.
public struct SMPPFramer: Sendable, Hashable {
    /// The largest PDU accepted by default: a submit_sm with a full 64 KiB message_payload fits.
    public static let defaultMaximumLength = 65_536 + 1_024

    /// The largest command_length accepted; a larger one is reported as invalid.
    public var maximumLength: Int

    public init(maximumLength: Int = SMPPFramer.defaultMaximumLength) {
        self.maximumLength = max(PDUHeader.size, maximumLength)
    }

    /// The outcome of one framing step.
    public enum Step: Sendable {
        /// Not enough bytes yet: at least `missing` more are needed.
        case needMoreData(missing: Int)
        /// A whole PDU (header included), removed from the buffer. The slice shares the buffer's storage.
        case frame(ByteBuffer)
        /// The next four bytes cannot be a command_length; nothing was consumed.
        case invalid(SMPPDecodingError)
    }

    /// Takes the next whole PDU off the front of `buffer`, if it is all there.
    @inlinable
    public func step(_ buffer: inout ByteBuffer) -> Step {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData(missing: 4 - buffer.readableBytes)
        }
        if let problem = check(commandLength: length) {
            return .invalid(problem)
        }
        let whole = Int(length)
        guard let frame = buffer.readSlice(length: whole) else {
            return .needMoreData(missing: whole - buffer.readableBytes)
        }
        return .frame(frame)
    }

    /// Why a command_length cannot be right, or nil when it can.
    @inlinable
    public func check(commandLength length: UInt32) -> SMPPDecodingError? {
        if length < UInt32(PDUHeader.size) {
            return SMPPDecodingError(
                .lengthTooSmall, field: "command_length", offset: 0,
                reason: "command_length \(length) is less than the 16-byte header")
        }
        if UInt64(length) > UInt64(maximumLength) {
            return SMPPDecodingError(
                .lengthTooLarge, field: "command_length", offset: 0,
                reason: "command_length \(length) is over the maximum of \(maximumLength)")
        }
        return nil
    }
}

/// A SwiftNIO decoder that frames SMPP PDUs (wrap it in `ByteToMessageHandler`). An impossible command_length is
/// an error, since a live connection cannot be resynchronised safely.
public struct SMPPFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public var framer: SMPPFramer

    public init(framer: SMPPFramer = SMPPFramer()) {
        self.framer = framer
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        switch framer.step(&buffer) {
        case .needMoreData: return nil
        case .frame(let frame): return frame
        case .invalid(let error): throw error
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

// Bind passwords out of PDU bytes: what stores, journals and logs keep instead of the password.

import NIOCore

extension CommandID {
    /// bind_transmitter, bind_receiver, bind_transceiver and outbind carry a password after system_id.
    public var carriesPassword: Bool {
        self == .bindTransmitter || self == .bindReceiver || self == .bindTransceiver || self == .outbind
    }
}

/// Overwrites the password of a bind or outbind with '*', in place and keeping its length, so the PDU stays whole
/// and everything else in it reads back unchanged.
public enum PasswordRedaction {
    /// The range of the password octets (the C-string after system_id) in a frame, or nil when the frame is not a
    /// bind or outbind. Works on frames too damaged to decode.
    @_spi(Lent) public static func passwordRange(in frame: UnsafeRawBufferPointer) -> Range<Int>? {
        guard frame.count > PDUHeader.size else { return nil }
        let command = UInt32(frame[4]) << 24 | UInt32(frame[5]) << 16 | UInt32(frame[6]) << 8 | UInt32(frame[7])
        guard CommandID(rawValue: command).carriesPassword else { return nil }
        var index = PDUHeader.size
        while index < frame.count, frame[index] != 0 { index += 1 }
        index += 1
        var end = index
        while end < frame.count, frame[end] != 0 { end += 1 }
        return index < end ? index..<end : nil
    }

    /// A copy of `frame` with its password redacted, or nil when there is nothing to redact.
    public static func redacted(_ frame: ByteBuffer) -> ByteBuffer? {
        guard let range = frame.withUnsafeReadableBytes({ passwordRange(in: $0) }) else { return nil }
        var copy = frame
        copy.setRepeatingByte(UInt8(ascii: "*"), count: range.count, at: copy.readerIndex + range.lowerBound)
        return copy
    }
}

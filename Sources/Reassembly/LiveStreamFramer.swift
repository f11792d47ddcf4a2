// Frames one direction of a live connection (bytes in order, none missing) through the same `DirectionStream` that
// frames a capture's streams: the same checks, and after bytes that do not frame, the same resynchronisation on the
// next plausible PDU with the same diagnostics. The recording proxy frames its copy of each direction with it.

import Capture
import NIOCore
import SMPP

/// Frames one in-order byte stream into SMPP PDUs, resynchronising after bytes that do not frame.
///
/// Memory: at most one unfinished PDU (`maximumPDULength`) plus the bytes of one `feed`.
public final class LiveStreamFramer {
    /// What framing produced.
    public enum Output {
        /// A whole PDU: its bytes (a copy), the stream offset of its first byte, and the read and time that completed it.
        case pdu(ByteBuffer, offset: UInt64, read: Int, timestamp: Timestamp)
        /// Bytes that do not frame, or a stream that ended inside a PDU: what, where, and the read it was found in.
        case diagnostic(String, offset: UInt64, read: Int, timestamp: Timestamp)
    }

    private let stream: DirectionStream
    private var sequence: UInt32 = 1
    private let allocator = ByteBufferAllocator()

    public init(maximumPDULength: Int = SMPPFramer.defaultMaximumLength) {
        stream = DirectionStream(
            framer: SMPPFramer(maximumLength: maximumPDULength), forced: false, bufferLimit: 0, scanBudget: 0)
        // A live SMPP connection: a header that does not frame starts a search for the next PDU, never a verdict
        // that the stream is something else.
        stream.knownSMPP = true
        stream.syn(sequence: 0)
    }

    /// The bytes of one read, numbered `read` and arrived at `timestamp`; hands out what they complete, in order.
    public func feed(_ bytes: ByteBuffer, read: Int, timestamp: Timestamp, _ output: (Output) -> Void) {
        let count = bytes.readableBytes
        guard count > 0 else { return }
        bytes.withUnsafeReadableBytes { payload in
            stream.segment(
                sequence: sequence, payload: payload, declaredLength: count, fin: false, frame: read,
                timestamp: timestamp)
        }
        sequence &+= UInt32(truncatingIfNeeded: count)
        take(output)
    }

    /// The stream is over: what waited for following bytes is decided, and a PDU left unfinished is reported.
    public func finish(read: Int, timestamp: Timestamp, _ output: (Output) -> Void) {
        stream.finish(frame: read, timestamp: timestamp)
        take(output)
    }

    /// The stream offset of the next byte.
    public var offset: UInt64 { stream.streamOffset }

    private func take(_ output: (Output) -> Void) {
        stream.takeOutputs(
            frame: { frame, bytes in
                output(
                    .pdu(
                        allocator.buffer(bytes: bytes), offset: frame.offset, read: frame.frame,
                        timestamp: frame.timestamp))
            },
            other: { other in
                switch other {
                case .diagnostic(let message, let offset, let frame, let timestamp):
                    output(.diagnostic(message, offset: offset, read: frame, timestamp: timestamp))
                case .gap(let offset, let size, let frame, let timestamp, _):
                    output(.diagnostic("\(size) bytes are missing", offset: offset, read: frame, timestamp: timestamp))
                case .detected, .frame:
                    break
                }
            })
    }
}

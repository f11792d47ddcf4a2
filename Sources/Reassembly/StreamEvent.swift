// What reassembly produces: SMPP PDUs with their time, direction and place in the stream, and what happened to
// the TCP connection around them.

import Capture
import NIOCore
import SMPP

/// A TCP connection that carries SMPP.
public struct Connection: Hashable, Sendable {
    /// 1-based, in the order in which connections were found to carry SMPP.
    public var id: Int
    /// The endpoint that sent the first packet seen.
    public var first: Endpoint
    public var second: Endpoint
    /// The endpoint that sent the SYN, when the handshake is in the capture.
    public var synSender: Endpoint?
    /// Time of the connection's first packet in the capture.
    public var firstSeen: Timestamp
}

/// One whole SMPP PDU taken from a stream.
public struct FramedPDU {
    public var connection: Int
    public var source: Endpoint
    public var destination: Endpoint
    /// Time of the packet that carried the PDU's last byte.
    public var timestamp: Timestamp
    /// Number of that packet in the capture.
    public var frame: Int
    /// Offset of the PDU's first byte in its direction of the stream.
    public var streamOffset: UInt64
    /// The PDU's bytes (header included). A slice of the stream buffer: valid inside the callback; copy it to keep
    /// it longer.
    public var bytes: ByteBuffer
    /// The structural facts of the frame, when already worked out (by the thread that read it).
    public var digest: PDUDigest?
}

/// Bytes of a stream that the capture does not have.
public struct StreamGap: Hashable, Sendable {
    public enum Reason: String, Sendable {
        /// Segments missing from the capture (acknowledged by the peer, never seen).
        case missingSegments = "missing segments"
        /// The capture's snapshot length cut the packet.
        case snapLength = "cut by the snapshot length"
        /// The out-of-order buffer overflowed before the missing bytes came.
        case bufferLimit = "out-of-order buffer limit"
        /// The connection ended (or the capture did) before the missing bytes came.
        case endOfStream = "never seen before the end"
    }

    public var connection: Int
    public var source: Endpoint
    public var destination: Endpoint
    public var streamOffset: UInt64
    public var size: Int
    public var frame: Int
    public var timestamp: Timestamp
    public var reason: Reason
}

/// How a connection ended.
public struct ConnectionEnd: Hashable, Sendable {
    public enum Kind: String, Sendable {
        case fin
        case rst
    }

    public var connection: Int
    public var kind: Kind
    /// The endpoint that sent the first FIN or the RST.
    public var by: Endpoint
    public var frame: Int
    public var timestamp: Timestamp
}

/// Something wrong in a stream, located.
public struct StreamDiagnostic: Hashable, Sendable, CustomStringConvertible {
    public var connection: Int?
    public var source: Endpoint
    public var destination: Endpoint
    public var streamOffset: UInt64
    public var frame: Int
    public var timestamp: Timestamp
    public var message: String

    public var description: String {
        "frame \(frame), \(source) -> \(destination), stream offset \(streamOffset): \(message)"
    }
}

/// One event of reassembly, in capture order.
public enum StreamEvent {
    /// A connection was found to carry SMPP; comes before its first PDU.
    case opened(Connection)
    case pdu(FramedPDU)
    case gap(StreamGap)
    /// The first FIN or RST of a connection.
    case ended(ConnectionEnd)
    case diagnostic(StreamDiagnostic)
}

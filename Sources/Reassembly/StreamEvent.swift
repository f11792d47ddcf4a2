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

    public init(id: Int, first: Endpoint, second: Endpoint, synSender: Endpoint?, firstSeen: Timestamp) {
        self.id = id
        self.first = first
        self.second = second
        self.synSender = synSender
        self.firstSeen = firstSeen
    }
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

    public init(
        connection: Int, source: Endpoint, destination: Endpoint, streamOffset: UInt64, size: Int, frame: Int,
        timestamp: Timestamp, reason: Reason
    ) {
        self.connection = connection
        self.source = source
        self.destination = destination
        self.streamOffset = streamOffset
        self.size = size
        self.frame = frame
        self.timestamp = timestamp
        self.reason = reason
    }
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

    public init(connection: Int, kind: Kind, by: Endpoint, frame: Int, timestamp: Timestamp) {
        self.connection = connection
        self.kind = kind
        self.by = by
        self.frame = frame
        self.timestamp = timestamp
    }
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

    public init(
        connection: Int?, source: Endpoint, destination: Endpoint, streamOffset: UInt64, frame: Int,
        timestamp: Timestamp,
        message: String
    ) {
        self.connection = connection
        self.source = source
        self.destination = destination
        self.streamOffset = streamOffset
        self.frame = frame
        self.timestamp = timestamp
        self.message = message
    }

    public var description: String {
        "frame \(frame), \(source) -> \(destination), stream offset \(streamOffset): \(message)"
    }
}

/// One event of reassembly, in capture order.
public enum StreamEvent {
    /// A connection was found to carry SMPP; comes before its first PDU.
    case opened(Connection)
    /// A whole PDU, as the stream frames it (its session not followed yet).
    case pdu(TimelinePDU)
    case gap(StreamGap)
    /// The first FIN or RST of a connection.
    case ended(ConnectionEnd)
    case diagnostic(StreamDiagnostic)
}

/// What reading a capture produces, in order: reassembly events, and diagnostics about the capture itself.
public enum PipelineEvent {
    case stream(StreamEvent)
    case capture(CaptureDiagnostic)
}

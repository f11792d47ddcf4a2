// The event model every input path produces: files, live capture, and later the proxy.

import Capture
import NIOCore
import Reassembly
import SMPP

/// A decoded PDU in its session.
public struct TimelinePDU {
    public var session: Int
    /// Time of the packet that completed the PDU.
    public var timestamp: Timestamp
    public var frame: Int
    public var source: Endpoint
    public var destination: Endpoint
    /// True when the client (ESME) sent it; nil while the roles are unknown.
    public var fromClient: Bool?
    public var streamOffset: UInt64
    public var header: PDUHeader
    /// The PDU's bytes; a slice valid inside the callback.
    public var raw: ByteBuffer
    /// Structural facts of the frame: well-formed or not, where the fields of a submit_sm or deliver_sm are.
    public var digest: PDUDigest
    /// The decoded PDU, when the tracker decodes every PDU (else only binds are decoded).
    public var pdu: PDU? {
        get { decodedBox?.pdu }
        set { decodedBox = newValue.map(DecodedPDUBox.init) }
    }
    /// The decoded PDU boxed, as it is kept: most PDUs travel without one, and the value is copied from stage to
    /// stage (and from thread to thread) whole.
    public var decodedBox: DecodedPDUBox?
    /// data_coding 0 reads as ISO-8859-1 in this session.
    public var isoDefault: Bool
    /// What the consumer's preparation (``PDUPreparation``) worked out from this PDU ahead of its handling; nil
    /// when there was none, or it found nothing to work out. The consumer's own words (the analysis'): part of
    /// the lent fast path, not of the ordinary API.
    @_spi(Lent) public var prepared: PreparedPDU? = nil

    public init(
        session: Int, timestamp: Timestamp, frame: Int, source: Endpoint, destination: Endpoint, fromClient: Bool?,
        streamOffset: UInt64, header: PDUHeader, raw: ByteBuffer, digest: PDUDigest, pdu: PDU?, isoDefault: Bool
    ) {
        self.init(
            session: session, timestamp: timestamp, frame: frame, source: source, destination: destination,
            fromClient: fromClient, streamOffset: streamOffset, header: header, raw: raw, digest: digest,
            decodedBox: pdu.map(DecodedPDUBox.init), isoDefault: isoDefault)
    }

    /// The same with the decoded PDU already boxed; inlined where it is used, for the stages that take PDUs apart
    /// and put them together again once per PDU.
    @inlinable
    public init(
        session: Int, timestamp: Timestamp, frame: Int, source: Endpoint, destination: Endpoint, fromClient: Bool?,
        streamOffset: UInt64, header: PDUHeader, raw: ByteBuffer, digest: PDUDigest, decodedBox: DecodedPDUBox?,
        isoDefault: Bool
    ) {
        self.session = session
        self.timestamp = timestamp
        self.frame = frame
        self.source = source
        self.destination = destination
        self.fromClient = fromClient
        self.streamOffset = streamOffset
        self.header = header
        self.raw = raw
        self.digest = digest
        self.decodedBox = decodedBox
        self.isoDefault = isoDefault
    }

    /// The same with what the consumer's preparation worked out.
    @_spi(Lent) @inlinable
    public init(
        session: Int, timestamp: Timestamp, frame: Int, source: Endpoint, destination: Endpoint, fromClient: Bool?,
        streamOffset: UInt64, header: PDUHeader, raw: ByteBuffer, digest: PDUDigest, decodedBox: DecodedPDUBox?,
        isoDefault: Bool, prepared: PreparedPDU?
    ) {
        self.init(
            session: session, timestamp: timestamp, frame: frame, source: source, destination: destination,
            fromClient: fromClient, streamOffset: streamOffset, header: header, raw: raw, digest: digest,
            decodedBox: decodedBox, isoDefault: isoDefault)
        self.prepared = prepared
    }

    /// The decoded PDU: the one decoded already, or decoded now from the bytes.
    public func decoded() -> PDU {
        if let pdu { return pdu }
        return (try? PDU.decode(raw)) ?? PDU(header: header, body: .undecodable(raw))
    }
}

extension TimelinePDU {
    /// The timeline PDU lent as it is: its bytes for the duration of `body`.
    @_spi(Lent) public func withLent<Result>(_ body: (LentTimelinePDU) throws -> Result) rethrows -> Result {
        try raw.withUnsafeReadableBytes { bytes in
            try body(
                LentTimelinePDU(
                    session: session, timestamp: timestamp, frame: frame, source: source, destination: destination,
                    fromClient: fromClient, streamOffset: streamOffset, header: header, bytes: bytes, digest: digest,
                    decodedBox: decodedBox, isoDefault: isoDefault, prepared: prepared))
        }
    }
}

/// A timeline PDU whose bytes (and decoded PDU) are lent: valid only during the call that receives it. The form in
/// which a consumer that keeps nothing of a PDU's bytes takes PDUs: plain data, copied without reference counting.
@_spi(Lent) public struct LentTimelinePDU {
    public var session: Int
    /// Time of the packet that completed the PDU.
    public var timestamp: Timestamp
    public var frame: Int
    public var source: Endpoint
    public var destination: Endpoint
    /// True when the client (ESME) sent it; nil while the roles are unknown.
    public var fromClient: Bool?
    public var streamOffset: UInt64
    public var header: PDUHeader
    /// The PDU's bytes, header included; valid during the call only.
    public var bytes: UnsafeRawBufferPointer
    /// Structural facts of the frame (``TimelinePDU/digest``).
    public var digest: PDUDigest
    /// The decoded PDU boxed, when the tracker decoded it (``TimelinePDU/decodedBox``); held by the lender.
    @usableFromInline var decodedReference: Unmanaged<DecodedPDUBox>?
    /// data_coding 0 reads as ISO-8859-1 in this session.
    public var isoDefault: Bool
    /// ``TimelinePDU/prepared``.
    public var prepared: PreparedPDU?

    /// The decoded PDU boxed, when the tracker decoded it (``TimelinePDU/decodedBox``).
    public var decodedBox: DecodedPDUBox? { decodedReference?.takeUnretainedValue() }

    @inlinable
    public init(
        session: Int, timestamp: Timestamp, frame: Int, source: Endpoint, destination: Endpoint, fromClient: Bool?,
        streamOffset: UInt64, header: PDUHeader, bytes: UnsafeRawBufferPointer, digest: PDUDigest,
        decodedBox: DecodedPDUBox?, isoDefault: Bool, prepared: PreparedPDU?
    ) {
        self.session = session
        self.timestamp = timestamp
        self.frame = frame
        self.source = source
        self.destination = destination
        self.fromClient = fromClient
        self.streamOffset = streamOffset
        self.header = header
        self.bytes = bytes
        self.digest = digest
        decodedReference = decodedBox.map { Unmanaged.passUnretained($0) }
        self.isoDefault = isoDefault
        self.prepared = prepared
    }

    /// A copy of the bytes, for reading with the codec's buffer-based functions.
    public func copiedBytes() -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }

    /// The decoded PDU: the one decoded already, or decoded now from a copy of the bytes.
    public func decoded() -> PDU {
        if let pdu = decodedBox?.pdu { return pdu }
        let raw = copiedBytes()
        return (try? PDU.decode(raw)) ?? PDU(header: header, body: .undecodable(raw))
    }
}

/// A PDU as seen a few places before it is handed over, for a consumer that prepares for it (say, starts loading
/// the memory its handling will read). Its bytes are valid during the call only.
@_spi(Lent) public struct UpcomingPDU {
    public var session: Int
    public var frame: Int
    public var streamOffset: UInt64
    public var header: PDUHeader
    public var digest: PDUDigest
    /// The PDU's bytes, header included.
    public var bytes: UnsafeRawBufferPointer
    /// What the consumer's preparation worked out from it (``TimelinePDU/prepared``).
    public var prepared: PreparedPDU?

    public init(
        session: Int, frame: Int, streamOffset: UInt64, header: PDUHeader, digest: PDUDigest,
        bytes: UnsafeRawBufferPointer, prepared: PreparedPDU? = nil
    ) {
        self.session = session
        self.frame = frame
        self.streamOffset = streamOffset
        self.header = header
        self.digest = digest
        self.bytes = bytes
        self.prepared = prepared
    }
}

/// What a consumer works out from a PDU's bytes alone before it handles the PDU: a key its handling looks up and a
/// word of facts, both of the consumer's own definition (for the command of the PDU they were worked out from; the
/// analysis' bit layout is in Analysis). Part of the lent fast path: declared `@_spi(Lent)`.
@_spi(Lent) public struct PreparedPDU: Hashable, Sendable {
    public var key: UInt64?
    public var facts: UInt64
    /// A second word of facts, for what does not fit in `facts`.
    public var extra: UInt64

    public init(key: UInt64?, facts: UInt64 = 0, extra: UInt64 = 0) {
        self.key = key
        self.facts = facts
        self.extra = extra
    }
}

/// Work a consumer can have done on each PDU by the thread that reads and reassembles, while that thread holds the
/// PDU's bytes: a pure function of the PDU (no state of the consumer's), whose result travels with the PDU as
/// ``TimelinePDU/prepared``. The reading thread does it when it has time to spare (the consumer is behind), and
/// leaves it to the consumer otherwise: it must give what the consumer would work out itself, which it does when
/// `prepared` is nil.
@_spi(Lent) public typealias PDUPreparation = @Sendable (UpcomingPDU) -> PreparedPDU?

/// A decoded PDU, boxed.
public final class DecodedPDUBox: Sendable {
    public let pdu: PDU

    public init(_ pdu: PDU) {
        self.pdu = pdu
    }
}

/// One event of a timeline, in capture order.
public enum TimelineEvent {
    indirect case sessionOpened(Session)
    case pdu(TimelinePDU)
    case gap(StreamGap)
    /// The first FIN or RST of a session.
    indirect case sessionEnded(ConnectionEnd, Session)
    case streamDiagnostic(StreamDiagnostic)
    case captureDiagnostic(CaptureDiagnostic)
}

// One PDU, in two forms: owned (`TimelinePDU`, its bytes a `ByteBuffer`) and lent (`LentPDU`, its bytes the
// stream's or a batch's own memory). Reassembly frames it; the session tracker (Timeline) completes it with who
// sent it, how its session reads data_coding 0 and, where asked, its decoded PDU.
//
// Unsafe code, and its invariants:
// - `LentPDU.bytes` points into memory its lender owns (a direction's `StreamBytes`, a batch's arena, a
//   `ByteBuffer`'s storage in `TimelinePDU.withLent`): valid only during the call that receives the PDU. A lent PDU
//   is never stored, returned or sent to another thread; what keeps a PDU takes `owned()`.
// - `LentPDU.decodedReference` is an unretained reference to a `DecodedPDUBox` its lender holds (the batch entry,
//   the owned PDU) for the same call.

import Capture
import NIOCore
import SMPP

/// A decoded PDU, boxed.
public final class DecodedPDUBox: Sendable {
    public let pdu: PDU

    public init(_ pdu: PDU) {
        self.pdu = pdu
    }
}

/// A PDU in its session: the one owned form of a PDU, safe to keep, to send to another thread, to store.
/// Reassembly produces it with what the stream knows (`fromClient` nil, `isoDefault` false, no decoded PDU); the
/// session tracker (Timeline) fills in what the session knows.
public struct TimelinePDU {
    /// The session: the number of the TCP connection that carries it (``Connection/id``).
    public var session: Int
    /// Time of the packet that completed the PDU (carried its last byte).
    public var timestamp: Timestamp
    /// Number of that packet in the capture.
    public var frame: Int
    public var source: Endpoint
    public var destination: Endpoint
    /// True when the client (ESME) sent it; nil while the roles are unknown.
    public var fromClient: Bool?
    /// Offset of the PDU's first byte in its direction of the stream.
    public var streamOffset: UInt64
    public var header: PDUHeader
    /// The PDU's bytes, header included.
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

    /// A PDU as a stream frames it, before its session is followed: who sent it unknown, nothing decoded. Nil when
    /// the bytes do not start with a PDU header.
    public init?(
        framedIn session: Int, source: Endpoint, destination: Endpoint, timestamp: Timestamp, frame: Int,
        streamOffset: UInt64, bytes: ByteBuffer
    ) {
        guard let header = PDUHeader.peek(in: bytes) else { return nil }
        self.init(
            session: session, timestamp: timestamp, frame: frame, source: source, destination: destination,
            fromClient: nil, streamOffset: streamOffset, header: header, raw: bytes, digest: PDUDigest(frame: bytes),
            decodedBox: nil, isoDefault: false)
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

    /// The PDU lent as it is: its bytes for the duration of `body`.
    @_spi(Lent) public func withLent<Result>(_ body: (LentPDU) throws -> Result) rethrows -> Result {
        // `self`, and with it the decoded PDU the lent one refers to, is held for the call.
        try raw.withUnsafeReadableBytes { bytes in
            try body(
                LentPDU(
                    session: session, timestamp: timestamp, frame: frame, source: source, destination: destination,
                    fromClient: fromClient, streamOffset: streamOffset, header: header, bytes: bytes, digest: digest,
                    decodedBox: decodedBox, isoDefault: isoDefault, prepared: prepared))
        }
    }
}

/// The one lent form of a PDU: the fields of ``TimelinePDU``, its bytes (and decoded PDU) lent — valid only during
/// the call that receives it (the invariants are in this file's header). The form in which the fast paths (ingest,
/// analysis) hand PDUs along: plain data, copied without reference counting. Declared `@_spi(Lent)`: a program
/// depending on the library products sees owned PDUs only.
@_spi(Lent) public struct LentPDU {
    public var session: Int
    public var timestamp: Timestamp
    public var frame: Int
    public var source: Endpoint
    public var destination: Endpoint
    public var fromClient: Bool?
    public var streamOffset: UInt64
    public var header: PDUHeader
    /// The PDU's bytes, header included; valid during the call only.
    public var bytes: UnsafeRawBufferPointer
    public var digest: PDUDigest
    /// The decoded PDU boxed, when the tracker decoded it; held by the lender.
    @usableFromInline var decodedReference: Unmanaged<DecodedPDUBox>?
    public var isoDefault: Bool
    /// ``TimelinePDU/prepared``.
    public var prepared: PreparedPDU?

    /// The decoded PDU boxed, when the tracker decoded it (``TimelinePDU/decodedBox``).
    public var decodedBox: DecodedPDUBox? {
        get { decodedReference?.takeUnretainedValue() }
        set { decodedReference = newValue.map { Unmanaged.passUnretained($0) } }
    }

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

    /// The same PDU with a copy of its bytes, to keep.
    public func owned() -> TimelinePDU {
        TimelinePDU(
            session: session, timestamp: timestamp, frame: frame, source: source, destination: destination,
            fromClient: fromClient, streamOffset: streamOffset, header: header, raw: copiedBytes(), digest: digest,
            decodedBox: decodedBox, isoDefault: isoDefault, prepared: prepared)
    }

    /// The decoded PDU: the one decoded already, or decoded now from a copy of the bytes.
    public func decoded() -> PDU {
        if let pdu = decodedBox?.pdu { return pdu }
        let raw = copiedBytes()
        return (try? PDU.decode(raw)) ?? PDU(header: header, body: .undecodable(raw))
    }
}

/// What a consumer works out from a PDU's bytes alone before it handles the PDU: a key its handling looks up and a
/// word of facts, opaque here: the consumer defines them (the analysis' layout is in Analysis, its only user).
/// Part of the lent fast path: declared `@_spi(Lent)`.
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
@_spi(Lent) public typealias PDUPreparation = @Sendable (LentPDU) -> PreparedPDU?

// The two lent forms of what a capture holds: a packet as read, and the TCP segment in it. Their bytes are the
// reader's own memory.
//
// Unsafe code, and its invariants:
// - `Packet.data` points into the reader's buffer (`ByteSource`'s storage, libpcap's for a live capture): valid
//   until the reader reads the next packet (`next()`), and never sent to another thread. `TCPSegment.payload`
//   points into that packet's bytes (or an IP fragment reassembler's buffer) and is valid during the callback that
//   receives the segment only.
// - Both are `@_spi(Lent)`: the public API lends them as a `RawSpan` for the duration of a closure
//   (`withData`, `withPayload`) or copies them (`bytes`, `payloadBytes`); what keeps a packet copies it.

/// One packet as read from a capture, its bytes lent: they are the reader's buffer, valid until the reader reads
/// the next packet (``withData(_:)`` lends them; ``bytes`` copies them).
public struct Packet {
    /// 1-based packet number in the capture.
    public var frame: Int
    public var timestamp: Timestamp
    public var linkType: LinkType
    /// The packet's length on the wire; more than `data.count` when the capture cut it (snaplen).
    public var originalLength: Int
    /// The packet's bytes: the reader's own memory, valid during the call that receives the packet. Part of the
    /// lent fast path (`@_spi(Lent)`): ``withData(_:)`` lends them as a span.
    @_spi(Lent) public var data: UnsafeRawBufferPointer
    /// Offset of the packet's record in the capture file, when read from a file.
    public var fileOffset: Int?

    /// The packet's bytes, lent as a span for the duration of `body`.
    public func withData<Result>(_ body: (RawSpan) throws -> Result) rethrows -> Result {
        try body(RawSpan(_unsafeBytes: data))
    }

    /// A copy of the packet's bytes (as captured: `originalLength` or fewer).
    public var bytes: [UInt8] { Array(data) }

    @_spi(Lent) public init(
        frame: Int, timestamp: Timestamp, linkType: LinkType, originalLength: Int, data: UnsafeRawBufferPointer,
        fileOffset: Int? = nil
    ) {
        self.frame = frame
        self.timestamp = timestamp
        self.linkType = linkType
        self.originalLength = originalLength
        self.data = data
        self.fileOffset = fileOffset
    }
}

/// One TCP segment of a packet, lent to the callback that receives it: its payload is the packet's memory, valid
/// during the call only (``withPayload(_:)``; ``payloadBytes`` copies it).
public struct TCPSegment {
    public var frame: Int
    public var timestamp: Timestamp
    public var source: Endpoint
    public var destination: Endpoint
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var flags: TCPFlags
    /// The payload: the packet's memory, valid during the call that receives the segment. Part of the lent fast
    /// path (`@_spi(Lent)`): ``withPayload(_:)`` lends it as a span.
    @_spi(Lent) public var payload: UnsafeRawBufferPointer
    /// The payload length the IP header gives: more than the payload's size when the capture cut the packet.
    public var payloadLength: Int

    /// The payload, lent as a span for the duration of `body`.
    public func withPayload<Result>(_ body: (RawSpan) throws -> Result) rethrows -> Result {
        try body(RawSpan(_unsafeBytes: payload))
    }

    /// A copy of the payload (as captured).
    public var payloadBytes: [UInt8] { Array(payload) }

    @_spi(Lent) public init(
        frame: Int, timestamp: Timestamp, source: Endpoint, destination: Endpoint, sequence: UInt32,
        acknowledgment: UInt32 = 0, flags: TCPFlags, payload: UnsafeRawBufferPointer, payloadLength: Int? = nil
    ) {
        self.frame = frame
        self.timestamp = timestamp
        self.source = source
        self.destination = destination
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.payload = payload
        self.payloadLength = payloadLength ?? payload.count
    }
}

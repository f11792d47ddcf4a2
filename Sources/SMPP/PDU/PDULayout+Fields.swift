// Finding fields in a PDU's bytes without decoding it: where source_addr, destination_addr, short_message and the
// TLVs of a submit_sm or deliver_sm are, the message_id of a response, one TLV by tag. For the hot paths of
// analysis and storage, which need a few fields of millions of PDUs.

import NIOCore

/// Where the fields of a submit_sm or deliver_sm are, as offsets from the first byte of the PDU.
///
/// Kept as 32-bit offsets (a frame is at most 4 GiB by its command_length): the value travels with every PDU from
/// the reading thread to analysis and storage, so its size counts.
public struct ShortMessageLocation: Hashable, Sendable {
    /// A range of a frame in 32-bit offsets.
    private struct Span: Hashable, Sendable {
        var lower: UInt32
        var upper: UInt32

        init(_ range: Range<Int>) {
            lower = UInt32(clamping: range.lowerBound)
            upper = UInt32(clamping: range.upperBound)
        }

        var range: Range<Int> { Int(lower)..<Int(upper) }
    }

    private var serviceTypeSpan: Span
    private var sourceSpan: Span
    private var destinationSpan: Span
    private var messageSpan: Span
    private var tlvSpan: Span
    public var sourceTON: UInt8
    public var destinationTON: UInt8
    public var esmClass: UInt8
    public var registeredDelivery: UInt8
    public var dataCoding: UInt8

    public init(
        serviceType: Range<Int>, sourceTON: UInt8, source: Range<Int>, destinationTON: UInt8, destination: Range<Int>,
        esmClass: UInt8, registeredDelivery: UInt8, dataCoding: UInt8, shortMessage: Range<Int>, tlvs: Range<Int>
    ) {
        serviceTypeSpan = Span(serviceType)
        sourceSpan = Span(source)
        destinationSpan = Span(destination)
        messageSpan = Span(shortMessage)
        tlvSpan = Span(tlvs)
        self.sourceTON = sourceTON
        self.destinationTON = destinationTON
        self.esmClass = esmClass
        self.registeredDelivery = registeredDelivery
        self.dataCoding = dataCoding
    }

    public var serviceType: Range<Int> { serviceTypeSpan.range }
    public var source: Range<Int> { sourceSpan.range }
    public var destination: Range<Int> { destinationSpan.range }
    public var shortMessage: Range<Int> { messageSpan.range }
    /// From the first TLV to the end of the PDU (empty when there are none).
    public var tlvs: Range<Int> { tlvSpan.range }
}

extension PDULayout {
    /// Locates the fields of a submit_sm or deliver_sm; nil when the frame is not one or does not hold together.
    public static func locateShortMessage(in frame: ByteBuffer) -> ShortMessageLocation? {
        frame.withUnsafeReadableBytes { locateShortMessage(in: $0) }
    }

    /// ``locateShortMessage(in:)-(ByteBuffer)`` in a frame's bytes.
    @_spi(Lent) public static func locateShortMessage(in bytes: UnsafeRawBufferPointer) -> ShortMessageLocation? {
        guard let header = PDUHeader.peek(in: bytes),
            header.commandID == .submitSM || header.commandID == .deliverSM,
            Int(header.commandLength) == bytes.count
        else { return nil }
        return locateShortMessage(inBody: bytes)
    }

    /// The fields of a submit_sm or deliver_sm whose header was checked (its command_length is `bytes.count`).
    /// Straight-line: each field's place follows from the previous C-string's end, one bounds check per run of
    /// fixed fields.
    static func locateShortMessage(inBody bytes: UnsafeRawBufferPointer) -> ShortMessageLocation? {
        let end = bytes.count
        /// The index of the NUL ending the C-string that starts at `start`; `end` when there is none.
        @inline(__always) func terminator(_ start: Int) -> Int {
            var index = start
            while index < end, bytes[index] != 0 { index += 1 }
            return index
        }
        let serviceTypeEnd = terminator(PDUHeader.size)
        // NUL, source_addr_ton, source_addr_npi.
        guard serviceTypeEnd + 2 < end else { return nil }
        let sourceStart = serviceTypeEnd + 3
        let sourceEnd = terminator(sourceStart)
        // NUL, dest_addr_ton, dest_addr_npi.
        guard sourceEnd + 2 < end else { return nil }
        let destinationStart = sourceEnd + 3
        let destinationEnd = terminator(destinationStart)
        // NUL, esm_class, protocol_id, priority_flag; then schedule_delivery_time and validity_period.
        guard destinationEnd + 3 < end else { return nil }
        let scheduleEnd = terminator(destinationEnd + 4)
        guard scheduleEnd < end else { return nil }
        let validityEnd = terminator(scheduleEnd + 1)
        // NUL, registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id, sm_length.
        guard validityEnd + 5 < end else { return nil }
        let messageStart = validityEnd + 6
        let messageEnd = messageStart + Int(bytes[validityEnd + 5])
        guard messageEnd <= end else { return nil }
        return ShortMessageLocation(
            serviceType: PDUHeader.size..<serviceTypeEnd, sourceTON: bytes[serviceTypeEnd + 1],
            source: sourceStart..<sourceEnd, destinationTON: bytes[sourceEnd + 1],
            destination: destinationStart..<destinationEnd, esmClass: bytes[destinationEnd + 1],
            registeredDelivery: bytes[validityEnd + 1], dataCoding: bytes[validityEnd + 3],
            shortMessage: messageStart..<messageEnd, tlvs: messageEnd..<end)
    }

    /// The C-string that starts the body (message_id of submit_sm_resp and the like, system_id of a bind), as
    /// offsets from the first byte of the PDU; nil when the body is empty or unterminated.
    public static func leadingCString(in frame: ByteBuffer) -> Range<Int>? {
        frame.withUnsafeReadableBytes { leadingCString(in: $0) }
    }

    /// ``leadingCString(in:)-(ByteBuffer)`` in the bytes of a PDU.
    @_spi(Lent) public static func leadingCString(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        guard bytes.count > PDUHeader.size else { return nil }
        var offset = PDUHeader.size
        while offset < bytes.count {
            if bytes[offset] == 0 { return PDUHeader.size..<offset }
            offset += 1
        }
        return nil
    }

    /// The value of the first TLV with `tag` in `range` (a TLV region), as offsets from the first byte of the PDU.
    public static func findTLV(_ tag: TLVTag, in frame: ByteBuffer, region range: Range<Int>) -> Range<Int>? {
        frame.withUnsafeReadableBytes { findTLV(tag, in: $0, region: range) }
    }

    /// ``findTLV(_:in:region:)-(_,ByteBuffer,_)`` in the bytes of a PDU.
    @_spi(Lent) public static func findTLV(_ tag: TLVTag, in bytes: UnsafeRawBufferPointer, region range: Range<Int>)
        -> Range<Int>?
    {
        var offset = range.lowerBound
        let end = min(range.upperBound, bytes.count)
        while offset + 4 <= end {
            let found = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let value = offset + 4
            guard value + length <= end else { return nil }
            if found == tag.rawValue { return value..<(value + length) }
            offset = value + length
        }
        return nil
    }
}

/// What a structural walk learns about a frame, computed once and passed along with it.
public struct PDUDigest: Hashable, Sendable {
    /// The frame is structurally the PDU its header says (``PDULayout/isWellFormed(_:)``).
    public var isWellFormed: Bool
    /// The fields of a submit_sm or deliver_sm.
    public var shortMessage: ShortMessageLocation?

    public init(frame: ByteBuffer) {
        self.init(frame: frame, isWellFormed: PDULayout.isWellFormed(frame))
    }

    /// The digest of a frame whose structural check (``PDULayout/isWellFormed(_:)``) was already made.
    public init(frame: ByteBuffer, isWellFormed: Bool) {
        self = frame.withUnsafeReadableBytes { PDUDigest(bytes: $0, isWellFormed: isWellFormed) }
    }

    /// The digest of a frame's bytes. A submit_sm or deliver_sm (half the PDUs of most captures) is walked once:
    /// locating its fields checks its mandatory part, and its TLVs are checked from where they start.
    @_spi(Lent) public init(bytes: UnsafeRawBufferPointer) {
        guard let header = PDUHeader.peek(in: bytes), header.commandID == .submitSM || header.commandID == .deliverSM,
            Int(header.commandLength) == bytes.count
        else {
            self.init(bytes: bytes, isWellFormed: PDULayout.isWellFormed(bytes))
            return
        }
        if let location = PDULayout.locateShortMessage(inBody: bytes),
            PDULayout.tlvsChain(in: bytes, from: location.tlvs.lowerBound)
        {
            self.init(isWellFormed: true, shortMessage: location)
        } else {
            self.init(isWellFormed: false, shortMessage: nil)
        }
    }

    private init(isWellFormed: Bool, shortMessage: ShortMessageLocation?) {
        self.isWellFormed = isWellFormed
        self.shortMessage = shortMessage
    }

    /// The digest of a frame's bytes whose structural check was already made.
    @_spi(Lent) public init(bytes: UnsafeRawBufferPointer, isWellFormed: Bool) {
        self.isWellFormed = isWellFormed
        shortMessage = isWellFormed ? PDULayout.locateShortMessage(in: bytes) : nil
    }
}

extension PDULayout {
    /// The first TLV with `tag` in `range` (a TLV region), its value a slice of the frame.
    public static func tlv(_ tag: TLVTag, in frame: ByteBuffer, region range: Range<Int>) -> TLV? {
        guard let value = findTLV(tag, in: frame, region: range),
            let raw = frame.getSlice(at: frame.readerIndex + value.lowerBound, length: value.count)
        else { return nil }
        return TLV(tag: tag, raw: raw)
    }

    /// Where the message octets of a submit_sm or deliver_sm are: short_message, or the message_payload TLV when
    /// short_message is empty (as ``PDU/messageOctets`` chooses).
    public static func messageOctets(
        in frame: ByteBuffer, at location: ShortMessageLocation
    ) -> (range: Range<Int>, fromPayload: Bool) {
        frame.withUnsafeReadableBytes { messageOctets(in: $0, at: location) }
    }

    /// ``messageOctets(in:at:)-(ByteBuffer,_)`` in the bytes of a PDU.
    public static func messageOctets(
        in bytes: UnsafeRawBufferPointer, at location: ShortMessageLocation
    ) -> (range: Range<Int>, fromPayload: Bool) {
        if location.shortMessage.isEmpty, let payload = findTLV(.messagePayload, in: bytes, region: location.tlvs) {
            return (payload, true)
        }
        return (location.shortMessage, false)
    }

    /// The message of a submit_sm or deliver_sm read from its bytes: what ``PDU/message(isoDefault:)`` says of the
    /// decoded PDU.
    public static func message(
        in frame: ByteBuffer, at location: ShortMessageLocation, isoDefault: Bool
    ) -> PDU.Message {
        let (range, fromPayload) = messageOctets(in: frame, at: location)
        let octets = frame.getBytes(at: frame.readerIndex + range.lowerBound, length: range.count) ?? []
        return PDU.Message(
            octets: octets, fromPayload: fromPayload, esmClass: location.esmClass, dataCoding: location.dataCoding,
            isoDefault: isoDefault, tlv: { tlv($0, in: frame, region: location.tlvs) })
    }

    /// False when the bytes alone tell that a deliver_sm carries no receipt: esm_class does not mark one, there is no
    /// receipted_message_id, and its text reads as ASCII without starting with "id:" (a mobile-originated message).
    /// True means the receipt has to be read, and may still be absent.
    public static func mayCarryReceipt(in frame: ByteBuffer, at location: ShortMessageLocation, isoDefault: Bool)
        -> Bool
    {
        let hasReceiptTLV = findTLV(.receiptedMessageID, in: frame, region: location.tlvs) != nil
        guard !DeliveryReceipt.isMarked(esmClass: location.esmClass, hasReceiptedMessageID: hasReceiptTLV) else {
            return true
        }
        let (range, _) = messageOctets(in: frame, at: location)
        return frame.withUnsafeReadableBytes { bytes in
            let octets = UnsafeRawBufferPointer(rebasing: bytes[range])
            let plain =
                location.esmClass & 0x40 == 0
                && MessageText.readsAsASCII(
                    octets, charset: DataCoding(location.dataCoding).charset(isoDefault: isoDefault))
            return !plain || DeliveryReceipt.startsLikeText(octets)
        }
    }

    /// The delivery receipt of a deliver_sm read from its bytes, given its message text: what
    /// ``PDU/deliveryReceipt(text:)`` says of the decoded PDU. Nil for a submit_sm.
    public static func deliveryReceipt(
        in frame: ByteBuffer, at location: ShortMessageLocation, text: String?
    ) -> DeliveryReceipt? {
        guard PDUHeader.peek(in: frame)?.commandID == .deliverSM else { return nil }
        return DeliveryReceipt.carried(
            esmClass: location.esmClass, text: text, tlv: { tlv($0, in: frame, region: location.tlvs) })
    }
}

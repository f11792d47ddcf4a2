// Looking ahead: the large tables (accepted messages, messages waiting for receipts) hold hundreds of thousands of
// entries, and a lookup in them is a cache miss that stalls the analysis for the time memory takes to answer.
// The keys a PDU's handling looks up are pure functions of its bytes, worked out by the thread that reads the
// capture (`prepare`, while it holds the bytes) and carried with the PDU; seeing the PDU a few places before it is
// handled (`prefetch`), the analyzer starts loading their slots.

@_spi(Lent) import Reassembly
@_spi(Lent) import SMPP
@_spi(Lent) import Timeline

extension Analyzer {
    /// What a PDU's handling works out from its bytes alone: for a submit_sm, the content key of its message (its
    /// account is added when it is handled) and its ``SubmitFacts``; for a submit_sm_resp, the link key of the
    /// message id it accepts; for a deliver_sm, the link key of the id its receipted_message_id TLV names and its
    /// ``ReceiptFacts``; nil for other PDUs. Keeps no state: runs on any thread (``PDUPreparation``).
    @Sendable
    @_spi(Lent) public static func prepare(_ pdu: LentPDU) -> PreparedPDU? {
        let header = pdu.header
        let bytes = pdu.bytes
        switch header.commandID {
        case .submitSM:
            guard let location = pdu.digest.shortMessage else { return nil }
            let message = PDULayout.messageOctets(in: bytes, at: location).range
            return PreparedPDU(
                key: messageContentKey(in: bytes, at: location, message: message),
                facts: SubmitFacts(in: bytes, at: location, message: message).word,
                extra: UInt64(
                    DestinationPrefix.key(
                        of: UnsafeRawBufferPointer(rebasing: bytes[location.destination]),
                        digits: DestinationPrefix.maximumDigits)))
        case .submitSMResp:
            return acceptedID(status: header.commandStatus, in: bytes).map {
                PreparedPDU(key: $0.key, facts: UInt64($0.form.bits))
            }
        case .deliverSM:
            guard let location = pdu.digest.shortMessage else { return nil }
            let facts = ReceiptFacts(in: bytes, at: location)
            guard let word = facts.word else { return nil }
            // The text's dates too, for the receipts read by their TLVs alone.
            let text = PDULayout.messageOctets(in: bytes, at: location).range
            return PreparedPDU(
                key: facts.idKey, facts: word,
                extra: DeliveryReceipt.dates(in: UnsafeRawBufferPointer(rebasing: bytes[text])).word)
        default:
            return nil
        }
    }

    /// Takes a PDU a few places before ``handle(pdu:)`` does, and returns what ``prepare(_:)`` gives for it (worked
    /// out now when it came unprepared). Optional, and without effect on any result: a PDU never seen here is
    /// handled the same way, only without its memory loaded in advance.
    @discardableResult
    @_spi(Lent) public func prefetch(_ upcoming: LentPDU) -> PreparedPDU? {
        guard let prepared = upcoming.prepared ?? Self.prepare(upcoming) else { return nil }
        guard let key = prepared.key else { return prepared }
        switch upcoming.header.commandID {
        case .submitSM:
            guard let state = sessions[upcoming.session] else { break }
            submitResends.prefetch(MessageKey.forAccount(state.systemIDHash, content: key))
        case .submitSMResp:
            receipts.prefetch(key)
        case .deliverSM:
            receipts.prefetch(key)
            guard let state = sessions[upcoming.session] else { break }
            receiptResends.prefetch(Self.receiptCopyKey(key, state: 2, account: state.systemIDHash))
        default:
            break
        }
        return prepared
    }

    /// The part of a submitted message's identity (duplicate rule, resubmissions) that its bytes give: addresses and
    /// octets (`message`, as ``PDULayout/messageOctets(in:at:)-(UnsafeRawBufferPointer,_)`` finds them).
    /// ``MessageKey/forAccount(_:content:)`` adds the account.
    static func messageContentKey(
        in bytes: UnsafeRawBufferPointer, at location: ShortMessageLocation, message: Range<Int>
    ) -> UInt64 {
        var key = MessageKey(seed: 0)
        key.add(UnsafeRawBufferPointer(rebasing: bytes[location.source]))
        key.add(UnsafeRawBufferPointer(rebasing: bytes[location.destination]))
        key.add(UnsafeRawBufferPointer(rebasing: bytes[message]))
        return key.value
    }

    /// The link key of the message id an accepting submit_sm_resp carries; nil when it is not accepted or has none.
    /// The link key of an accepted submit_sm_resp's message_id, and how the id is written.
    static func acceptedID(status: CommandStatus, in bytes: UnsafeRawBufferPointer) -> (
        key: UInt64, form: ReceiptIDForm
    )? {
        guard status == .ok, let range = PDULayout.leadingCString(in: bytes), !range.isEmpty else { return nil }
        let (key, shape) = MessageID.linkKeyAndShape(UnsafeRawBufferPointer(rebasing: bytes[range]))
        return (key, ReceiptIDForm(bits: shape))
    }
}

/// What a submit_sm's handling reads of its message beyond the fields its digest locates: whether its text may
/// hold an SMSC.kz marker or comment, and its concatenation (from a user data header, else from SAR TLVs).
struct SubmitFacts {
    var special: Bool
    var concatenation: ConcatenatedPart?
    /// What the text's encoding shows (``EncodingFacts``).
    var encoding = EncodingFacts()

    /// The facts of the message whose octets are at `message` (``PDULayout/messageOctets(in:at:)-(UnsafeRawBufferPointer,_)``).
    init(in bytes: UnsafeRawBufferPointer, at location: ShortMessageLocation, message: Range<Int>) {
        let hasUDH = location.esmClass & 0x40 != 0
        var text = message
        concatenation = nil
        if hasUDH, let udhLength = message.first.map({ Int(bytes[$0]) }), message.count > udhLength {
            let header = (message.lowerBound + 1)..<(message.lowerBound + 1 + udhLength)
            concatenation = Analyzer.concatenation(in: UnsafeRawBufferPointer(rebasing: bytes[header]))
            text = header.upperBound..<message.upperBound
        }
        special = Analyzer.mayBeSpecial(UnsafeRawBufferPointer(rebasing: bytes[text]))
        if concatenation == nil, !hasUDH, !location.tlvs.isEmpty,
            let reference = PDULayout.findTLV(.sarMsgRefNum, in: bytes, region: location.tlvs),
            let total = PDULayout.findTLV(.sarTotalSegments, in: bytes, region: location.tlvs),
            let sequence = PDULayout.findTLV(.sarSegmentSeqnum, in: bytes, region: location.tlvs),
            reference.count == 2, total.count == 1, sequence.count == 1
        {
            concatenation = ConcatenatedPart(
                reference: UInt16(bytes[reference.lowerBound]) << 8 | UInt16(bytes[reference.lowerBound + 1]),
                total: bytes[total.lowerBound], sequence: bytes[sequence.lowerBound], kind: .sar)
        }
        encoding = EncodingFacts(
            message: UnsafeRawBufferPointer(rebasing: bytes[message]),
            text: UnsafeRawBufferPointer(rebasing: bytes[text]),
            dataCoding: location.dataCoding, hasUDH: hasUDH, concatenated: concatenation != nil)
    }

    /// The facts as one word (``PreparedPDU/facts``): bit 0 special, bit 1 concatenated, then the reference (bits
    /// 8-23), the total (24-31), the sequence (32-39), the kind (40-47) and the encoding facts (48-63).
    var word: UInt64 {
        var word: UInt64 = special ? 1 : 0
        word |= UInt64(encoding.bits) << 48
        if let concatenation {
            word |=
                2 | UInt64(concatenation.reference) << 8 | UInt64(concatenation.total) << 24
                | UInt64(concatenation.sequence) << 32 | UInt64(concatenation.kind.rawValue) << 40
        }
        return word
    }

    init(word: UInt64) {
        special = word & 1 != 0
        encoding = EncodingFacts(bits: UInt16(truncatingIfNeeded: word >> 48))
        concatenation =
            word & 2 == 0
            ? nil
            : ConcatenatedPart(
                reference: UInt16(truncatingIfNeeded: word >> 8), total: UInt8(truncatingIfNeeded: word >> 24),
                sequence: UInt8(truncatingIfNeeded: word >> 32),
                kind: ConcatenationKind(rawValue: UInt8(truncatingIfNeeded: word >> 40)) ?? .udh8)
    }
}

/// What a deliver_sm's handling reads of its TLVs and text to tell a receipt: where its receipted_message_id is,
/// whether its message_state says DELIVERED, and (for a deliver_sm not marked as a receipt) whether its text starts
/// like one.
struct ReceiptFacts {
    /// The receipted_message_id TLV's value without its terminating NUL (handling a receipt by its key alone then
    /// reads none of its bytes).
    var idRange: Range<Int>?
    /// A receipted_message_id with a one-octet message_state of 2 (DELIVERED).
    var deliveredByTLV: Bool
    /// Marked as a receipt by esm_class or by a receipted_message_id.
    var marked: Bool
    /// Not marked, and the text starts like a receipt's.
    var startsLikeText: Bool
    /// How the receipted_message_id is written (``ReceiptIDForm/flags(_:)``), and its link key (worked out with
    /// the flags, in the same pass; not carried in the word, where the prepared PDU's key stands for it).
    var idFlags: UInt16 = 0
    var idKey: UInt64?

    init(in bytes: UnsafeRawBufferPointer, at location: ShortMessageLocation) {
        idRange = PDULayout.findTLV(.receiptedMessageID, in: bytes, region: location.tlvs).map { range in
            range.last.map { bytes[$0] == 0 } == true ? range.dropLast() : range
        }
        if let idRange {
            let (key, shape) = MessageID.linkKeyAndShape(UnsafeRawBufferPointer(rebasing: bytes[idRange]))
            idKey = key
            idFlags = shape & 0xFF00
        }
        marked = DeliveryReceipt.isMarked(esmClass: location.esmClass, hasReceiptedMessageID: idRange != nil)
        deliveredByTLV = false
        if idRange != nil, let state = PDULayout.findTLV(.messageState, in: bytes, region: location.tlvs),
            state.count == 1, bytes[state.lowerBound] == 2
        {
            deliveredByTLV = true
        }
        startsLikeText =
            !marked && DeliveryReceipt.startsLikeText(UnsafeRawBufferPointer(rebasing: bytes[location.shortMessage]))
    }

    /// The facts as one word (``PreparedPDU/facts``): bit 0 an id, bit 1 delivered by TLV, bit 2 marked, bit 3
    /// starts like a receipt, the id's form flags in bits 4-7, its length in bits 16-31 and its offset in bits 32-63. Nil when the id's place
    /// does not fit there (a TLV's value is at most 65 535 octets and a frame under 4 GiB, so only for bytes that
    /// are not a frame): the PDU is then left unprepared, and its handling works the facts out itself.
    var word: UInt64? {
        var word: UInt64 =
            (deliveredByTLV ? 2 : 0) | (marked ? 4 : 0) | (startsLikeText ? 8 : 0) | UInt64(idFlags >> 8) << 4
        if let idRange {
            guard idRange.count <= 0xFFFF, idRange.lowerBound <= 0xFFFF_FFFF else { return nil }
            word |= 1 | UInt64(idRange.count) << 16 | UInt64(idRange.lowerBound) << 32
        }
        return word
    }

    init(word: UInt64) {
        let offset = Int(word >> 32)
        idRange = word & 1 == 0 ? nil : offset..<(offset + Int(word >> 16 & 0xFFFF))
        deliveredByTLV = word & 2 != 0
        marked = word & 4 != 0
        startsLikeText = word & 8 != 0
        idFlags = UInt16(word >> 4 & 0xF) << 8
    }
}

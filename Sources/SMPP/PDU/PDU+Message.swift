// What a PDU says as a message: addresses, text (short_message or message_payload, UDH or SAR), receipt.

import NIOCore

extension PDU {
    /// source_addr of bodies that have one.
    public var source: Address? {
        switch body {
        case .shortMessage(let body): return body.source
        case .submitMulti(let body): return body.source
        case .dataSM(let body): return body.source
        case .querySM(let body): return body.source
        case .cancelSM(let body): return body.source
        case .replaceSM(let body): return body.source
        case .alertNotification(let body): return body.source
        case .broadcastSM(let body): return body.source
        case .queryBroadcastSM(let body): return body.source
        case .cancelBroadcastSM(let body): return body.source
        default: return nil
        }
    }

    /// destination_addr of bodies that have one (the first SME address of submit_multi).
    public var destination: Address? {
        switch body {
        case .shortMessage(let body): return body.destination
        case .dataSM(let body): return body.destination
        case .cancelSM(let body): return body.destination
        case .submitMulti(let body):
            for case .sme(let address) in body.destinations { return address }
            return nil
        default: return nil
        }
    }

    /// esm_class of bodies that have one.
    public var esmClass: UInt8? {
        switch body {
        case .shortMessage(let body): return body.esmClass
        case .submitMulti(let body): return body.esmClass
        case .dataSM(let body): return body.esmClass
        default: return nil
        }
    }

    /// data_coding of bodies that have one.
    public var dataCoding: UInt8? {
        switch body {
        case .shortMessage(let body): return body.dataCoding
        case .submitMulti(let body): return body.dataCoding
        case .dataSM(let body): return body.dataCoding
        case .broadcastSM(let body): return body.dataCoding
        default: return nil
        }
    }

    /// The message octets: short_message, or the message_payload TLV when short_message is empty (or absent).
    public var messageOctets: [UInt8]? {
        if let octets = shortMessageOctets, octets.readableBytes > 0 {
            return Array(octets.readableBytesView)
        }
        if let payload = tlvs[.messagePayload] {
            return Array(payload.raw.readableBytesView)
        }
        return shortMessageOctets.map { Array($0.readableBytesView) }
    }

    /// A PDU's message, read.
    public struct Message: Hashable, Sendable {
        public var decoded: DecodedMessage
        /// Where this part belongs, from the UDH or the sar_* TLVs.
        public var concatenation: Concatenation?
        /// True when the octets came from message_payload.
        public var fromPayload: Bool
    }

    /// Reads the message of submit_sm, deliver_sm, data_sm, submit_multi or replace_sm.
    /// `isoDefault` reads data_coding 0 as ISO-8859-1 (the session's system_type has SMSC.kz's `ISO`).
    public func message(isoDefault: Bool = false) -> Message? {
        guard let octets = messageOctets else { return nil }
        let fromPayload = (shortMessageOctets?.readableBytes ?? 0) == 0 && tlvs[.messagePayload] != nil
        return Message(
            octets: octets, fromPayload: fromPayload, esmClass: esmClass ?? 0, dataCoding: dataCoding ?? 0,
            isoDefault: isoDefault, tlv: { tlvs[$0] })
    }

    /// The message with data_coding 0 read in `defaultAlphabet` when one is given (``DefaultAlphabet``), else as
    /// ``message(isoDefault:)`` reads it.
    public func message(isoDefault: Bool, defaultAlphabet: DefaultAlphabet?) -> Message? {
        guard var message = message(isoDefault: isoDefault) else { return nil }
        guard let defaultAlphabet, dataCoding == 0 else { return message }
        message.decoded.charset = defaultAlphabet.charset
        var problems = message.decoded.problems.filter { !$0.contains("GSM 03.38") }
        if defaultAlphabet == .gsm7Packed {
            message.decoded.text = MessageText.decodeText(
                GSM0338.unpack(message.decoded.payload), charset: .gsm7, problems: &problems)
        } else {
            message.decoded.text = MessageText.decodeText(
                message.decoded.payload, charset: defaultAlphabet.charset, problems: &problems)
        }
        message.decoded.problems = problems
        return message
    }

    /// True when esm_class marks a receipt or acknowledgement (SMSC delivery receipt, SME delivery or manual
    /// acknowledgement, intermediate notification) or the PDU carries receipted_message_id.
    public var isMarkedAsReceipt: Bool {
        guard commandID == .deliverSM || commandID == .dataSM else { return false }
        return DeliveryReceipt.isMarked(
            esmClass: esmClass ?? 0, hasReceiptedMessageID: tlvs[.receiptedMessageID] != nil)
    }

    /// The delivery receipt a deliver_sm or data_sm carries: TLVs first, then the text. Also found in an
    /// unmarked deliver_sm whose text starts with `id:` and has a `stat:`, as some SMSCs send them.
    /// `text` is the message text when the caller has it already.
    public func deliveryReceipt(text: String? = nil) -> DeliveryReceipt? {
        guard commandID == .deliverSM || commandID == .dataSM else { return nil }
        return DeliveryReceipt.carried(
            esmClass: esmClass ?? 0, text: text ?? message()?.decoded.text, tlv: { tlvs[$0] })
    }
}

extension PDU.Message {
    /// Reads message octets: the user data header when esm_class has UDHI, the text by data_coding, where the part
    /// belongs (the header's concatenation element, else the sar_* TLVs that `tlv` finds).
    public init(
        octets: [UInt8], fromPayload: Bool, esmClass: UInt8, dataCoding: UInt8, isoDefault: Bool,
        tlv: (TLVTag) -> TLV?
    ) {
        let decoded = MessageText.decode(
            octets, dataCoding: dataCoding, hasUDH: esmClass & 0x40 != 0, isoDefault: isoDefault)
        self.init(
            decoded: decoded, concatenation: decoded.udh?.concatenation ?? Concatenation(sar: tlv),
            fromPayload: fromPayload)
    }
}

extension Concatenation {
    /// From the sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs that `tlv` finds; nil unless all
    /// three hold integers.
    public init?(sar tlv: (TLVTag) -> TLV?) {
        guard let reference = tlv(.sarMsgRefNum)?.integerValue,
            let total = tlv(.sarTotalSegments)?.integerValue,
            let sequence = tlv(.sarSegmentSeqnum)?.integerValue
        else { return nil }
        self.init(
            reference: UInt16(truncatingIfNeeded: reference), total: UInt8(truncatingIfNeeded: total),
            sequence: UInt8(truncatingIfNeeded: sequence), referenceBits: 16)
    }
}

extension DeliveryReceipt {
    /// True when esm_class marks a receipt or acknowledgement (SMSC delivery receipt, SME delivery or manual
    /// acknowledgement, intermediate notification) or receipted_message_id is there.
    public static func isMarked(esmClass: UInt8, hasReceiptedMessageID: Bool) -> Bool {
        let type = esmClass & 0x3C
        return type == 0x04 || type == 0x08 || type == 0x10 || type == 0x20 || hasReceiptedMessageID
    }

    /// True when message octets start with "id:" in any case, as the text of a receipt does (in GSM 03.38, IA5 and
    /// Latin-1 alike).
    @_spi(Lent) public static func startsLikeText(_ octets: UnsafeRawBufferPointer) -> Bool {
        octets.count >= 3 && octets[0] | 0x20 == UInt8(ascii: "i") && octets[1] | 0x20 == UInt8(ascii: "d")
            && octets[2] == UInt8(ascii: ":")
    }

    /// The receipt of a deliver_sm or data_sm with this esm_class, message text and TLVs (found by `tlv`): the
    /// TLVs first, then the text. An unmarked message is a receipt only when its text starts with `id:` and has a
    /// `stat:`, as some SMSCs send them.
    public static func carried(esmClass: UInt8, text: String?, tlv: (TLVTag) -> TLV?) -> DeliveryReceipt? {
        let receiptedMessageID = tlv(.receiptedMessageID)
        let parsed = text.flatMap(DeliveryReceipt.parse(text:))
        var receipt: DeliveryReceipt
        if isMarked(esmClass: esmClass, hasReceiptedMessageID: receiptedMessageID != nil) {
            receipt = parsed ?? DeliveryReceipt()
        } else if let parsed, parsed.stat != nil, text?.lowercased().hasPrefix("id:") == true {
            receipt = parsed
        } else {
            return nil
        }
        receipt.receiptedMessageID = receiptedMessageID?.stringValue
        if let state = tlv(.messageState)?.integerValue {
            receipt.messageState = UInt8(truncatingIfNeeded: state)
        }
        if case .networkErrorCode(let type, let code)? = tlv(.networkErrorCode)?.value {
            receipt.networkErrorCode = (type, code)
        }
        return receipt
    }
}

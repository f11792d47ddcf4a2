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
        let hasUDH = (esmClass ?? 0) & 0x40 != 0
        let decoded = MessageText.decode(octets, dataCoding: dataCoding ?? 0, hasUDH: hasUDH, isoDefault: isoDefault)
        var concatenation = decoded.udh?.concatenation
        if concatenation == nil,
            let reference = tlvs[.sarMsgRefNum]?.integerValue,
            let total = tlvs[.sarTotalSegments]?.integerValue,
            let sequence = tlvs[.sarSegmentSeqnum]?.integerValue
        {
            concatenation = Concatenation(
                reference: UInt16(truncatingIfNeeded: reference), total: UInt8(truncatingIfNeeded: total),
                sequence: UInt8(truncatingIfNeeded: sequence), referenceBits: 16)
        }
        return Message(decoded: decoded, concatenation: concatenation, fromPayload: fromPayload)
    }

    /// True when esm_class marks a receipt or acknowledgement (SMSC delivery receipt, SME delivery or manual
    /// acknowledgement, intermediate notification) or the PDU carries receipted_message_id.
    public var isMarkedAsReceipt: Bool {
        guard commandID == .deliverSM || commandID == .dataSM else { return false }
        let type = (esmClass ?? 0) & 0x3C
        return type == 0x04 || type == 0x08 || type == 0x10 || type == 0x20 || tlvs[.receiptedMessageID] != nil
    }

    /// The delivery receipt a deliver_sm or data_sm carries: TLVs first, then the text. Also found in an
    /// unmarked deliver_sm whose text starts with `id:` and has a `stat:`, as some SMSCs send them.
    /// `text` is the message text when the caller has it already.
    public func deliveryReceipt(text: String? = nil) -> DeliveryReceipt? {
        guard commandID == .deliverSM || commandID == .dataSM else { return nil }
        let body = text ?? message()?.decoded.text
        let parsed = body.flatMap(DeliveryReceipt.parse(text:))
        var receipt: DeliveryReceipt
        if isMarkedAsReceipt {
            receipt = parsed ?? DeliveryReceipt()
        } else if let parsed, parsed.stat != nil, body?.lowercased().hasPrefix("id:") == true {
            receipt = parsed
        } else {
            return nil
        }
        receipt.receiptedMessageID = tlvs[.receiptedMessageID]?.stringValue
        if let state = tlvs[.messageState]?.integerValue {
            receipt.messageState = UInt8(truncatingIfNeeded: state)
        }
        if case .networkErrorCode(let type, let code)? = tlvs[.networkErrorCode]?.value {
            receipt.networkErrorCode = (type, code)
        }
        return receipt
    }
}

// Looking ahead: the large tables (accepted messages, messages waiting for receipts) hold hundreds of thousands of
// entries, and a lookup in them is a cache miss that stalls the analysis for the time memory takes to answer.
// The keys a PDU's handling looks up are pure functions of its bytes, worked out by the thread that reads the
// capture (`prepare`, while it holds the bytes) and carried with the PDU; seeing the PDU a few places before it is
// handled (`prefetch`), the analyzer starts loading their slots.

import SMPP
import Timeline

extension Analyzer {
    /// The key a PDU's handling looks up, from its bytes alone: the content key of a submit_sm's message (its
    /// account is added when it is handled), the link key of the message id a submit_sm_resp accepts or a receipt
    /// names in its receipted_message_id TLV; nil for other PDUs. Keeps no state: runs on any thread
    /// (``PDUPreparation``).
    @Sendable
    public static func prepare(_ pdu: UpcomingPDU) -> UInt64? {
        let header = pdu.header
        let bytes = pdu.bytes
        switch header.commandID {
        case .submitSM:
            guard let location = pdu.digest.shortMessage else { return nil }
            return messageContentKey(
                in: bytes, at: location, message: PDULayout.messageOctets(in: bytes, at: location).range)
        case .submitSMResp:
            return acceptedIDKey(status: header.commandStatus, in: bytes)
        case .deliverSM:
            guard let location = pdu.digest.shortMessage,
                let range = PDULayout.findTLV(.receiptedMessageID, in: bytes, region: location.tlvs)
            else { return nil }
            return MessageID.linkKey(receiptedID(in: bytes, at: range))
        default:
            return nil
        }
    }

    /// Takes a PDU a few places before ``handle(pdu:)`` does. Optional, and without effect on any result: a PDU
    /// never seen here is handled the same way, only without its memory loaded in advance.
    public func prefetch(_ upcoming: UpcomingPDU) {
        guard let prepared = upcoming.prepared ?? Self.prepare(upcoming) else { return }
        switch upcoming.header.commandID {
        case .submitSM:
            guard let state = sessions[upcoming.session] else { return }
            accepted.prefetch(MessageKey.forAccount(state.systemIDHash, content: prepared))
        case .submitSMResp, .deliverSM:
            receipts.prefetch(prepared)
        default:
            return
        }
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
    static func acceptedIDKey(status: CommandStatus, in bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard status == .ok, let range = PDULayout.leadingCString(in: bytes), !range.isEmpty else { return nil }
        return MessageID.linkKey(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    /// The receipted_message_id TLV's value without its terminating NUL.
    static func receiptedID(in bytes: UnsafeRawBufferPointer, at range: Range<Int>) -> UnsafeRawBufferPointer {
        let id = UnsafeRawBufferPointer(rebasing: bytes[range])
        return id.last == 0 ? UnsafeRawBufferPointer(rebasing: id.dropLast()) : id
    }
}

// Looking ahead: the large tables (accepted messages, messages waiting for receipts) hold hundreds of thousands of
// entries, and a lookup in them is a cache miss that stalls the analysis for the time memory takes to answer.
// Seeing a PDU a few places before it is handled, the analyzer works out the keys its handling will look up and
// starts loading their slots; the keys are kept, so handling does not work them out again.

import SMPP
import Timeline

extension Analyzer {
    /// Takes a PDU a few places before ``handle(pdu:)`` does. Optional, and without effect on any result: a PDU
    /// never seen here is handled the same way, only without its memory loaded in advance.
    public func prefetch(_ upcoming: UpcomingPDU) {
        let header = upcoming.header
        let bytes = upcoming.bytes
        let key: UInt64
        var seed: UInt64 = 0
        switch header.commandID {
        case .submitSM:
            guard let location = upcoming.digest.shortMessage, let state = sessions[upcoming.session] else { return }
            seed = state.systemIDHash
            let message = PDULayout.messageOctets(in: bytes, at: location).range
            key = Self.messageKey(seed: seed, in: bytes, at: location, message: message)
            accepted.prefetch(key)
        case .submitSMResp:
            guard header.commandStatus == .ok, let range = PDULayout.leadingCString(in: bytes), !range.isEmpty else {
                return
            }
            key = MessageID.linkKey(UnsafeRawBufferPointer(rebasing: bytes[range]))
            receipts.prefetch(key)
        case .deliverSM:
            guard let location = upcoming.digest.shortMessage,
                let range = PDULayout.findTLV(.receiptedMessageID, in: bytes, region: location.tlvs)
            else { return }
            key = MessageID.linkKey(Self.receiptedID(in: bytes, at: range))
            receipts.prefetch(key)
        default:
            return
        }
        prepared.keep(key, seed: seed, session: upcoming.session, frame: upcoming.frame, streamOffset: upcoming.streamOffset)
    }

    /// The identity of a submitted message for the duplicate rule: account (`seed`), addresses and octets.
    static func messageKey(
        seed: UInt64, in bytes: UnsafeRawBufferPointer, at location: ShortMessageLocation, message: Range<Int>
    ) -> UInt64 {
        var key = MessageKey(seed: seed)
        key.add(UnsafeRawBufferPointer(rebasing: bytes[location.source]))
        key.add(UnsafeRawBufferPointer(rebasing: bytes[location.destination]))
        key.add(UnsafeRawBufferPointer(rebasing: bytes[message]))
        return key.value
    }

    /// The receipted_message_id TLV's value without its terminating NUL.
    static func receiptedID(in bytes: UnsafeRawBufferPointer, at range: Range<Int>) -> UnsafeRawBufferPointer {
        let id = UnsafeRawBufferPointer(rebasing: bytes[range])
        return id.last == 0 ? UnsafeRawBufferPointer(rebasing: id.dropLast()) : id
    }
}

/// Keys worked out for PDUs seen ahead, until they are handled: a few slots, chosen by the PDU (its session, frame
/// and stream offset name it). A PDU whose slot another took meanwhile has its key worked out again.
struct PreparedKeys {
    private struct Slot {
        var session = -1
        var frame = -1
        var streamOffset: UInt64 = 0
        /// The account hash a message key was made with (0 for id keys).
        var seed: UInt64 = 0
        var key: UInt64 = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 16)

    @inline(__always)
    private static func index(frame: Int, streamOffset: UInt64) -> Int {
        (frame &+ Int(truncatingIfNeeded: streamOffset)) & 15
    }

    mutating func keep(_ key: UInt64, seed: UInt64, session: Int, frame: Int, streamOffset: UInt64) {
        slots[Self.index(frame: frame, streamOffset: streamOffset)] = Slot(
            session: session, frame: frame, streamOffset: streamOffset, seed: seed, key: key)
    }

    /// The key kept for this PDU, made with this seed; nil when there is none.
    func key(seed: UInt64, session: Int, frame: Int, streamOffset: UInt64) -> UInt64? {
        let slot = slots[Self.index(frame: frame, streamOffset: streamOffset)]
        guard slot.frame == frame, slot.streamOffset == streamOffset, slot.session == session, slot.seed == seed else {
            return nil
        }
        return slot.key
    }
}

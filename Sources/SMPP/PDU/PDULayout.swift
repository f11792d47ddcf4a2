// The wire layout of each body, for walking a PDU without building its values: checking that a frame is
// structurally what its header says, fast enough to do for every PDU of a large capture.

import NIOCore

/// The mandatory fields of each operation as a sequence of field shapes.
public enum PDULayout {
    enum Field {
        /// A C-octet string; its maximum is not enforced here (decoding warns about it).
        case cString
        case u8
        case u32
        /// sm_length and short_message.
        case shortMessage
        /// submit_multi's number_of_dests and dest_address list.
        case destinations
        /// submit_multi_resp's no_unsuccess and unsuccess_sme list.
        case unsuccessful
    }

    static let messageIDOnly: [Field] = [.cString]
    static let shortMessage: [Field] = [
        .cString, .u8, .u8, .cString, .u8, .u8, .cString, .u8, .u8, .u8, .cString, .cString, .u8, .u8, .u8, .u8,
        .shortMessage,
    ]

    static let layouts: [CommandID: [Field]] = [
        .bindTransmitter: [.cString, .cString, .cString, .u8, .u8, .u8, .cString],
        .bindReceiver: [.cString, .cString, .cString, .u8, .u8, .u8, .cString],
        .bindTransceiver: [.cString, .cString, .cString, .u8, .u8, .u8, .cString],
        .bindTransmitterResp: [.cString], .bindReceiverResp: [.cString], .bindTransceiverResp: [.cString],
        .outbind: [.cString, .cString],
        .submitSM: shortMessage, .deliverSM: shortMessage,
        .submitSMResp: messageIDOnly, .deliverSMResp: messageIDOnly, .dataSMResp: messageIDOnly,
        .broadcastSMResp: messageIDOnly, .queryBroadcastSMResp: messageIDOnly,
        .submitMulti: [
            .cString, .u8, .u8, .cString, .destinations, .u8, .u8, .u8, .cString, .cString, .u8, .u8, .u8, .u8,
            .shortMessage,
        ],
        .submitMultiResp: [.cString, .unsuccessful],
        .dataSM: [.cString, .u8, .u8, .cString, .u8, .u8, .cString, .u8, .u8, .u8],
        .querySM: [.cString, .u8, .u8, .cString],
        .querySMResp: [.cString, .cString, .u8, .u8],
        .cancelSM: [.cString, .cString, .u8, .u8, .cString, .u8, .u8, .cString],
        .replaceSM: [.cString, .u8, .u8, .cString, .cString, .cString, .u8, .u8, .shortMessage],
        .alertNotification: [.u8, .u8, .cString, .u8, .u8, .cString],
        .broadcastSM: [.cString, .u8, .u8, .cString, .cString, .u8, .cString, .cString, .u8, .u8, .u8],
        .queryBroadcastSM: [.cString, .u8, .u8, .cString],
        .cancelBroadcastSM: [.cString, .cString, .u8, .u8, .cString],
    ]

    /// True when the frame is structurally the PDU its header says: every C-string ends inside the body,
    /// short_message fits, and what follows the mandatory fields chains as TLVs to the last byte (or is empty for
    /// bodies without an optional part). Unknown commands and empty response bodies pass.
    public static func isWellFormed(_ frame: ByteBuffer) -> Bool {
        guard let header = PDUHeader.peek(in: frame), Int(header.commandLength) == frame.readableBytes else {
            return false
        }
        let id = header.commandID
        guard let fields = layouts[id] else {
            // Header-only operations and unknown commands.
            return !id.isKnown || frame.readableBytes == PDUHeader.size
        }
        if frame.readableBytes == PDUHeader.size { return id.isResponse }
        let allowsTLVs = !CommandID.withoutOptionalPart.contains(id)
        return frame.withUnsafeReadableBytes { bytes in
            var offset = PDUHeader.size
            let end = bytes.count
            func skipCString() -> Bool {
                while offset < end {
                    if bytes[offset] == 0 {
                        offset += 1
                        return true
                    }
                    offset += 1
                }
                return false
            }
            for field in fields {
                switch field {
                case .cString:
                    guard skipCString() else { return false }
                case .u8:
                    guard offset < end else { return false }
                    offset += 1
                case .u32:
                    guard offset + 4 <= end else { return false }
                    offset += 4
                case .shortMessage:
                    guard offset < end else { return false }
                    let length = Int(bytes[offset])
                    guard offset + 1 + length <= end else { return false }
                    offset += 1 + length
                case .destinations:
                    guard offset < end else { return false }
                    let count = Int(bytes[offset])
                    offset += 1
                    for _ in 0..<count {
                        guard offset < end else { return false }
                        let flag = bytes[offset]
                        offset += 1
                        if flag == 1 {
                            guard offset + 2 <= end else { return false }
                            offset += 2
                            guard skipCString() else { return false }
                        } else if flag == 2 {
                            guard skipCString() else { return false }
                        } else {
                            return false
                        }
                    }
                case .unsuccessful:
                    guard offset < end else { return false }
                    let count = Int(bytes[offset])
                    offset += 1
                    for _ in 0..<count {
                        guard offset + 2 <= end else { return false }
                        offset += 2
                        guard skipCString(), offset + 4 <= end else { return false }
                        offset += 4
                    }
                }
            }
            if !allowsTLVs { return offset == end }
            while offset < end {
                guard offset + 4 <= end else { return false }
                let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                offset += 4 + length
            }
            return offset == end
        }
    }
}

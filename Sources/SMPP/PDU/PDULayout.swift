// The wire layout of each body, for walking a PDU without building its values: checking that a frame is
// structurally what its header says, fast enough to do for every PDU of a large capture.
//
// Unsafe code, and its invariants: the field lists are allocated once, written before any read, never freed
// and never written again (shared between threads as constants); a walk reads a frame's bytes only after checking
// each field's end against the frame's length.

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

    /// A layout kept for the life of the process, read without reference counting (every frame is checked
    /// against one). Written once, before any read: shared between threads safely.
    private static func fields(_ list: [Field]) -> UnsafeBufferPointer<Field> {
        let kept = UnsafeMutableBufferPointer<Field>.allocate(capacity: list.count)
        _ = kept.initialize(from: list)
        return UnsafeBufferPointer(kept)
    }

    nonisolated(unsafe) static let messageIDOnly = fields([.cString])
    nonisolated(unsafe) static let shortMessage = fields([
        .cString, .u8, .u8, .cString, .u8, .u8, .cString, .u8, .u8, .u8, .cString, .cString, .u8, .u8, .u8, .u8,
        .shortMessage,
    ])

    nonisolated(unsafe) static let bind = fields([.cString, .cString, .cString, .u8, .u8, .u8, .cString])
    nonisolated(unsafe) static let submitMulti = fields([
        .cString, .u8, .u8, .cString, .destinations, .u8, .u8, .u8, .cString, .cString, .u8, .u8, .u8, .u8,
        .shortMessage,
    ])
    nonisolated(unsafe) static let submitMultiResp = fields([.cString, .unsuccessful])
    nonisolated(unsafe) static let dataSM = fields([.cString, .u8, .u8, .cString, .u8, .u8, .cString, .u8, .u8, .u8])
    nonisolated(unsafe) static let messageIDAndAddress = fields([.cString, .u8, .u8, .cString])
    nonisolated(unsafe) static let querySMResp = fields([.cString, .cString, .u8, .u8])
    nonisolated(unsafe) static let cancelSM = fields([.cString, .cString, .u8, .u8, .cString, .u8, .u8, .cString])
    nonisolated(unsafe) static let replaceSM = fields([
        .cString, .u8, .u8, .cString, .cString, .cString, .u8, .u8, .shortMessage,
    ])
    nonisolated(unsafe) static let alertNotification = fields([.u8, .u8, .cString, .u8, .u8, .cString])
    nonisolated(unsafe) static let broadcastSM = fields([
        .cString, .u8, .u8, .cString, .cString, .u8, .cString, .cString, .u8, .u8, .u8,
    ])
    nonisolated(unsafe) static let cancelBroadcastSM = fields([.cString, .cString, .u8, .u8, .cString])
    nonisolated(unsafe) static let outbind = fields([.cString, .cString])

    /// The mandatory fields of an operation; nil for header-only operations and unknown ids.
    static func layout(of id: CommandID) -> UnsafeBufferPointer<Field>? {
        switch id {
        case .bindTransmitter, .bindReceiver, .bindTransceiver: return bind
        case .bindTransmitterResp, .bindReceiverResp, .bindTransceiverResp: return messageIDOnly
        case .outbind: return outbind
        case .submitSM, .deliverSM: return shortMessage
        case .submitSMResp, .deliverSMResp, .dataSMResp, .broadcastSMResp, .queryBroadcastSMResp: return messageIDOnly
        case .submitMulti: return submitMulti
        case .submitMultiResp: return submitMultiResp
        case .dataSM: return dataSM
        case .querySM, .queryBroadcastSM: return messageIDAndAddress
        case .querySMResp: return querySMResp
        case .cancelSM: return cancelSM
        case .replaceSM: return replaceSM
        case .alertNotification: return alertNotification
        case .broadcastSM: return broadcastSM
        case .cancelBroadcastSM: return cancelBroadcastSM
        default: return nil
        }
    }

    /// True when the frame is structurally the PDU its header says: every C-string ends inside the body,
    /// short_message fits, and what follows the mandatory fields chains as TLVs to the last byte (or is empty for
    /// bodies without an optional part). Unknown commands and empty response bodies pass.
    public static func isWellFormed(_ frame: ByteBuffer) -> Bool {
        frame.withUnsafeReadableBytes { isWellFormed($0) }
    }

    /// ``isWellFormed(_:)-(ByteBuffer)`` for a frame's bytes.
    @_spi(Lent) public static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let header = PDUHeader.peek(in: bytes), Int(header.commandLength) == bytes.count else {
            return false
        }
        let id = header.commandID
        guard let fields = layout(of: id) else {
            // Header-only operations and unknown commands.
            return !id.isKnown || bytes.count == PDUHeader.size
        }
        if bytes.count == PDUHeader.size { return id.isResponse }
        let allowsTLVs = !id.hasNoOptionalPart
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
        return tlvsChain(in: bytes, from: offset)
    }

    /// True when the bytes from `offset` chain as TLVs exactly to the end (or there are none).
    @inline(__always)
    static func tlvsChain(in bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
        var offset = start
        let end = bytes.count
        while offset < end {
            guard offset + 4 <= end else { return false }
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            offset += 4 + length
        }
        return offset == end
    }
}

// Is this SMPP? Header plausibility for finding SMPP by content and for resynchronising after a gap.

import SMPP

public enum SMPPHeuristics {
    /// Commands whose PDU is exactly the 16-byte header.
    public static func isHeaderOnly(_ id: CommandID) -> Bool {
        switch id {
        case .enquireLink, .enquireLinkResp, .unbind, .unbindResp, .genericNack, .cancelSMResp, .replaceSMResp,
            .cancelBroadcastSMResp:
            return true
        default:
            return false
        }
    }

    /// A header an SMPP peer could have sent: a known command, a length within bounds (exactly 16 for the
    /// header-only commands), status 0 on requests, a sequence number within the 31-bit range.
    public static func isPlausible(_ header: PDUHeader, maximumLength: Int) -> Bool {
        let length = Int(header.commandLength)
        guard length >= PDUHeader.size, length <= maximumLength, header.commandID.isKnown,
            header.sequenceNumber <= 0x7FFF_FFFF
        else { return false }
        if isHeaderOnly(header.commandID) {
            // An error response may come without a body; a header-only PDU never has one.
            guard length == PDUHeader.size else { return false }
        }
        if !header.commandID.isResponse {
            return header.commandStatus == .ok
        }
        let status = header.commandStatus.rawValue
        return header.commandStatus.isKnown || (0x400...0x4FF).contains(status) || status < 0x1000
    }
}

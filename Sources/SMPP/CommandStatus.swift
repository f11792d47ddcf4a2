// SMPP command_status values of 3.4 and 5.0, with a plain description of each.

/// The `command_status` of an SMPP PDU (SMPP 3.4 §5.1.3, SMPP 5.0 §4.7.6).
///
/// An open set: vendor codes (0x400-0x4FF) and anything else the wire carries are kept.
public struct CommandStatus: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static func < (lhs: CommandStatus, rhs: CommandStatus) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let ok = CommandStatus(0x00)
    public static let invalidMessageLength = CommandStatus(0x01)
    public static let invalidCommandLength = CommandStatus(0x02)
    public static let invalidCommandID = CommandStatus(0x03)
    public static let invalidBindStatus = CommandStatus(0x04)
    public static let alreadyBound = CommandStatus(0x05)
    public static let systemError = CommandStatus(0x08)
    public static let invalidMessageID = CommandStatus(0x0C)
    public static let bindFailed = CommandStatus(0x0D)
    public static let invalidPassword = CommandStatus(0x0E)
    public static let invalidSystemID = CommandStatus(0x0F)
    public static let cancelFailed = CommandStatus(0x11)
    public static let replaceFailed = CommandStatus(0x13)
    public static let messageQueueFull = CommandStatus(0x14)
    public static let submitFailed = CommandStatus(0x45)
    public static let throttled = CommandStatus(0x58)
    public static let queryFailed = CommandStatus(0x67)
    public static let unknownError = CommandStatus(0xFF)

    /// The specification's name (`ESME_RTHROTTLED`); vendor and unlisted codes get a generated name.
    public var name: String {
        if let entry = CommandStatus.table[rawValue] { return entry.name }
        if (0x400...0x4FF).contains(rawValue) { return "ESME_VENDOR_0x" + hex8(rawValue) }
        return "ESME_UNKNOWN_0x" + hex8(rawValue)
    }

    /// A one-line explanation in plain words.
    public var meaning: String {
        if let entry = CommandStatus.table[rawValue] { return entry.meaning }
        if (0x400...0x4FF).contains(rawValue) { return "vendor-specific error of the SMSC" }
        return "a status that SMPP 3.4 and 5.0 do not define"
    }

    /// `ESME_RTHROTTLED: throttling error, the ESME exceeded the allowed message rate`.
    public var explanation: String { name + ": " + meaning }

    /// True when SMPP 3.4 or 5.0 lists this code.
    public var isKnown: Bool { CommandStatus.table[rawValue] != nil }

    /// Every code SMPP 3.4 and 5.0 define.
    public static var allKnown: [CommandStatus] { table.keys.sorted().map { CommandStatus($0) } }

    struct Entry {
        var name: String
        var meaning: String
    }

    static let table: [UInt32: Entry] = [
        0x00: Entry(name: "ESME_ROK", meaning: "no error"),
        0x01: Entry(name: "ESME_RINVMSGLEN", meaning: "message length is invalid"),
        0x02: Entry(name: "ESME_RINVCMDLEN", meaning: "command length is invalid"),
        0x03: Entry(name: "ESME_RINVCMDID", meaning: "invalid command id"),
        0x04: Entry(
            name: "ESME_RINVBNDSTS",
            meaning: "incorrect bind status for the command (not bound, or bound the wrong way)"),
        0x05: Entry(name: "ESME_RALYBND", meaning: "the ESME is already bound"),
        0x06: Entry(name: "ESME_RINVPRTFLG", meaning: "invalid priority flag"),
        0x07: Entry(name: "ESME_RINVREGDLVFLG", meaning: "invalid registered delivery flag"),
        0x08: Entry(name: "ESME_RSYSERR", meaning: "system error of the SMSC"),
        0x0A: Entry(name: "ESME_RINVSRCADR", meaning: "invalid source address"),
        0x0B: Entry(name: "ESME_RINVDSTADR", meaning: "invalid destination address"),
        0x0C: Entry(name: "ESME_RINVMSGID", meaning: "the message id is invalid or unknown"),
        0x0D: Entry(name: "ESME_RBINDFAIL", meaning: "bind failed"),
        0x0E: Entry(name: "ESME_RINVPASWD", meaning: "invalid password"),
        0x0F: Entry(name: "ESME_RINVSYSID", meaning: "invalid system id (unknown login)"),
        0x11: Entry(name: "ESME_RCANCELFAIL", meaning: "cancel_sm failed"),
        0x13: Entry(name: "ESME_RREPLACEFAIL", meaning: "replace_sm failed"),
        0x14: Entry(name: "ESME_RMSGQFUL", meaning: "message queue full, the SMSC cannot take more now"),
        0x15: Entry(name: "ESME_RINVSERTYP", meaning: "invalid service type"),
        0x33: Entry(name: "ESME_RINVNUMDESTS", meaning: "invalid number of destinations"),
        0x34: Entry(name: "ESME_RINVDLNAME", meaning: "invalid distribution list name"),
        0x40: Entry(name: "ESME_RINVDESTFLAG", meaning: "invalid destination flag (submit_multi)"),
        0x42: Entry(name: "ESME_RINVSUBREP", meaning: "invalid submit-with-replace request (replace_if_present_flag)"),
        0x43: Entry(name: "ESME_RINVESMCLASS", meaning: "invalid esm_class"),
        0x44: Entry(name: "ESME_RCNTSUBDL", meaning: "cannot submit to a distribution list"),
        0x45: Entry(name: "ESME_RSUBMITFAIL", meaning: "submit_sm, data_sm or submit_multi failed"),
        0x48: Entry(name: "ESME_RINVSRCTON", meaning: "invalid source address TON"),
        0x49: Entry(name: "ESME_RINVSRCNPI", meaning: "invalid source address NPI"),
        0x50: Entry(name: "ESME_RINVDSTTON", meaning: "invalid destination address TON"),
        0x51: Entry(name: "ESME_RINVDSTNPI", meaning: "invalid destination address NPI"),
        0x53: Entry(name: "ESME_RINVSYSTYP", meaning: "invalid system_type"),
        0x54: Entry(name: "ESME_RINVREPFLAG", meaning: "invalid replace_if_present flag"),
        0x55: Entry(name: "ESME_RINVNUMMSGS", meaning: "invalid number of messages"),
        0x58: Entry(name: "ESME_RTHROTTLED", meaning: "throttling error, the ESME exceeded the allowed message rate"),
        0x61: Entry(name: "ESME_RINVSCHED", meaning: "invalid scheduled delivery time"),
        0x62: Entry(name: "ESME_RINVEXPIRY", meaning: "invalid validity period (expiry time)"),
        0x63: Entry(name: "ESME_RINVDFTMSGID", meaning: "predefined message invalid or not found"),
        0x64: Entry(name: "ESME_RX_T_APPN", meaning: "temporary application error of the receiving ESME"),
        0x65: Entry(name: "ESME_RX_P_APPN", meaning: "permanent application error of the receiving ESME"),
        0x66: Entry(name: "ESME_RX_R_APPN", meaning: "the receiving ESME rejected the message"),
        0x67: Entry(name: "ESME_RQUERYFAIL", meaning: "query_sm failed"),
        0xC0: Entry(name: "ESME_RINVOPTPARSTREAM", meaning: "error in the optional (TLV) part of the PDU body"),
        0xC1: Entry(name: "ESME_ROPTPARNOTALLWD", meaning: "an optional parameter (TLV) is not allowed"),
        0xC2: Entry(name: "ESME_RINVPARLEN", meaning: "invalid parameter length"),
        0xC3: Entry(name: "ESME_RMISSINGOPTPARAM", meaning: "an expected optional parameter (TLV) is missing"),
        0xC4: Entry(name: "ESME_RINVOPTPARAMVAL", meaning: "invalid optional parameter (TLV) value"),
        0xFE: Entry(name: "ESME_RDELIVERYFAILURE", meaning: "delivery failure (data_sm)"),
        0xFF: Entry(name: "ESME_RUNKNOWNERR", meaning: "unknown error"),
        // SMPP 5.0 additions.
        0x100: Entry(name: "ESME_RSERTYPUNAUTH", meaning: "the ESME is not authorised to use this service_type"),
        0x101: Entry(name: "ESME_RPROHIBITED", meaning: "the ESME is prohibited from using this operation"),
        0x102: Entry(name: "ESME_RSERTYPUNAVAIL", meaning: "the service_type is unavailable"),
        0x103: Entry(name: "ESME_RSERTYPDENIED", meaning: "the service_type is denied"),
        0x104: Entry(name: "ESME_RINVDCS", meaning: "invalid data coding scheme"),
        0x105: Entry(name: "ESME_RINVSRCADDRSUBUNIT", meaning: "invalid source address subunit"),
        0x106: Entry(name: "ESME_RINVDSTADDRSUBUNIT", meaning: "invalid destination address subunit"),
        0x107: Entry(name: "ESME_RINVBCASTFREQINT", meaning: "invalid broadcast frequency interval"),
        0x108: Entry(name: "ESME_RINVBCASTALIAS_NAME", meaning: "invalid broadcast alias name"),
        0x109: Entry(name: "ESME_RINVBCASTAREAFMT", meaning: "invalid broadcast area format"),
        0x10A: Entry(name: "ESME_RINVNUMBCAST_AREAS", meaning: "invalid number of broadcast areas"),
        0x10B: Entry(name: "ESME_RINVBCASTCNTTYPE", meaning: "invalid broadcast content type"),
        0x10C: Entry(name: "ESME_RINVBCASTMSGCLASS", meaning: "invalid broadcast message class"),
        0x10D: Entry(name: "ESME_RBCASTFAIL", meaning: "broadcast_sm failed"),
        0x10E: Entry(name: "ESME_RBCASTQUERYFAIL", meaning: "query_broadcast_sm failed"),
        0x10F: Entry(name: "ESME_RBCASTCANCELFAIL", meaning: "cancel_broadcast_sm failed"),
        0x110: Entry(name: "ESME_RINVBCAST_REP", meaning: "invalid number of repeated broadcasts"),
        0x111: Entry(name: "ESME_RINVBCASTSRVGRP", meaning: "invalid broadcast service group"),
        0x112: Entry(name: "ESME_RINVBCASTCHANIND", meaning: "invalid broadcast channel indicator"),
    ]
}

extension CommandStatus: CustomStringConvertible {
    public var description: String { name }
}

// SMPP command identifiers: an open set, so vendor ids round-trip unchanged.

/// The `command_id` of an SMPP PDU (SMPP 3.4 §5.1.2.1, SMPP 5.0 §4.7.5).
///
/// An open set: ids outside SMPP 3.4 and 5.0 (vendor extensions) are kept as they are.
public struct CommandID: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static func < (lhs: CommandID, rhs: CommandID) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let genericNack = CommandID(0x8000_0000)
    public static let bindReceiver = CommandID(0x0000_0001)
    public static let bindReceiverResp = CommandID(0x8000_0001)
    public static let bindTransmitter = CommandID(0x0000_0002)
    public static let bindTransmitterResp = CommandID(0x8000_0002)
    public static let querySM = CommandID(0x0000_0003)
    public static let querySMResp = CommandID(0x8000_0003)
    public static let submitSM = CommandID(0x0000_0004)
    public static let submitSMResp = CommandID(0x8000_0004)
    public static let deliverSM = CommandID(0x0000_0005)
    public static let deliverSMResp = CommandID(0x8000_0005)
    public static let unbind = CommandID(0x0000_0006)
    public static let unbindResp = CommandID(0x8000_0006)
    public static let replaceSM = CommandID(0x0000_0007)
    public static let replaceSMResp = CommandID(0x8000_0007)
    public static let cancelSM = CommandID(0x0000_0008)
    public static let cancelSMResp = CommandID(0x8000_0008)
    public static let bindTransceiver = CommandID(0x0000_0009)
    public static let bindTransceiverResp = CommandID(0x8000_0009)
    public static let outbind = CommandID(0x0000_000B)
    public static let enquireLink = CommandID(0x0000_0015)
    public static let enquireLinkResp = CommandID(0x8000_0015)
    public static let submitMulti = CommandID(0x0000_0021)
    public static let submitMultiResp = CommandID(0x8000_0021)
    public static let alertNotification = CommandID(0x0000_0102)
    public static let dataSM = CommandID(0x0000_0103)
    public static let dataSMResp = CommandID(0x8000_0103)
    public static let broadcastSM = CommandID(0x0000_0111)
    public static let broadcastSMResp = CommandID(0x8000_0111)
    public static let queryBroadcastSM = CommandID(0x0000_0112)
    public static let queryBroadcastSMResp = CommandID(0x8000_0112)
    public static let cancelBroadcastSM = CommandID(0x0000_0113)
    public static let cancelBroadcastSMResp = CommandID(0x8000_0113)

    /// True for responses (the high bit set), generic_nack included.
    @inlinable
    public var isResponse: Bool { rawValue & 0x8000_0000 != 0 }

    /// The response id of a request (`submit_sm` -> `submit_sm_resp`); a response maps to itself.
    @inlinable
    public var response: CommandID { CommandID(rawValue | 0x8000_0000) }

    /// The request id of a response (`submit_sm_resp` -> `submit_sm`).
    @inlinable
    public var request: CommandID { CommandID(rawValue & 0x7FFF_FFFF) }

    /// True when SMPP 3.4 or 5.0 defines this id.
    @inlinable
    public var isKnown: Bool { knownIndex != nil }

    /// A dense index (0..<33) of the ids SMPP 3.4 and 5.0 define, for tables; nil for others.
    @inlinable
    public var knownIndex: Int? {
        switch rawValue {
        case 0x8000_0000: return 0
        case 0x0000_0001...0x0000_0009: return Int(rawValue)  // 1...9
        case 0x8000_0001...0x8000_0009: return Int(rawValue & 0xFF) + 9  // 10...18
        case 0x0000_000B: return 19
        case 0x0000_0015: return 20
        case 0x8000_0015: return 21
        case 0x0000_0021: return 22
        case 0x8000_0021: return 23
        case 0x0000_0102: return 24
        case 0x0000_0103: return 25
        case 0x8000_0103: return 26
        case 0x0000_0111: return 27
        case 0x8000_0111: return 28
        case 0x0000_0112: return 29
        case 0x8000_0112: return 30
        case 0x0000_0113: return 31
        case 0x8000_0113: return 32
        default: return nil
        }
    }

    /// How many ids ``knownIndex`` covers.
    public static let knownCount = 33

    /// True for requests that expect no response (outbind, alert_notification).
    public var expectsResponse: Bool {
        !isResponse && self != .outbind && self != .alertNotification
    }

    /// The SMPP name, lowercase as in the specification (`submit_sm`), or `unknown_0x` and 8 hex digits.
    public var name: String {
        if let name = CommandID.knownNames[self] { return name }
        return "unknown_0x" + hex8(rawValue)
    }

    /// Every id SMPP 3.4 and 5.0 define.
    public static var allKnown: [CommandID] { knownNames.keys.sorted() }

    /// Looks an id up by its SMPP name (`submit_sm`, or `unknown_0x00010200`).
    public init?(name: String) {
        if let found = CommandID.idsByName[name] {
            self = found
            return
        }
        guard name.hasPrefix("unknown_0x"), let value = UInt32(name.dropFirst(10), radix: 16) else { return nil }
        self.init(value)
    }

    @usableFromInline
    static let knownNames: [CommandID: String] = [
        .genericNack: "generic_nack",
        .bindReceiver: "bind_receiver", .bindReceiverResp: "bind_receiver_resp",
        .bindTransmitter: "bind_transmitter", .bindTransmitterResp: "bind_transmitter_resp",
        .querySM: "query_sm", .querySMResp: "query_sm_resp",
        .submitSM: "submit_sm", .submitSMResp: "submit_sm_resp",
        .deliverSM: "deliver_sm", .deliverSMResp: "deliver_sm_resp",
        .unbind: "unbind", .unbindResp: "unbind_resp",
        .replaceSM: "replace_sm", .replaceSMResp: "replace_sm_resp",
        .cancelSM: "cancel_sm", .cancelSMResp: "cancel_sm_resp",
        .bindTransceiver: "bind_transceiver", .bindTransceiverResp: "bind_transceiver_resp",
        .outbind: "outbind",
        .enquireLink: "enquire_link", .enquireLinkResp: "enquire_link_resp",
        .submitMulti: "submit_multi", .submitMultiResp: "submit_multi_resp",
        .alertNotification: "alert_notification",
        .dataSM: "data_sm", .dataSMResp: "data_sm_resp",
        .broadcastSM: "broadcast_sm", .broadcastSMResp: "broadcast_sm_resp",
        .queryBroadcastSM: "query_broadcast_sm", .queryBroadcastSMResp: "query_broadcast_sm_resp",
        .cancelBroadcastSM: "cancel_broadcast_sm", .cancelBroadcastSMResp: "cancel_broadcast_sm_resp",
    ]

    static let idsByName: [String: CommandID] = {
        var result: [String: CommandID] = [:]
        for (id, name) in knownNames { result[name] = id }
        return result
    }()

    /// True for the three bind requests.
    public var isBind: Bool {
        self == .bindTransmitter || self == .bindReceiver || self == .bindTransceiver
    }
}

extension CommandID: CustomStringConvertible {
    public var description: String { name }
}

/// Eight lowercase hex digits.
@usableFromInline
func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

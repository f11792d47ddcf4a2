// TLV (optional parameter) tags of SMPP 3.4 §5.3.2 and SMPP 5.0 §4.8.4, with the type of each value.

/// The tag of a TLV. An open set: vendor tags (0x1400-0x3FFF) and unlisted ones round-trip unchanged.
public struct TLVTag: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static func < (lhs: TLVTag, rhs: TLVTag) -> Bool { lhs.rawValue < rhs.rawValue }

    /// How a TLV's value is laid out.
    public enum Kind: Hashable, Sendable {
        /// A big-endian unsigned integer of one of these widths in bytes.
        case integer(widths: [Int])
        /// A C-octet string (NUL-terminated).
        case cString
        /// Octets, shown as hex (or as text where they are printable, for message_payload see ``PDU``).
        case octets
        /// network_error_code: network type (1 byte) and error code (2 bytes).
        case networkErrorCode
        /// broadcast_content_type: network type (1 byte) and content type (2 bytes).
        case broadcastContentType
        /// broadcast_frequency_interval: time unit (1 byte) and number (2 bytes).
        case broadcastFrequencyInterval
        /// broadcast_area_identifier: area format (1 byte) and area details (octets).
        case broadcastAreaIdentifier
        /// A flag whose presence is the value (alert_on_message_delivery may also carry one byte).
        case presence
    }

    /// The specification's name (`receipted_message_id`), or `"unknown"` for unlisted tags.
    public var name: String { TLVTag.entry(rawValue)?.name ?? "unknown" }

    /// True when SMPP 3.4 or 5.0 lists the tag.
    public var isKnown: Bool { TLVTag.entry(rawValue) != nil }

    /// True for the range SMPP reserves for SMSC vendors (0x1400-0x3FFF).
    public var isVendorSpecific: Bool { (0x1400...0x3FFF).contains(rawValue) }

    /// The layout of the value; octets for unlisted tags.
    public var kind: Kind { TLVTag.entry(rawValue)?.kind ?? .octets }

    /// Looks a tag up by its specification name.
    public init?(name: String) {
        guard let found = TLVTag.tagsByName[name] else { return nil }
        self = found
    }

    /// Every tag SMPP 3.4 and 5.0 define.
    public static var allKnown: [TLVTag] { table.keys.sorted().map { TLVTag($0) } }

    public static let destAddrSubunit = TLVTag(0x0005)
    public static let sourceAddrSubunit = TLVTag(0x000D)
    public static let additionalStatusInfoText = TLVTag(0x001D)
    public static let receiptedMessageID = TLVTag(0x001E)
    public static let sourcePort = TLVTag(0x020A)
    public static let destinationPort = TLVTag(0x020B)
    public static let sarMsgRefNum = TLVTag(0x020C)
    public static let sarTotalSegments = TLVTag(0x020E)
    public static let sarSegmentSeqnum = TLVTag(0x020F)
    public static let scInterfaceVersion = TLVTag(0x0210)
    public static let networkErrorCode = TLVTag(0x0423)
    public static let messagePayload = TLVTag(0x0424)
    public static let deliveryFailureReason = TLVTag(0x0425)
    public static let messageState = TLVTag(0x0427)
    public static let congestionState = TLVTag(0x0428)
    public static let broadcastAreaIdentifier = TLVTag(0x0606)
    public static let broadcastContentType = TLVTag(0x0601)
    public static let broadcastRepNum = TLVTag(0x0604)
    public static let broadcastFrequencyInterval = TLVTag(0x0605)
    public static let broadcastErrorStatus = TLVTag(0x0607)
    public static let broadcastAreaSuccess = TLVTag(0x0608)
    public static let userMessageReference = TLVTag(0x0204)
    public static let msAvailabilityStatus = TLVTag(0x0422)

    struct Entry {
        var name: String
        var kind: Kind
    }

    private static let int1 = Kind.integer(widths: [1])
    private static let int2 = Kind.integer(widths: [2])
    private static let int4 = Kind.integer(widths: [4])

    static let table: [UInt16: Entry] = [
        0x0005: Entry(name: "dest_addr_subunit", kind: int1),
        0x0006: Entry(name: "dest_network_type", kind: int1),
        0x0007: Entry(name: "dest_bearer_type", kind: int1),
        0x0008: Entry(name: "dest_telematics_id", kind: int2),
        0x000D: Entry(name: "source_addr_subunit", kind: int1),
        0x000E: Entry(name: "source_network_type", kind: int1),
        0x000F: Entry(name: "source_bearer_type", kind: int1),
        0x0010: Entry(name: "source_telematics_id", kind: .integer(widths: [1, 2])),
        0x0017: Entry(name: "qos_time_to_live", kind: int4),
        0x0019: Entry(name: "payload_type", kind: int1),
        0x001D: Entry(name: "additional_status_info_text", kind: .cString),
        0x001E: Entry(name: "receipted_message_id", kind: .cString),
        0x0030: Entry(name: "ms_msg_wait_facilities", kind: int1),
        0x0201: Entry(name: "privacy_indicator", kind: int1),
        0x0202: Entry(name: "source_subaddress", kind: .octets),
        0x0203: Entry(name: "dest_subaddress", kind: .octets),
        0x0204: Entry(name: "user_message_reference", kind: int2),
        0x0205: Entry(name: "user_response_code", kind: int1),
        0x020A: Entry(name: "source_port", kind: int2),
        0x020B: Entry(name: "destination_port", kind: int2),
        0x020C: Entry(name: "sar_msg_ref_num", kind: int2),
        0x020D: Entry(name: "language_indicator", kind: int1),
        0x020E: Entry(name: "sar_total_segments", kind: int1),
        0x020F: Entry(name: "sar_segment_seqnum", kind: int1),
        0x0210: Entry(name: "sc_interface_version", kind: int1),
        0x0302: Entry(name: "callback_num_pres_ind", kind: int1),
        0x0303: Entry(name: "callback_num_atag", kind: .octets),
        0x0304: Entry(name: "number_of_messages", kind: int1),
        0x0381: Entry(name: "callback_num", kind: .octets),
        0x0420: Entry(name: "dpf_result", kind: int1),
        0x0421: Entry(name: "set_dpf", kind: int1),
        0x0422: Entry(name: "ms_availability_status", kind: int1),
        0x0423: Entry(name: "network_error_code", kind: .networkErrorCode),
        0x0424: Entry(name: "message_payload", kind: .octets),
        0x0425: Entry(name: "delivery_failure_reason", kind: int1),
        0x0426: Entry(name: "more_messages_to_send", kind: int1),
        0x0427: Entry(name: "message_state", kind: int1),
        0x0428: Entry(name: "congestion_state", kind: int1),
        0x0501: Entry(name: "ussd_service_op", kind: int1),
        0x0600: Entry(name: "broadcast_channel_indicator", kind: int1),
        0x0601: Entry(name: "broadcast_content_type", kind: .broadcastContentType),
        0x0602: Entry(name: "broadcast_content_type_info", kind: .octets),
        0x0603: Entry(name: "broadcast_message_class", kind: int1),
        0x0604: Entry(name: "broadcast_rep_num", kind: int2),
        0x0605: Entry(name: "broadcast_frequency_interval", kind: .broadcastFrequencyInterval),
        0x0606: Entry(name: "broadcast_area_identifier", kind: .broadcastAreaIdentifier),
        0x0607: Entry(name: "broadcast_error_status", kind: int4),
        0x0608: Entry(name: "broadcast_area_success", kind: int1),
        0x0609: Entry(name: "broadcast_end_time", kind: .cString),
        0x060A: Entry(name: "broadcast_service_group", kind: .octets),
        0x060B: Entry(name: "billing_identification", kind: .octets),
        0x060D: Entry(name: "source_network_id", kind: .cString),
        0x060E: Entry(name: "dest_network_id", kind: .cString),
        0x060F: Entry(name: "source_node_id", kind: .octets),
        0x0610: Entry(name: "dest_node_id", kind: .octets),
        0x0611: Entry(name: "dest_addr_np_resolution", kind: int1),
        0x0612: Entry(name: "dest_addr_np_information", kind: .octets),
        0x0613: Entry(name: "dest_addr_np_country", kind: .integer(widths: [1, 2, 3, 4, 5])),
        0x1201: Entry(name: "display_time", kind: int1),
        0x1203: Entry(name: "sms_signal", kind: int2),
        0x1204: Entry(name: "ms_validity", kind: .integer(widths: [1, 4])),
        0x130C: Entry(name: "alert_on_message_delivery", kind: .presence),
        0x1380: Entry(name: "its_reply_type", kind: int1),
        0x1383: Entry(name: "its_session_info", kind: .octets),
    ]

    /// The table's entries and, for every tag below ``denseLimit``, the position of its entry plus one (0 for
    /// none): looking a tag up is one array read, as TLVs are read for every PDU.
    private static let denseLimit = 0x1400
    private static let entries: [Entry] = table.keys.sorted().compactMap { table[$0] }
    private static let denseIndex: [UInt16] = {
        var index = [UInt16](repeating: 0, count: denseLimit)
        for (position, tag) in table.keys.sorted().enumerated() where Int(tag) < denseLimit {
            index[Int(tag)] = UInt16(truncatingIfNeeded: position + 1)
        }
        return index
    }()

    @inline(__always)
    static func entry(_ rawValue: UInt16) -> Entry? {
        guard Int(rawValue) < denseLimit else { return table[rawValue] }
        let position = Int(denseIndex[Int(rawValue)])
        return position == 0 ? nil : entries[position - 1]
    }

    static let tagsByName: [String: TLVTag] = {
        var result: [String: TLVTag] = [:]
        for (tag, entry) in table { result[entry.name] = TLVTag(tag) }
        return result
    }()
}

extension TLVTag: CustomStringConvertible {
    public var description: String {
        let digits = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

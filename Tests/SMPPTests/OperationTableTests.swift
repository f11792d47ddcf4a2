// Every operation of SMPP 3.4 and 5.0: bytes -> value -> the same bytes.

import NIOCore
import SMPP
import Testing

/// The body fields of a PDU as text, for comparing with a table.
func fieldMap(_ pdu: PDU) -> [String: String] {
    var map: [String: String] = [:]
    for field in pdu.fields {
        switch field.value {
        case .integer(let value): map[field.name] = String(value)
        case .string(let value), .secret(let value): map[field.name] = value
        case .octets(let value): map[field.name] = hex(value.readableBytesView)
        case .destinations(let list):
            map[field.name] = list.map { entry -> String in
                switch entry {
                case .sme(let address): return "sme:\(address.ton)/\(address.npi)/\(address.address)"
                case .distributionList(let name): return "dl:\(name)"
                }
            }.joined(separator: ",")
        case .unsuccessful(let list):
            map[field.name] = list.map { "\($0.address.address)=\($0.errorStatusCode.rawValue)" }.joined(separator: ",")
        }
    }
    return map
}

struct OperationCase: Sendable, CustomTestStringConvertible {
    var command: String
    var wire: [UInt8]
    var expected: [String: String]
    var tlvNames: [String] = []
    var testDescription: String { command }
}

private func make(
    _ command: String, status: UInt32 = 0, sequence: UInt32 = 7, expected: [String: String], tlvNames: [String] = [],
    _ build: (inout WireBuilder) -> Void
) -> OperationCase {
    var builder = WireBuilder()
    build(&builder)
    let id = CommandID(name: command)?.rawValue ?? 0
    return OperationCase(
        command: command, wire: builder.pdu(id: id, status: status, sequence: sequence), expected: expected,
        tlvNames: tlvNames)
}

let operationCases: [OperationCase] = [
    make(
        "bind_transmitter",
        expected: [
            "system_id": "esme1", "password": "pw", "system_type": "ISO,SINGLE", "interface_version": "52",
            "addr_ton": "1", "addr_npi": "1", "address_range": "7701",
        ]
    ) { b in
        b.cstr("esme1"); b.cstr("pw"); b.cstr("ISO,SINGLE"); b.u8(0x34); b.u8(1); b.u8(1); b.cstr("7701")
    },
    make("bind_receiver", expected: ["system_id": "r", "password": "", "system_type": "", "interface_version": "80"]) {
        b in
        b.cstr("r"); b.cstr(""); b.cstr(""); b.u8(0x50); b.u8(0); b.u8(0); b.cstr("")
    },
    make("bind_transceiver", expected: ["system_id": "smsckz", "password": "secret", "system_type": "MCON3"]) { b in
        b.cstr("smsckz"); b.cstr("secret"); b.cstr("MCON3"); b.u8(0x34); b.u8(0); b.u8(0); b.cstr("")
    },
    make("bind_transmitter_resp", expected: ["system_id": "SMSC"], tlvNames: ["sc_interface_version"]) { b in
        b.cstr("SMSC"); b.tlv(0x0210, [0x50])
    },
    make("bind_receiver_resp", expected: ["system_id": "SMSC"]) { b in b.cstr("SMSC") },
    make("bind_transceiver_resp", status: 0x0E, expected: [:]) { _ in },
    make("outbind", expected: ["system_id": "smsc", "password": "pw"]) { b in
        b.cstr("smsc"); b.cstr("pw")
    },
    make("unbind", expected: [:]) { _ in },
    make("unbind_resp", expected: [:]) { _ in },
    make("generic_nack", status: 0x03, expected: [:]) { _ in },
    make("enquire_link", expected: [:]) { _ in },
    make("enquire_link_resp", expected: [:]) { _ in },
    make(
        "submit_sm",
        expected: [
            "service_type": "", "source_addr_ton": "5", "source_addr_npi": "0", "source_addr": "SMSCKZ",
            "dest_addr_ton": "1", "dest_addr_npi": "1", "destination_addr": "77011234567", "esm_class": "64",
            "protocol_id": "0", "priority_flag": "1", "schedule_delivery_time": "261126083406800+",
            "validity_period": "000001000000000R", "registered_delivery": "1", "replace_if_present_flag": "0",
            "data_coding": "8", "sm_default_msg_id": "0", "sm_length": "8", "short_message": "0500034202010041",
        ],
        tlvNames: ["user_message_reference"]
    ) { b in
        b.cstr(""); b.u8(5); b.u8(0); b.cstr("SMSCKZ"); b.u8(1); b.u8(1); b.cstr("77011234567")
        b.u8(0x40); b.u8(0); b.u8(1); b.cstr("261126083406800+"); b.cstr("000001000000000R")
        b.u8(1); b.u8(0); b.u8(8); b.u8(0); b.u8(8); b.octets([5, 0, 3, 0x42, 2, 1, 0, 0x41])
        b.tlv(0x0204, [0, 9])
    },
    make("submit_sm_resp", expected: ["message_id": "854019"]) { b in b.cstr("854019") },
    make("submit_sm_resp", status: 0x58, expected: [:]) { _ in },
    make("submit_sm_resp", status: 0x58, expected: ["message_id": ""]) { b in b.cstr("") },
    make(
        "deliver_sm",
        expected: ["source_addr": "77011000006", "destination_addr": "SMSCKZ", "esm_class": "4", "sm_length": "2"],
        tlvNames: ["receipted_message_id", "message_state", "network_error_code"]
    ) { b in
        b.cstr(""); b.u8(1); b.u8(1); b.cstr("77011000006"); b.u8(5); b.u8(0); b.cstr("SMSCKZ")
        b.u8(4); b.u8(0); b.u8(0); b.cstr(""); b.cstr(""); b.u8(0); b.u8(0); b.u8(0); b.u8(0)
        b.u8(2); b.octets(Array("id".utf8))
        b.tlv(0x001E, Array("854025".utf8) + [0]); b.tlv(0x0427, [2]); b.tlv(0x0423, [3, 0, 0])
    },
    make("deliver_sm_resp", expected: ["message_id": ""]) { b in b.cstr("") },
    make(
        "submit_multi",
        expected: [
            "source_addr": "SRC", "number_of_dests": "2", "dest_address": "sme:1/1/7701,dl:friends",
            "esm_class": "0", "data_coding": "0", "sm_length": "2", "short_message": "4869",
        ]
    ) { b in
        b.cstr(""); b.u8(5); b.u8(0); b.cstr("SRC"); b.u8(2)
        b.u8(1); b.u8(1); b.u8(1); b.cstr("7701"); b.u8(2); b.cstr("friends")
        b.u8(0); b.u8(0); b.u8(0); b.cstr(""); b.cstr(""); b.u8(0); b.u8(0); b.u8(0); b.u8(0)
        b.u8(2); b.octets([0x48, 0x69])
    },
    make(
        "submit_multi_resp", expected: ["message_id": "m1", "no_unsuccess": "1", "unsuccess_sme": "7702=11"]
    ) { b in
        b.cstr("m1"); b.u8(1); b.u8(1); b.u8(1); b.cstr("7702"); b.u32(0x0B)
    },
    make(
        "data_sm",
        expected: [
            "service_type": "WAP", "source_addr": "a-very-long-address-up-to-65-octets", "destination_addr": "7701",
            "esm_class": "0", "registered_delivery": "1", "data_coding": "4",
        ],
        tlvNames: ["message_payload", "source_port", "destination_port"]
    ) { b in
        b.cstr("WAP"); b.u8(0); b.u8(0); b.cstr("a-very-long-address-up-to-65-octets"); b.u8(1); b.u8(1)
        b.cstr("7701"); b.u8(0); b.u8(1); b.u8(4)
        b.tlv(0x0424, [1, 2, 3]); b.tlv(0x020A, [0x0B, 0x84]); b.tlv(0x020B, [0x23, 0xF0])
    },
    make("data_sm_resp", expected: ["message_id": "d1"], tlvNames: ["additional_status_info_text"]) { b in
        b.cstr("d1"); b.tlv(0x001D, Array("ok".utf8) + [0])
    },
    make("query_sm", expected: ["message_id": "854019", "source_addr_ton": "5", "source_addr": "SMSCKZ"]) { b in
        b.cstr("854019"); b.u8(5); b.u8(0); b.cstr("SMSCKZ")
    },
    make(
        "query_sm_resp",
        expected: ["message_id": "854019", "final_date": "261126083406800+", "message_state": "2", "error_code": "0"]
    ) { b in
        b.cstr("854019"); b.cstr("261126083406800+"); b.u8(2); b.u8(0)
    },
    make(
        "cancel_sm",
        expected: ["service_type": "", "message_id": "42", "source_addr": "SRC", "destination_addr": "7701"]
    ) { b in
        b.cstr(""); b.cstr("42"); b.u8(5); b.u8(0); b.cstr("SRC"); b.u8(1); b.u8(1); b.cstr("7701")
    },
    make("cancel_sm_resp", expected: [:]) { _ in },
    make(
        "replace_sm",
        expected: [
            "message_id": "42", "source_addr": "SRC", "schedule_delivery_time": "", "validity_period": "",
            "registered_delivery": "1", "sm_default_msg_id": "0", "sm_length": "3", "short_message": "4e6577",
        ]
    ) { b in
        b.cstr("42"); b.u8(5); b.u8(0); b.cstr("SRC"); b.cstr(""); b.cstr(""); b.u8(1); b.u8(0)
        b.u8(3); b.octets(Array("New".utf8))
    },
    make("replace_sm_resp", expected: [:]) { _ in },
    make(
        "alert_notification",
        expected: ["source_addr": "77011234567", "esme_addr_ton": "1", "esme_addr": "ESME"],
        tlvNames: ["ms_availability_status"]
    ) { b in
        b.u8(1); b.u8(1); b.cstr("77011234567"); b.u8(1); b.u8(1); b.cstr("ESME"); b.tlv(0x0422, [0])
    },
    make(
        "broadcast_sm",
        expected: ["source_addr": "CB", "message_id": "", "priority_flag": "1", "data_coding": "0"],
        tlvNames: [
            "broadcast_area_identifier", "broadcast_content_type", "broadcast_rep_num", "broadcast_frequency_interval",
        ]
    ) { b in
        b.cstr(""); b.u8(5); b.u8(0); b.cstr("CB"); b.cstr(""); b.u8(1); b.cstr(""); b.cstr("")
        b.u8(0); b.u8(0); b.u8(0)
        b.tlv(0x0606, [0, 0x01, 0x02]); b.tlv(0x0601, [1, 0, 5]); b.tlv(0x0604, [0, 3]); b.tlv(0x0605, [9, 0, 10])
    },
    make("broadcast_sm_resp", expected: ["message_id": "b1"]) { b in b.cstr("b1") },
    make("query_broadcast_sm", expected: ["message_id": "b1", "source_addr": "CB"]) { b in
        b.cstr("b1"); b.u8(5); b.u8(0); b.cstr("CB")
    },
    make(
        "query_broadcast_sm_resp", expected: ["message_id": "b1"],
        tlvNames: ["message_state", "broadcast_area_identifier", "broadcast_area_success"]
    ) { b in
        b.cstr("b1"); b.tlv(0x0427, [2]); b.tlv(0x0606, [0, 7]); b.tlv(0x0608, [100])
    },
    make("cancel_broadcast_sm", expected: ["service_type": "", "message_id": "b1", "source_addr": "CB"]) { b in
        b.cstr(""); b.cstr("b1"); b.u8(5); b.u8(0); b.cstr("CB")
    },
    make("cancel_broadcast_sm_resp", expected: [:]) { _ in },
]

@Suite("Every operation: bytes -> value -> bytes")
struct OperationTableTests {
    @Test(arguments: operationCases)
    func decodesAndReencodes(_ row: OperationCase) throws {
        let pdu = try decode(row.wire)
        #expect(pdu.diagnostics.isEmpty, "\(pdu.diagnostics)")
        #expect(pdu.commandID.name == row.command)
        #expect(pdu.sequenceNumber == 7)
        let fields = fieldMap(pdu)
        for (name, value) in row.expected {
            #expect(fields[name] == value, "\(row.command).\(name)")
        }
        #expect(pdu.tlvs.map(\.tag.name) == row.tlvNames)
        #expect(Array(pdu.encoded.readableBytesView) == row.wire)
    }

    @Test func everyKnownCommandHasATableRow() {
        let covered = Set(operationCases.map(\.command))
        let missing = CommandID.allKnown.map(\.name).filter { !covered.contains($0) }
        #expect(missing.isEmpty, "no table row for \(missing)")
    }

    @Test func unknownCommandIDsAreKeptRawAndReencodeIdentically() throws {
        var builder = WireBuilder()
        builder.octets([0xDE, 0xAD, 0xBE, 0xEF, 0, 1])
        let wire = builder.pdu(id: 0x0001_0200, sequence: 3)
        let pdu = try decode(wire)
        #expect(pdu.commandID.name == "unknown_0x00010200")
        #expect(pdu.body == .opaque(ByteBuffer(bytes: [0xDE, 0xAD, 0xBE, 0xEF, 0, 1])))
        #expect(pdu.diagnostics.isEmpty)
        #expect(Array(pdu.encoded.readableBytesView) == wire)
    }

    @Test func typedTLVValues() throws {
        var builder = WireBuilder()
        builder.cstr("")
        builder.tlv(0x0423, [3, 0x01, 0x02])
        builder.tlv(0x0601, [1, 0x00, 0x05])
        builder.tlv(0x0605, [9, 0x00, 0x0A])
        builder.tlv(0x0606, [0, 0xAB])
        builder.tlv(0x001E, Array("abc".utf8) + [0])
        builder.tlv(0x1401, [0xCA, 0xFE])
        builder.tlv(0x130C, [])
        let pdu = try decode(builder.pdu(id: 0x8000_0103, sequence: 1))
        let values = pdu.tlvs.map(\.value)
        #expect(values[0] == .networkErrorCode(networkType: 3, errorCode: 0x0102))
        #expect(values[1] == .broadcastContentType(networkType: 1, contentType: 5))
        #expect(values[2] == .broadcastFrequencyInterval(unit: 9, number: 10))
        #expect(values[3] == .broadcastAreaIdentifier(format: 0, area: [0xAB]))
        #expect(values[4] == .string("abc"))
        #expect(values[5] == .octets([0xCA, 0xFE]))
        #expect(pdu.tlvs[5].tag.name == "unknown")
        #expect(pdu.tlvs[5].tag.isVendorSpecific)
        #expect(values[6] == .present)
    }

    @Test func builtPDUsEncodeTheirLength() {
        let pdu = PDU(.submitSMResp, sequence: 9, body: .messageID("abc"))
        #expect(hex(pdu.encoded.readableBytesView) == "00000014800000040000000000000009616263" + "00")
    }

    @Test func everyStatusHasANameAndMeaning() {
        #expect(
            CommandStatus.throttled.explanation
                == "ESME_RTHROTTLED: throttling error, the ESME exceeded the allowed message rate")
        #expect(CommandStatus.allKnown.count == 67)
        for status in CommandStatus.allKnown {
            #expect(status.name.hasPrefix("ESME_"))
            #expect(!status.meaning.isEmpty)
        }
        #expect(CommandStatus(0x401).name == "ESME_VENDOR_0x00000401")
    }

    @Test func everyTLVOfTheTablesIsNamed() {
        #expect(TLVTag.allKnown.count == 64)
        #expect(TLVTag(name: "message_payload") == .messagePayload)
        #expect(Set(TLVTag.allKnown.map(\.name)).count == 64)
    }
}

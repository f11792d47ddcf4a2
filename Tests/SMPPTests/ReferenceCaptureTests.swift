// Every PDU of the reference captures (pdu_hex) decodes to the reference's values and re-encodes to the same bytes.

import Foundation
import NIOCore
import SMPP
import Testing

@Suite("Reference captures: pdu_hex")
struct ReferenceCaptureTests {
    /// Keys of the reference that are not body fields of the PDU.
    static let notBodyFields: Set<String> = [
        "pdu_index", "frame", "ts_epoch", "ts_us", "tcp_stream", "src", "dst", "stream_offset", "segment_frames",
        "tshark_decoded", "tshark_frame", "tshark_tcp_analysis", "command_length", "command_id", "command",
        "command_status", "command_status_name", "sequence_number", "is_response", "fields_from", "pdu_hex",
        "tlvs", "tlvs_tshark", "final_date_tshark", "text", "text_lab", "concat", "udh", "udh_hex",
        "udh_reassembled_length", "short_message_hex",
    ]

    /// A reference value as text: "0x.." strings become decimal, numbers become decimal.
    static func normalized(_ value: Any) -> String {
        if let text = value as? String {
            if text.hasPrefix("0x"), let number = UInt64(text.dropFirst(2), radix: 16) { return String(number) }
            return text
        }
        if let number = value as? NSNumber { return number.stringValue }
        return "\(value)"
    }

    @Test(arguments: Fixtures.referenceCaptures)
    func decodesEveryReferencePDU(capture: String) throws {
        let rows = try Fixtures.referencePDUs(capture)
        #expect(rows.count > 100)
        var receipts = 0
        var concatenated = 0
        for row in rows {
            let index = row["pdu_index"] as? Int ?? -1
            let wire = bytes(hex: row["pdu_hex"] as? String ?? "")
            let pdu = try decode(wire)
            #expect(pdu.diagnostics.isEmpty, "pdu \(index): \(pdu.diagnostics)")
            #expect(Int(pdu.header.commandLength) == row["command_length"] as? Int)
            #expect(pdu.commandID.name == row["command"] as? String, "pdu \(index)")
            #expect(pdu.commandStatus.name == row["command_status_name"] as? String, "pdu \(index)")
            #expect(Int(pdu.sequenceNumber) == row["sequence_number"] as? Int)
            #expect(pdu.commandID.isResponse == row["is_response"] as? Bool)

            let fields = fieldMap(pdu)
            for (key, value) in row where !Self.notBodyFields.contains(key) {
                #expect(fields[key] == Self.normalized(value), "pdu \(index) \(key)")
            }
            if let shortMessage = row["short_message_hex"] as? String {
                #expect(fields["short_message"] == shortMessage, "pdu \(index)")
            }

            let referenceTLVs = row["tlvs"] as? [[String: Any]] ?? []
            #expect(pdu.tlvs.count == referenceTLVs.count, "pdu \(index)")
            for (tlv, reference) in zip(pdu.tlvs, referenceTLVs) {
                #expect(tlv.tag.description == reference["tag"] as? String)
                #expect(tlv.tag.name == reference["name"] as? String)
                #expect(tlv.length == reference["length"] as? Int)
                #expect(hex(tlv.raw.readableBytesView) == reference["value_hex"] as? String)
                switch tlv.value {
                case .integer(let value): #expect(Int(value) == reference["value"] as? Int)
                case .string(let value): #expect(value == reference["value"] as? String)
                case .networkErrorCode(let type, let code):
                    let expected = reference["value"] as? [String: Int]
                    #expect(Int(type) == expected?["network_type"])
                    #expect(Int(code) == expected?["error_code"])
                default: Issue.record("pdu \(index): unexpected TLV value \(tlv.value)")
                }
            }

            if let textLab = row["text_lab"] as? String {
                let message = try #require(pdu.message(), "pdu \(index)")
                let concat = row["concat"] as? [String: Int]
                if let concat {
                    concatenated += 1
                    let parsed = try #require(message.concatenation, "pdu \(index)")
                    #expect(Int(parsed.reference) == concat["ref"])
                    #expect(Int(parsed.total) == concat["total"])
                    #expect(Int(parsed.sequence) == concat["seq"])
                    #expect(parsed.referenceBits == concat["ref_bits"])
                } else {
                    #expect(message.concatenation == nil)
                }
                #expect(message.decoded.text == textLab, "pdu \(index)")
                if let receipt = pdu.deliveryReceipt(text: message.decoded.text) {
                    receipts += 1
                    #expect(receipt.messageID == receipt.id, "TLV and text ids agree")
                    #expect(receipt.state == "DELIVRD")
                    #expect(receipt.messageState == 2)
                    #expect(receipt.sub == "001")
                    #expect(receipt.submitDate?.count == 10)
                    #expect(receipt.networkErrorCode?.networkType == 3)
                }
            }

            #expect(Array(pdu.encoded.readableBytesView) == wire, "pdu \(index) re-encodes")
        }
        let facts =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: Fixtures.directory.appendingPathComponent("reference/\(capture).facts.json"))
            ) as? [String: Any]
        #expect(receipts == facts?["delivery_receipts"] as? Int)
        let distinctReferences = facts?["concatenated_messages_distinct_refs"] as? Int ?? 0
        #expect((concatenated > 0) == (distinctReferences > 0))
    }
}

// `decode --format jsonl` on the reference captures gives exactly their PDUs: count, order per direction, header,
// endpoints, time within 1 µs, body fields, text, concatenation and TLVs.

import Foundation
import Ingest
import Report
import Testing
import Timeline

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let referenceCaptures = [
        "smpplib_trx_burst_query_unbind.pcap",
        "raw_tcp_segmentation_stress_mss88_port8775.pcap",
        "smpplib_linux_any_sll2_port2776.pcap",
    ]

    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    static func jsonLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }
}

/// Renders a capture as `decode --format jsonl` does (straight from the bytes where it can) and parses the lines
/// back.
func decodeJSONLines(_ path: String) throws -> [[String: Any]] {
    let ingest = CaptureIngest(source: try PacketSource.open(path: path))
    var lines: [[String: Any]] = []
    var json = JSONWriter()
    var names = DecodeJSON.Names()
    try ingest.run { event in
        json.reset()
        if case .pdu(let item) = event {
            DecodeJSON.writeLine(item, into: &json, names: &names, options: RenderOptions())
        } else {
            DecodeJSON.write(event: event, into: &json)
        }
        guard !json.isEmpty else { return }
        lines.append(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any] ?? [:])
    }
    return lines
}

@Suite("decode on the reference captures")
struct ReferenceDecodeTests {
    /// Reference keys that are not part of the output contract.
    static let ignored: Set<String> = [
        "pdu_index", "frame", "ts_epoch", "ts_us", "tcp_stream", "stream_offset", "segment_frames", "tshark_decoded",
        "tshark_frame", "tshark_tcp_analysis", "is_response", "fields_from", "pdu_hex", "tlvs_tshark",
        "final_date_tshark", "text_lab", "concat", "udh", "udh_hex", "udh_reassembled_length", "tlvs", "password",
    ]

    static func normalized(_ value: Any) -> String {
        if let text = value as? String {
            if text.hasPrefix("0x"), let number = UInt64(text.dropFirst(2), radix: 16) { return String(number) }
            return text
        }
        if let number = value as? NSNumber { return number.stringValue }
        return "\(value)"
    }

    @Test(arguments: Fixtures.referenceCaptures)
    func matchesTheReference(capture: String) throws {
        let reference = try Fixtures.jsonLines(Fixtures.path("reference/\(capture).pdus.jsonl"))
        let output = try decodeJSONLines(Fixtures.path("reference/\(capture)"))
        let pdus = output.filter { $0["command_id"] != nil }
        #expect(pdus.count == reference.count)
        #expect(output.allSatisfy { $0["command_id"] != nil || $0["event"] != nil })

        // Same order within each direction.
        func byDirection(_ rows: [[String: Any]]) -> [String: [[String: Any]]] {
            Dictionary(grouping: rows) { "\($0["src"] ?? "")>\($0["dst"] ?? "")" }
        }
        let ours = byDirection(pdus)
        let theirs = byDirection(reference)
        #expect(Set(ours.keys) == Set(theirs.keys))
        for (direction, expected) in theirs {
            let got = ours[direction] ?? []
            #expect(got.count == expected.count, "\(direction)")
            for (row, want) in zip(got, expected) {
                let index = want["pdu_index"] as? Int ?? -1
                let ts = (row["ts"] as? NSNumber)?.doubleValue ?? 0
                let wantTS = Double(want["ts_epoch"] as? String ?? "") ?? -1
                #expect(abs(ts - wantTS) < 1.5e-6, "pdu \(index) ts")
                for (key, value) in want where !Self.ignored.contains(key) {
                    #expect(row[key].map(Self.normalized) == Self.normalized(value), "pdu \(index) \(key)")
                }
                #expect(row["password"].map(Self.normalized) == (want["password"] == nil ? nil : "<redacted>"))
                if let text = want["text_lab"] as? String {
                    #expect(row["text"] as? String == text, "pdu \(index) text")
                }
                if let concat = want["concat"] as? [String: Int] {
                    let udh = row["udh"] as? [String: Int]
                    #expect(
                        udh?["ref"] == concat["ref"] && udh?["total"] == concat["total"] && udh?["seq"] == concat["seq"]
                    )
                }
                let tlvs = (row["tlvs"] as? [[String: Any]]) ?? []
                let wantTLVs = (want["tlvs"] as? [[String: Any]]) ?? []
                #expect(tlvs.map { $0["name"] as? String } == wantTLVs.map { $0["name"] as? String })
                for (tlv, wantTLV) in zip(tlvs, wantTLVs) {
                    #expect(tlv["length"] as? Int == wantTLV["length"] as? Int)
                    #expect((tlv["value"] as? NSObject)?.isEqual(wantTLV["value"]) == true, "pdu \(index) TLV value")
                }
                #expect(row["error"] == nil, "pdu \(index): \(row["error"] ?? "")")
            }
        }
        // Global order too: the reference lists PDUs in the order they were completed.
        #expect(
            pdus.map { "\($0["command"] ?? "")#\($0["sequence_number"] ?? "")" }
                == reference.map { "\($0["command"] ?? "")#\($0["sequence_number"] ?? "")" })
        // Every receipt is parsed.
        let receipts = pdus.filter { $0["receipt"] != nil }
        let facts =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: Fixtures.directory.appendingPathComponent("reference/\(capture).facts.json")))
            as? [String: Any]
        #expect(receipts.count == facts?["delivery_receipts"] as? Int)
        #expect(receipts.allSatisfy { ($0["receipt"] as? [String: Any])?["stat"] as? String == "DELIVRD" })
    }
}

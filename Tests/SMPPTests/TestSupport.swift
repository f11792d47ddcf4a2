// Helpers for the codec tests: hex, a byte builder independent of the codec, and the reference fixtures.

import Foundation
import NIOCore
import SMPP

/// Bytes from hex text; spaces are ignored.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8.filter { $0 != UInt8(ascii: " ") })
    var out: [UInt8] = []
    var index = 0
    while index + 1 < digits.count {
        let pair = String(decoding: digits[index...(index + 1)], as: UTF8.self)
        out.append(UInt8(pair, radix: 16) ?? 0)
        index += 2
    }
    return out
}

func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func buffer(hex text: String) -> ByteBuffer { ByteBuffer(bytes: bytes(hex: text)) }

/// Builds PDU bytes field by field, without the codec.
struct WireBuilder {
    var body: [UInt8] = []

    mutating func u8(_ value: UInt8) { body.append(value) }
    mutating func u16(_ value: UInt16) { body += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func u32(_ value: UInt32) {
        body += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
    mutating func cstr(_ value: String) { body += Array(value.utf8) + [0] }
    mutating func octets(_ value: [UInt8]) { body += value }
    mutating func tlv(_ tag: UInt16, _ value: [UInt8]) {
        u16(tag)
        u16(UInt16(value.count))
        body += value
    }

    func pdu(id: UInt32, status: UInt32 = 0, sequence: UInt32) -> [UInt8] {
        var header = WireBuilder()
        header.u32(UInt32(16 + body.count))
        header.u32(id)
        header.u32(status)
        header.u32(sequence)
        return header.body + body
    }
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let referenceCaptures = [
        "smpplib_trx_burst_query_unbind.pcap",
        "raw_tcp_segmentation_stress_mss88_port8775.pcap",
        "smpplib_linux_any_sll2_port2776.pcap",
    ]

    /// The reference PDUs of a capture, one JSON object per PDU.
    static func referencePDUs(_ capture: String) throws -> [[String: Any]] {
        let url = directory.appendingPathComponent("reference").appendingPathComponent(capture + ".pdus.jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
    }
}

/// Decodes bytes as a PDU, failing the test on a short header.
func decode(_ raw: [UInt8]) throws -> PDU {
    try PDU.decode(ByteBuffer(bytes: raw))
}

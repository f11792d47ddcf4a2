// tshark as an outside oracle: the SMPP PDUs of a capture as Wireshark's dissector reads them.

import Foundation

/// tshark's reading of a capture.
public enum TShark {
    public static let path = "/usr/bin/tshark"
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// One SMPP PDU as tshark shows it: its fields by name (`smpp.command_id`, `smpp.message`, ...), with the
    /// fields of its optional parameters brought up beside them.
    public struct PDU {
        public var fields: [String: String]
        public var frame: Int

        public subscript(_ name: String) -> String? { fields["smpp." + name] }

        /// command_id as a number.
        public var commandID: UInt32 { self["command_id"].flatMap { UInt32($0.dropFirst(2), radix: 16) } ?? 0 }
        /// command_status as a number (0 when absent, as tshark leaves it out for requests).
        public var commandStatus: UInt32 { self["command_status"].flatMap { UInt32($0.dropFirst(2), radix: 16) } ?? 0 }
        public var sequenceNumber: UInt32 { self["sequence_number"].flatMap { UInt32($0) } ?? 0 }
        /// The short_message octets (tshark's `smpp.message`, hex with colons).
        public var message: [UInt8] {
            guard let hex = self["message"] else { return [] }
            return hex.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        }
    }

    /// Every SMPP PDU of a capture, in order; `decodeAs` forces the SMPP dissector on a port.
    public static func pdus(_ capture: String, decodeAs port: Int? = nil) throws -> [PDU] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = ["-r", capture, "-Y", "smpp", "-T", "json", "--no-duplicate-keys"]
        if let port { arguments += ["-d", "tcp.port==\(port),smpp"] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let packets = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else {
            throw NSError(domain: "tshark", code: Int(process.terminationStatus))
        }
        var result: [PDU] = []
        for packet in packets {
            let layers = (packet["_source"] as? [String: Any])?["layers"] as? [String: Any]
            let frame = Int(((layers?["frame"] as? [String: Any])?["frame.number"] as? String) ?? "") ?? 0
            let smpp = layers?["smpp"]
            let list = smpp as? [[String: Any]] ?? (smpp as? [String: Any]).map { [$0] } ?? []
            for entry in list { result.append(PDU(fields: flatten(entry), frame: frame)) }
        }
        return result
    }

    /// Nested objects (optional parameters) flattened: every string field by its name.
    private static func flatten(_ object: Any) -> [String: String] {
        var fields: [String: String] = [:]
        if let dictionary = object as? [String: Any] {
            for (key, value) in dictionary {
                if let text = value as? String {
                    fields[key] = text
                } else {
                    fields.merge(flatten(value)) { first, _ in first }
                }
            }
        } else if let array = object as? [Any] {
            for value in array { fields.merge(flatten(value)) { first, _ in first } }
        }
        return fields
    }
}

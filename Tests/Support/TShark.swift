// tshark as an outside oracle: fields of the SMPP PDUs of a capture as Wireshark's dissector reads them.

import Foundation

/// tshark's reading of a capture.
public enum TShark {
    public static let path = "/usr/bin/tshark"
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// One row per SMPP PDU (tshark's `smpp` layer, each PDU of a packet its own row), the given fields in order;
    /// `decodeAs` forces the SMPP dissector on a port.
    public static func smppRows(_ capture: String, fields: [String], decodeAs port: Int? = nil) throws -> [[String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = ["-r", capture, "-Y", "smpp", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
        if let port { arguments += ["-d", "tcp.port==\(port),smpp"] }
        for field in fields { arguments += ["-e", field] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "tshark", code: Int(process.terminationStatus))
        }
        // A packet with several PDUs gives each field as a |-separated list: one row per PDU.
        var rows: [[String]] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map {
                $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            }
            let count = columns.first?.count ?? 0
            for index in 0..<count {
                rows.append(columns.map { index < $0.count ? $0[index] : "" })
            }
        }
        return rows
    }
}

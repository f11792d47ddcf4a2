// The options that choose what `decode`, `analyze`, `sessions` and `export` read, as users give them, each checked
// against tshark's reading of the same capture or against bytes built here.

import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

enum Bundled {
    static let kannel = Paths.root.appendingPathComponent("Captures/kannel_simulator_port3701.pcap").path
    static let smpplib = Paths.capture
}

/// The PDUs `decode --format jsonl --pdus-only` printed: one JSON object each.
func decodedPDUs(_ arguments: [String]) throws -> [[String: Any]] {
    let run = try smppscope(["decode"] + arguments + ["--format", "jsonl", "--pdus-only"])
    #expect(run.status == 0, "\(arguments): \(run.errors)")
    return run.output.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
}

@Suite(
    "Input options", .serialized,
    .enabled(if: Paths.binary != nil && TShark.available, "needs a built smppscope and tshark"))
struct InputOptionsTests {
    @Test func storeSelectionsFindWhatTsharkFinds() throws {
        let scratch = try Scratch()
        let store = scratch.path("store.sqlite")
        let key = scratch.path("key")
        try String(repeating: "ab", count: 32).write(toFile: key, atomically: true, encoding: .utf8)
        #expect(
            try smppscope(["import", Bundled.smpplib, Bundled.kannel, "--store", store, "--password-key", key]).status
                == 0)
        let kannel = try TShark.pdus(Bundled.kannel, decodeAs: 3701)

        // --source: the second capture only, every PDU of it.
        #expect(try decodedPDUs(["--store", store, "--source", "2"]).count == kannel.count)
        let sessions = try smppscope(["sessions", "--store", store, "--source", "2", "--format", "json"])
        let listed = try JSONSerialization.jsonObject(with: Data(sessions.output.utf8)) as? [String: Any]
        #expect((listed?["sources"] as? [[String: Any]])?.map { $0["id"] as? Int } == [2])
        #expect((listed?["sessions"] as? [[String: Any]])?.allSatisfy { $0["source"] as? Int == 2 } == true)

        // --from / --to: the PDUs in the frames whose times fall within, as tshark dates the frames.
        let framed = try frameTimes(Bundled.kannel)
        let pdusWithTimes = zip(kannel, kannel.map { framed[$0.frame] ?? 0 })
        // Midway between two frames' times, so that no PDU sits on a bound.
        let sortedTimes = Array(Set(framed.values)).sorted()
        let from = (sortedTimes[sortedTimes.count / 3] + sortedTimes[sortedTimes.count / 3 + 1]) / 2
        let to = (sortedTimes[2 * sortedTimes.count / 3] + sortedTimes[2 * sortedTimes.count / 3 + 1]) / 2
        let inRange = pdusWithTimes.filter { $0.1 >= from && $0.1 <= to }.count
        let selected = try decodedPDUs([
            "--store", store, "--source", "2", "--from", String(format: "%.6f", from), "--to",
            String(format: "%.6f", to),
        ])
        #expect(selected.count == inRange, "\(selected.count) PDUs between \(from) and \(to); tshark finds \(inRange)")

        // --destination: the submits to an address and the receipts from it.
        let address = "77013000009"
        let submits = kannel.filter { $0.commandID == 4 && $0["destination_addr"] == address }.count
        let receipts = kannel.filter { $0.commandID == 5 && $0["source_addr"] == address }.count
        let toAddress = try decodedPDUs(["--store", store, "--destination", address])
        #expect(toAddress.filter { $0["command"] as? String == "submit_sm" }.count == submits)
        #expect(toAddress.filter { $0["command"] as? String == "deliver_sm" }.count == receipts)
        #expect(submits > 0 && receipts > 0)

        // --receipt-state, in decode and analyze.
        func state(_ pdu: TShark.PDU) -> String {
            String(decoding: pdu.message, as: UTF8.self).components(separatedBy: "stat:").last.map {
                String($0.prefix(7))
            } ?? ""
        }
        let undelivered = kannel.filter { $0.commandID == 5 && state($0) == "UNDELIV" }.count
        #expect(undelivered > 0)
        #expect(try decodedPDUs(["--store", store, "--receipt-state", "UNDELIV"]).count == undelivered)
        let analyzed = try smppscope(["analyze", "--store", store, "--receipt-state", "UNDELIV", "--format", "json"])
        let report = try JSONSerialization.jsonObject(with: Data(analyzed.output.utf8)) as? [String: Any]
        #expect(report?["pdus_total"] as? Int == undelivered)
        // And analyze --source/--from/--to/--destination agree with decode's selections.
        for selection in [["--source", "2"], ["--destination", address]] {
            let json = try smppscope(["analyze", "--store", store, "--format", "json"] + selection)
            let counted =
                (try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])?["pdus_total"]
                as? Int
            #expect(counted == (try decodedPDUs(["--store", store] + selection)).count, "\(selection)")
        }
        let ranged = try smppscope(
            [
                "analyze", "--store", store, "--source", "2", "--format", "json", "--from",
                String(format: "%.6f", from), "--to", String(format: "%.6f", to),
            ])
        #expect(
            (try JSONSerialization.jsonObject(with: Data(ranged.output.utf8)) as? [String: Any])?["pdus_total"] as? Int
                == inRange)

        // --password-key: the binds read back with their passwords, shown with --show-secrets; sealed otherwise.
        let password = try #require(kannel.first { $0.commandID == 9 }?["password"], "tshark reads the bind's password")
        let withKey = try smppscope([
            "decode", "--store", store, "--source", "2", "--password-key", key, "--show-secrets", "--command",
            "bind_transceiver",
        ])
        #expect(withKey.output.contains("password=\(password)"))
        let withoutKey = try smppscope([
            "decode", "--store", store, "--source", "2", "--show-secrets", "--command", "bind_transceiver",
        ])
        #expect(!withoutKey.output.contains("password=\(password)"))
        let analyzedWithKey = try smppscope([
            "analyze", "--store", store, "--source", "2", "--password-key", key, "--format", "json",
        ])
        #expect(analyzedWithKey.status == 0)
        // export --password-key: the exported bind carries the password again, as tshark reads it.
        let exported = scratch.path("with-password.pcap")
        let sessionID = ((listed?["sessions"] as? [[String: Any]])?.first?["id"] as? Int) ?? 0
        #expect(
            try smppscope([
                "export", "--store", store, "--session", String(sessionID), "--pcap", exported, "--password-key", key,
            ]).status == 0)
        let bind = try TShark.pdus(exported, decodeAs: 3701).first { $0.commandID == 9 }
        #expect(bind?["password"] == password)
        let plain = scratch.path("without.pcap")
        #expect(
            try smppscope(["export", "--store", store, "--session", String(sessionID), "--pcap", plain]).status == 0)
        #expect(try TShark.pdus(plain, decodeAs: 3701).first { $0.commandID == 9 }?["password"] == "******")
        // The exported file's checksums are right: tshark, checking them, finds none bad.
        #expect(try badChecksums(exported) == 0)
    }

    /// --max-pdu-length: a longer command_length is damage; the stream resynchronises on the next PDU.
    @Test func maxPDULengthRefusesLongerPDUs() throws {
        let all = try TShark.pdus(Bundled.kannel, decodeAs: 3701)
        let short = all.filter { (Int($0["command_length"] ?? "") ?? 0) <= 100 }.count
        let long = all.count - short
        #expect(long > 0 && short > 0)
        let run = try smppscope(["decode", Bundled.kannel, "--format", "jsonl", "--max-pdu-length", "100"])
        let lines = run.output.split(separator: "\n")
        #expect(lines.filter { $0.contains("\"command_id\"") }.count == short)
        // The first long PDU of a run is reported by its length, the run by the bytes skipped over it: as many
        // bytes as the long PDUs have.
        #expect(lines.contains { $0.contains("is over the maximum of 100") })
        let skipped = lines.compactMap { line -> Int? in
            guard let range = line.range(of: "skipped ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        let longBytes = all.compactMap { Int($0["command_length"] ?? "") }.filter { $0 > 100 }.reduce(0, +)
        #expect(skipped == longBytes)
        let analyzed = try smppscope(["analyze", Bundled.kannel, "--format", "json", "--max-pdu-length", "100"])
        #expect(
            (try JSONSerialization.jsonObject(with: Data(analyzed.output.utf8)) as? [String: Any])?["pdus_total"]
                as? Int == short)
    }

    /// --port: a connection whose first PDU is a vendor command is SMPP only when its port is named.
    @Test func portForcesSMPPOnAConnectionThatStartsWithAVendorCommand() throws {
        let scratch = try Scratch()
        var conversation = TCPConversation(serverPort: 5_016)
        conversation.handshake()
        // Both directions begin with a command SMPP does not define.
        conversation.send(Sample.bytes(PDU(CommandID(0x0001_0203), sequence: 1)), from: .client)
        conversation.send(Sample.bytes(PDU(CommandID(0x8001_0203), sequence: 1)), from: .server)
        conversation.send(Sample.enquireLink(sequence: 2), from: .client)
        conversation.send(Sample.bytes(PDU(.enquireLinkResp, sequence: 2)), from: .server)
        let path = scratch.path("vendor.pcap")
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets)).write(
            to: URL(fileURLWithPath: path))
        #expect(try decodedPDUs([path]).isEmpty)
        let forced = try decodedPDUs([path, "--port", "5016"])
        #expect(
            forced.map { $0["command"] as? String }
                == ["unknown_0x00010203", "unknown_0x80010203", "enquire_link", "enquire_link_resp"])
        let analyzed = try smppscope(["analyze", path, "--port", "5016", "--format", "json"])
        #expect(
            (try JSONSerialization.jsonObject(with: Data(analyzed.output.utf8)) as? [String: Any])?["pdus_total"]
                as? Int == 4)
    }

    /// --idle-limit: silences longer than it, in seconds, counted per session.
    @Test func idleLimitCountsTheLongerSilences() throws {
        let scratch = try Scratch()
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        for (index, pause) in [UInt32(3_000_000), 500_000, 2_000_000, 200_000].enumerated() {
            conversation.wait(microseconds: pause)
            conversation.send(Sample.enquireLink(sequence: UInt32(2 + index)), from: .client)
            conversation.send(Sample.bytes(PDU(.enquireLinkResp, sequence: UInt32(2 + index))), from: .server)
        }
        let path = scratch.path("silences.pcap")
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets)).write(
            to: URL(fileURLWithPath: path))
        for (limit, expected) in [("1", 2), ("2.5", 1), ("120", 0)] {
            let run = try smppscope(["analyze", path, "--format", "json", "--idle-limit", limit])
            let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
            #expect(report?["idle_violations"] as? Int == expected, "--idle-limit \(limit)")
        }
    }
}

/// Frame number -> epoch seconds, as tshark dates the frames.
func frameTimes(_ capture: String) throws -> [Int: Double] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TShark.path)
    process.arguments = ["-r", capture, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    var times: [Int: Double] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        let fields = line.split(separator: "\t")
        if fields.count == 2, let frame = Int(fields[0]), let time = Double(fields[1]) { times[frame] = time }
    }
    return times
}

/// Packets whose IP or TCP checksum tshark, checking them, finds bad.
func badChecksums(_ capture: String) throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TShark.path)
    process.arguments = [
        "-r", capture, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-Y",
        "ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\"", "-T", "fields", "-e", "frame.number",
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").count
}

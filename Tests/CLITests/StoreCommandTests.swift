// import, sessions, export and --store as users run them, including an import killed with SIGKILL.

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A temporary folder, removed afterwards.
final class Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("smppscope-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("Store commands", .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct StoreCommandTests {
    @Test func importListDecodeAnalyzeExport() throws {
        let scratch = try Scratch()
        let store = scratch.path("smpp.sqlite")
        let imported = try smppscope(["import", Paths.capture, "--store", store])
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(imported.errors.contains("266 PDUs in 1 sessions stored as source 1"))
        let again = try smppscope(["import", Paths.capture, "--store", store])
        #expect(again.status == 0)
        #expect(again.errors.contains("already in the store"))

        let sessions = try smppscope(["sessions", "--store", store])
        #expect(sessions.status == 0)
        #expect(sessions.output.contains("smsckz"))
        #expect(sessions.output.contains("ESME_ROK"))
        let json = try smppscope(["sessions", "--store", store, "--format", "json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect((parsed?["sessions"] as? [[String: Any]])?.first?["pdus"] as? Int == 266)

        let fromStore = try smppscope(["analyze", "--store", store, "--format", "json"])
        let fromFile = try smppscope(["analyze", Paths.capture, "--format", "json"])
        #expect(fromStore.status == 0)
        #expect(fromStore.output == fromFile.output)
        #expect(!(try smppscope(["decode", "--store", store])).output.contains("secret"))

        let throttled = try smppscope(["decode", "--store", store, "--status", "ESME_RTHROTTLED", "--format", "jsonl"])
        let lines = throttled.output.split(separator: "\n").filter { $0.contains("command_id") }
        #expect(lines.count == 25)
        #expect(lines.allSatisfy { $0.contains("\"command_status_name\":\"ESME_RTHROTTLED\"") })

        let pcap = scratch.path("session1.pcap")
        let exported = try smppscope(["export", "--store", store, "--session", "1", "--pcap", pcap])
        #expect(exported.status == 0, "\(exported.errors)")
        let decodedExport = try smppscope(["decode", pcap, "--format", "jsonl", "--pdus-only"])
        let decodedOriginal = try smppscope(["decode", Paths.capture, "--format", "jsonl", "--pdus-only"])
        func withoutFrames(_ text: String) -> String {
            text.replacingOccurrences(of: #""frame":\d+,"#, with: "", options: .regularExpression)
        }
        #expect(withoutFrames(decodedExport.output) == withoutFrames(decodedOriginal.output))
    }

    @Test func mistakesGetAReasonAndAHint() throws {
        let scratch = try Scratch()
        let missing = try smppscope(["decode", "--store", scratch.path("none.sqlite")])
        #expect(missing.status == 1)
        #expect(missing.errors.contains("no store at"))
        #expect(missing.errors.contains("smppscope import"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("none.sqlite")))

        let misplaced = try smppscope(["decode", Paths.capture, "--message-id", "123"])
        #expect(misplaced.status != 0)
        #expect(misplaced.errors.contains("apply to --store"))

        let store = scratch.path("s.sqlite")
        _ = try smppscope(["import", Paths.capture, "--store", store])
        let unknown = try smppscope(["export", "--store", store, "--session", "9", "--pcap", scratch.path("x.pcap")])
        #expect(unknown.status == 1)
        #expect(unknown.errors.contains("no session 9"))

        let notAStore = scratch.path("text.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: notAStore))
        let refused = try smppscope(["sessions", "--store", notAStore])
        #expect(refused.status == 1)
        #expect(refused.errors.contains("cannot open the store"))

        let badStatus = try smppscope(["decode", "--store", store, "--status", "ESME_NOPE"])
        #expect(badStatus.status != 0)
        #expect(badStatus.errors.contains("unknown status"))
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3 for the generator"))
    func anImportKilledWithSIGKILLResumesWithoutDuplicates() throws {
        let scratch = try Scratch()
        let capture = scratch.path("big.pcap")
        let generator = Paths.root.appendingPathComponent("tools/gen_smpp_pcap.py").path
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        made.arguments = [generator, "--sessions", "8", "--pdus", "120000", "--seed", "11", "--out", capture]
        made.standardOutput = FileHandle.nullDevice
        try made.run()
        made.waitUntilExit()
        #expect(made.terminationStatus == 0)

        let store = scratch.path("store.sqlite")
        let importer = Process()
        importer.executableURL = URL(fileURLWithPath: Paths.binary ?? "")
        importer.arguments = ["import", capture, "--store", store]
        importer.standardError = FileHandle.nullDevice
        try importer.run()
        // Kill it once some batches are in.
        var stored = 0
        let deadline = Date().addingTimeInterval(60)
        while stored == 0, Date() < deadline, importer.isRunning {
            usleep(20_000)
            let listed = try smppscope(["sessions", "--store", store, "--format", "json"])
            let json = try? JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
            stored = ((json?["sources"] as? [[String: Any]])?.first?["pdus"] as? Int) ?? 0
        }
        kill(importer.processIdentifier, SIGKILL)
        importer.waitUntilExit()
        #expect(importer.terminationReason == .uncaughtSignal, "the import ended before it could be killed")

        let listed = try smppscope(["sessions", "--store", store, "--format", "json"])
        #expect(listed.status == 0, "the store opens after SIGKILL")
        let json = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
        let source = try #require((json?["sources"] as? [[String: Any]])?.first)
        #expect(source["complete"] as? Bool == false)
        let partial = source["pdus"] as? Int ?? 0
        #expect(partial > 0 && partial < 119_000)
        // Whole batches only: every PDU the source counts reads back, no more.
        let decoded = try smppscope(["analyze", "--store", store, "--format", "json"])
        let counts = try JSONSerialization.jsonObject(with: Data(decoded.output.utf8)) as? [String: Any]
        #expect(counts?["pdus_total"] as? Int == partial)

        let resumed = try smppscope(["import", capture, "--store", store])
        #expect(resumed.status == 0)
        #expect(resumed.errors.contains("resuming an interrupted import"))
        let fromStore = try smppscope(["analyze", "--store", store, "--format", "json"])
        let fromFile = try smppscope(["analyze", capture, "--format", "json"])
        #expect(fromStore.output == fromFile.output)
        #expect(fromStore.output.contains("\"sessions\""))
    }
}

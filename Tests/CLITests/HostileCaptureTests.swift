// Captures made to exhaust a reader (tools/gen_hostile_pcap.py, each with a truth file): decode, analyze, import and
// export must finish, find exactly the SMPP the truth file names, report the damage, and keep their memory bounded.

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A run of the binary under GNU time: its exit status, output, errors and peak resident memory.
struct MeasuredRun {
    var status: Int32
    var output: String
    var errors: String
    var peakKiB: Int
}

func measured(_ arguments: [String]) throws -> MeasuredRun {
    let scratch = try Scratch()
    let timing = scratch.path("time.out")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
    process.arguments = ["-o", timing, "-f", "%M", Paths.binary ?? "/nonexistent"] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let log = StandardErrorLog()
    errors.fileHandleForReading.readabilityHandler = { log.append($0.availableData) }
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    errors.fileHandleForReading.readabilityHandler = nil
    let peak =
        (try? String(contentsOfFile: timing, encoding: .utf8))?.split(separator: "\n").last.flatMap { Int($0) } ?? -1
    return MeasuredRun(
        status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), errors: log.all, peakKiB: peak)
}

/// Makes a hostile capture of `kind` at `scale`; returns its path and its truth.
func hostileCapture(_ kind: String, scale: Int, in scratch: Scratch) throws -> (String, [String: Any]) {
    let path = scratch.path("\(kind)-\(scale).pcap")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", Paths.root.appendingPathComponent("tools/gen_hostile_pcap.py").path, kind, "--out", path, "--scale",
        String(scale),
    ]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let truth =
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".truth.json")))
        as? [String: Any]
    return (path, truth ?? [:])
}

@Suite(
    "Hostile captures", .serialized,
    .enabled(
        if: Paths.binary != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/time"),
        "needs a built smppscope and GNU time"))
struct HostileCaptureTests {
    /// The bound on every run here: well above the ~30 MB any small run takes, far below what unbounded growth takes.
    static let memoryBoundKiB = 200 * 1024

    @Test(arguments: ["time-extremes", "time-span", "flows", "held", "fragments", "resync"])
    func analyzeFindsExactlyTheSMPPInBoundedMemory(kind: String) throws {
        let scratch = try Scratch()
        let (path, truth) = try hostileCapture(kind, scale: 2, in: scratch)
        let run = try measured(["analyze", path, "--format", "json"])
        #expect(run.status == 0, "\(run.errors.suffix(2_000))")
        let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        #expect(report?["pdus_total"] as? Int == truth["smpp_pdus"] as? Int)
        #expect((report?["sessions"] as? [Any])?.count == truth["smpp_sessions"] as? Int)
        #expect(run.peakKiB > 0 && run.peakKiB < Self.memoryBoundKiB, "peak RSS \(run.peakKiB) KiB")
        let decoded = try measured(["decode", path, "--format", "jsonl", "--pdus-only"])
        #expect(decoded.status == 0)
        #expect(decoded.output.split(separator: "\n").count == truth["smpp_pdus"] as? Int)
        #expect(decoded.peakKiB < Self.memoryBoundKiB, "peak RSS \(decoded.peakKiB) KiB")
    }

    /// `profile` reads the same captures in bounded memory, and its counts agree with what the capture holds.
    @Test(arguments: ["time-extremes", "time-span", "flows", "held", "fragments", "resync"])
    func profileStaysBounded(kind: String) throws {
        let scratch = try Scratch()
        let (path, truth) = try hostileCapture(kind, scale: 2, in: scratch)
        let run = try measured(["profile", path, "--format", "json"])
        #expect(run.peakKiB > 0 && run.peakKiB < Self.memoryBoundKiB, "peak RSS \(run.peakKiB) KiB")
        if (truth["smpp_pdus"] as? Int ?? 0) == 0 {
            #expect(run.status == 1 && run.errors.contains("no SMPP session"), "\(run.errors.suffix(500))")
            return
        }
        #expect(run.status == 0, "\(run.errors.suffix(2_000))")
        let profile = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        let smscs = profile?["smscs"] as? [[String: Any]] ?? []
        let sessions = smscs.reduce(0) { $0 + ($1["sessions"] as? Int ?? 0) }
        #expect(sessions <= truth["smpp_sessions"] as? Int ?? 0, "\(sessions) sessions profiled")
    }

    /// `trace` reads the same captures (the capture and itself: a copy of one link) in bounded memory.
    @Test(arguments: ["time-extremes", "time-span", "flows", "held", "fragments", "resync"])
    func traceStaysBounded(kind: String) throws {
        let scratch = try Scratch()
        let (path, _) = try hostileCapture(kind, scale: 2, in: scratch)
        let run = try measured(["trace", path, path, "--format", "json"])
        #expect(run.status == 0, "\(run.errors.suffix(2_000))")
        #expect(run.peakKiB > 0 && run.peakKiB < Self.memoryBoundKiB, "peak RSS \(run.peakKiB) KiB")
        let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        #expect(report?["messages"] is [Any])
    }

    /// Each class says what happened where it happened.
    @Test func theDamageIsReported() throws {
        let scratch = try Scratch()
        let expectations = [
            ("time-extremes", "outside the range smppscope handles"),
            ("held", "out-of-order buffer limit"),
            ("fragments", "incomplete"),
            ("resync", "resumed at the next block"),
            ("flows", "TCP connections that carried no SMPP were let go"),
        ]
        for (kind, message) in expectations {
            let (path, _) = try hostileCapture(kind, scale: kind == "flows" ? 3 : 1, in: scratch)
            let run = try measured(["decode", path])
            #expect(run.status == 0)
            #expect(run.output.contains(message), "\(kind): no \"\(message)\" in the diagnostics")
        }
    }

    /// Times at the ends of the 64-bit range go through every command that handles times, to a file that reads back.
    @Test func extremeTimesGoThroughImportAnalyzeAndExport() throws {
        let scratch = try Scratch()
        let (path, truth) = try hostileCapture("time-extremes", scale: 1, in: scratch)
        let store = scratch.path("store.sqlite")
        #expect(try smppscope(["import", path, "--store", store]).status == 0)
        let analyzed = try smppscope(["analyze", "--store", store, "--format", "json"])
        #expect(analyzed.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(analyzed.output.utf8)) as? [String: Any]
        #expect(report?["pdus_total"] as? Int == truth["smpp_pdus"] as? Int)
        for name in ["out.pcap", "out.pcapng"] {
            let exported = scratch.path(name)
            #expect(try smppscope(["export", "--store", store, "--session", "1", "--pcap", exported]).status == 0)
            let again = try smppscope(["decode", exported, "--format", "jsonl", "--pdus-only"])
            #expect(again.status == 0)
            #expect(again.output.split(separator: "\n").count == truth["smpp_pdus"] as? Int)
        }
        let html = scratch.path("report.html")
        #expect(try smppscope(["analyze", path, "--html", html]).status == 0)
    }
}

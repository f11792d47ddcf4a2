// The HTML report: self-contained, its charts present, and rendered by headless Chromium without a console message.

import Analysis
import Foundation
import Report
import Testing

/// Chromium, where it is installed.
let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("HTML report")
struct HTMLReportTests {
    static let capture = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Captures/kannel_simulator_port3701.pcap").path

    @Test func isSelfContainedWithItsCharts() throws {
        var configuration = AnalysisConfiguration()
        configuration.throughputLimit = 30
        let (report, _) = try analyze(Self.capture, configuration: configuration)
        let page = AnalyzeHTML.render(report, title: "kannel <capture> & co")
        #expect(page.hasPrefix("<!doctype html>"))
        #expect(page.contains("kannel &lt;capture&gt; &amp; co"), "the title is escaped")
        #expect(page.components(separatedBy: "<svg").count - 1 == 4)
        #expect(page.contains("limit 30/s"))
        #expect(!page.contains("<script"))
        // Nothing is fetched: the only URL is the SVG namespace.
        let urls = page.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") })
        for session in report.sessions { #expect(page.contains(session.client)) }
    }

    @Test(.enabled(if: chromiumPath != nil, "Chromium is not installed (apt-get install chromium); skipped"))
    func rendersInHeadlessChromiumWithoutConsoleMessages() throws {
        let (report, _) = try analyze(Self.capture)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "smppscope-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.html")
        try Data(AnalyzeHTML.render(report, title: "smpplib").utf8).write(to: file)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromiumPath ?? "")
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "--dump-dom", file.absoluteString,
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let console = log.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        #expect(console.isEmpty, "console: \(console)")
        #expect(dom.contains("SMPP analysis"))
        #expect(dom.components(separatedBy: "<svg").count - 1 == 4)
    }
}

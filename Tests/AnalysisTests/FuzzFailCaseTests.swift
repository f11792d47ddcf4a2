// Every input a fuzzer (or a crafted capture) ever crashed on, kept in FuzzTesting/FailCases with the outcome it
// must now have beside it (FILE.expect): replayed through the path its target exercises, and the outcome asserted.
// A case without an expectation fails the test.

@_spi(Lent) import Analysis
import Foundation
@_spi(Lent) import Ingest
import NIOCore
import Report
import SMPP
import Testing

@Suite("Fuzzer fail cases")
struct FuzzFailCaseTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzTesting/FailCases")

    static var cases: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension != "expect" && !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func thereAreCasesAndEachHasAnExpectation() {
        #expect(!Self.cases.isEmpty)
        for file in Self.cases {
            #expect(
                FileManager.default.fileExists(atPath: file.path + ".expect"),
                "\(file.lastPathComponent) has no \(file.lastPathComponent).expect")
        }
    }

    @Test(arguments: FuzzFailCaseTests.cases.map(\.lastPathComponent))
    func replay(name: String) throws {
        let file = Self.directory.appendingPathComponent(name)
        let expectation =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file.path + ".expect")))
            as? [String: Any] ?? [:]
        if name.hasPrefix("FuzzPDU-") {
            let bytes = ByteBuffer(bytes: try Data(contentsOf: file))
            let decoded = try? PDU.decode(bytes)
            #expect((decoded != nil) == (expectation["decodes"] as? Bool), "\(name)")
            if let command = expectation["command"] as? String { #expect(decoded?.header.commandID.name == command) }
            return
        }
        // Captures (FuzzCapture-, FuzzAnalyze-): the whole analyze path, both ways it runs, and its reports.
        for parallel in [false, true] {
            let ingest = CaptureIngest(source: try PacketSource.open(path: file.path), decodesEveryPDU: false)
            let analyzer = Analyzer()
            var diagnostics: [String] = []
            try ingest.run(
                parallel: parallel, lent: { analyzer.handle(lent: $0) },
                other: { event in
                    if case .captureDiagnostic(let diagnostic) = event { diagnostics.append(diagnostic.message) }
                    analyzer.handle(event)
                }, prepare: Analyzer.prepare, upcoming: { analyzer.prefetch($0) })
            let report = analyzer.finish()
            #expect(report.pdusTotal == expectation["pdus"] as? Int, "\(name), parallel \(parallel)")
            #expect(report.sessions.count == expectation["sessions"] as? Int, "\(name), parallel \(parallel)")
            if let message = expectation["diagnostic"] as? String {
                #expect(
                    diagnostics.contains { $0.contains(message) }, "\(name): no \"\(message)\" among \(diagnostics)")
            }
            #expect(!AnalyzeJSON.render(report).isEmpty)
            #expect(!AnalyzeText.render(report).isEmpty)
            #expect(!AnalyzeHTML.render(report, title: name).isEmpty)
        }
    }
}

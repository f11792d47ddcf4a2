// The Kannel capture: throttling, a window at Kannel's max-pending-submits, every receipt linked to its submit.

import Analysis
import Foundation
import Testing

@Suite("analyze the Kannel capture")
struct KannelCaptureTests {
    static let root = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

    @Test func throttlingWindowAndReceipts() throws {
        let configurationText = try String(
            contentsOf: Self.root.appendingPathComponent("Captures/tools/kannel.conf.template"), encoding: .utf8)
        let group = try #require(KannelSMSCGroup.parse(configurationText).first)
        var configuration = AnalysisConfiguration()
        configuration.window = group.maxPendingSubmits
        configuration.throughputLimit = 30
        let (report, _) = try analyze(
            Self.root.appendingPathComponent("Captures/kannel_simulator_port3701.pcap").path,
            configuration: configuration)
        let session = try #require(report.sessions.first)
        #expect(session.bind?.systemID == "kannel")
        #expect(session.bind?.flags == "one receipt per part")
        #expect(report.throttledResponses > 0)
        #expect(session.verdict == "throttled")
        #expect(session.throttleEpisodes.allSatisfy { $0.resubmissions > 0 })
        #expect(session.maxOutstanding == group.maxPendingSubmits, "Kannel fills its window of max-pending-submits")
        #expect(session.clientWindow?.windowConfigured == true)
        #expect(report.receipts.count > 60)
        #expect(report.receipts.linked == report.receipts.count, "every receipt linked to its submit")
        #expect(report.receipts.unknownIDs == 0)
        #expect(report.receipts.withoutReceipt == 0)
        #expect(report.receipts.longMessagesPerPartID == 2)
        #expect(report.unansweredRequests == 0)
        #expect(session.close == "unbind")
        #expect(report.findings.contains { $0.message.contains("against a limit of 30") })
    }
}

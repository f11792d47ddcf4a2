// The bundled captures, made by real clients against the simulator and SMSC.kz rules, have nothing wrong with
// their receipts or long messages: none of those diagnoses may appear there.

import Analysis
import Foundation
import Testing

@Suite("Findings on the bundled captures")
struct BundledCaptureFindingsTests {
    static let captures = [
        "kannel_simulator_port3701.pcap", "smpplib_simulator_port3700.pcap", "smpplib_smsckz_port3700.pcap",
    ]
    .map {
        Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Captures/\($0)").path
    }

    @Test(arguments: captures)
    func noReceiptOrLongMessageDiagnosis(capture: String) throws {
        let (report, _) = try analyze(capture)
        let diagnoses = report.findings.filter {
            $0.severity != .info
                && ($0.code.rawValue.hasPrefix("receipt_") || $0.code.rawValue.hasPrefix("long_message_"))
        }
        #expect(diagnoses.isEmpty, "\(diagnoses.map(\.message))")
        #expect(report.receipts.idTransforms.keys.allSatisfy { $0 == .exact })
        #expect(report.longMessages.complete == report.longMessages.messages && report.longMessages.messages > 0)
    }
}

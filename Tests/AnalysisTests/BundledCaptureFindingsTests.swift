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

    /// The bundled clients send their texts as the SMSC reads them, send nothing twice but what was throttled, and
    /// got no receipt twice: no encoding or duplicate diagnosis. (They are throttled, and rightly told so.)
    @Test(arguments: captures)
    func noEncodingOrDuplicateDiagnosis(capture: String) throws {
        let (report, _) = try analyze(capture)
        let encodingCodes: Set<Finding.Code> = [
            .defaultAlphabet, .ucs2UnderDefault, .udhWithoutUDHI, .gsmEscapeSplit, .duplicateReceipt,
            .windowAboveLimit, .timeoutBelowLatency,
        ]
        let diagnoses = report.findings.filter {
            encodingCodes.contains($0.code)
                || ($0.code == .duplicateSubmit && !$0.fields.contains(.init("cause", .string("throttled_resend"))))
        }
        #expect(diagnoses.isEmpty, "\(diagnoses.map(\.message))")
        #expect(report.encodings.allSatisfy { $0.inferred == .gsm7 && $0.differing == nil })
        #expect(report.submitResends.counts.keys.allSatisfy { $0 == .throttledResend })
        // The throttled ones: the rate found is the simulator's 30 a second (SMSC.kz's), counting every submit_sm.
        for account in report.capacity where account.throttled > 0 {
            #expect(account.throttleRate.map { (29...31).contains($0) } == true, "\(account)")
        }
    }
}

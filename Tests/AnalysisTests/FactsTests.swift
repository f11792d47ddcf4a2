// `analyze --format json` against the facts of the reference captures and the truth of the synthetic ones.

@_spi(Lent) import Analysis
import Foundation
@_spi(Lent) import Ingest
import Report
import Testing

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    static func json(_ relative: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(relative)))
            as? [String: Any] ?? [:]
    }
}

/// Analyzes a capture as `smppscope analyze` does (keys worked out on the reading thread, looking ahead) and returns the report and its JSON, parsed back.
func analyze(_ path: String, configuration: AnalysisConfiguration = AnalysisConfiguration()) throws -> (
    AnalysisReport, [String: Any]
) {
    let ingest = CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: false)
    let analyzer = Analyzer(configuration: configuration)
    try ingest.run(
        pdu: { analyzer.handle(pdu: $0) }, other: { analyzer.handle($0) }, prepare: Analyzer.prepare,
        upcoming: { analyzer.prefetch($0) })
    let report = analyzer.finish()
    let json = try JSONSerialization.jsonObject(with: Data(AnalyzeJSON.render(report))) as? [String: Any] ?? [:]
    return (report, json)
}

func close(_ value: Double?, _ expected: Double?) -> Bool {
    guard let value, let expected else { return false }
    return abs(value - expected) <= max(0.01, 0.01 * abs(expected))
}

@Suite("analyze against the reference facts")
struct FactsTests {
    static let captures = [
        "smpplib_trx_burst_query_unbind.pcap",
        "raw_tcp_segmentation_stress_mss88_port8775.pcap",
        "smpplib_linux_any_sll2_port2776.pcap",
    ]

    @Test(arguments: captures)
    func equalsTheFacts(capture: String) throws {
        let facts = try Fixtures.json("reference/\(capture).facts.json")
        let (_, json) = try analyze(Fixtures.path("reference/\(capture)"))
        #expect(json["pdus_total"] as? Int == facts["pdus_total"] as? Int)
        #expect(json["counts_per_command"] as? [String: Int] == facts["counts_per_command"] as? [String: Int])
        #expect(json["throttled_responses"] as? Int == facts["throttled_responses_0x58"] as? Int)
        #expect(json["request_response_pairs"] as? Int == facts["request_response_pairs"] as? Int)
        #expect(json["unanswered_requests"] as? Int == (facts["requests_without_response"] as? [Any])?.count)
        #expect(json["error_responses"] as? [String: Int] == facts["error_responses"] as? [String: Int])

        let latency = json["latency"] as? [String: [String: Double]] ?? [:]
        let submit = facts["submit_sm_latency"] as? [String: Double] ?? [:]
        #expect(latency["submit_sm"]?["n"] == submit["n"])
        for key in ["p50_ms", "p99_ms", "max_ms", "min_ms", "mean_ms"] {
            #expect(close(latency["submit_sm"]?[key], submit[key]), "submit_sm \(key)")
        }
        for (command, expected) in facts["latency_by_request"] as? [String: [String: Double]] ?? [:] {
            #expect(latency[command]?["n"] == expected["n"], "\(command) n")
            for key in ["p50_ms", "p99_ms", "max_ms"] {
                #expect(close(latency[command]?[key], expected[key]), "\(command) \(key)")
            }
        }

        let sessions = json["sessions"] as? [[String: Any]] ?? []
        let expectedSessions = facts["sessions"] as? [[String: Any]] ?? []
        #expect(sessions.count == expectedSessions.count)
        let windows = facts["max_outstanding_window_per_session"] as? [String: Int] ?? [:]
        #expect(sessions.map { $0["max_outstanding"] as? Int } == windows.sorted { $0.key < $1.key }.map(\.value))
        for (session, expected) in zip(sessions, expectedSessions) {
            #expect(session["client"] as? String == expected["client"] as? String)
            #expect(session["server"] as? String == expected["server"] as? String)
            #expect(session["pdus"] as? Int == expected["pdus"] as? Int)
            #expect(session["close"] as? String == expected["close"] as? String)
            #expect(session["closed_by"] as? String == expected["closed_by"] as? String)
            #expect(close(session["longest_silence_s"] as? Double, expected["longest_silence_s"] as? Double))
            #expect(
                session["max_outstanding_server"] as? Int == expected["max_outstanding_requests_server_to_client"]
                    as? Int)
            let bind = session["bind"] as? [String: Any]
            let expectedBind = expected["bind"] as? [String: Any]
            #expect(bind?["command"] as? String == expectedBind?["command"] as? String)
            #expect(bind?["system_id"] as? String == expectedBind?["system_id"] as? String)
            #expect(bind?["command_status_name"] as? String == (expectedBind?["status"] as? [String])?.first)
        }

        let receipts = json["delivery_receipts"] as? [String: Any]
        #expect(receipts?["count"] as? Int == facts["delivery_receipts"] as? Int)
        #expect(receipts?["stat"] as? [String: Int] == facts["delivery_receipt_stat"] as? [String: Int])
        #expect(receipts?["linked"] as? Int == facts["delivery_receipts"] as? Int, "every receipt linked to its submit")
        for key in ["peak_submit_sm_per_second", "throttle_episodes", "duplicate_submits", "idle_violations"] {
            #expect(json[key] as? Int == facts[key] as? Int, "\(key)")
        }
    }
}

@Suite("analyze against synthetic truth")
struct TruthTests {
    @Test(arguments: ["clean_ethernet.pcap", "clean_sll.pcapng"])
    func equalsTheTruth(capture: String) throws {
        let truth = try Fixtures.json("generated/\(capture).truth.json")
        let (_, json) = try analyze(Fixtures.path("generated/\(capture)"))
        #expect(json["pdus_total"] as? Int == truth["pdus_total"] as? Int)
        #expect(json["counts_per_command"] as? [String: Int] == truth["pdus_by_command"] as? [String: Int])
        #expect(json["request_response_pairs"] as? Int == truth["request_response_pairs"] as? Int)
        #expect(json["unanswered_requests"] as? Int == truth["unanswered_requests"] as? Int)
        #expect(json["throttled_responses"] as? Int == truth["throttled_0x58_responses"] as? Int)
        #expect(json["max_outstanding"] as? Int == truth["max_outstanding_esme_overall"] as? Int)
        let receipts = json["delivery_receipts"] as? [String: Any]
        #expect(receipts?["stat"] as? [String: Int] == truth["delivery_receipts_by_stat"] as? [String: Int])
        #expect(receipts?["unknown_ids"] as? Int == 0)
        let sessions = (json["sessions"] as? [[String: Any]] ?? []).sorted {
            ($0["client"] as? String ?? "") < ($1["client"] as? String ?? "")
        }
        let expected = (truth["sessions"] as? [[String: Any]] ?? []).sorted {
            ($0["esme"] as? String ?? "") < ($1["esme"] as? String ?? "")
        }
        #expect(sessions.map { $0["client"] as? String } == expected.map { $0["esme"] as? String })
        #expect(sessions.map { $0["max_outstanding"] as? Int } == expected.map { $0["max_outstanding_esme"] as? Int })
        #expect(
            sessions.map { $0["max_outstanding_server"] as? Int } == expected.map { $0["max_outstanding_smsc"] as? Int }
        )
        #expect(sessions.map { $0["submits"] as? Int } == expected.map { $0["submit_sm"] as? Int })
        #expect(sessions.map { $0["throttled"] as? Int } == expected.map { $0["throttled"] as? Int })
    }
}

// What an account can really do, on traffic a real client sent too fast: python smpplib sends single messages and
// then four-part messages at four times the account's rate to a simulator that counts parts or whole messages, or keeps
// more requests outstanding than its window. The simulator's settings are the truth for the limits; smpplib's own
// log of the refusals it got is the truth for the counts.

import Foundation
import TestSupport
import Testing

@Suite(
    "Capacity on a real client's traffic", .serialized,
    .enabled(
        if: Paths.binary != nil && FaultPeers.pythonSmpplib, "needs a built smppscope and python smpplib"))
struct CapacityTests {
    /// Runs smpplib_capacity.py against a simulator with `arguments`; returns smpplib's count of each status and
    /// analyze's JSON of the traffic.
    private func run(_ arguments: [String], perSecond: Int = 10, rate: Int) throws -> (
        statuses: [Int: Int], json: [String: Any]
    ) {
        let scratch = try Scratch()
        var statuses: [Int: Int] = [:]
        var json: [String: Any] = [:]
        try withRunningSimulator(["--account", "cap:secret:\(perSecond)"] + arguments) { smscPort in
            let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
            let log = scratch.path("capacity.log")
            let status = try runPythonPeer(
                "smpplib_capacity.py", ["127.0.0.1", String(proxy.port), "cap", "secret", String(rate), "2", log])
            #expect(status == 0)
            #expect(proxy.stop() == 0, "\(proxy.errors)")
            let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
            #expect(lines.last == "done")
            for line in lines where line.hasPrefix("response ") {
                statuses[Int(line.split(separator: " ")[2])!, default: 0] += 1
            }
            let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
            json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        }
        return (statuses, json)
    }

    private func account(_ json: [String: Any]) throws -> [String: Any] {
        try #require((json["capacity"] as? [[String: Any]])?.first { $0["account"] as? String == "cap" })
    }

    @Test(arguments: ["parts", "messages"])
    func theRateAndWhatItCounts(counts: String) throws {
        let (statuses, json) = try run(["--throttle-counts", counts], rate: 40)
        let capacity = try account(json)
        let throttled = statuses[0x58] ?? 0
        #expect(throttled > 0, "smpplib was throttled")
        #expect(capacity["throttled"] as? Int == throttled)
        let rate = try #require(capacity["throttle_rate"] as? Int)
        #expect((9...11).contains(rate), "the account's 10 a second: \(capacity)")
        #expect(capacity["throttle_counts"] as? String == counts, "\(capacity)")
        let recommended = try #require(capacity["recommended"] as? [String: Any])
        #expect(recommended["rate_per_second"] as? Int == rate)
        #expect((recommended["kannel"] as? [String: Any])?["throughput"] as? Int == rate)
        let finding = try #require(
            (json["findings"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "rate_above_limit" })
        #expect(finding["limit_per_second"] as? Int == rate && finding["counts"] as? String == counts)
        #expect((finding["message"] as? String)?.contains("Kannel throughput = \(rate)") == true)
    }

    @Test func theWindow() throws {
        // A high rate limit, a window of 5 and 200 ms to answer: smpplib, sending without waiting, overruns it.
        let (statuses, json) = try run(
            ["--window", "5", "--latency", "200", "--jitter", "0"], perSecond: 1_000, rate: 60)
        let capacity = try account(json)
        let refused = statuses[0x14] ?? 0
        #expect(refused > 0, "smpplib overran the window")
        #expect(capacity["queue_full"] as? Int == refused)
        #expect(capacity["window_limit"] as? Int == 5, "\(capacity)")
        let finding = try #require(
            (json["findings"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "window_above_limit" })
        #expect(finding["window"] as? Int == 5)
        #expect((finding["message"] as? String)?.contains("max-pending-submits = 5") == true)
    }
}

// The profile of the generator's captures against its truth files: per SMSC the sessions, submit_sm and their
// throttled answers, the receipts' states; and nothing departs from SMPP in what the generator writes.

import Capture
import Foundation
import Ingest
import Profile
import Reassembly
import TestSupport
import Testing

@Suite("Profile against synthetic truth")
struct GeneratedTruthTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/generated")

    @Test(arguments: ["clean_ethernet.pcap", "clean_sll.pcapng"])
    func countsEqualTheTruth(capture: String) throws {
        let path = Self.directory.appendingPathComponent(capture).path
        let truth = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".truth.json")))
                as? [String: Any])
        var profiler = ProviderProfiler()
        try CaptureIngest(source: try PacketSource.open(path: path), configuration: ReassemblyConfiguration()).run {
            profiler.consume($0)
        }
        let profile = profiler.profile(source: capture)
        let report = profiler.conformance(source: capture)
        let sessions = truth["sessions"] as? [[String: Any]] ?? []
        let servers = Set(sessions.compactMap { $0["smsc"] as? String })
        #expect(Set(profile.smscs.map(\.server)) == servers)
        for smsc in profile.smscs {
            let own = sessions.filter { $0["smsc"] as? String == smsc.server }
            #expect(smsc.sessions == own.count, "\(smsc.server)")
            let submits = own.reduce(0) { $0 + ($1["submit_sm"] as? Int ?? 0) }
            let throttled = own.reduce(0) { $0 + ($1["throttled"] as? Int ?? 0) }
            #expect(smsc.responses["submit_sm"]?.count == submits, "\(smsc.server)")
            #expect(smsc.throttling.throttled == throttled, "\(smsc.server)")
            #expect((smsc.responses["submit_sm"]?.statuses["ESME_ROK"] ?? 0) == submits - throttled)
        }
        var states: [String: Int] = [:]
        for smsc in profile.smscs { states.merge(smsc.receipts.states, uniquingKeysWith: +) }
        #expect(states == truth["delivery_receipts_by_stat"] as? [String: Int])
        #expect(profile.smscs.allSatisfy { $0.receipts.linked == $0.receipts.seen && $0.receipts.idForm == "exact" })
        #expect(report.departures.isEmpty, "\(report.departures.map { "\($0.code) \($0.side)" })")
    }
}

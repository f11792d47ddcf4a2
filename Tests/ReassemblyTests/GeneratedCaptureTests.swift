// Synthetic captures with exact totals: clean ones decode to the truth; stress ones (split, coalesced,
// duplicated, reordered and lost segments) decode to the truth minus the PDUs of the lost segments, each lost
// range reported as a gap.

import Foundation
import TestSupport
import Testing

@Suite("Synthetic captures against their truth")
struct GeneratedCaptureTests {
    static let captures = ["clean_ethernet.pcap", "clean_sll.pcapng", "stress_sll.pcap", "stress_ethernet.pcapng"]

    @Test(arguments: captures)
    func countsPerCommandEqualTheTruth(capture: String) throws {
        let path = Fixtures.path("generated/\(capture)")
        let truth =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".truth.json")))
            as? [String: Any]
        var expected = truth?["pdus_by_command"] as? [String: Int] ?? [:]
        var lostSegments: [[String: Any]] = []
        if let data = try? Data(contentsOf: URL(fileURLWithPath: path + ".lost.json")) {
            let lost = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            lostSegments = lost?["lost_segments"] as? [[String: Any]] ?? []
            for segment in lostSegments {
                for pdu in segment["pdus"] as? [[String: Any]] ?? [] {
                    expected[pdu["command"] as? String ?? "", default: 0] -= 1
                }
            }
        }
        let result = try run(path: path)
        var counts: [String: Int] = [:]
        for item in result.pdus { counts[item.command, default: 0] += 1 }
        #expect(counts == expected.filter { $0.value != 0 })
        #expect(result.opened.count == (truth?["capture"] as? [String: Any])?["tcp_connections"] as? Int)
        #expect(capture.hasPrefix("stress") == !lostSegments.isEmpty)

        // Every lost range lies inside a reported gap of the same direction.
        for segment in lostSegments {
            let source = segment["src"] as? String
            let start = UInt64(segment["rel_seq"] as? Int ?? -1)
            let end = start + UInt64(segment["len"] as? Int ?? 0)
            let covered = result.gaps.contains { gap in
                gap.source.description == source && gap.streamOffset <= start
                    && gap.streamOffset + UInt64(gap.size) >= end
            }
            #expect(covered, "lost segment \(source ?? "") at \(start) is not reported as a gap")
        }
        #expect(result.gaps.reduce(0) { $0 + $1.size } == lostSegments.reduce(0) { $0 + ($1["len"] as? Int ?? 0) })
        // Every session's roles are known: the handshakes are in the captures.
        #expect(result.pdus.allSatisfy { $0.fromClient != nil })
    }
}

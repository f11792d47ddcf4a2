// The reading thread works out the keys a PDU's handling looks up (`Analyzer.prepare`) and the analyzer sees PDUs
// a few places ahead (`prefetch`) to load its large tables early. That must change nothing: the report is the same
// with keys worked out ahead or not, and whether every PDU, some of them or none were seen ahead, on every capture
// at hand and on a scripted one full of duplicates, resubmissions after throttling and receipts in both id forms.

@_spi(Lent) import Analysis
import Capture
import Foundation
@_spi(Lent) import Ingest
import NIOCore
@_spi(Lent) import Reassembly
import Report
import SMPP
import TestSupport
import Testing
@_spi(Lent) import Timeline

@Suite("Looking ahead")
struct LookaheadTests {
    static let captures = CapturesAtHand.all

    /// Which PDUs the reading thread works out keys for.
    enum Prepared {
        case all, none
        /// Every other frame: keys worked out ahead and by the analyzer itself meet in the same tables.
        case half
    }

    /// The JSON report of a capture; `ahead` decides for each PDU whether the analyzer sees it ahead (nil: the
    /// single-threaded path, where nothing is), `prepared` which PDUs the reading thread works out keys for (of
    /// every batch, or with `adaptive` of the batches it fills while the analyzer is behind, as `analyze` runs),
    /// `lent` whether the pipelined path lends PDUs' bytes (as `analyze` takes them) or hands over timeline PDUs.
    static func report(
        _ path: String, prepared: Prepared = .all, adaptive: Bool = false, lent: Bool = true,
        ahead: ((inout SplitMix64) -> Bool)?
    ) throws -> String {
        let ingest = CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: false)
        ingest.preparesAlways = adaptive == false
        let analyzer = Analyzer()
        var random = SplitMix64(seed: 0x100C)
        let prepare: PDUPreparation?
        switch prepared {
        case .all: prepare = Analyzer.prepare
        case .none: prepare = nil
        case .half: prepare = { $0.frame % 2 == 0 ? Analyzer.prepare($0) : nil }
        }
        if let ahead, lent {
            try ingest.run(
                lent: { analyzer.handle(lent: $0) }, other: { analyzer.handle($0) }, prepare: prepare,
                upcoming: { ahead(&random) ? analyzer.prefetch($0) : nil })
        } else if let ahead {
            try ingest.run(
                pdu: { analyzer.handle(pdu: $0) }, other: { analyzer.handle($0) }, prepare: prepare,
                upcoming: { ahead(&random) ? analyzer.prefetch($0) : nil })
        } else {
            try ingest.run(parallel: false, pdu: { analyzer.handle(pdu: $0) }, other: { analyzer.handle($0) })
        }
        return String(decoding: AnalyzeJSON.render(analyzer.finish()), as: UTF8.self)
    }

    static func sameReports(_ path: String) throws {
        let none = try report(path, ahead: nil)
        #expect(try report(path, ahead: { _ in true }) == none)
        #expect(try report(path, ahead: { $0.next() % 2 == 0 }) == none)
        #expect(try report(path, ahead: { $0.next() % 8 == 0 }) == none)
        #expect(try report(path, ahead: { _ in false }) == none)
        #expect(try report(path, prepared: .none, ahead: { _ in true }) == none)
        #expect(try report(path, prepared: .none, ahead: { $0.next() % 2 == 0 }) == none)
        #expect(try report(path, prepared: .half, ahead: { $0.next() % 2 == 0 }) == none)
        #expect(try report(path, lent: false, ahead: { $0.next() % 2 == 0 }) == none)
        #expect(try report(path, adaptive: true, ahead: { _ in true }) == none)
        #expect(try report(path, prepared: .half, adaptive: true, lent: false, ahead: { $0.next() % 2 == 0 }) == none)
    }

    @Test(arguments: captures)
    func theSameReport(path: String) throws {
        try Self.sameReports(path)
    }

    /// Two sessions (two accounts) repeating a few texts: duplicates within a minute and not across accounts,
    /// throttled messages submitted again, and receipts by TLV and by text, with ids in decimal or in hex.
    @Test func theSameReportOnDuplicatesResubmissionsAndReceipts() throws {
        var random = SplitMix64(seed: 0xD0B1E)
        var packets: [TestPacket] = []
        for account in ["alpha", "beta"] {
            var c = TCPConversation(clientPort: account == "alpha" ? 40_001 : 40_002)
            c.handshake()
            c.send(
                Sample.bytes(PDU(.bindTransceiver, sequence: 1, body: .bind(.init(systemID: account, password: "pw")))),
                from: .client)
            c.send(Sample.bindResponse(), from: .server)
            var id = 1000
            for sequence in UInt32(2)..<400 {
                c.wait(microseconds: UInt32(random.next() % 400_000))
                c.send(Sample.submit(sequence: sequence, text: "text \(random.next() % 12)"), from: .client)
                if random.next() % 5 == 0 {
                    c.send(Sample.bytes(PDU(.submitSMResp, status: .throttled, sequence: sequence)), from: .server)
                    continue
                }
                id += 1
                c.send(Sample.submitResponse(sequence: sequence, id: "\(id)"), from: .server)
                let receiptSequence = sequence + 10_000
                switch random.next() % 3 {
                case 0:
                    // By TLV: receipted_message_id and message_state DELIVERED.
                    c.send(Sample.deliveredByTLV(sequence: receiptSequence, id: "\(id)"), from: .server)
                case 1:
                    // By text, the id in hex.
                    let hex = String(id, radix: 16, uppercase: true)
                    c.send(
                        Sample.deliver(
                            sequence: receiptSequence,
                            text:
                                "id:\(hex) sub:001 dlvrd:001 submit date:2611260834 done date:2611260834 stat:DELIVRD err:000"
                        ),
                        from: .server)
                default:
                    break
                }
            }
            packets += c.packets
        }
        // The two sessions interleaved in time order (packets of one session keep theirs).
        packets = packets.enumerated().sorted {
            ($0.element.seconds, $0.element.nanoseconds, $0.offset) < (
                $1.element.seconds, $1.element.nanoseconds, $1.offset
            )
        }.map(\.element)
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(linkType: 1, packets: packets, nanosecond: true))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.sameReports(path)
        // The script did what it says.
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.report(path, ahead: nil).utf8)) as? [String: Any])
        #expect((report["duplicate_submits"] as? Int ?? 0) > 50)
        let receipts = report["delivery_receipts"] as? [String: Any] ?? [:]
        #expect((receipts["linked"] as? Int ?? 0) > 300)
        #expect((receipts["unknown_ids"] as? Int) == 0)
        let episodes = report["throttle_episode_list"] as? [[String: Any]] ?? []
        #expect(episodes.reduce(0) { $0 + ($1["resubmissions"] as? Int ?? 0) } > 20)
    }
}

// Replaying real captures against the simulator: every request sent and answered, every receipt answered,
// message ids mapped, differences explained; timing kept to the schedule; rewrite rules.

import Capture
import Foundation
import Ingest
import NIOCore
import Reassembly
import Recording
import Replay
import ReplayCore
import SMPP
import Simulator
import TestSupport
import Testing
import Timeline
import Transport

enum ReplayFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let smpplib = root.appendingPathComponent("Captures/smpplib_smsckz_port3700.pcap").path
    static let kannel = root.appendingPathComponent("Captures/kannel_simulator_port3701.pcap").path
}

func plan(_ path: String) throws -> ReplayPlan {
    var planner = ReplayPlanner()
    try CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: false).run { planner.add($0) }
    return planner.finish()
}

func simulator(accounts: [SimulatorConfiguration.Account], throughput: Double = 30) throws -> (Simulator, Int) {
    var configuration = SimulatorConfiguration()
    configuration.listenPort = 0
    configuration.accounts = accounts
    configuration.throughput = throughput
    configuration.latency = 0.001
    configuration.jitter = 0.001
    configuration.receiptDelay = 0.05...0.2
    let simulator = try Simulator(configuration: configuration) { _ in }
    return (simulator, simulator.plainAddress?.port ?? 0)
}

/// Keeps the PDUs the replay sent and received.
final class ReplaySink: RecordingSink, @unchecked Sendable {
    private let lock = NSLock()
    private var pdus: [(fromReplay: Bool, pdu: PDU)] = []
    private var local: Set<Endpoint> = []

    func record(_ event: StreamEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .opened(let connection): local.insert(connection.first)
        case .pdu(let framed):
            if let pdu = try? PDU.decode(framed.raw) { pdus.append((local.contains(framed.source), pdu)) }
        default: break
        }
    }

    var all: [(fromReplay: Bool, pdu: PDU)] {
        lock.lock()
        defer { lock.unlock() }
        return pdus
    }
}

@Suite("Replay", .serialized)
struct ReplayTests {
    @Test func theSmpplibCaptureReplaysAgainstTheSimulator() throws {
        let recorded = try plan(ReplayFixtures.smpplib)
        #expect(recorded.sessions.count == 1)
        let requests = try #require(recorded.sessions.first?.requests)
        #expect(requests.filter { $0.command == .submitSM }.count == 79)
        #expect(requests.filter { $0.command == .querySM }.count == 2)
        #expect(requests.filter { $0.originalStatus == .throttled }.count == 25)

        let (smsc, port) = try simulator(accounts: [.init(systemID: "smsckz", password: "secret")])
        defer { smsc.shutdown() }
        var options = ReplayOptions(targetHost: "127.0.0.1", targetPort: port, password: "secret")
        // Silence allowed before giving up on receipts still expected (the run ends as soon as they are all in): a
        // loaded machine can pause the simulator for seconds (seen with the suites running under AddressSanitizer).
        options.receiptWait = 10
        let sink = ReplaySink()
        let outcome = try Replayer(plan: recorded, options: options, recordInto: sink).run()
        let comparison = ReplayComparison(plan: recorded, outcome: outcome)

        #expect(comparison.failedSessions.isEmpty)
        #expect(comparison.sent == comparison.planned, "every recorded request is sent")
        #expect(comparison.answered == comparison.planned, "every request is answered")
        #expect(comparison.notSent == 0 && comparison.missing == 0 && comparison.extraResponses == 0)
        #expect(comparison.receiptsReplay == comparison.receiptsOriginal, "every receipt the recording had comes again")
        for change in comparison.statusChanges.keys {
            #expect(!ReplayComparison.explanation(change).isEmpty)
        }
        // Every receipt was answered, and the queries carried the target's new ids and succeeded.
        let sent = sink.all.filter(\.fromReplay).map(\.pdu)
        let received = sink.all.filter { !$0.fromReplay }.map(\.pdu)
        #expect(
            sent.filter { $0.commandID == .deliverSMResp }.count == received.filter { $0.commandID == .deliverSM }.count
        )
        let newIDs = Set(
            received.compactMap { pdu -> String? in
                if pdu.commandID == .submitSMResp, case .messageID(let id) = pdu.body { return id } else { return nil }
            })
        let queries = sent.compactMap { pdu -> String? in
            if case .querySM(let query) = pdu.body { return query.messageID } else { return nil }
        }
        // The scenario queries one id it was given, and one that never existed.
        #expect(queries.count == 2)
        #expect(newIDs.contains(queries[0]), "query_sm refers to the id the target gave")
        let originals = Set(requests.compactMap(\.originalMessageID))
        #expect(!originals.contains(queries[0]) || newIDs.contains(queries[0]))
        #expect(queries[1] == "999999999", "an id the recording never got stays as it was")
        let queryStatuses = outcome.sessions.flatMap { session in
            session.requests.filter { requests[$0.index].command == .querySM }.map(\.status)
        }
        #expect(queryStatuses == [.ok, .invalidMessageID])
        #expect(requests.filter { $0.command == .querySM }.map(\.originalStatus) == [.ok, .invalidMessageID])
        // The bind used the given password, never the recorded one.
        guard case .bind(let bind)? = sent.first?.body else {
            Issue.record("the first PDU sent is not a bind")
            return
        }
        #expect(bind.systemID == "smsckz" && bind.systemType == "SMPP")
    }

    @Test func theKannelCaptureReplaysFasterWithEveryReceiptAnswered() throws {
        let recorded = try plan(ReplayFixtures.kannel)
        #expect(recorded.sessions.count == 1)
        let (smsc, port) = try simulator(accounts: [.init(systemID: "kannel", password: "pw")], throughput: 1_000)
        defer { smsc.shutdown() }
        var options = ReplayOptions(targetHost: "127.0.0.1", targetPort: port, password: "pw")
        options.pace = .recorded(speed: 20)
        options.receiptWait = 10
        let outcome = try Replayer(plan: recorded, options: options).run()
        let comparison = ReplayComparison(plan: recorded, outcome: outcome)
        #expect(comparison.failedSessions.isEmpty)
        #expect(comparison.sent == comparison.planned)
        #expect(comparison.answered == comparison.planned)
        #expect(comparison.receiptsReplay >= comparison.receiptsOriginal - comparison.throttledOriginal)
        #expect(outcome.sessions.first?.bindStatus == .ok)
        // With the limit lifted, what the recording had throttled is accepted now, and the diff says so.
        let accepted =
            comparison.statusChanges[.init(command: "submit_sm", original: "ESME_RTHROTTLED", replay: "ESME_ROK")] ?? 0
        #expect(accepted == comparison.throttledOriginal)
        #expect(comparison.throttledReplay == 0)
    }

    @Test func sendsKeepToTheScheduleAtSpeedOne() throws {
        // A client that sends a submit every 15 ms, with a receipt-less SMSC answering.
        var conversation = TCPConversation()
        conversation.handshake()
        _ = conversation.send(Sample.bind(sequence: 1), from: .client)
        conversation.wait(microseconds: 500)
        _ = conversation.send(Sample.bindResponse(sequence: 1), from: .server)
        for index in 0..<120 {
            conversation.wait(microseconds: 15_000)
            let sequence = UInt32(index + 2)
            _ = conversation.send(
                Sample.bytes(submitPDU("scheduled \(index)", registeredDelivery: 0).with(sequence: sequence)),
                from: .client)
            conversation.wait(microseconds: 1_000)
            _ = conversation.send(Sample.submitResponse(sequence: sequence, id: "R\(index)"), from: .server)
        }
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets, nanosecond: true))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorded = try plan(path)
        #expect(recorded.sessions.first?.requests.count == 120)

        let (smsc, port) = try simulator(accounts: [.init(systemID: "esme", password: "secret")], throughput: 10_000)
        defer { smsc.shutdown() }
        var options = ReplayOptions(targetHost: "127.0.0.1", targetPort: port, password: "secret")
        options.receiptWait = 0
        let outcome = try Replayer(plan: recorded, options: options).run()
        let comparison = ReplayComparison(plan: recorded, outcome: outcome)
        #expect(comparison.answered == 120)
        let deviation = try #require(comparison.deviation)
        // 1 ms is the target (docs/benchmarks.md has the release figure); a debug build on a busy CI machine gets room.
        // The 99th percentile of 120 sends is their second worst: one pause of the machine's scheduler while the other
        // suites run decides it, so it only bounds gross lateness; the median and the 90th percentile hold the schedule.
        #expect(deviation.p50 < 0.002, "median deviation \(deviation.p50 * 1_000) ms")
        #expect(deviation.p90 < 0.005, "p90 deviation \(deviation.p90 * 1_000) ms")
        #expect(deviation.p99 < 0.050, "p99 deviation \(deviation.p99 * 1_000) ms")
        #expect(outcome.seconds > 1.8, "the recorded gaps are kept: 120 x 16 ms")
    }

    @Test func addressRewrites() {
        let rules = ["7701*=7999*", "SHOP=TEST"].compactMap(AddressRewrite.init)
        #expect(rules.apply("77011234567") == "79991234567")
        #expect(rules.apply("SHOP") == "TEST")
        #expect(rules.apply("77021234567") == "77021234567")
        #expect(AddressRewrite("7701*=7999") == nil)
        #expect(AddressRewrite("=x") == nil)
    }

    @Test func aRefusedBindFailsTheSessionWithTheReason() throws {
        let recorded = try plan(ReplayFixtures.smpplib)
        let (smsc, port) = try simulator(accounts: [.init(systemID: "smsckz", password: "secret")])
        defer { smsc.shutdown() }
        let options = ReplayOptions(targetHost: "127.0.0.1", targetPort: port, password: "wrong")
        let outcome = try Replayer(plan: recorded, options: options).run()
        let comparison = ReplayComparison(plan: recorded, outcome: outcome)
        #expect(comparison.failedSessions.count == 1)
        #expect(comparison.failedSessions.first?.reason.contains("ESME_RINVPASWD") == true)
        #expect(comparison.notSent == comparison.planned)
        #expect(comparison.differences > 0)
    }
}

extension PDU {
    func with(sequence: UInt32) -> PDU {
        var copy = self
        copy.header.sequenceNumber = sequence
        return copy
    }
}

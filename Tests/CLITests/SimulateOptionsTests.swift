// `smppscope simulate`'s options as users give them, each observed from a client: latency and its distribution,
// throughput, receipts by share and by registered_delivery, seeds, MO messages, idle handling, the control port,
// the ISO flag.

import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

/// A simulator process with these options, a client bound to it, and its stop.
func withSimulatorClient(
    _ options: [String], systemType: String = "", _ body: (SMPPTestClient, Int) throws -> Void
) throws {
    let port = freePort()
    let simulator = try RecordProcessLike.start(
        ["simulate", "--listen", "127.0.0.1:\(port)", "--log", "none"] + options, ready: "Ctrl-C",
        environment: ["SMPPSCOPE_SIMULATOR_ACCOUNTS": "shop:secret"])
    defer { _ = simulator.stop() }
    let client = try SMPPTestClient(port: port)
    #expect(try client.bind(systemID: "shop", password: "secret", systemType: systemType)?.commandStatus == .ok)
    try body(client, port)
}

/// Receipts that come within `seconds`, their final states in order.
func receiptStates(_ client: SMPPTestClient, count: Int, seconds: Double = 5) throws -> [String] {
    var states: [String] = []
    let deadline = monotonic() + seconds
    while states.count < count, monotonic() < deadline {
        guard let pdu = try client.receive(timeout: max(0.05, deadline - monotonic())) else { break }
        if pdu.commandID == .deliverSM, let receipt = pdu.deliveryReceipt() {
            states.append(receipt.state ?? "?")
            try client.send(PDU(.deliverSMResp, sequence: pdu.sequenceNumber, body: .messageID("")))
        }
    }
    return states
}

@Suite(
    "Simulate options", .serialized, .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct SimulateOptionsTests {
    @Test func latencyAndJitterSetTheResponseTime() throws {
        try withSimulatorClient(["--latency", "150", "--jitter", "50"]) { (client, _) throws in
            for index in 0..<3 {
                let started = monotonic()
                #expect(try client.request(submitPDU("latency \(index)", registeredDelivery: 0))?.commandStatus == .ok)
                let elapsed = monotonic() - started
                #expect(elapsed >= 0.145 && elapsed < 0.5, "\(elapsed) s for 150 ms + up to 50 ms")
            }
        }
    }

    @Test func latencyFromAnAnalysisReport() throws {
        let scratch = try Scratch()
        let report = scratch.path("analysis.json")
        let latency = ["min_ms": 240.0, "p50_ms": 250.0, "p90_ms": 260.0, "p99_ms": 270.0, "max_ms": 280.0]
        try JSONSerialization.data(withJSONObject: ["latency": ["submit_sm": latency]]).write(
            to: URL(fileURLWithPath: report))
        try withSimulatorClient(["--latency-from", report]) { (client, _) throws in
            let started = monotonic()
            #expect(try client.request(submitPDU("from the report", registeredDelivery: 0))?.commandStatus == .ok)
            let elapsed = monotonic() - started
            #expect(elapsed >= 0.235 && elapsed < 0.6, "\(elapsed) s drawn from 240-280 ms")
        }
        let wrong = try smppscope(["simulate", "--account", "a:b", "--latency-from", Paths.capture])
        #expect(wrong.status == 1 && wrong.errors.contains("has no latency.submit_sm"))
    }

    @Test func throughputRefusesTheSubmitsBeyondTheLimitInASecond() throws {
        try withSimulatorClient(["--throughput", "3", "--latency", "0", "--jitter", "0"]) { (client, _) throws in
            var statuses: [CommandStatus] = []
            for index in 0..<5 {
                statuses.append(
                    try client.request(submitPDU("rate \(index)", registeredDelivery: 0))?.commandStatus ?? .systemError
                )
            }
            #expect(statuses == [.ok, .ok, .ok, .throttled, .throttled])
        }
    }

    @Test(arguments: [
        ("DELIVRD=1", "DELIVRD"), ("UNDELIV=1", "UNDELIV"), ("EXPIRED=1", "EXPIRED"), ("REJECTD=1", "REJECTD"),
    ])
    func receiptSharesDecideTheStates(shares: String, state: String) throws {
        try withSimulatorClient(["--receipts", shares, "--receipt-delay", "0.05-0.1"]) { (client, _) throws in
            for index in 0..<3 { _ = try client.request(submitPDU("share \(index)")) }
            #expect(try receiptStates(client, count: 3) == [state, state, state])
        }
    }

    /// registered_delivery 1 asks for every receipt, 2 for failures only, 3 for successes only.
    @Test func registeredDeliveryTwoAndThree() throws {
        for (shares, asked, expected) in [
            ("DELIVRD=1", UInt8(2), 0), ("DELIVRD=1", UInt8(3), 2), ("UNDELIV=1", UInt8(2), 2),
            ("UNDELIV=1", UInt8(3), 0),
        ] {
            try withSimulatorClient(["--receipts", shares, "--receipt-delay", "0.05-0.1"]) { (client, _) throws in
                for index in 0..<2 {
                    _ = try client.request(submitPDU("asked \(asked) \(index)", registeredDelivery: asked))
                }
                let states = try receiptStates(client, count: 2, seconds: 1)
                #expect(states.count == expected, "\(shares), registered_delivery \(asked): \(states)")
            }
        }
    }

    @Test func theSameSeedGivesTheSameStatesAndAnotherSeedOthers() throws {
        func states(seed: Int) throws -> [String] {
            var result: [String] = []
            try withSimulatorClient(
                ["--seed", String(seed), "--receipts", "DELIVRD=0.5,UNDELIV=0.5", "--receipt-delay", "0.05-0.05"]
            ) { (client, _) throws in
                for index in 0..<12 {
                    _ = try client.request(submitPDU("seeded \(index)"))
                    // One at a time, so that the receipts come in the order drawn.
                    result += try receiptStates(client, count: 1)
                }
            }
            return result
        }
        let first = try states(seed: 7)
        #expect(first.count == 12)
        #expect(try states(seed: 7) == first)
        #expect(try states(seed: 8) != first, "twelve draws of two states agree by chance once in 4096")
    }

    @Test func moEveryAndTheControlPortSendMessagesToTheReceiver() throws {
        let controlPort = freePort()
        try withSimulatorClient(["--mo-every", "0.3", "--control", "127.0.0.1:\(controlPort)"]) { (client, _) throws in
            var mobileOriginated = 0
            let deadline = monotonic() + 2
            while monotonic() < deadline, mobileOriginated < 2 {
                guard let pdu = try client.receive(timeout: 1) else { continue }
                if pdu.commandID == .deliverSM, pdu.deliveryReceipt() == nil {
                    mobileOriginated += 1
                    try client.send(PDU(.deliverSMResp, sequence: pdu.sequenceNumber, body: .messageID("")))
                }
            }
            #expect(mobileOriginated >= 2, "one every 0.3 s")
            let control = try SMPPTestClient(port: controlPort)
            _ = try control.sendRaw("mo shop 77019990000 SHOP from the control port\n")
            #expect(try control.receiveRaw(timeout: 2) == "ok\n")
            var seen: [PDU] = []
            let injected = try client.receive(seen: &seen) { $0.message()?.decoded.text == "from the control port" }
            #expect(injected?.source?.address == "77019990000")
        }
    }

    @Test func idleConnectionsAreClosedOrUnbound() throws {
        try withSimulatorClient(["--idle-timeout", "0.5", "--idle-action", "unbind"]) { (client, _) throws in
            let unbind = try client.receive(timeout: 3)
            #expect(unbind?.commandID == .unbind, "the idle session is asked to unbind")
        }
        try withSimulatorClient(["--idle-timeout", "0.5", "--idle-action", "close"]) { (client, _) throws in
            let nothing = try client.receive(timeout: 3)
            #expect(nothing == nil && client.closed, "the idle session is closed")
        }
    }

    /// With ISO in system_type, data_coding 0 is Latin-1: "__HLR__" in Latin-1 bytes is the HLR request; the same
    /// bytes read as GSM 03.38 are "§§HLR§§", an ordinary text.
    @Test func theISOFlagReadsDataCodingZeroAsLatin1() throws {
        let latin1 = Array("__HLR__".utf8)
        for (systemType, hlr) in [("ISO", true), ("", false)] {
            try withSimulatorClient(["--receipts", "UNDELIV=1", "--receipt-delay", "0.05-0.1"], systemType: systemType)
            { (client, _) throws in
                _ = try client.request(submitPDU("", octets: latin1))
                var seen: [PDU] = []
                let receipt = try client.receive(seen: &seen) { $0.commandID == .deliverSM }
                let text = receipt?.message()?.decoded.text ?? ""
                #expect(text.contains("imsi:") == hlr, "system_type \"\(systemType)\": \(text)")
            }
        }
    }
}

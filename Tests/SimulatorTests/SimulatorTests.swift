// The simulated SMSC against a real TCP client: binds, limits, receipts, the SMSC.kz rules, TLS.

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SMPP
import Simulator
import TestSupport
import Testing

/// Starts a simulator on a free loopback port.
func startSimulator(_ configure: (inout SimulatorConfiguration) -> Void = { _ in }) throws -> (Simulator, Int) {
    var configuration = SimulatorConfiguration()
    configuration.listenPort = 0
    configuration.accounts = [.init(systemID: "shop", password: "secret")]
    configuration.latency = 0
    configuration.jitter = 0
    configuration.receiptDelay = 0.05...0.1
    configuration.receiptShares = SimulatorConfiguration.ReceiptShares(specification: "DELIVRD=1") ?? .init()
    configure(&configuration)
    let simulator = try Simulator(configuration: configuration) { _ in }
    return (simulator, simulator.plainAddress?.port ?? 0)
}

@Suite("Simulator", .serialized)
struct SimulatorTests {
    @Test func bindsAreCheckedWithTheRightErrors() throws {
        let (simulator, port) = try startSimulator()
        defer { simulator.shutdown() }
        let wrongPassword = try SMPPTestClient(port: port)
        #expect(try wrongPassword.bind(systemID: "shop", password: "nope")?.commandStatus == .invalidPassword)
        let unknown = try SMPPTestClient(port: port)
        #expect(try unknown.bind(systemID: "nobody", password: "secret")?.commandStatus == .invalidSystemID)
        let client = try SMPPTestClient(port: port)
        #expect(try client.request(submitPDU("too early"))?.commandStatus == .invalidBindStatus)
        let bound = try client.bind(systemID: "shop", password: "secret")
        #expect(bound?.commandStatus == .ok)
        #expect(bound?.commandID == .bindTransceiverResp)
        #expect(bound?.tlvs[.scInterfaceVersion]?.integerValue == 0x34)
        #expect(try client.bind(systemID: "shop", password: "secret")?.commandStatus == .alreadyBound)
        let receiver = try SMPPTestClient(port: port)
        _ = try receiver.bind(.bindReceiver, systemID: "shop", password: "secret", systemType: "MCON2")
        #expect(try receiver.request(submitPDU("a receiver cannot submit"))?.commandStatus == .invalidBindStatus)
    }

    @Test func neverMoreThanTheLimitAcceptedInAnySecond() throws {
        let (simulator, port) = try startSimulator {
            $0.accounts = [.init(systemID: "shop", password: "secret", throughput: 20)]
        }
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        var accepted: [Double] = []
        var throttled = 0
        let start = monotonic()
        var index = 0
        while monotonic() - start < 2.5 {
            let response = try client.request(submitPDU("message \(index)", registeredDelivery: 0))
            index += 1
            if response?.commandStatus == .ok { accepted.append(monotonic()) }
            if response?.commandStatus == .throttled { throttled += 1 }
        }
        #expect(throttled > 0)
        #expect(accepted.count >= 40)
        // Responses come back at once (no latency), so their times are the acceptance times.
        for (offset, time) in accepted.enumerated() {
            let inWindow = accepted[offset...].prefix { $0 < time + 0.99 }.count
            #expect(inWindow <= 20, "\(inWindow) accepted within a second")
        }
        #expect(simulator.summary.throttled == throttled)
    }

    @Test func receiptsInTheSMSCKZFormatWithMatchingTLVs() throws {
        let (simulator, port) = try startSimulator()
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        let response = try client.request(submitPDU("hello", to: "77017654321"))
        let id = try #require(response?.messageID)
        var seen: [PDU] = []
        let receipt = try #require(try client.receive(seen: &seen) { $0.commandID == .deliverSM })
        #expect(receipt.esmClass == 0x04)
        #expect(receipt.source?.address == "77017654321")
        #expect(receipt.destination?.address == "SHOP")
        #expect(receipt.tlvs[.receiptedMessageID]?.stringValue == id)
        #expect(receipt.tlvs[.messageState]?.integerValue == 2)
        let parsed = try #require(receipt.deliveryReceipt())
        #expect(parsed.id == id)
        #expect(parsed.stat == "DELIVRD")
        #expect(parsed.sub == "001")
        #expect(parsed.submitDate?.count == 10)
        #expect(parsed.err == "000")
        // query_sm now knows the final state.
        let query = try client.request(
            PDU(.querySM, sequence: 0, body: .querySM(.init(messageID: id, source: Address(ton: 5, address: "SHOP")))))
        guard case .querySMResponse(let state)? = query?.body else {
            Issue.record("expected query_sm_resp")
            return
        }
        #expect(state.messageState == 2)
        #expect(!state.finalDate.isEmpty)
        let unknown = try client.request(
            PDU(.querySM, sequence: 0, body: .querySM(.init(messageID: "1", source: Address(address: "SHOP")))))
        #expect(unknown?.commandStatus == .invalidMessageID)
    }

    @Test func receiptStatesFollowTheConfiguredShares() throws {
        let (simulator, port) = try startSimulator {
            $0.receiptShares = SimulatorConfiguration.ReceiptShares(specification: "UNDELIV=1") ?? .init()
        }
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        for index in 0..<5 { _ = try client.request(submitPDU("m\(index)")) }
        var seen: [PDU] = []
        _ = try client.receive(timeout: 0.6, seen: &seen) { _ in false }
        let receipts = seen.compactMap { $0.deliveryReceipt() }
        #expect(receipts.count == 5)
        #expect(
            receipts.allSatisfy { $0.stat == "UNDELIV" && $0.messageState == 5 && $0.err == "001" && $0.dlvrd == "000" }
        )
    }

    @Test func hlrRequestsAreAnsweredWithAnHLRStatus() throws {
        let (simulator, port) = try startSimulator()
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        _ = try client.request(submitPDU("__HLR__"))
        var seen: [PDU] = []
        let receipt = try #require(try client.receive(seen: &seen) { $0.commandID == .deliverSM })
        let parsed = try #require(receipt.deliveryReceipt())
        #expect(parsed.hlr.contains { $0.key == "imsi" })
        #expect(parsed.hlr.first { $0.key == "net" }?.value == "Beeline KZ")
    }

    @Test func longMessagesShareAnIdUnlessSingle() throws {
        let (simulator, port) = try startSimulator()
        defer { simulator.shutdown() }
        func parts(_ client: SMPPTestClient, reference: UInt8) throws -> [String] {
            try (1...3).map { part in
                let octets: [UInt8] = [5, 0, 3, reference, 3, UInt8(part)] + Array("part \(part)".utf8)
                return try client.request(submitPDU("", esmClass: 0x40, octets: octets))?.messageID ?? ""
            }
        }
        let shared = try SMPPTestClient(port: port)
        _ = try shared.bind(systemID: "shop", password: "secret", systemType: "MCON2")
        let sharedIDs = try parts(shared, reference: 7)
        #expect(Set(sharedIDs).count == 1)
        var seen: [PDU] = []
        _ = try shared.receive(timeout: 0.5, seen: &seen) { _ in false }
        #expect(seen.filter { $0.commandID == .deliverSM }.count == 1, "one receipt for the whole message")

        let single = try SMPPTestClient(port: port)
        _ = try single.bind(systemID: "shop", password: "secret", systemType: "MCON2,SINGLE")
        let singleIDs = try parts(single, reference: 8)
        #expect(Set(singleIDs).count == 3)
        var singleSeen: [PDU] = []
        _ = try single.receive(timeout: 0.5, seen: &singleSeen) { _ in false }
        #expect(singleSeen.filter { $0.commandID == .deliverSM }.count == 3, "one receipt per part")
    }

    @Test func oneConnectionPerLoginUnlessMCON() throws {
        let (simulator, port) = try startSimulator()
        defer { simulator.shutdown() }
        let first = try SMPPTestClient(port: port)
        _ = try first.bind(systemID: "shop", password: "secret")
        let second = try SMPPTestClient(port: port)
        _ = try second.bind(systemID: "shop", password: "secret")
        #expect(try first.receive(timeout: 2) == nil)
        #expect(first.closed, "the older connection was closed")
        #expect(try second.request(PDU(.enquireLink, sequence: 0))?.commandID == .enquireLinkResp)

        let (multi, multiPort) = try startSimulator()
        defer { multi.shutdown() }
        let a = try SMPPTestClient(port: multiPort)
        _ = try a.bind(systemID: "shop", password: "secret", systemType: "MCON2")
        let b = try SMPPTestClient(port: multiPort)
        _ = try b.bind(systemID: "shop", password: "secret", systemType: "MCON2")
        #expect(try a.request(PDU(.enquireLink, sequence: 0))?.commandID == .enquireLinkResp, "two are allowed")
        let c = try SMPPTestClient(port: multiPort)
        _ = try c.bind(systemID: "shop", password: "secret", systemType: "MCON2")
        #expect(try a.receive(timeout: 2) == nil)
        #expect(a.closed, "the third closes the oldest")
        #expect(try b.request(PDU(.enquireLink, sequence: 0))?.commandID == .enquireLinkResp)
        #expect(multi.summary.closedByNewerBind == 1)
    }

    @Test func identicalSubmitsWithinAMinuteAreRefused() throws {
        let (simulator, port) = try startSimulator()
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        #expect(try client.request(submitPDU("same text", registeredDelivery: 0))?.commandStatus == .ok)
        #expect(try client.request(submitPDU("same text", registeredDelivery: 0))?.commandStatus == .submitFailed)
        #expect(
            try client.request(submitPDU("same text", to: "77019999999", registeredDelivery: 0))?.commandStatus == .ok)
        #expect(simulator.summary.duplicatesRefused == 1)
    }

    @Test func idleConnectionsAreClosedOrUnbound() throws {
        let (simulator, port) = try startSimulator { $0.idleTimeout = 0.4 }
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        // Closed 0.4 s after the bind; the wait allows for a machine busy with other tests.
        let started = monotonic()
        #expect(try client.receive(timeout: 15) == nil)
        let waited = monotonic() - started
        // The message tells whether the simulator closed (its idle count) and how long the client waited. A
        // program another test starts must not inherit the simulator's socket, or the close sends no FIN while it
        // runs (PostgresServer starts programs with no descriptor of the test process).
        #expect(
            client.closed,
            "the simulator counted \(simulator.summary.idleTimeouts) idle timeouts; the client waited \(String(format: "%.2f", waited)) s"
        )

        let (unbinding, unbindPort) = try startSimulator {
            $0.idleTimeout = 0.4
            $0.idleAction = .unbind
        }
        defer { unbinding.shutdown() }
        let polite = try SMPPTestClient(port: unbindPort)
        _ = try polite.bind(systemID: "shop", password: "secret")
        let unbind = try polite.receive(timeout: 15)
        #expect(unbind?.commandID == .unbind)
    }

    @Test func otherOperations() throws {
        let (simulator, port) = try startSimulator { $0.receiptDelay = 5...5 }
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        let id = try #require(try client.request(submitPDU("to cancel"))?.messageID)
        let source = Address(ton: 5, address: "SHOP")
        let destination = Address(ton: 1, npi: 1, address: "77011234567")
        let replace = PDU(
            .replaceSM, sequence: 0,
            body: .replaceSM(.init(messageID: id, source: source, shortMessage: ByteBuffer(string: "new"))))
        #expect(try client.request(replace)?.commandStatus == .ok)
        let cancel = PDU(
            .cancelSM, sequence: 0, body: .cancelSM(.init(messageID: id, source: source, destination: destination)))
        #expect(try client.request(cancel)?.commandStatus == .ok)
        #expect(try client.request(cancel)?.commandStatus == .cancelFailed)
        let multi = PDU(
            .submitMulti, sequence: 0,
            body: .submitMulti(
                .init(source: source, destinations: [.sme(destination)], shortMessage: ByteBuffer(string: "x"))))
        let refused = try client.request(multi)
        #expect(refused?.commandID == .genericNack)
        #expect(refused?.commandStatus == .invalidCommandID)
        let data = PDU(
            .dataSM, sequence: 0, body: .dataSM(.init(source: source, destination: destination)),
            tlvs: [TLV(tag: .messagePayload, octets: Array("payload".utf8))])
        let dataResponse = try client.request(data)
        #expect(dataResponse?.commandID == .dataSMResp)
        #expect(dataResponse?.messageID?.isEmpty == false)
        #expect(try client.request(PDU(.unbind, sequence: 0))?.commandID == .unbindResp)
    }

    @Test func windowLimitAnswersQueueFull() throws {
        let (simulator, port) = try startSimulator {
            $0.window = 2
            $0.latency = 0.3
        }
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(systemID: "shop", password: "secret")
        for index in 0..<4 { try client.send(submitPDU("w\(index)", registeredDelivery: 0)) }
        var statuses: [CommandStatus] = []
        for _ in 0..<4 {
            if let response = try client.receive(timeout: 2) { statuses.append(response.commandStatus) }
        }
        #expect(statuses.filter { $0 == .messageQueueFull }.count == 2)
        #expect(statuses.filter { $0 == .ok }.count == 2)
    }

    @Test func mobileOriginatedMessagesThroughTheControlPort() throws {
        let (simulator, port) = try startSimulator {
            $0.controlHost = "127.0.0.1"
            $0.controlPort = 0
        }
        defer { simulator.shutdown() }
        let client = try SMPPTestClient(port: port)
        _ = try client.bind(.bindReceiver, systemID: "shop", password: "secret")
        let control = try SMPPTestClient(port: simulator.controlAddress?.port ?? 0)
        _ = try control.sendRaw("mo shop 77010000001 SHOP Привет from a phone\n")
        let answer = try control.receiveRaw(timeout: 2)
        #expect(answer == "ok\n")
        var seen: [PDU] = []
        let mo = try #require(try client.receive(seen: &seen) { $0.commandID == .deliverSM })
        #expect(mo.esmClass == 0)
        #expect(mo.message()?.decoded.text == "Привет from a phone")
        #expect(mo.deliveryReceipt() == nil)
    }

    @Test func aControlLineBeyondTheLimitIsRefusedAndTheConnectionClosed() throws {
        let (simulator, _) = try startSimulator {
            $0.controlHost = "127.0.0.1"
            $0.controlPort = 0
        }
        defer { simulator.shutdown() }
        let control = try SMPPTestClient(port: simulator.controlAddress?.port ?? 0)
        // No newline in 8 KiB: a line longer than 4 KiB.
        _ = try control.sendRaw(String(repeating: "m", count: 8_192))
        let answer = try control.receiveRaw(timeout: 2)
        #expect(answer == "error: a line is longer than 4096 bytes; closing\n")
        // A short line still works on a new connection.
        let again = try SMPPTestClient(port: simulator.controlAddress?.port ?? 0)
        _ = try again.sendRaw("mo nobody 1 2 hi\n")
        #expect(try again.receiveRaw(timeout: 2) == "error: no account nobody\n")
    }

    /// Accounts given as a list (a file's lines, or words of an environment variable), comments skipped.
    @Test func accountListsParseAndNameTheirBadEntry() {
        let good = SimulatorConfiguration.Account.list("# logins\nshop:secret\n\n  bulk:pw:100 other:x\r\n")
        #expect((try? good.get())?.map(\.systemID) == ["shop", "bulk", "other"])
        #expect((try? good.get())?[1].throughput == 100)
        guard case .failure(let error) = SimulatorConfiguration.Account.list("shop:secret\nnonsense\n") else {
            Issue.record("a bad entry was accepted")
            return
        }
        #expect(error.entry == 2)
    }

    @Test func tlsEndToEnd() throws {
        let (simulator, _) = try startSimulator {
            $0.tlsHost = "127.0.0.1"
            $0.tlsPort = 0
        }
        defer { simulator.shutdown() }
        let port = try #require(simulator.tlsAddress?.port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        let collector = FrameCollector()
        let channel = try ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMPPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).wait()
        let bind = PDU(.bindTransceiver, sequence: 1, body: .bind(.init(systemID: "shop", password: "secret")))
        try channel.writeAndFlush(bind.encoded).wait()
        let response = try collector.next(timeout: 5)
        #expect(response?.commandID == .bindTransceiverResp)
        #expect(response?.commandStatus == .ok)
        try channel.close().wait()
    }
}

/// Collects decoded PDUs from a channel.
final class FrameCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let lock = NSLock()
    private var frames: [PDU] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let pdu = try? PDU.decode(unwrapInboundIn(data)) {
            lock.lock()
            frames.append(pdu)
            lock.unlock()
        }
    }

    func next(timeout: Double) throws -> PDU? {
        let start = monotonic()
        while monotonic() - start < timeout {
            lock.lock()
            if !frames.isEmpty {
                defer { lock.unlock() }
                return frames.removeFirst()
            }
            lock.unlock()
            usleep(10_000)
        }
        return nil
    }
}

// The simulated SMSC's rules driven with plain values: no sockets, no clock. The expected statuses are the SMPP 3.4
// numbers and the SMSC.kz rules of the dialect document (30 submit_sm/s then 0x58, one connection per login unless
// MCONn, identical submits refused within a minute, receipts as text plus TLVs).

import NIOCore
import SMPP
import Simulator
import Testing

/// A machine and the helpers that feed it.
struct Harness {
    var machine: SMSCStateMachine
    var now = 1_000_000.0
    var sequence: UInt32 = 1

    init(_ configure: (inout SimulatorConfiguration) -> Void = { _ in }) {
        var configuration = SimulatorConfiguration()
        configuration.accounts = [.init(systemID: "shop", password: "secret")]
        configuration.latency = 0
        configuration.jitter = 0
        configuration.receiptDelay = 1...1
        configuration.receiptShares = SimulatorConfiguration.ReceiptShares(specification: "DELIVRD=1") ?? .init()
        configure(&configuration)
        machine = SMSCStateMachine(configuration: configuration)
    }

    mutating func connect() -> Int { machine.connected(now: now).connection }

    mutating func send(_ pdu: PDU, on connection: Int) -> [SMSCStateMachine.Action] {
        machine.received(pdu.encoded, on: connection, now: now)
    }

    mutating func nextSequence() -> UInt32 {
        defer { sequence += 1 }
        return sequence
    }

    mutating func bind(
        _ connection: Int, _ command: CommandID = .bindTransceiver, systemID: String = "shop",
        password: String = "secret",
        systemType: String = ""
    ) -> [SMSCStateMachine.Action] {
        let sequence = nextSequence()
        return send(
            PDU(
                command, sequence: sequence,
                body: .bind(.init(systemID: systemID, password: password, systemType: systemType))),
            on: connection)
    }

    mutating func submit(
        _ connection: Int, text: String = "hello", destination: String = "77011234567", registeredDelivery: UInt8 = 0,
        esmClass: UInt8 = 0, octets: [UInt8]? = nil
    ) -> [SMSCStateMachine.Action] {
        let sequence = nextSequence()
        let message = PDU.ShortMessage(
            source: Address(ton: 5, npi: 0, address: "SHOP"),
            destination: Address(ton: 1, npi: 1, address: destination),
            esmClass: esmClass, registeredDelivery: registeredDelivery,
            shortMessage: ByteBuffer(bytes: octets ?? Array(text.utf8)))
        return send(PDU(.submitSM, sequence: sequence, body: .shortMessage(message)), on: connection)
    }

    /// Runs the timers among `actions` in order of their time (and what they schedule in turn, up to `until`).
    mutating func runTimers(_ actions: [SMSCStateMachine.Action], until: Double) -> [SMSCStateMachine.Action] {
        var pending: [(at: Double, timer: SMSCStateMachine.Timer)] = actions.compactMap {
            if case .schedule(let timer, let after) = $0 { return (now + after, timer) }
            return nil
        }
        var out: [SMSCStateMachine.Action] = []
        while let index = pending.indices.min(by: { pending[$0].at < pending[$1].at }), pending[index].at <= until {
            let (at, timer) = pending.remove(at: index)
            now = at
            let produced = machine.timerFired(timer, now: now)
            out += produced
            for case .schedule(let next, let after) in produced { pending.append((now + after, next)) }
        }
        return out
    }
}

extension Array where Element == SMSCStateMachine.Action {
    /// The PDUs written to a connection, in order.
    func written(to connection: Int) -> [PDU] {
        compactMap {
            if case .write(connection, let pdu) = $0 { return pdu }
            return nil
        }
    }

    var closed: [Int] {
        compactMap {
            if case .close(let id) = $0 { return id }
            return nil
        }
    }

    var scheduled: [(SMSCStateMachine.Timer, Double)] {
        compactMap {
            if case .schedule(let timer, let after) = $0 { return (timer, after) }
            return nil
        }
    }
}

@Suite("SMSC state machine")
struct SMSCStateMachineTests {
    @Test func bindsAreAnsweredWithTheSPP34Statuses() throws {
        var harness = Harness()
        let a = harness.connect()
        let wrongPassword = harness.bind(a, password: "nope").written(to: a)
        #expect(wrongPassword.map(\.commandStatus.rawValue) == [0x0E])
        #expect(wrongPassword.first?.commandID == CommandID(0x8000_0009))
        let unknown = harness.bind(a, systemID: "other").written(to: a)
        #expect(unknown.map(\.commandStatus.rawValue) == [0x0F])
        let ok = harness.bind(a).written(to: a)
        #expect(ok.map(\.commandStatus.rawValue) == [0])
        #expect(ok.first?.tlvs.first?.tag.rawValue == 0x0210)
        if case .bindResponse(let response) = ok.first?.body {
            #expect(response.systemID == "SMSCKZ")
        } else {
            Issue.record("no body")
        }
        let again = harness.bind(a).written(to: a)
        #expect(again.map(\.commandStatus.rawValue) == [0x05])
        #expect(harness.machine.summary.bindsAccepted == 1)
        #expect(harness.machine.summary.bindsRefused == 3)
    }

    @Test func aNewerBindClosesTheOldestUnlessMCONAllowsMore() {
        var harness = Harness()
        let a = harness.connect()
        let b = harness.connect()
        #expect(harness.bind(a).closed.isEmpty)
        let second = harness.bind(b)
        #expect(second.closed == [a])
        #expect(second.written(to: b).map(\.commandStatus.rawValue) == [0])

        var mcon = Harness()
        let connections = (0..<3).map { _ in mcon.connect() }
        #expect(mcon.bind(connections[0], systemType: "MCON2").closed.isEmpty)
        #expect(mcon.bind(connections[1], systemType: "MCON2").closed.isEmpty)
        #expect(mcon.bind(connections[2], systemType: "MCON2").closed == [connections[0]])
        #expect(mcon.machine.summary.closedByNewerBind == 1)
    }

    @Test func aSubmitBeforeABindIsRefusedWithInvalidBindStatus() {
        var harness = Harness()
        let a = harness.connect()
        #expect(harness.submit(a).written(to: a).map(\.commandStatus.rawValue) == [0x04])
        let receiver = harness.connect()
        _ = harness.bind(receiver, .bindReceiver)
        #expect(harness.submit(receiver).written(to: receiver).map(\.commandStatus.rawValue) == [0x04])
    }

    @Test func thirtySubmitsASecondThenThrottledThenAcceptedAgain() {
        var harness = Harness()
        let a = harness.connect()
        _ = harness.bind(a)
        var statuses: [UInt32] = []
        for index in 0..<40 {
            harness.now = 1_000_000 + Double(index) * 0.02  // 40 submits in 0.8 s
            statuses += harness.submit(a, text: "message \(index)").written(to: a).map(\.commandStatus.rawValue)
        }
        #expect(statuses == Array(repeating: 0, count: 30) + Array(repeating: 0x58, count: 10))
        // One second after the first accepted submit, room again: exactly as many as left the window.
        harness.now = 1_000_001.0001
        #expect(harness.submit(a, text: "later").written(to: a).map(\.commandStatus.rawValue) == [0])
        #expect(harness.machine.summary.throttled == 10)
    }

    @Test func anAccountsOwnRateOverridesTheDefault() {
        var harness = Harness { $0.accounts = [.init(systemID: "shop", password: "secret", throughput: 5)] }
        let a = harness.connect()
        _ = harness.bind(a)
        let statuses = (0..<7).flatMap {
            harness.submit(a, text: "m\($0)").written(to: a).map(\.commandStatus.rawValue)
        }
        #expect(statuses == [0, 0, 0, 0, 0, 0x58, 0x58])
    }

    @Test func anIdenticalSubmitWithinAMinuteIsRefusedAndAcceptedAfter() {
        var harness = Harness()
        let a = harness.connect()
        _ = harness.bind(a)
        #expect(harness.submit(a).written(to: a).map(\.commandStatus.rawValue) == [0])
        harness.now += 59
        #expect(harness.submit(a).written(to: a).map(\.commandStatus.rawValue) == [0x45])
        // Another destination is another message.
        #expect(harness.submit(a, destination: "77017654321").written(to: a).map(\.commandStatus.rawValue) == [0])
        harness.now += 2  // 61 s after the first
        #expect(harness.submit(a).written(to: a).map(\.commandStatus.rawValue) == [0])
        #expect(harness.machine.summary.duplicatesRefused == 1)
    }

    @Test func responsesWaitTheLatencyAndTheWindowRefusesBeyondIt() throws {
        var harness = Harness {
            $0.latency = 0.5
            $0.window = 2
        }
        let a = harness.connect()
        _ = harness.bind(a)  // bind responses are immediate
        let first = harness.submit(a, text: "one")
        #expect(first.written(to: a).isEmpty)
        #expect(first.scheduled.count == 1)
        #expect(first.scheduled.first?.1 == 0.5)
        _ = harness.submit(a, text: "two")
        let third = harness.submit(a, text: "three").written(to: a)
        #expect(third.map(\.commandStatus.rawValue) == [0x14])
        // enquire_link is answered at once whatever the window.
        let enquire = harness.send(PDU(.enquireLink, sequence: 99), on: a).written(to: a)
        #expect(enquire.map(\.commandID.rawValue) == [0x8000_0015])
        // When the first response goes out, there is room again.
        let fired = harness.runTimers(first, until: harness.now + 1).written(to: a)
        #expect(fired.map(\.commandStatus.rawValue) == [0])
        #expect(harness.submit(a, text: "four").written(to: a).isEmpty)
    }

    @Test func aReceiptFollowsWithTheIdInTextAndTLVs() throws {
        var harness = Harness()
        let a = harness.connect()
        _ = harness.bind(a)
        let actions = harness.submit(a, registeredDelivery: 1)
        let response = try #require(actions.written(to: a).first)
        let id = try #require(response.messageID)
        #expect(id == "854019")
        #expect(actions.scheduled.map(\.1) == [1])
        let receipts = harness.runTimers(actions, until: harness.now + 2).written(to: a)
        let receipt = try #require(receipts.first)
        #expect(receipts.count == 1)
        #expect(receipt.commandID.rawValue == 0x0000_0005)
        guard case .shortMessage(let message) = receipt.body else { Issue.record("no body"); return }
        #expect(message.esmClass == 0x04)
        #expect(message.source.address == "77011234567")
        #expect(message.destination.address == "SHOP")
        let text = String(decoding: message.shortMessage.readableBytesView, as: UTF8.self)
        #expect(text.hasPrefix("id:\(id) sub:001 dlvrd:001 submit date:"))
        #expect(text.hasSuffix(" stat:DELIVRD err:000"))
        #expect(
            receipt.tlvs.first { $0.tag.rawValue == 0x001E }?.raw.readableBytesView.elementsEqual(Array(id.utf8) + [0])
                == true)
        #expect(receipt.tlvs.first { $0.tag.rawValue == 0x0427 }?.raw.readableBytesView.elementsEqual([2]) == true)
        // The receipt's own sequence numbers start at 1 on the connection.
        #expect(receipt.sequenceNumber == 1)
        #expect(harness.machine.summary.receiptsSent == 1)
    }

    @Test func registeredDeliveryTwoAndThreeAskForFailuresOrSuccessesOnly() {
        for (specification, wants, expected) in [
            ("DELIVRD=1", UInt8(2), 0), ("DELIVRD=1", UInt8(3), 1), ("REJECTD=1", UInt8(3), 0),
            ("REJECTD=1", UInt8(2), 1),
        ] {
            var harness = Harness {
                $0.receiptShares = SimulatorConfiguration.ReceiptShares(specification: specification) ?? .init()
            }
            let a = harness.connect()
            _ = harness.bind(a)
            let actions = harness.submit(a, registeredDelivery: wants)
            let receipts = harness.runTimers(actions, until: harness.now + 5).written(to: a)
            #expect(receipts.count == expected, "\(specification), registered_delivery \(wants)")
        }
    }

    @Test func aReceiptWaitsForAReceiverToBind() throws {
        var harness = Harness()
        let transmitter = harness.connect()
        _ = harness.bind(transmitter, .bindTransmitter, systemType: "MCON2")
        let actions = harness.submit(transmitter, registeredDelivery: 1)
        #expect(harness.runTimers(actions, until: harness.now + 2).isEmpty)
        let receiver = harness.connect()
        let bound = harness.bind(receiver, .bindReceiver, systemType: "MCON2").written(to: receiver)
        #expect(bound.map(\.commandID.rawValue) == [0x8000_0001, 0x0000_0005])
    }

    @Test func thePartsOfALongMessageShareAnIdUnlessSINGLE() throws {
        func parts(_ systemType: String) throws -> (ids: [String], receipts: Int) {
            var harness = Harness()
            let a = harness.connect()
            _ = harness.bind(a, systemType: systemType)
            var ids: [String] = []
            var receipts = 0
            for part in [UInt8(1), 3, 2] {  // out of order
                let udh: [UInt8] = [0x05, 0x00, 0x03, 0x2A, 0x03, part]
                let actions = harness.submit(
                    a, registeredDelivery: 1, esmClass: 0x40, octets: udh + Array("part \(part)".utf8))
                ids += actions.written(to: a).compactMap(\.messageID)
                receipts +=
                    actions.scheduled.filter { if case .receipt = $0.0 { return true } else { return false } }.count
            }
            return (ids, receipts)
        }
        let shared = try parts("")
        #expect(Set(shared.ids).count == 1)
        #expect(shared.ids.count == 3)
        #expect(shared.receipts == 1)
        let single = try parts("SINGLE")
        #expect(Set(single.ids).count == 3)
        #expect(single.receipts == 3)
    }

    @Test func unbindIsAnsweredThenTheConnectionCloses() {
        var harness = Harness()
        let a = harness.connect()
        _ = harness.bind(a)
        let actions = harness.send(PDU(.unbind, sequence: 7), on: a)
        #expect(actions.written(to: a).map(\.commandID.rawValue) == [0x8000_0006])
        #expect(actions.closed == [a])
    }

    @Test func anIdleConnectionIsClosedOrUnbound() throws {
        var closing = Harness { $0.idleTimeout = 120 }
        let a = closing.connect()
        let checks = closing.runTimers([.schedule(.idleCheck(connection: a), after: 1)], until: closing.now + 119)
        #expect(checks.closed.isEmpty)
        let later = closing.runTimers([.schedule(.idleCheck(connection: a), after: 1)], until: closing.now + 3)
        #expect(later.closed == [a])
        #expect(closing.machine.summary.idleTimeouts == 1)

        var unbinding = Harness {
            $0.idleTimeout = 10
            $0.idleAction = .unbind
        }
        let b = unbinding.connect()
        _ = unbinding.bind(b)
        let idle = unbinding.runTimers([.schedule(.idleCheck(connection: b), after: 1)], until: unbinding.now + 11)
        let unbind = try #require(idle.written(to: b).first)
        #expect(unbind.commandID.rawValue == 0x0000_0006)
        #expect(idle.closed.isEmpty)
        let answer = unbinding.send(PDU(.unbindResp, sequence: unbind.sequenceNumber), on: b)
        #expect(answer.closed == [b])
    }

    @Test func mobileOriginatedMessagesNeedAReceiverAndPickTheirCoding() throws {
        var harness = Harness()
        let refused = harness.machine.mobileOriginated(
            account: "shop", source: "77010000001", destination: "SHOP", text: "hi")
        #expect(throws: SMSCStateMachine.MobileOriginatedRefusal.noReceiver("shop")) { try refused.get() }
        let unknown = harness.machine.mobileOriginated(account: "nobody", source: "1", destination: "2", text: "hi")
        #expect(throws: SMSCStateMachine.MobileOriginatedRefusal.noAccount("nobody")) { try unknown.get() }
        let a = harness.connect()
        _ = harness.bind(a)
        let latin = try harness.machine.mobileOriginated(
            account: "shop", source: "77010000001", destination: "SHOP", text: "hi @"
        ).get()
        let cyrillic = try harness.machine.mobileOriginated(
            account: "shop", source: "77010000001", destination: "SHOP", text: "Привет"
        ).get()
        guard case .shortMessage(let gsm) = latin.written(to: a).first?.body,
            case .shortMessage(let ucs2) = cyrillic.written(to: a).first?.body
        else { Issue.record("no deliver_sm"); return }
        #expect(gsm.dataCoding == 0)
        #expect(Array(gsm.shortMessage.readableBytesView) == [0x68, 0x69, 0x20, 0x00])  // GSM 03.38: '@' is 0x00
        #expect(ucs2.dataCoding == 8)
        #expect(Array(ucs2.shortMessage.readableBytesView.prefix(4)) == [0x04, 0x1F, 0x04, 0x40])  // UTF-16BE "Пр"
        #expect(latin.written(to: a).first?.sequenceNumber == 1)
        #expect(cyrillic.written(to: a).first?.sequenceNumber == 2)
    }

    @Test func aSubmitWhoseBodyDoesNotDecodeIsAnsweredInvalidMessageLength() {
        var harness = Harness()
        let a = harness.connect()
        _ = harness.bind(a)
        // A submit_sm header whose body stops inside the service_type C-string.
        let frame = ByteBuffer(bytes: [0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, 0x41, 0x42, 0x43, 0x44])
        let answers = harness.machine.received(frame, on: a, now: harness.now).written(to: a)
        #expect(answers.map(\.commandID.rawValue) == [0x8000_0004])
        #expect(answers.map(\.commandStatus.rawValue) == [0x01])
        #expect(answers.first?.sequenceNumber == 9)
    }

    @Test func theSameSeedGivesTheSameLatencies() {
        func delays(seed: UInt64) -> [Double] {
            var harness = Harness {
                $0.latency = 0.01
                $0.jitter = 0.05
                $0.seed = seed
            }
            let a = harness.connect()
            _ = harness.bind(a)
            return (0..<10).flatMap { harness.submit(a, text: "m\($0)").scheduled.map(\.1) }
        }
        #expect(delays(seed: 7) == delays(seed: 7))
        #expect(delays(seed: 7) != delays(seed: 8))
        #expect(delays(seed: 7).allSatisfy { $0 >= 0.01 && $0 < 0.06 })
    }
}

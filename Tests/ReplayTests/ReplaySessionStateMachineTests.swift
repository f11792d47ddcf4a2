// One replayed session's rules driven with plain values: hand-built plans and target answers, times passed in. No
// sockets, no clock.

import Capture
import NIOCore
import SMPP
import Testing

@testable import ReplayCore

typealias ReplayAction = ReplaySessionStateMachine.Action

extension Array where Element == ReplayAction {
    /// The PDUs sent, decoded.
    var sent: [PDU] {
        compactMap {
            if case .send(let bytes, _) = $0 { return try? PDU.decode(bytes) }
            return nil
        }
    }

    var wakes: [Double] {
        compactMap {
            if case .wake(let at) = $0 { return at }
            return nil
        }
    }

    var outcome: SessionOutcome? {
        for case .finished(let outcome) in self { return outcome }
        return nil
    }

    var closes: Bool { contains { if case .close = $0 { return true } else { return false } } }
}

enum Plans {
    static func submit(_ index: Int, offset: Double, destination: String = "77011234567", originalID: String? = nil)
        -> PlannedRequest
    {
        let pdu = PDU(
            .submitSM, sequence: UInt32(index + 2),
            body: .shortMessage(
                .init(
                    source: Address(ton: 5, npi: 0, address: "SHOP"),
                    destination: Address(ton: 1, npi: 1, address: destination),
                    registeredDelivery: 1, shortMessage: ByteBuffer(string: "message \(index)"))))
        return PlannedRequest(
            index: index, offset: offset, raw: pdu.encoded, pdu: pdu, originalSequence: UInt32(index + 2),
            originalStatus: .ok,
            originalMessageID: originalID)
    }

    static func query(_ index: Int, offset: Double, id: String) -> PlannedRequest {
        let pdu = PDU(
            .querySM, sequence: UInt32(index + 2),
            body: .querySM(.init(messageID: id, source: Address(ton: 5, npi: 0, address: "SHOP"))))
        return PlannedRequest(
            index: index, offset: offset, raw: pdu.encoded, pdu: pdu, originalSequence: UInt32(index + 2))
    }

    static func session(_ requests: [PlannedRequest], bindLatency: Double? = nil) -> PlannedSession {
        var session = PlannedSession(
            id: 1, start: Timestamp(nanoseconds: 0), bind: .init(systemID: "shop", password: "recorded"),
            bindCommand: .bindTransceiver)
        session.originalBindLatency = bindLatency
        session.requests = requests
        session.answers = [.deliverSM: .ok]
        return session
    }
}

/// A response from the target to a request the machine sent.
func answer(_ request: PDU, status: UInt32 = 0, id: String? = nil) -> ByteBuffer {
    let body: PDU.Body
    switch request.commandID {
    case .bindTransceiver: body = .bindResponse(.init(systemID: "SMSC"))
    case .submitSM: body = .messageID(id ?? "")
    default: body = .empty
    }
    return PDU(request.commandID.response, status: CommandStatus(status), sequence: request.sequenceNumber, body: body)
        .encoded
}

@Suite("Replay session state machine")
struct ReplaySessionStateMachineTests {
    @Test func theBindCarriesTheGivenCredentialsAndRequestsFollowTheRecordedGapsAtTheSpeed() throws {
        var settings = ReplaySessionSettings()
        settings.password = "new-password"
        settings.systemID = "other"
        settings.pace = .recorded(speed: 2)
        var machine = ReplaySessionStateMachine(
            session: Plans.session(
                [Plans.submit(0, offset: 0.2), Plans.submit(1, offset: 1.0), Plans.submit(2, offset: 3.0)],
                bindLatency: 0.1),
            pass: 1, settings: settings, sessionStart: 10)
        let bind = try #require(machine.connected(now: 10).sent.first)
        guard case .bind(let body) = bind.body else { Issue.record("not a bind"); return }
        #expect(body.systemID == "other")
        #expect(body.password == "new-password")
        // The bind is answered 0.3 s later: the schedule counts from the recorded bind latency (0.1 / 2) before it.
        let first = machine.received(answer(bind), now: 10.3)
        #expect(first.sent.isEmpty)
        let origin = 10.3 - 0.05
        #expect(first.wakes == [origin + 0.1])
        let second = machine.pump(now: origin + 0.1)
        #expect(second.sent.map(\.sequenceNumber) == [2])
        #expect(second.wakes == [origin + 0.5])
        #expect(machine.pump(now: origin + 0.5).wakes == [origin + 1.5])
        #expect(machine.outcome.requests[0].scheduled == origin + 0.1)
        #expect(machine.outcome.requests[0].sent == origin + 0.1)
    }

    @Test func theWindowHoldsRequestsUntilResponsesCome() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        settings.window = 2
        var machine = ReplaySessionStateMachine(
            session: Plans.session((0..<5).map { Plans.submit($0, offset: 0) }), pass: 1, settings: settings,
            sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        let burst = machine.received(answer(bind), now: 0.01).sent
        #expect(burst.count == 2)
        let more = machine.received(answer(burst[0], id: "A1"), now: 0.02).sent
        #expect(more.count == 1)
        #expect(machine.outcome.requests[0].messageID == "A1")
        #expect(machine.outcome.requests[0].latency.map { abs($0 - 0.01) < 1e-9 } == true)
    }

    @Test func aThrottledRequestIsResentAfterABackOffThreeTimesAtMost() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        settings.onThrottle = .resend
        var machine = ReplaySessionStateMachine(
            session: Plans.session([Plans.submit(0, offset: 0)]), pass: 1, settings: settings, sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        var request = try #require(machine.received(answer(bind), now: 0).sent.first)
        var now = 0.0
        var backOffs: [Double] = []
        for _ in 0..<4 {
            let actions = machine.received(answer(request, status: 0x58), now: now)
            guard let wake = actions.wakes.last else { break }
            backOffs.append(wake - now)
            now = wake
            request = try #require(machine.pump(now: now).sent.first)
            #expect(request.commandID == .submitSM)
        }
        #expect(backOffs == [1, 2, 4])
        #expect(machine.outcome.requests[0].attempts == 4)
        #expect(machine.outcome.throttled == 4)
        #expect(machine.outcome.requests[0].status?.rawValue == 0x58)
    }

    @Test func asRecordedLeavesAThrottledRequestAlone() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        var machine = ReplaySessionStateMachine(
            session: Plans.session([Plans.submit(0, offset: 0)]), pass: 1, settings: settings, sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        let request = try #require(machine.received(answer(bind), now: 0).sent.first)
        let after = machine.received(answer(request, status: 0x58), now: 0.1)
        // Nothing left to send: the session unbinds.
        #expect(after.sent.map(\.commandID) == [.unbind])
        #expect(machine.outcome.requests[0].attempts == 1)
    }

    @Test func aQueryWaitsForItsMessagesNewIdAndCarriesIt() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        var machine = ReplaySessionStateMachine(
            session: Plans.session([
                Plans.submit(0, offset: 0, originalID: "0A1B"), Plans.query(1, offset: 0, id: "0A1B"),
            ]), pass: 1,
            settings: settings, sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        let first = machine.received(answer(bind), now: 0)
        #expect(first.sent.map(\.commandID) == [.submitSM])
        #expect(first.wakes == [0.005])
        let submit = try #require(first.sent.first)
        let second = machine.received(answer(submit, id: "777"), now: 0.003)
        let query = try #require(second.sent.first)
        guard case .querySM(let body) = query.body else { Issue.record("not a query"); return }
        #expect(body.messageID == "777")
    }

    @Test func receiptsAreLinkedByTheNewIdAnsweredAsRecordedAndAwaitedBeforeTheUnbind() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        settings.receiptWait = 2
        var request = Plans.submit(0, offset: 0, originalID: "1")
        request.originalReceiptState = "DELIVRD"
        var machine = ReplaySessionStateMachine(
            session: Plans.session([request]), pass: 1, settings: settings, sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        let submit = try #require(machine.received(answer(bind), now: 0).sent.first)
        let waiting = machine.received(answer(submit, id: "900"), now: 0.1)
        #expect(waiting.sent.isEmpty)  // no unbind yet: the recording had a receipt
        #expect(waiting.wakes.map { abs($0 - 0.15) < 1e-9 } == [true])
        let receipt = PDU(
            .deliverSM, sequence: 41,
            body: .shortMessage(
                .init(
                    source: Address(address: "77011234567"), destination: Address(address: "SHOP"), esmClass: 0x04,
                    shortMessage: ByteBuffer(
                        string:
                            "id:900 sub:001 dlvrd:001 submit date:2612062300 done date:2612062300 stat:DELIVRD err:000")
                )))
        let answered = machine.received(receipt.encoded, now: 0.5)
        let sent = answered.sent
        #expect(sent.map(\.commandID) == [.deliverSMResp, .unbind])
        #expect(sent.first?.sequenceNumber == 41)
        #expect(machine.outcome.requests[0].receiptState == "DELIVRD")
        #expect(machine.outcome.receipts == 1)
        #expect(machine.outcome.unknownReceipts == 0)
        let unbind = try #require(sent.last)
        let end = machine.received(answer(unbind), now: 0.6)
        #expect(end.closes)
        #expect(end.outcome?.error == nil)
    }

    @Test func theReceiptWaitRunsOutAndTheSessionUnbindsAnyway() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        settings.receiptWait = 1
        var request = Plans.submit(0, offset: 0, originalID: "1")
        request.originalReceiptState = "DELIVRD"
        var machine = ReplaySessionStateMachine(
            session: Plans.session([request]), pass: 1, settings: settings, sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        let submit = try #require(machine.received(answer(bind), now: 0).sent.first)
        _ = machine.received(answer(submit, id: "900"), now: 0.1)
        #expect(machine.pump(now: 0.9).sent.isEmpty)
        #expect(machine.pump(now: 1.2).sent.map(\.commandID) == [.unbind])
    }

    @Test func aMissingResponseIsNotedAfterTheTimeout() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        settings.responseTimeout = 10
        var machine = ReplaySessionStateMachine(
            session: Plans.session([Plans.submit(0, offset: 0), Plans.submit(1, offset: 0)]), pass: 1,
            settings: settings, sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        let requests = machine.received(answer(bind), now: 0).sent
        _ = machine.received(answer(requests[1], id: "B"), now: 1)
        #expect(machine.tick(now: 9).isEmpty == false)
        #expect(machine.outcome.requests[0].note == nil)
        let late = machine.tick(now: 10.5)
        #expect(machine.outcome.requests[0].note == "no response within 10 s")
        #expect(late.sent.map(\.commandID) == [.unbind])
    }

    @Test func aRefusedBindEndsTheSessionWithTheReason() throws {
        var machine = ReplaySessionStateMachine(
            session: Plans.session([Plans.submit(0, offset: 0)]), pass: 1, settings: ReplaySessionSettings(),
            sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        let actions = machine.received(answer(bind, status: 0x0E), now: 0.1)
        #expect(actions.closes)
        let outcome = try #require(actions.outcome)
        #expect(outcome.bindStatus?.rawValue == 0x0E)
        #expect(outcome.error?.hasPrefix("the target refused the bind") == true)
        #expect(outcome.requests[0].note?.hasPrefix("not sent: the target refused the bind") == true)
        #expect(machine.isFinished)
    }

    @Test func aTargetThatClosesEndsTheSessionAndSaysSo() throws {
        var machine = ReplaySessionStateMachine(
            session: Plans.session([Plans.submit(0, offset: 0)]), pass: 1, settings: ReplaySessionSettings(),
            sessionStart: 0)
        _ = machine.connected(now: 0)
        let outcome = try #require(machine.peerClosed().outcome)
        #expect(outcome.error == "the target closed the connection")
        #expect(machine.peerClosed().isEmpty)
    }

    @Test func destinationsAreRewrittenAndUntouchedRequestsKeepTheirBytes() throws {
        var settings = ReplaySessionSettings()
        settings.pace = .asFastAsPossible
        settings.destinationRewrites = [try #require(AddressRewrite("7701*=7999*"))]
        let rewritten = Plans.submit(0, offset: 0, destination: "77011234567")
        let untouched = Plans.submit(1, offset: 0, destination: "77051234567")
        var machine = ReplaySessionStateMachine(
            session: Plans.session([rewritten, untouched]), pass: 1, settings: settings, sessionStart: 0)
        let bind = try #require(machine.connected(now: 0).sent.first)
        var sentBytes: [ByteBuffer] = []
        for case .send(let bytes, _) in machine.received(answer(bind), now: 0) { sentBytes.append(bytes) }
        #expect(sentBytes.count == 2)
        guard case .shortMessage(let first) = try PDU.decode(sentBytes[0]).body else { Issue.record("no body"); return }
        #expect(first.destination.address == "79991234567")
        // The second is the recorded bytes but for the sequence number (bytes 12..<16).
        var expected = untouched.raw
        expected.setInteger(UInt32(3), at: expected.readerIndex + 12)
        #expect(Array(sentBytes[1].readableBytesView) == Array(expected.readableBytesView))
    }
}

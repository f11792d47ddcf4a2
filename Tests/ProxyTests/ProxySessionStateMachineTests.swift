// The proxy's session rules as plain values: events in, actions out, time passed in. No sockets, no clock.

import Capture
import NIOCore
import Proxy
import Testing

private typealias Machine = ProxySessionStateMachine

private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
private let wall = Timestamp(seconds: 1_800_000_000, nanoseconds: 0)

private func machine(_ configure: (inout ProxySessionLimits) -> Void = { _ in }) -> Machine {
    var limits = ProxySessionLimits()
    configure(&limits)
    return Machine(limits: limits, clientSince: wall, now: t0)
}

/// Runs events at `t0` and collects every action.
private func run(_ machine: inout Machine, _ events: [Machine.Event], at now: NIODeadline = t0) -> [Machine.Action] {
    events.flatMap { machine.handle($0, now: now) }
}

@Suite("Proxy session rules")
struct ProxySessionStateMachineTests {
    @Test func bytesBeforeTheSMSCConnectionAreHeldAndDeliveredInOrderWithTheFINAfterThem() {
        var m = machine()
        #expect(m.received(bytes("bind"), from: .client, at: wall, now: t0) == .held(pause: false))
        #expect(m.received(bytes("submit"), from: .client, at: wall, now: t0) == .held(pause: false))
        #expect(run(&m, [.inputClosed(.client, at: wall)]).isEmpty, "the FIN waits for the held bytes")
        let actions = run(&m, [.upstreamConnected])
        #expect(
            actions == [
                .recordOpened, .forward(bytes("bind"), to: .smsc, arrived: wall),
                .forward(bytes("submit"), to: .smsc, arrived: wall), .shutdownOutput(.smsc),
            ])
        // The SMSC answers and closes: the answer reaches the client, then the client is closed.
        #expect(m.received(bytes("bind_resp"), from: .smsc, at: wall, now: t0) == .forward)
        let closing = run(&m, [.inputClosed(.smsc, at: wall), .outputClosed(.smsc)])
        #expect(closing == [.shutdownOutput(.client), .close(.smsc)])
        #expect(run(&m, [.outputClosed(.client)]) == [.close(.client)])
        #expect(run(&m, [.closed(.smsc, at: wall), .closed(.client, at: wall)]) == [.finished])
        #expect(m.end?.kind == .fin)
        #expect(m.end?.by == .client)
    }

    @Test func aHealthCheckNeverOpensASessionAndTakesTheSMSCConnectionWithIt() {
        var m = machine()
        #expect(run(&m, [.inputClosed(.client, at: wall)]) == [.close(.client)])
        #expect(run(&m, [.closed(.client, at: wall)]).isEmpty, "the SMSC connection is still being made")
        #expect(run(&m, [.upstreamConnected]) == [.close(.smsc)], "closed as soon as it is made; nothing recorded")
        #expect(run(&m, [.closed(.smsc, at: wall)]) == [.finished])
    }

    @Test func aClientResetBeforeTheSMSCConnectionDropsWhatWasHeldAndClosesTheConnectionWhenMade() {
        var m = machine()
        _ = m.received(bytes("bind"), from: .client, at: wall, now: t0)
        #expect(run(&m, [.failed(.client, reset: true, at: wall)]) == [.close(.client)])
        #expect(run(&m, [.closed(.client, at: wall)]).isEmpty)
        #expect(run(&m, [.upstreamConnected]) == [.close(.smsc)])
        #expect(run(&m, [.closed(.smsc, at: wall)]) == [.finished])
        #expect(m.end?.kind == .rst)
    }

    @Test func aFailedSMSCConnectionClosesTheClientWithTheReason() {
        var m = machine()
        _ = m.received(bytes("bind"), from: .client, at: wall, now: t0)
        let actions = run(&m, [.upstreamFailed(reason: "connection refused", timedOut: false)])
        #expect(actions == [.upstreamFailed(reason: "connection refused"), .close(.client)])
        #expect(run(&m, [.closed(.client, at: wall)]) == [.finished])
        var timedOut = machine()
        #expect(
            run(&timedOut, [.upstreamFailed(reason: "timeout", timedOut: true)])
                == [.limitReached(.connectTimeout), .upstreamFailed(reason: "timeout"), .close(.client)])
    }

    @Test func theHoldIsBoundedByPausingTheClientNotByDroppingBytes() {
        var m = machine { $0.holdBytes = 10 }
        #expect(m.received(bytes("12345"), from: .client, at: wall, now: t0) == .held(pause: false))
        #expect(m.received(bytes("67890"), from: .client, at: wall, now: t0) == .held(pause: true))
        let actions = run(&m, [.upstreamConnected])
        #expect(
            actions == [
                .recordOpened, .forward(bytes("12345"), to: .smsc, arrived: wall),
                .forward(bytes("67890"), to: .smsc, arrived: wall), .setReading(.client, true),
            ])
    }

    @Test func aResetIsPassedOnAsAReset() {
        var m = machine()
        _ = run(&m, [.upstreamConnected])
        #expect(run(&m, [.failed(.smsc, reset: true, at: wall)]) == [.close(.smsc), .reset(.client)])
        #expect(run(&m, [.closed(.smsc, at: wall), .closed(.client, at: wall)]) == [.finished])
        #expect(m.end?.kind == .rst)
        #expect(m.end?.by == .smsc)
    }

    @Test func aSideThatGoesTakesTheOtherAfterWhatWasForwardedToIt() {
        var m = machine()
        _ = run(&m, [.upstreamConnected])
        #expect(m.received(bytes("deliver_sm"), from: .smsc, at: wall, now: t0) == .forward)
        #expect(run(&m, [.closed(.smsc, at: wall)]) == [.shutdownOutput(.client)])
        #expect(m.received(bytes("late"), from: .client, at: wall, now: t0) == .discarded)
        #expect(m.discardedBytes == 4)
        #expect(run(&m, [.outputClosed(.client)]) == [.close(.client)])
        #expect(run(&m, [.closed(.client, at: wall)]) == [.finished])
    }

    @Test func backpressureStopsReadingTheOtherSide() {
        var m = machine()
        _ = run(&m, [.upstreamConnected])
        #expect(run(&m, [.writabilityChanged(.client, writable: false)]) == [.setReading(.smsc, false)])
        #expect(run(&m, [.writabilityChanged(.client, writable: false)]).isEmpty)
        #expect(run(&m, [.writabilityChanged(.client, writable: true)]) == [.setReading(.smsc, true)])
        // Before the SMSC connection, the SMSC side has nothing to read.
        var early = machine()
        #expect(run(&early, [.writabilityChanged(.client, writable: false)]).isEmpty)
    }

    @Test func theIdleTimerClosesASilentSessionAndTrafficPushesItBack() {
        var m = machine { $0.idleTimeout = .seconds(30) }
        _ = run(&m, [.upstreamConnected])
        #expect(m.nextDeadline == t0 + .seconds(30))
        let later = t0 + .seconds(20)
        #expect(m.received(bytes("enquire_link"), from: .client, at: wall, now: later) == .forward)
        #expect(run(&m, [.tick(at: wall)], at: t0 + .seconds(30)).isEmpty, "activity moved the deadline")
        #expect(m.nextDeadline == later + .seconds(30))
        let actions = run(&m, [.tick(at: wall)], at: later + .seconds(30))
        #expect(actions == [.limitReached(.idleTimeout), .shutdownOutput(.client), .shutdownOutput(.smsc)])
        #expect(m.nextDeadline == nil)
        #expect(m.end?.by == .smsc, "a close the proxy starts is what the client sees from the SMSC's side")
    }

    @Test func aHalfClosedSessionIsClosedAfterTheHalfCloseTimeout() {
        var m = machine { $0.halfCloseTimeout = .seconds(5) }
        _ = run(&m, [.upstreamConnected])
        #expect(m.nextDeadline == nil, "no idle limit by default")
        #expect(run(&m, [.inputClosed(.client, at: wall)]) == [.shutdownOutput(.smsc)])
        #expect(m.nextDeadline == t0 + .seconds(5))
        let actions = run(&m, [.tick(at: wall)], at: t0 + .seconds(5))
        #expect(actions == [.limitReached(.halfCloseTimeout), .shutdownOutput(.client)])
        // The SMSC's output was already being closed; it is closed fully once that is done.
        #expect(run(&m, [.outputClosed(.smsc)]) == [.close(.smsc)])
    }

    @Test func shutdownClosesBothSidesAfterTheirWrites() {
        var m = machine()
        _ = run(&m, [.upstreamConnected])
        #expect(run(&m, [.shutdown(at: wall)]) == [.shutdownOutput(.client), .shutdownOutput(.smsc)])
        #expect(run(&m, [.outputClosed(.client), .outputClosed(.smsc)]) == [.close(.client), .close(.smsc)])
        #expect(run(&m, [.closed(.client, at: wall), .closed(.smsc, at: wall)]) == [.finished])
        #expect(run(&m, [.upstreamConnected]) == [.close(.smsc)], "nothing but closing after the end")
    }
}

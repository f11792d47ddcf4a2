// `smppscope record` under faults, as a process, between peers whose bytes are known: test sockets, a server nobody
// here wrote (Perl Net::SMPP) and a client nobody here wrote (python smpplib), each logging what it put on and took
// off its socket. Every case checks that each side received exactly what the other sent up to the fault, that the
// store and the pcapng journal (read back by tshark) hold the same bytes, that the process's descriptors return to
// their count before the case, that the sessions-open gauge returns to 0, and that the proxy serves a new session.

import Foundation
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The streams the store holds (exported, then read by tshark), in session order.
func storedStreams(_ proxy: RecordProcess, scratch: Scratch) throws -> [(client: [UInt8], smsc: [UInt8])] {
    let listed = try smppscope(["sessions", "--store", proxy.store, "--format", "json"])
    let json = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
    let sessions = (json?["sessions"] as? [[String: Any]]) ?? []
    let ids = sessions.compactMap { $0["id"] as? Int }
    guard !ids.isEmpty else { return [] }
    let exported = scratch.path("export-\(UUID().uuidString).pcap")
    let result = try smppscope(
        ["export", "--store", proxy.store, "--pcap", exported] + ids.flatMap { ["--session", String($0)] })
    #expect(result.status == 0, "\(result.errors)")
    return try CapturedStreams(exported, smscPort: proxy.upstreamPort).all
}

/// The sessions the store lists: (pdus, close) each.
func storedSessions(_ store: String) throws -> [(pdus: Int, close: String?)] {
    let listed = try smppscope(["sessions", "--store", store, "--format", "json"])
    let json = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
    return ((json?["sessions"] as? [[String: Any]]) ?? []).map { ($0["pdus"] as? Int ?? -1, $0["close"] as? String) }
}

/// A whole session through the proxy to an SMSC that answers: the proxy still serves.
func aSessionGoesThrough(port: Int, upstream: Listener) throws {
    let client = try SocketConnection.connect(port: port)
    let server = try upstream.accept()
    try client.send(Sample.enquireLink(sequence: 77))
    #expect(server.receive(atLeast: 16, timeout: 5).bytes == Sample.enquireLink(sequence: 77))
    let answer = Sample.bytes(PDU(.enquireLinkResp, sequence: 77))
    try server.send(answer)
    #expect(client.receive(atLeast: answer.count, timeout: 5).bytes == answer)
    client.closeNow()
    #expect(server.receive(timeout: 5).closed)
    server.closeNow()
}

@Suite(
    "Record under faults", .serialized,
    .enabled(if: Paths.binary != nil && FaultPeers.tshark, "needs a built smppscope and tshark"))
struct RecordFaultTests {
    /// Health checks and scans: connections that close (or reset) before or just after the SMSC connection is up.
    @Test func healthChecksAndScansLeaveNothingOpen() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        // The SMSC side: accepts and reads until each connection ends, as an idle SMSC would.
        let accepted = AcceptLoop(upstream)
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch)
        let baseline = proxy.settledDescriptors()
        for index in 0..<60 {
            let probe = try SocketConnection.connect(port: proxy.port)
            switch index % 3 {
            case 0: probe.closeNow()
            case 1:
                usleep(30_000)
                probe.closeNow()
            default: probe.reset()
            }
        }
        // A connection reset while it waits to be accepted has no peer left by the time it is: it is closed and not
        // counted as a session.
        let settled = proxy.waitForMetrics {
            $0["smppscope_sessions_open"] == 0 && ($0["smppscope_sessions_total"] ?? 0) >= 40
        }
        #expect(settled["smppscope_sessions_open"] == 0)
        #expect((40...60).contains(settled["smppscope_sessions_total"] ?? 0))
        #expect(proxy.waitForDescriptors(baseline) == baseline, "no descriptor is left open: \(proxy.descriptorList)")
        #expect(accepted.waitForAllClosed(), "every SMSC connection the probes caused was closed")
        accepted.stop()
        try aSessionGoesThrough(port: proxy.port, upstream: upstream)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        let sessions = try storedSessions(proxy.store)
        #expect(sessions.allSatisfy { $0.close != nil }, "no stored session is left open")
        #expect(sessions.map(\.pdus).reduce(0, +) == 2, "only the last session carried PDUs")
    }

    /// A client that sends a bind and half-closes before the SMSC connection is up gets its answer; so does the
    /// reverse after it is up (the SMSC half-closes first).
    @Test func halfClosesBeforeAndAfterTheSMSCConnectionIsUp() throws {
        let scratch = try Scratch()
        // A full accept queue holds the proxy's connection back: its SYN is retried about a second later.
        let upstream = try Listener(backlog: 0)
        let filler = try SocketConnection.connect(port: upstream.port)
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch)
        let baseline = proxy.settledDescriptors()

        let client = try SocketConnection.connect(port: proxy.port)
        let bind = Sample.bind(sequence: 1)
        try client.send(bind)
        client.shutdownOutput()
        usleep(300_000)
        try upstream.accept().closeNow()
        filler.closeNow()
        let server = try upstream.accept(timeout: 10)
        let request = server.receive(timeout: 5)
        #expect(request.bytes == bind, "the bytes held before the connection was up arrive whole")
        #expect(request.closed, "and the half-close after them")
        let answer = Sample.bindResponse(sequence: 1)
        try server.send(answer)
        server.closeNow()
        let reply = client.receive(timeout: 5)
        #expect(reply.bytes == answer)
        #expect(reply.closed)
        client.closeNow()

        // After the connection is up: the SMSC sends an unbind and half-closes; the client answers and closes.
        let second = try SocketConnection.connect(port: proxy.port)
        let smsc = try upstream.accept()
        try second.send(bind)
        #expect(smsc.receive(atLeast: bind.count).bytes == bind)
        let unbind = Sample.unbind(sequence: 9)
        try smsc.send(unbind)
        smsc.shutdownOutput()
        let seen = second.receive(timeout: 5)
        #expect(seen.bytes == unbind)
        #expect(seen.closed)
        let unbindResponse = Sample.unbindResponse(sequence: 9)
        try second.send(unbindResponse)
        second.closeNow()
        let last = smsc.receive(timeout: 5)
        #expect(last.bytes == unbindResponse)
        #expect(last.closed)
        smsc.closeNow()

        #expect(proxy.waitForMetrics { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        try aSessionGoesThrough(port: proxy.port, upstream: upstream)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        let stored = try storedStreams(proxy, scratch: scratch)
        let journal = try CapturedStreams(proxy.journal, smscPort: upstream.port).all
        for streams in [stored, journal] {
            #expect(streams.count == 3)
            guard streams.count == 3 else { continue }
            #expect(streams[0].client == redactingPasswords(bind))
            #expect(streams[0].smsc == answer)
            #expect(streams[1].client == redactingPasswords(bind) + unbindResponse)
            #expect(streams[1].smsc == unbind)
        }
    }

    /// A reset from either side in the middle of a window: the other side is reset, and what passed before is kept.
    @Test(arguments: ["client", "smsc"])
    func aResetMidWindowIsPassedOnAndWhatPassedIsKept(resetBy: String) throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch)
        let baseline = proxy.settledDescriptors()
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        let requests =
            Sample.bind(sequence: 1) + (2...11).flatMap { Sample.submit(sequence: UInt32($0), text: "window \($0)") }
        try client.send(requests)
        #expect(server.receive(atLeast: requests.count).bytes == requests)
        // Half the window answered, then the reset.
        let answers =
            Sample.bindResponse(sequence: 1)
            + (2...6).flatMap { Sample.submitResponse(sequence: UInt32($0), id: "M\($0)") }
        try server.send(answers)
        #expect(client.receive(atLeast: answers.count).bytes == answers)
        if resetBy == "client" {
            client.reset()
            let seen = server.receive(timeout: 5)
            #expect(seen.closed && seen.reset, "the SMSC sees a reset")
        } else {
            server.reset()
            let seen = client.receive(timeout: 5)
            #expect(seen.closed && seen.reset, "the client sees a reset")
        }
        #expect(proxy.waitForMetrics { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        try aSessionGoesThrough(port: proxy.port, upstream: upstream)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        #expect(try storedSessions(proxy.store).first?.close == "rst")
        for streams in [
            try storedStreams(proxy, scratch: scratch), try CapturedStreams(proxy.journal, smscPort: upstream.port).all,
        ] {
            #expect(streams.first?.client == redactingPasswords(requests))
            #expect(streams.first?.smsc == answers)
        }
    }

    /// An SMSC that accepts and never answers: the idle limit closes a silent session, the half-close limit one
    /// the client half-closed; both are counted.
    @Test func anSMSCThatNeverAnswersIsBoundedByTheTimeouts() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(
            upstreamPort: upstream.port, scratch: scratch, ["--idle-timeout", "1.5", "--half-close-timeout", "0.5"])
        let baseline = proxy.settledDescriptors()
        let bind = Sample.bind(sequence: 1)

        let silent = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        try silent.send(bind)
        #expect(server.receive(atLeast: bind.count).bytes == bind)
        let closedByIdle = silent.receive(timeout: 5)
        #expect(closedByIdle.closed && closedByIdle.bytes.isEmpty, "the client sees the session close")
        #expect(server.receive(timeout: 5).closed, "and so does the SMSC")

        let halfClosed = try SocketConnection.connect(port: proxy.port)
        let server2 = try upstream.accept()
        try halfClosed.send(bind)
        halfClosed.shutdownOutput()
        let atSMSC = server2.receive(timeout: 5)
        #expect(atSMSC.bytes == bind && atSMSC.closed, "the FIN reaches the SMSC, which keeps its side open")
        #expect(halfClosed.receive(timeout: 5).closed, "the half-close limit ends the session")

        let settled = proxy.waitForMetrics { $0["smppscope_sessions_open"] == 0 }
        #expect(settled["smppscope_sessions_open"] == 0)
        #expect(settled["smppscope_limit_reached_total{limit=\"idle_timeout\"}"] == 1)
        #expect(settled["smppscope_limit_reached_total{limit=\"half_close_timeout\"}"] == 1)
        server.closeNow()
        server2.closeNow()
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        #expect(
            proxy.errors(containing: "no byte passed within --idle-timeout").contains(
                "no byte passed within --idle-timeout"))
        try aSessionGoesThrough(port: proxy.port, upstream: upstream)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        for streams in [
            try storedStreams(proxy, scratch: scratch), try CapturedStreams(proxy.journal, smscPort: upstream.port).all,
        ] {
            #expect(streams.count == 3)
            #expect(streams.prefix(2).allSatisfy { $0.client == redactingPasswords(bind) && $0.smsc.isEmpty })
        }
    }

    /// The SMSC's connection cannot be made in time: the client is closed with the reason, and it is counted.
    @Test func aConnectTimeoutClosesTheClient() throws {
        let scratch = try Scratch()
        // A full accept queue: the proxy's SYN goes unanswered.
        let upstream = try Listener(backlog: 0)
        let filler = try SocketConnection.connect(port: upstream.port)
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, ["--connect-timeout", "0.5"])
        let baseline = proxy.settledDescriptors()
        let waiting = try SocketConnection.connect(port: proxy.port)
        try waiting.send(Sample.bind(sequence: 1))
        #expect(waiting.receive(timeout: 5).closed, "the client is closed when the SMSC cannot be reached in time")
        let timedOut = proxy.waitForMetrics { $0["smppscope_limit_reached_total{limit=\"connect_timeout\"}"] == 1 }
        #expect(timedOut["smppscope_limit_reached_total{limit=\"connect_timeout\"}"] == 1)
        #expect(timedOut["smppscope_sessions_open"] == 0)
        #expect(proxy.errors(containing: "cannot reach the SMSC").contains("cannot reach the SMSC"))
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        try upstream.accept().closeNow()
        filler.closeNow()
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        #expect(try storedSessions(proxy.store).isEmpty, "a session whose SMSC was never reached is not recorded")
    }

    /// Clients beyond the session limits are refused at once, counted, and never reach the SMSC.
    @Test func clientsBeyondTheSessionLimitsAreRefused() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(
            upstreamPort: upstream.port, scratch: scratch, ["--max-sessions-per-client", "2"])
        let baseline = proxy.settledDescriptors()
        // Two sessions from one address are allowed, the third is refused.
        let first = try SocketConnection.connect(port: proxy.port)
        let second = try SocketConnection.connect(port: proxy.port)
        let servers = [try upstream.accept(), try upstream.accept()]
        let third = try SocketConnection.connect(port: proxy.port)
        #expect(third.receive(timeout: 5).closed, "refused at once")
        let refused = proxy.waitForMetrics {
            $0["smppscope_limit_reached_total{limit=\"max_sessions_per_client\"}"] == 1
        }
        #expect(refused["smppscope_limit_reached_total{limit=\"max_sessions_per_client\"}"] == 1)
        #expect(
            proxy.errors(containing: "the most --max-sessions-per-client allows").contains(
                "the most --max-sessions-per-client allows"))
        #expect((try? upstream.accept(timeout: 0.3)) == nil, "a refused client never reaches the SMSC")
        first.closeNow()
        second.closeNow()
        for server in servers {
            #expect(server.receive(timeout: 5).closed)
            server.closeNow()
        }
        #expect(proxy.waitForMetrics { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        // Room again: a new session goes through.
        try aSessionGoesThrough(port: proxy.port, upstream: upstream)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
    }

    /// A client that does not read while the SMSC sends a lot: backpressure holds the SMSC back, the proxy's memory
    /// stays flat however much waits to be sent, and once the client reads it gets every byte.
    @Test func aSlowReadingClientKeepsTheProxysMemoryBounded() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, withStore: false)
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        try client.send(Sample.bind(sequence: 1))
        _ = server.receive(atLeast: Sample.bind(sequence: 1).count)
        let before = proxy.residentKiB
        // 24 MB of deliver_sm, sent from a thread in 1 MB pieces: it blocks while the client does not read.
        let deliver = Sample.deliver(sequence: 0, text: String(repeating: "x", count: 140))
        let count = (24 << 20) / deliver.count
        var payload = [UInt8](repeating: 0, count: count * deliver.count)
        payload.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<count {
                let base = index * deliver.count
                for offset in 0..<deliver.count { buffer[base + offset] = deliver[offset] }
                // Sequence numbers 1, 2, 3...
                let sequence = UInt32(index + 1)
                buffer[base + 12] = UInt8(sequence >> 24)
                buffer[base + 13] = UInt8((sequence >> 16) & 0xFF)
                buffer[base + 14] = UInt8((sequence >> 8) & 0xFF)
                buffer[base + 15] = UInt8(sequence & 0xFF)
            }
        }
        let sent = Counter()
        let chunks = stride(from: 0, to: payload.count, by: 1 << 20).map {
            Array(payload[$0..<min(payload.count, $0 + (1 << 20))])
        }
        let sender = Thread {
            for chunk in chunks {
                guard (try? server.send(chunk)) != nil else { return }
                sent.add(chunk.count)
            }
        }
        sender.start()
        usleep(2_000_000)
        let first = (proxy.residentKiB, sent.value)
        usleep(2_000_000)
        let second = (proxy.residentKiB, sent.value)
        #expect(second.1 < payload.count / 2, "backpressure holds the SMSC back (\(second.1) bytes sent)")
        #expect(second.1 - first.1 < 2 << 20, "nothing more is taken from the SMSC while the client does not read")
        #expect(second.0 - first.0 < 4 * 1024, "RSS \(first.0) → \(second.0) KiB while the client does not read")
        #expect(second.0 - before < 48 * 1024, "RSS \(before) → \(second.0) KiB")
        let received = client.receive(atLeast: payload.count, timeout: 120)
        #expect(received.bytes.count == payload.count)
        #expect(received.bytes == payload, "every byte arrives, in order")
        client.closeNow()
        #expect(server.receive(timeout: 5).closed)
        server.closeNow()
        #expect(
            proxy.waitForMetrics(seconds: 30) { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        let journal = try CapturedStreams(proxy.journal, smscPort: upstream.port).all
        #expect(journal.first?.smsc == payload, "the journal holds every PDU the SMSC sent")
    }

    /// Ten thousand short sessions one after another: nothing accumulates.
    @Test func tenThousandSequentialShortSessions() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let count = 10_000
        // The SMSC side: answers each connection's enquire_link and closes.
        let smsc = Thread {
            for _ in 0..<count {
                guard let server = try? upstream.accept() else { return }
                let request = server.receive(atLeast: 16, timeout: 5).bytes
                guard request.count == 16 else { continue }
                let sequence =
                    UInt32(request[12]) << 24 | UInt32(request[13]) << 16 | UInt32(request[14]) << 8
                    | UInt32(request[15])
                try? server.send(Sample.bytes(PDU(.enquireLinkResp, sequence: sequence)))
                _ = server.receive(timeout: 5)
                server.closeNow()
            }
        }
        smsc.start()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch)
        let baseline = proxy.settledDescriptors()
        var answered = 0
        for index in 0..<count {
            let client = try SocketConnection.connect(port: proxy.port)
            let sequence = UInt32(index + 1)
            try client.send(Sample.enquireLink(sequence: sequence))
            if client.receive(atLeast: 16, timeout: 5).bytes == Sample.bytes(PDU(.enquireLinkResp, sequence: sequence))
            {
                answered += 1
            }
            client.closeNow()
        }
        #expect(answered == count)
        let settled = proxy.waitForMetrics(seconds: 30) {
            $0["smppscope_sessions_open"] == 0 && $0["smppscope_sessions_total"] == Double(count)
        }
        #expect(settled["smppscope_sessions_open"] == 0)
        #expect(settled["smppscope_sessions_total"] == Double(count))
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        let sessions = try storedSessions(proxy.store)
        #expect(sessions.count == count)
        #expect(sessions.allSatisfy { $0.pdus == 2 && $0.close != nil })
    }

    /// Ctrl-C / SIGTERM with a session open: it is given --drain seconds, then closed on both sides; the store is
    /// complete and the exit status 0.
    @Test func sigtermDrainsThenClosesWhatIsLeft() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, ["--drain", "1"])
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        let bind = Sample.bind(sequence: 1)
        try client.send(bind)
        #expect(server.receive(atLeast: bind.count).bytes == bind)
        let started = Date()
        kill(proxy.pid, SIGTERM)
        // During the drain the session still works.
        usleep(300_000)
        let answer = Sample.bindResponse(sequence: 1)
        try server.send(answer)
        #expect(client.receive(atLeast: answer.count, timeout: 5).bytes == answer)
        #expect(client.receive(timeout: 5).closed, "closed once the drain is over")
        #expect(server.receive(timeout: 5).closed)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        #expect(Date().timeIntervalSince(started) >= 1)
        #expect(proxy.errors.contains("closing 1 sessions still open"))
        let listed = try smppscope(["sessions", "--store", proxy.store, "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
        #expect((json?["sources"] as? [[String: Any]])?.first?["complete"] as? Bool == true)
        #expect(try storedSessions(proxy.store).first?.pdus == 2)
    }

    /// --live prints every PDU as it passes, as `decode` prints it, passwords redacted.
    @Test func liveShowsEachPDUAsItPasses() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, ["--live"])
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        let requests = Sample.bind(sequence: 1) + Sample.submit(sequence: 2, text: "seen live")
        try client.send(requests)
        #expect(server.receive(atLeast: requests.count).bytes == requests)
        let answers = Sample.bindResponse(sequence: 1) + Sample.submitResponse(sequence: 2, id: "L1")
        try server.send(answers)
        #expect(client.receive(atLeast: answers.count).bytes == answers)
        let deadline = Date().addingTimeInterval(5)
        while !proxy.printed.contains("message_id=L1"), Date() < deadline { usleep(20_000) }
        let lines = proxy.printed.split(separator: "\n").filter { $0.contains("ESME→SMSC") || $0.contains("SMSC→ESME") }
        #expect(lines.count == 4)
        #expect(lines.first?.contains("bind_transceiver") == true)
        #expect(lines.first?.contains("password=<redacted>") == true)
        #expect(!proxy.printed.contains("secret"), "the bind's password is not printed")
        #expect(lines.contains { $0.contains("submit_sm ") && $0.contains("seen live") })
        client.closeNow()
        server.closeNow()
        #expect(proxy.stop() == 0, "\(proxy.errors)")
    }

    /// --pcap-rotate: the journal goes on in numbered files, which together hold every byte.
    @Test func theJournalRotatesAndTheFilesTogetherHoldEverything() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, ["--pcap-rotate", "1"])
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        var sent: [UInt8] = []
        for sequence in 1...12_000 {
            sent += Sample.submit(sequence: UInt32(sequence), text: "rotation \(sequence)")
        }
        try client.send(sent)
        #expect(server.receive(atLeast: sent.count, timeout: 30).bytes == sent)
        client.closeNow()
        server.closeNow()
        #expect(
            proxy.waitForMetrics(seconds: 30) { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        let stem = proxy.journal.replacingOccurrences(of: ".pcapng", with: "")
        var files = [proxy.journal]
        while FileManager.default.fileExists(atPath: "\(stem).\(files.count).pcapng") {
            files.append("\(stem).\(files.count).pcapng")
        }
        #expect(files.count >= 2, "a 1 MB limit over ~\(sent.count >> 20) MB of traffic makes several files")
        var carried: [UInt8] = []
        for file in files {
            for stream in try CapturedStreams(file, smscPort: upstream.port).all { carried += stream.client }
        }
        #expect(carried == sent)
        // smppscope reads the files together as one recording.
        let decoded = try smppscope(["analyze", "--format", "json"] + [files[0]])
        #expect(decoded.status == 0)
    }
}

/// A count shared between threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0

    func add(_ amount: Int) {
        lock.lock()
        total += amount
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}

/// Accepts connections on a listener in the background and reads each until it closes.
final class AcceptLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var open = 0
    private var seen = 0
    private var stopped = false

    init(_ listener: Listener) {
        let thread = Thread { [self] in
            while !isStopped {
                guard let connection = try? listener.accept(timeout: 0.2) else { continue }
                change(by: 1)
                let reader = Thread { [self] in
                    _ = connection.receive(timeout: 30)
                    connection.closeNow()
                    change(by: -1)
                }
                reader.start()
            }
        }
        thread.start()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func change(by amount: Int) {
        lock.lock()
        open += amount
        if amount > 0 { seen += amount }
        lock.unlock()
    }

    /// Waits until every accepted connection was closed by the proxy.
    func waitForAllClosed(seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            lock.lock()
            let left = open
            lock.unlock()
            if left == 0 { return true }
            usleep(20_000)
        }
        return false
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        usleep(300_000)
    }
}

/// Runs the smpplib client through `port`: `count` submits, or killed by itself after `killAfter`. Returns its exit
/// status and its log.
func runSmpplibClient(port: Int, count: Int, killAfter: Int? = nil, scratch: Scratch) throws -> (Int32, PeerLog) {
    let log = scratch.path("smpplib-\(UUID().uuidString).log")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
        ["python3", FaultPeers.smpplib, "127.0.0.1", String(port), log, String(count)]
        + (killAfter.map { ["--kill-after", String($0)] } ?? [])
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, PeerLog(log))
}

/// Waits until a peer log says `predicate`, or `seconds` pass.
func waitForLog(_ read: () -> PeerLog, seconds: Double = 10, _ predicate: (PeerLog) -> Bool) -> PeerLog {
    let deadline = Date().addingTimeInterval(seconds)
    var log = read()
    while !predicate(log), Date() < deadline {
        usleep(50_000)
        log = read()
    }
    return log
}

@Suite(
    "Record between real peers", .serialized,
    .enabled(
        if: Paths.binary != nil && FaultPeers.tshark && FaultPeers.perlNetSMPP && FaultPeers.pythonSmpplib,
        "needs a built smppscope, tshark, Perl Net::SMPP (libnet-smpp-perl) and python smpplib"))
struct RecordRealPeerTests {
    /// python smpplib through the proxy to Perl Net::SMPP: each side's own log of its socket is the oracle.
    @Test func smpplibAndNetSMPPSeeEachOthersBytesAndTheRecordingHoldsThem() throws {
        let scratch = try Scratch()
        let server = try NetSMPPServer(scratch: scratch)
        let proxy = try RecordProcess(upstreamPort: server.port, scratch: scratch)
        let baseline = proxy.settledDescriptors()
        let (status, client) = try runSmpplibClient(port: proxy.port, count: 30, scratch: scratch)
        #expect(status == 0)
        #expect(client.lines.last == "done", "smpplib finished its session cleanly")
        let smsc = waitForLog({ server.peerLog }) { $0.lines.contains("1 closed") }
        let clientSide = client.connections[0] ?? ([], [])
        let smscSide = smsc.connections[1] ?? ([], [])
        #expect(!clientSide.sent.isEmpty)
        #expect(smscSide.received == clientSide.sent, "Net::SMPP read exactly what smpplib wrote")
        #expect(clientSide.received == smscSide.sent, "smpplib read exactly what Net::SMPP wrote")
        #expect(proxy.waitForMetrics { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        for streams in [
            try storedStreams(proxy, scratch: scratch), try CapturedStreams(proxy.journal, smscPort: server.port).all,
        ] {
            #expect(streams.count == 1)
            #expect(streams.first?.client == redactingPasswords(clientSide.sent))
            #expect(streams.first?.smsc == smscSide.sent)
        }
        #expect(try storedSessions(proxy.store).first?.close == "fin", "Net::SMPP closes after its unbind_resp")
    }

    /// smpplib killed with SIGKILL in the middle of its window: Net::SMPP got every byte it wrote, and the recording
    /// holds them; what Net::SMPP answered afterwards is recorded as far as it reached the proxy.
    @Test func aClientKilledMidWindow() throws {
        let scratch = try Scratch()
        let server = try NetSMPPServer(scratch: scratch)
        let proxy = try RecordProcess(upstreamPort: server.port, scratch: scratch)
        let baseline = proxy.settledDescriptors()
        let (status, client) = try runSmpplibClient(port: proxy.port, count: 30, killAfter: 10, scratch: scratch)
        #expect(status == SIGKILL, "the client died by SIGKILL")
        let smsc = waitForLog({ server.peerLog }) { $0.lines.contains("1 closed") }
        #expect(smsc.lines.contains("1 closed"), "the SMSC saw the connection end")
        let clientSide = client.connections[0] ?? ([], [])
        let smscSide = smsc.connections[1] ?? ([], [])
        #expect(smscSide.received == clientSide.sent, "everything the client wrote before it died reached the SMSC")
        #expect(smscSide.sent.starts(with: clientSide.received))
        #expect(proxy.waitForMetrics { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        // The proxy goes on: a whole session through it.
        let (again, second) = try runSmpplibClient(port: proxy.port, count: 3, scratch: scratch)
        #expect(again == 0 && second.lines.last == "done")
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        for streams in [
            try storedStreams(proxy, scratch: scratch), try CapturedStreams(proxy.journal, smscPort: server.port).all,
        ] {
            #expect(streams.count == 2)
            guard let first = streams.first else { continue }
            #expect(first.client == redactingPasswords(clientSide.sent))
            #expect(smscSide.sent.starts(with: first.smsc), "what the SMSC sent, as far as it reached the proxy")
            #expect(first.smsc.starts(with: clientSide.received))
        }
    }

    /// Net::SMPP killed with SIGKILL in the middle of a session and started again on the same port: the client
    /// sees its session end, and the next session goes through the same proxy.
    @Test func anSMSCKilledAndRestarted() throws {
        let scratch = try Scratch()
        var server = try NetSMPPServer(scratch: scratch)
        let port = server.port
        let proxy = try RecordProcess(upstreamPort: port, scratch: scratch)
        let baseline = proxy.settledDescriptors()
        let client = try SocketConnection.connect(port: proxy.port)
        let requests =
            Sample.bind(sequence: 1)
            + (2...6).flatMap { Sample.submit(sequence: UInt32($0), text: "before the crash \($0)") }
        try client.send(requests)
        let answers = client.receive(atLeast: 24 + 5 * 21, timeout: 5).bytes
        server.kill9()
        let end = client.receive(timeout: 5)
        #expect(end.closed, "the client sees the SMSC go")
        // As a client does when its SMSC goes: it closes too (until then the session is half-closed, as on a wire).
        client.closeNow()
        let killed = server.peerLog.connections[1] ?? ([], [])
        #expect(killed.received == requests)
        #expect(answers + end.bytes == killed.sent)
        #expect(proxy.waitForMetrics { $0["smppscope_sessions_open"] == 0 }["smppscope_sessions_open"] == 0)
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")

        server = try NetSMPPServer(scratch: scratch, port: port)
        let (status, log) = try runSmpplibClient(port: proxy.port, count: 5, scratch: scratch)
        #expect(status == 0 && log.lines.last == "done", "the next session goes through the restarted SMSC")
        let restarted = waitForLog({ server.peerLog }) { $0.lines.contains("1 closed") }.connections[1] ?? ([], [])
        #expect(restarted.received == log.connections[0]?.sent)
        #expect(proxy.waitForDescriptors(baseline) == baseline, "\(proxy.descriptorList)")
        #expect(proxy.stop() == 0, "\(proxy.errors)")
        for streams in [
            try storedStreams(proxy, scratch: scratch), try CapturedStreams(proxy.journal, smscPort: port).all,
        ] {
            #expect(streams.count == 2)
            guard streams.count == 2 else { continue }
            #expect(streams[0].client == redactingPasswords(requests))
            #expect(streams[0].smsc == killed.sent)
            #expect(streams[1].client == redactingPasswords(log.connections[0]?.sent ?? []))
            #expect(streams[1].smsc == restarted.sent)
        }
    }
}

// `smppscope replay`'s options as users give them, against an SMSC nobody here wrote (Perl Net::SMPP, whose log of
// what it read is the oracle) and against `smppscope simulate` where a rule of its is needed (a rate limit, TLS).

import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A recorded session built here: a bind, then `count` distinct submits `gap` seconds apart, each answered at once.
func recordedSession(in scratch: Scratch, count: Int, gap: Double, name: String = "recorded.pcap") throws -> String {
    var conversation = TCPConversation(serverPort: 3_700)
    conversation.handshake()
    conversation.send(Sample.bind(), from: .client)
    conversation.send(Sample.bindResponse(), from: .server)
    for index in 0..<count {
        conversation.wait(microseconds: UInt32(gap * 1_000_000))
        conversation.send(Sample.submit(sequence: UInt32(2 + index), text: "recorded \(index)"), from: .client)
        conversation.send(Sample.submitResponse(sequence: UInt32(2 + index), id: "R\(index)"), from: .server)
    }
    let path = scratch.path(name)
    try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets)).write(to: URL(fileURLWithPath: path))
    return path
}

/// The frames a peer's log says it read on a connection, split at PDU boundaries.
func framesRead(_ bytes: [UInt8]) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    var offset = 0
    while offset + 16 <= bytes.count {
        let length =
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
            | Int(bytes[offset + 3])
        guard length >= 16, offset + length <= bytes.count else { break }
        frames.append(Array(bytes[offset..<(offset + length)]))
        offset += length
    }
    return frames
}

func commandID(_ frame: [UInt8]) -> UInt32 {
    UInt32(frame[4]) << 24 | UInt32(frame[5]) << 16 | UInt32(frame[6]) << 8 | UInt32(frame[7])
}

/// Runs replay with the password in the environment; returns the run and its JSON.
func replay(_ arguments: [String]) throws -> (Result, [String: Any]) {
    let run = try smppscope(
        ["replay"] + arguments + ["--format", "json"], environment: ["SMPPSCOPE_PASSWORD": "secret"])
    let json = (try? JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]) ?? [:]
    return (run, json)
}

@Suite(
    "Replay options", .serialized,
    .enabled(
        if: Paths.binary != nil && TShark.available && FaultPeers.perlNetSMPP,
        "needs a built smppscope, tshark and Perl Net::SMPP"))
struct ReplayOptionsTests {
    /// The smpplib capture replayed to Net::SMPP: the server read a bind with the replay's credentials, then every
    /// request the capture's client sent, in order, each submit_sm's body unchanged (tshark's reading of the
    /// capture is the oracle), and the source addresses rewritten where asked.
    @Test func netSMPPReadsTheCapturesRequestsInOrder() throws {
        let scratch = try Scratch()
        let server = try NetSMPPServer(scratch: scratch)
        let (run, json) = try replay(
            [
                Bundled.smpplib, "--target", "127.0.0.1:\(server.port)", "--system-id", "tester", "--fast", "--window",
                "10",
                "--rewrite-source", "SMSCKZ=REWRITTEN", "--receipt-wait", "0.2",
            ])
        #expect(run.status == 0, "\(run.errors)")
        let recorded = try TShark.pdus(Bundled.smpplib).filter { $0.commandID < 0x8000_0000 && $0.commandID != 5 }
        let log = waitForLog({ server.peerLog }) { $0.lines.contains("1 closed") }
        let read = framesRead(log.connections[1]?.received ?? [])
        #expect(read.map(commandID) == recorded.map(\.commandID), "the same requests in the same order")
        let bind = try PDU.decode(ByteBuffer(bytes: read.first ?? []))
        guard case .bind(let body) = bind.body else {
            Issue.record("the first PDU read is not a bind")
            return
        }
        #expect(body.systemID == "tester" && body.password == "secret")
        // Each submit_sm as recorded but for the source address.
        let submits = read.filter { commandID($0) == 4 }
        let recordedSubmits = recorded.filter { $0.commandID == 4 }
        #expect(submits.count == recordedSubmits.count)
        for (sent, original) in zip(submits, recordedSubmits) {
            let decoded = try PDU.decode(ByteBuffer(bytes: sent))
            #expect(decoded.destination?.address == original["destination_addr"])
            #expect(
                decoded.source?.address == (original["source_addr"] == "SMSCKZ" ? "REWRITTEN" : original["source_addr"])
            )
            #expect(decoded.messageOctets ?? [] == original.message)
        }
        #expect((json["requests"] as? [String: Int])?["sent"] == recorded.count - 1)
    }

    /// --loop sends the sessions again; --recorded-system-id chooses sessions by their bind; --record-pcap and
    /// --record-store keep the replay's own traffic.
    @Test func loopChoosingSessionsAndRecordingTheReplay() throws {
        let scratch = try Scratch()
        let server = try NetSMPPServer(scratch: scratch)
        let capture = try recordedSession(in: scratch, count: 4, gap: 0.01)
        let pcap = scratch.path("replay.pcapng")
        let store = scratch.path("replay.sqlite")
        let (run, json) = try replay(
            [
                capture, "--target", "127.0.0.1:\(server.port)", "--fast", "--window", "5", "--loop", "2",
                "--recorded-system-id", "esme", "--record-pcap", pcap, "--record-store", store, "--receipt-wait", "0.1",
            ])
        #expect(run.status == 0, "\(run.errors)")
        #expect((json["requests"] as? [String: Int])?["sent"] == 8, "four submits, twice")
        let log = waitForLog({ server.peerLog }) { $0.connections.count >= 2 }
        #expect(log.connections.count == 2, "one session per pass")
        for connection in [1, 2] {
            // The recording had no unbind: the replay ends each session with one.
            #expect(framesRead(log.connections[connection]?.received ?? []).map(commandID) == [9, 4, 4, 4, 4, 6])
        }
        // The replay's own traffic, as tshark reads the journal and as the store lists it.
        let journal = try TShark.pdus(pcap, decodeAs: server.port)
        #expect(journal.filter { $0.commandID == 4 }.count == 8)
        #expect(journal.filter { $0.commandID == 0x8000_0004 }.count == 8)
        let sessions = try storedSessions(store)
        #expect(sessions.count == 2 && sessions.allSatisfy { $0.pdus == 12 }, "\(sessions)")

        let (none, _) = try replay([
            capture, "--target", "127.0.0.1:\(server.port)", "--recorded-system-id", "someone-else",
        ])
        #expect(none.status != 0)
        #expect(none.errors.contains("sent nothing") || none.errors.contains("no session"), "\(none.errors)")
    }

    /// --speed keeps the recorded gaps divided by it; --rate sends each session's requests at that rate.
    @Test func speedAndRateSetThePace() throws {
        let scratch = try Scratch()
        let server = try NetSMPPServer(scratch: scratch)
        // Ten submits a second apart: nine seconds as recorded.
        let capture = try recordedSession(in: scratch, count: 10, gap: 1)
        for (pace, seconds) in [(["--speed", "6"], 9.0 / 6), (["--rate", "8"], 9.0 / 8)] {
            let (run, json) = try replay(
                [capture, "--target", "127.0.0.1:\(server.port)", "--receipt-wait", "0"] + pace)
            #expect(run.status == 0, "\(pace): \(run.errors)")
            let took = json["seconds"] as? Double ?? 0
            #expect(took >= seconds * 0.95 && took < seconds + 2, "\(pace): \(took) s, \(seconds) s expected")
            #expect((json["requests"] as? [String: Int])?["sent"] == 10)
        }
    }

    /// --on-throttle against a simulator that accepts five submits a second: ten sent at once, five throttled.
    @Test func onThrottleDecidesWhatHappensToThrottledRequests() throws {
        let scratch = try Scratch()
        let capture = try recordedSession(in: scratch, count: 10, gap: 0.001)
        for (mode, changed) in [("give-up", 5), ("as-recorded", 5), ("resend", 0)] {
            try withRunningSimulator(["--account", "esme:secret:5", "--receipt-delay", "0.05-0.1"]) { port in
                let (run, json) = try replay(
                    [
                        capture, "--target", "127.0.0.1:\(port)", "--fast", "--window", "10", "--on-throttle", mode,
                        "--receipt-wait", "0",
                    ])
                #expect(run.status == 0, "\(mode): \(run.errors)")
                let changes = (json["status_changes"] as? [[String: Any]]) ?? []
                let toThrottled = changes.filter { $0["replay"] as? String == "ESME_RTHROTTLED" }.reduce(0) {
                    $0 + (($1["count"] as? Int) ?? 0)
                }
                #expect(toThrottled == changed, "--on-throttle \(mode)")
                #expect((json["throttled"] as? [String: Int])?["replay"] == 5, "\(mode): five refused at first")
            }
        }
    }

    /// --response-timeout and --ignore-missing: a target that accepts the bind and never answers a submit leaves
    /// every submit missing its response; the rule sets them apart. --ignore-command sets one command's changes apart.
    @Test func timeoutsAndIgnoreRules() throws {
        let scratch = try Scratch()
        let silent = try NetSMPPServer(scratch: scratch, mode: "bind-only")
        let capture = try recordedSession(in: scratch, count: 3, gap: 0.01)
        let (counted, json) = try replay(
            [
                capture, "--target", "127.0.0.1:\(silent.port)", "--fast", "--window", "5", "--response-timeout", "0.5",
                "--receipt-wait", "0", "--max-differences", "0",
            ])
        #expect(counted.status == 1, "three submits unanswered are differences")
        let unanswered = (json["status_changes"] as? [[String: Any]] ?? []).filter {
            $0["replay"] as? String == "no response"
        }
        #expect(unanswered.reduce(0) { $0 + (($1["count"] as? Int) ?? 0) } == 3)
        #expect(json["differences"] as? Int == 3)
        let (ignored, ignoredJSON) = try replay(
            [
                capture, "--target", "127.0.0.1:\(silent.port)", "--fast", "--window", "5", "--response-timeout", "0.5",
                "--receipt-wait", "0", "--ignore-missing", "--max-differences", "0",
            ])
        #expect(ignored.status == 0, "set apart: \(ignored.errors)")
        #expect(ignoredJSON["differences"] as? Int == 0)
        #expect(
            (ignoredJSON["ignored_changes"] as? [[String: Any]] ?? []).reduce(0) { $0 + (($1["count"] as? Int) ?? 0) }
                == 3)

        // --ignore-command: the smpplib capture's query_sm come back as generic_nack from Net::SMPP.
        let server = try NetSMPPServer(scratch: scratch)
        let (_, withQueries) = try replay(
            [
                Bundled.smpplib, "--target", "127.0.0.1:\(server.port)", "--system-id", "tester", "--fast", "--window",
                "10", "--receipt-wait", "0",
            ])
        let (_, withoutQueries) = try replay(
            [
                Bundled.smpplib, "--target", "127.0.0.1:\(server.port)", "--system-id", "tester", "--fast", "--window",
                "10", "--receipt-wait", "0",
                "--ignore-command", "query_sm",
            ])
        let queries = try TShark.pdus(Bundled.smpplib).filter { $0.commandID == 3 }.count
        #expect(queries > 0)
        #expect((withQueries["differences"] as? Int ?? 0) - (withoutQueries["differences"] as? Int ?? 0) == queries)
    }

    /// Replaying from a store: the selection options choose what is replayed (the plan, in a dry run).
    @Test func storeSelectionsChooseWhatIsReplayed() throws {
        let scratch = try Scratch()
        let store = scratch.path("store.sqlite")
        let key = scratch.path("key")
        try String(repeating: "ef", count: 32).write(toFile: key, atomically: true, encoding: .utf8)
        #expect(
            try smppscope(["import", Bundled.smpplib, Bundled.kannel, "--store", store, "--password-key", key]).status
                == 0)
        func planned(_ selection: [String]) throws -> Int {
            let run = try smppscope(["replay", "--store", store, "--target", "127.0.0.1:9", "--dry-run"] + selection)
            #expect(run.status == 0, "\(selection): \(run.errors)")
            return run.output.split(separator: "\n").filter { $0.hasPrefix("  +") }.count
        }
        let kannelRequests = try TShark.pdus(Bundled.kannel, decodeAs: 3701)
            .filter { $0.commandID < 0x8000_0000 && ![5, 9].contains($0.commandID) }.count
        #expect(try planned(["--source", "2"]) == kannelRequests)
        #expect(try planned(["--source", "2", "--password-key", key]) == kannelRequests)
        // --from/--to choose the sessions bound within; each is replayed whole.
        let bind = try TShark.pdus(Bundled.kannel, decodeAs: 3701).first(where: { $0.commandID == 9 })
        let bindFrame: Int = bind?.frame ?? 0
        let times = try frameTimes(Bundled.kannel)
        let bound = times[bindFrame] ?? 0
        #expect(try planned(["--source", "2", "--to", String(format: "%.6f", bound + 1)]) == kannelRequests)
        #expect(
            try planned([
                "--source", "2", "--from", String(format: "%.6f", bound - 1), "--to", String(format: "%.6f", bound + 1),
            ]) == kannelRequests)
        let after = try smppscope([
            "replay", "--store", store, "--source", "2", "--target", "127.0.0.1:9", "--dry-run", "--from",
            String(format: "%.6f", bound + 1),
        ])
        #expect(
            after.output.split(separator: "\n").filter { $0.hasPrefix("  +") }.isEmpty,
            "no session was bound after \(bound + 1)")
        // Selections of single PDUs cannot make a session: refused with what to use instead.
        for selection in [["--receipt-state", "UNDELIV"], ["--destination", "77013000009"]] {
            let refused = try smppscope(
                ["replay", "--store", store, "--target", "127.0.0.1:9", "--dry-run"] + selection)
            #expect(
                refused.status != 0 && refused.errors.contains("replay sends whole sessions"),
                "\(selection): \(refused.errors)")
        }
        // --max-pdu-length on a capture: longer PDUs are not read, so not replayed.
        let short = try TShark.pdus(Bundled.smpplib)
            .filter { $0.commandID < 0x8000_0000 && $0.commandID != 9 && (Int($0["command_length"] ?? "") ?? 0) <= 100 }
            .count
        let run = try smppscope([
            "replay", Bundled.smpplib, "--target", "127.0.0.1:9", "--dry-run", "--max-pdu-length", "100",
        ])
        #expect(run.output.split(separator: "\n").filter { $0.hasPrefix("  +") }.count == short)
        // --filter belongs to live capture.
        let filter = try smppscope([
            "replay", Bundled.smpplib, "--target", "127.0.0.1:9", "--dry-run", "--filter", "tcp port 3700",
        ])
        #expect(filter.status != 0 && filter.errors.contains("--interface"), "\(filter.errors)")
    }

    /// TLS to the target: verified against a given CA, refused without it (a self-signed certificate), not verified.
    @Test func tlsToTheTarget() throws {
        let scratch = try Scratch()
        let (certificate, key) = makeCertificate(in: scratch)
        let capture = try recordedSession(in: scratch, count: 2, gap: 0.01)
        let tlsPort = freePort()
        let simulator = try RecordProcessLike.start(
            [
                "simulate", "--listen", "127.0.0.1:\(freePort())", "--tls-listen", "127.0.0.1:\(tlsPort)", "--cert",
                certificate, "--key", key,
                "--log", "none",
            ], ready: "Ctrl-C", environment: ["SMPPSCOPE_SIMULATOR_ACCOUNTS": "esme:secret"])
        defer { _ = simulator.stop() }
        for (options, works) in [
            (["--tls", "--tls-ca", certificate], true), (["--tls"], false), (["--tls-no-verify"], true),
        ] {
            let (run, json) = try replay(
                [capture, "--target", "127.0.0.1:\(tlsPort)", "--fast", "--window", "2", "--receipt-wait", "0"]
                    + options)
            #expect((json["requests"] as? [String: Int])?["answered"] == (works ? 2 : 0), "\(options): \(run.errors)")
            if !works { #expect(run.status != 0 && run.errors.contains("sent nothing"), "\(options): \(run.errors)") }
        }
    }
}

// `smppscope replay` as users run it: against `smppscope simulate`, with JSON, HTML, ignore rules and the exit
// code CI relies on; and the safety rules (remote targets, passwords, dry runs).

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(
    "Replay command", .serialized, .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct ReplayCommandTests {
    /// A simulator without a rate limit, for one test.
    func withSimulator(_ body: (Int) throws -> Void) throws {
        try withRunningSimulator(["--account", "shop:secret:1000000", "--receipt-delay", "0.05-0.2"], body)
    }

    /// What a replay of the smpplib capture against an SMSC without a rate limit must give, worked out from tshark's
    /// reading of the capture: every client request after the bind is sent; each message sent for the first time
    /// is accepted (so the first attempts the recording saw throttled change to ESME_ROK); each message sent again
    /// is refused as a repeat within 60 s; and each distinct message gets one receipt, as in the recording.
    struct Oracle {
        var planned = 0
        var throttledFirstAttempts = 0
        var repeats = 0
        var receipts = 0

        init(_ capture: String) throws {
            let pdus = try TShark.pdus(capture)
            var client: [TShark.PDU] = []
            var statuses: [UInt32: UInt32] = [:]
            // tshark's JSON gives the SMPP layer only: tell the sides by the command (requests from the client are
            // bind/submit/query/enquire/unbind; from the SMSC, deliver_sm and responses to the client's requests).
            for pdu in pdus {
                let id = pdu.commandID
                if id == 0x8000_0004 { statuses[pdu.sequenceNumber] = pdu.commandStatus }
                if id < 0x8000_0000, id != 5 { client.append(pdu) }
                if id == 5, pdu["esm.submit.msg_type"] == "0x01" { receipts += 1 }
            }
            planned = client.filter { ![1, 2, 9].contains($0.commandID) }.count
            var seen = Set<[UInt8]>()
            for submit in client where submit.commandID == 4 {
                let key = Array((submit["destination_addr"] ?? "").utf8) + [0] + submit.message
                if seen.contains(key) {
                    repeats += 1
                } else {
                    seen.insert(key)
                    if statuses[submit.sequenceNumber] == 0x58 { throttledFirstAttempts += 1 }
                }
            }
        }
    }

    @Test(.enabled(if: TShark.available, "needs tshark"))
    func theDifferencesDecideTheExitCodeAndIgnoreRulesSetThemApart() throws {
        let oracle = try Oracle(Paths.capture)
        #expect(oracle.throttledFirstAttempts > 0 && oracle.repeats > 0 && oracle.receipts > 0)
        let scratch = try Scratch()
        let password = scratch.path("password")
        try "secret\n".write(toFile: password, atomically: true, encoding: .utf8)
        let html = scratch.path("replay.html")
        var counted: [String: Any] = [:]
        try withSimulator { port in
            let run = try smppscope(
                [
                    "replay", Paths.capture, "--target", "127.0.0.1:\(port)", "--system-id", "shop", "--password-file",
                    password,
                    "--fast", "--window", "10", "--format", "json", "--html", html, "--max-differences", "0",
                ])
            #expect(run.status == 1, "the recording's throttled first attempts are accepted now: differences")
            #expect(run.errors.contains("more than the 0 allowed"))
            counted = (try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]) ?? [:]
        }
        let requests = counted["requests"] as? [String: Int]
        #expect(requests?["planned"] == oracle.planned)
        #expect(requests?["sent"] == oracle.planned)
        #expect(requests?["answered"] == oracle.planned)
        let changes = counted["status_changes"] as? [[String: Any]] ?? []
        let accepted = changes.first {
            $0["recording"] as? String == "ESME_RTHROTTLED" && $0["replay"] as? String == "ESME_ROK"
        }
        #expect(accepted?["count"] as? Int == oracle.throttledFirstAttempts)
        // The recorded client resent each throttled submit; with the first attempt accepted, the simulator refuses
        // the resend as a repeat, and the explanation says so.
        let repeats = changes.filter {
            ($0["explanation"] as? String)?.contains("sent this again after ESME_RTHROTTLED") == true
        }
        #expect(repeats.reduce(0) { $0 + (($1["count"] as? Int) ?? 0) } == oracle.repeats)
        #expect((counted["receipts"] as? [String: Any])?["replay"] as? Int == oracle.receipts)
        let page = (try? String(contentsOfFile: html, encoding: .utf8)) ?? ""
        #expect(page.contains("<h1>SMPP replay</h1>"))
        #expect(page.contains("ESME_RTHROTTLED"))
        #expect(page.contains("<table>"))
        #expect(page.contains("as fast as the window allowed"))

        try withSimulator { port in
            let run = try smppscope(
                [
                    "replay", Paths.capture, "--target", "127.0.0.1:\(port)", "--system-id", "shop", "--password-file",
                    password,
                    "--fast", "--window", "10", "--format", "json", "--max-differences", "0",
                    "--ignore-status", "0x58", "--ignore-status", "ESME_RSUBMITFAIL",
                ])
            #expect(run.status == 0, "\(run.errors)")
            let json = (try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]) ?? [:]
            #expect(json["differences"] as? Int == 0)
            let ignored = json["ignored_changes"] as? [[String: Any]] ?? []
            #expect(
                ignored.reduce(0) { $0 + (($1["count"] as? Int) ?? 0) } == oracle.throttledFirstAttempts
                    + oracle.repeats)
        }
    }

    @Test func aDryRunShowsThePlanWithoutConnecting() throws {
        // Nothing listens on the target: a dry run does not try it, and needs no password.
        let run = try smppscope(["replay", Paths.capture, "--target", "127.0.0.1:\(freePort())", "--dry-run"])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("bind_transceiver"))
        #expect(run.output.contains("submit_sm"))
        #expect(!run.output.contains("secret"), "the recorded password is not shown")
    }

    @Test func safetyRulesStopTheReplayWithAReason() throws {
        let remote = try smppscope(["replay", Paths.capture, "--target", "192.0.2.10:2775", "--fast", "--window", "5"])
        #expect(remote.status != 0)
        #expect(remote.errors.contains("not this machine"))
        #expect(remote.errors.contains("--allow-remote-target"))

        let noPassword = try smppscope(["replay", Paths.capture, "--target", "127.0.0.1:\(freePort())"])
        #expect(noPassword.status != 0)
        #expect(noPassword.errors.contains("no bind password"))
        #expect(noPassword.errors.contains("--password-file"))

        let badRule = try smppscope([
            "replay", Paths.capture, "--target", "127.0.0.1:2775", "--rewrite-destination", "77",
        ])
        #expect(badRule.status != 0)
        #expect(badRule.errors.contains("FROM=TO"))

        let badStatus = try smppscope([
            "replay", Paths.capture, "--target", "127.0.0.1:2775", "--ignore-status", "ESME_NOPE",
        ])
        #expect(badStatus.status != 0)
        #expect(badStatus.errors.contains("unknown status"))

        let noWindow = try smppscope(["replay", Paths.capture, "--target", "127.0.0.1:2775", "--fast"])
        #expect(noWindow.status != 0)
        #expect(noWindow.errors.contains("--window"))

        let scratch = try Scratch()
        let password = scratch.path("password")
        try "secret".write(toFile: password, atomically: true, encoding: .utf8)
        let refused = try smppscope([
            "replay", Paths.capture, "--target", "127.0.0.1:\(freePort())", "--password-file", password,
        ])
        #expect(refused.status != 0)
        #expect(refused.output.contains("cannot connect") || refused.errors.contains("cannot connect"))
    }
}

// The profile's closed loop on traffic a real client made: python smpplib sends bursts through the recording proxy
// to the simulator set up unlike its defaults (upper-case hex ids, 10 submit_sm/s, 30-50 ms answers, receipts as
// TLVs only, one per part, 75/25 DELIVRD/UNDELIV). `profile` of the journal must name each of those settings,
// with smpplib's own log as the oracle of the ids, statuses and receipt states; then `simulate --profile` replays
// the same traffic, and `analyze` of that replay must match `analyze` of the original: the statuses and throttle
// episodes equal, latency p50 and p90 within 20%, the same receipt states.

import Foundation
import TestSupport
import Testing

@Suite(
    "Profile: learn a provider, simulate it, replay against it", .serialized,
    .enabled(if: Paths.binary != nil && FaultPeers.pythonSmpplib, "needs a built smppscope and python smpplib"))
struct ProfileLoopTests {
    static let original = [
        "--account", "loop:secret:10", "--message-ids", "HEX", "--latency", "30", "--jitter", "20",
        "--receipts-carry", "tlv", "--receipt-per", "part", "--receipt-delay", "0.3-0.9", "--receipts",
        "DELIVRD=0.75,UNDELIV=0.25", "--seed", "7",
    ]

    @Test func aProfileLearnedFromSmpplibTrafficPlaysTheSameTrafficBack() throws {
        let scratch = try Scratch()
        // Each burst: a long message, 6 singles, a long message, 3 singles. 10 a second accepted: the first long
        // message, the singles and the first part of the second; its other parts and the last singles throttled.
        let bursts = 4
        let first = 6
        let second = 3
        var journal = ""
        var log: [Substring] = []
        try withRunningSimulator(Self.original) { smscPort in
            let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
            let logFile = scratch.path("loop.log")
            let status = try runPythonPeer(
                "smpplib_profile_loop.py",
                [
                    "127.0.0.1", String(proxy.port), "loop", "secret", String(bursts), String(first), String(second),
                    logFile,
                ])
            #expect(status == 0)
            #expect(proxy.stop() == 0, "\(proxy.errors)")
            journal = proxy.journal
            log = (try String(contentsOfFile: logFile, encoding: .utf8)).split(separator: "\n")
        }
        #expect(log.last == "done")
        // smpplib's view.
        let responses = log.filter { $0.hasPrefix("response ") }.map {
            $0.split(separator: " ", omittingEmptySubsequences: false)
        }
        let acceptedIDs = responses.filter { $0[2] == "0" }.map { String($0[3]) }
        let throttled = responses.filter { $0[2] == "88" }.count
        let receipts = log.filter { $0.hasPrefix("receipt ") }.map { $0.split(separator: " ") }
        let states = Dictionary(grouping: receipts, by: { $0.count > 2 ? String($0[2]) : "" }).mapValues(\.count)
        #expect(responses.count == bursts * 15)
        #expect(acceptedIDs.count == bursts * 10 && throttled == bursts * 5, "10 a second accepted")
        #expect(receipts.count == acceptedIDs.count, "a receipt per accepted part")

        // What the profile learned.
        let profileFile = scratch.path("provider.json")
        let learned = try smppscope(["profile", journal, "-o", profileFile, "--format", "json"])
        #expect(learned.status == 0, "\(learned.errors)")
        let profile = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: profileFile)))
                as? [String: Any])
        #expect(profile["format"] as? String == "smppscope-provider-profile")
        let smsc = try #require((profile["smscs"] as? [[String: Any]])?.first)
        let ids = try #require(smsc["message_ids"] as? [String: Any])
        #expect(ids["format"] as? String == "hex" && ids["case"] as? String == "upper", "\(ids)")
        #expect(ids["seen"] as? Int == acceptedIDs.count)
        #expect(acceptedIDs.allSatisfy { UInt64($0, radix: 16) != nil && $0 == $0.uppercased() }, "smpplib saw hex")
        let throttling = try #require(smsc["throttling"] as? [String: Any])
        let account = try #require((throttling["accounts"] as? [[String: Any]])?.first)
        #expect(account["system_id"] as? String == "loop")
        #expect(account["limit_per_second"] as? Int == 10, "\(throttling)")
        #expect(throttling["throttled"] as? Int == throttled)
        #expect(throttling["episodes"] as? Int == bursts)
        #expect(throttling["counts"] as? String == "parts", "second and third parts were throttled")
        let submit = try #require((smsc["responses"] as? [String: Any])?["submit_sm"] as? [String: Any])
        #expect(submit["statuses"] as? [String: Int] == ["ESME_ROK": acceptedIDs.count, "ESME_RTHROTTLED": throttled])
        let accepted = try #require(submit["accepted_latency"] as? [String: Any])
        // 30 ms and up to 20 ms more: a median of 40 ms, a 90th percentile of 48 ms (within 20%, as the bucket
        // width and the loopback's own time allow).
        let p50 = try #require(accepted["p50_ms"] as? Double)
        let p90 = try #require(accepted["p90_ms"] as? Double)
        #expect(abs(p50 - 40) <= 8 && abs(p90 - 48) <= 9.6, "p50 \(p50) p90 \(p90)")
        let receiptProfile = try #require(smsc["receipts"] as? [String: Any])
        #expect(receiptProfile["id_in"] as? String == "tlv")
        #expect(receiptProfile["template"] == nil || receiptProfile["template"] is NSNull, "no text")
        #expect(receiptProfile["per"] as? String == "part")
        #expect((smsc["long_messages"] as? [String: Any])?["ids"] as? String == "per_part")
        #expect(receiptProfile["linked"] as? Int == receipts.count)
        let learnedStates = try #require(receiptProfile["states"] as? [String: Int])
        #expect(learnedStates["DELIVRD"] == states["2"] && learnedStates["UNDELIV"] == states["5"], "\(states)")
        let delay = try #require(receiptProfile["delay"] as? [String: Any])
        let delayP50 = try #require(delay["p50_ms"] as? Double)
        #expect((300...900).contains(delayP50), "receipts 0.3-0.9 s after: \(delayP50)")
        let text = try smppscope(["profile", journal])
        #expect(text.output.contains("limit 10/s") && text.output.contains("hex, case upper"), "\(text.output)")

        // The profile played back: the same traffic replayed against it.
        let password = scratch.path("password")
        try "secret\n".write(toFile: password, atomically: true, encoding: .utf8)
        let replayed = scratch.path("replay.pcapng")
        let profileRun = try ProfiledSimulator(profile: profileFile)
        defer { profileRun.stop() }
        let replay = try smppscope([
            "replay", journal, "--target", "127.0.0.1:\(profileRun.port)", "--password-file", password,
            "--record-pcap", replayed, "--receipt-wait", "3", "--format", "json",
        ])
        #expect(FileManager.default.fileExists(atPath: replayed), "\(replay.errors)")
        #expect(profileRun.said.contains("message ids: hex"), "\(profileRun.said)")

        let before = try analyzed(journal)
        let after = try analyzed(replayed)
        #expect(after.statuses == before.statuses, "statuses")
        #expect(after.episodes == before.episodes && before.episodes == bursts, "throttle episodes")
        #expect(abs(after.p50 - before.p50) <= before.p50 * 0.2, "p50 \(before.p50) -> \(after.p50)")
        #expect(abs(after.p90 - before.p90) <= before.p90 * 0.2, "p90 \(before.p90) -> \(after.p90)")
        #expect(Set(after.receiptStates.keys) == Set(before.receiptStates.keys), "receipt states")
        #expect(after.receipts == before.receipts, "a receipt per accepted part")
        // The replay's ids are the profile's: upper-case hex.
        let replayedProfile = try smppscope(["profile", replayed, "--format", "json"])
        #expect(replayedProfile.output.contains("\"format\" : \"hex\""))
    }

    /// What the comparison needs of `analyze --format json`.
    struct Analyzed {
        var statuses: [String: Int]
        var episodes: Int
        var p50: Double
        var p90: Double
        var receiptStates: [String: Int]
        var receipts: Int
    }

    func analyzed(_ capture: String) throws -> Analyzed {
        let run = try smppscope(["analyze", capture, "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let latency = try #require((json["latency"] as? [String: Any])?["submit_sm"] as? [String: Any])
        let receipts = try #require(json["delivery_receipts"] as? [String: Any])
        let counts = json["counts_per_command"] as? [String: Int] ?? [:]
        var statuses = json["error_responses"] as? [String: Int] ?? [:]
        statuses["submit_sm_resp"] = counts["submit_sm_resp"]
        return Analyzed(
            statuses: statuses, episodes: json["throttle_episodes"] as? Int ?? -1,
            p50: latency["p50_ms"] as? Double ?? -1, p90: latency["p90_ms"] as? Double ?? -1,
            receiptStates: receipts["stat"] as? [String: Int] ?? [:], receipts: receipts["count"] as? Int ?? -1)
    }
}

/// `smppscope simulate --profile` as a process, with what it said at start.
struct ProfiledSimulator {
    let process: Process
    let port: Int
    let said: String

    init(profile: String, account: String = "loop:secret") throws {
        port = freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary ?? "")
        process.arguments = [
            "simulate", "--listen", "127.0.0.1:\(port)", "--log", "none", "--account", account, "--profile",
            profile,
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !String(decoding: seen, as: UTF8.self).contains("Ctrl-C"), process.isRunning {
            seen += errors.fileHandleForReading.availableData
        }
        said = String(decoding: seen, as: UTF8.self)
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

extension ProfileLoopTests {
    /// Kannel against the simulator set up another way (lower-case hex ids zero-padded to 12, 10 submit_sm/s, 20-30
    /// ms answers, receipts as text only): the profile names those settings, Kannel's own log says it linked every
    /// receipt, and the replay of Kannel's traffic against the profile is analyzed as the original was.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/bearerbox"), "Kannel is not installed"))
    func aProfileLearnedFromKannelTrafficPlaysTheSameTrafficBack() throws {
        let scratch = try Scratch()
        let count = 30
        var journal = ""
        var kannel: [String: Int] = [:]
        try withRunningSimulator([
            "--account", "kannel:secret:10", "--message-ids", "hex:12", "--latency", "20", "--jitter", "10",
            "--receipts-carry", "text", "--receipt-delay", "0.2-0.6", "--receipts", "DELIVRD=1", "--seed", "3",
        ]) { smscPort in
            let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
            let run = try runKannel(scratch: scratch, port: proxy.port, msgIDType: "none", count: count)
            #expect(run.status == 0, "\(run.output)")
            kannel = run.counts
            #expect(proxy.stop() == 0, "\(proxy.errors)")
            journal = proxy.journal
        }
        // Kannel sends 30 at once: 10 accepted in the first second, the rest throttled (and not sent again within
        // the test's time); it links the receipt of every accepted one.
        #expect(kannel["sent"] == count && kannel["not-found"] == 0, "\(kannel)")

        let profileFile = scratch.path("provider.json")
        let learned = try smppscope(["profile", journal, "-o", profileFile])
        #expect(learned.status == 0, "\(learned.errors)")
        let profile = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: profileFile)))
                as? [String: Any])
        let smsc = try #require((profile["smscs"] as? [[String: Any]])?.first)
        let ids = try #require(smsc["message_ids"] as? [String: Any])
        #expect(ids["format"] as? String == "hex" && ids["case"] as? String == "lower", "\(ids)")
        #expect(ids["zero_padded"] as? Bool == true && ids["min_length"] as? Int == 12, "\(ids)")
        let throttling = try #require(smsc["throttling"] as? [String: Any])
        let account = try #require((throttling["accounts"] as? [[String: Any]])?.first)
        #expect(account["limit_per_second"] as? Int == 10, "\(throttling)")
        let receipts = try #require(smsc["receipts"] as? [String: Any])
        #expect(receipts["id_in"] as? String == "text" && receipts["tlvs"] as? [String: Double] == [:], "\(receipts)")
        #expect((receipts["template"] as? String)?.hasPrefix("id:{id} sub:{sub} dlvrd:{dlvrd}") == true)
        let statuses = ((smsc["responses"] as? [String: Any])?["submit_sm"] as? [String: Any])?["statuses"]
        let acceptedCount = (statuses as? [String: Int])?["ESME_ROK"] ?? -1
        #expect(acceptedCount >= 10 && kannel["linked"] == acceptedCount, "\(kannel), \(statuses ?? [:])")
        #expect(receipts["linked"] as? Int == kannel["linked"])
        let accepted = try #require(
            ((smsc["responses"] as? [String: Any])?["submit_sm"] as? [String: Any])?["accepted_latency"]
                as? [String: Any])
        let p50 = try #require(accepted["p50_ms"] as? Double)
        #expect(abs(p50 - 25) <= 5, "20 ms and up to 10 more: \(p50)")

        let password = scratch.path("password")
        try "secret\n".write(toFile: password, atomically: true, encoding: .utf8)
        let replayed = scratch.path("replay.pcapng")
        let simulator = try ProfiledSimulator(profile: profileFile, account: "kannel:secret")
        defer { simulator.stop() }
        let replay = try smppscope([
            "replay", journal, "--target", "127.0.0.1:\(simulator.port)", "--password-file", password,
            "--record-pcap", replayed, "--receipt-wait", "3",
        ])
        #expect(FileManager.default.fileExists(atPath: replayed), "\(replay.errors)")
        let before = try analyzed(journal)
        let after = try analyzed(replayed)
        #expect(after.statuses == before.statuses, "statuses")
        #expect(after.episodes == before.episodes, "throttle episodes")
        #expect(abs(after.p50 - before.p50) <= before.p50 * 0.2, "p50 \(before.p50) -> \(after.p50)")
        #expect(abs(after.p90 - before.p90) <= before.p90 * 0.2, "p90 \(before.p90) -> \(after.p90)")
        #expect(after.receiptStates == before.receiptStates, "receipt states")
    }
}

// `smppscope profile` and `simulate --profile` on bad input: a clear error, a hint, status 1, and nothing half-done.

import Foundation
import TestSupport
import Testing

@Suite("Profile command", .enabled(if: Paths.binary != nil, "needs a built smppscope"))
struct ProfileCommandTests {
    @Test func aCaptureWithoutSMPPSaysSo() throws {
        let scratch = try Scratch()
        let empty = scratch.path("empty.pcap")
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: [])).write(to: URL(fileURLWithPath: empty))
        let run = try smppscope(["profile", empty, "-o", scratch.path("provider.json")])
        #expect(run.status == 1)
        #expect(run.errors.contains("error: no SMPP session in \(empty) shows which side is the SMSC"))
        #expect(run.errors.contains("hint: "))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("provider.json")), "no profile written")
    }

    @Test func theProfileFileIsPrivateAndReadBack() throws {
        let scratch = try Scratch()
        let file = scratch.path("provider.json")
        let run = try smppscope(["profile", Paths.capture, "-o", file])
        #expect(run.status == 0 && run.output.contains("SMSC 127.0.0.1:3700"))
        let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) ?? 0
        #expect(mode & 0o077 == 0, "the profile holds logins and addresses: \(String(mode, radix: 8))")
        // JSON on standard output is the file's content.
        let json = try smppscope(["profile", Paths.capture, "--format", "json"])
        #expect(json.output == (try String(contentsOfFile: file, encoding: .utf8)))
    }

    @Test func simulateNamesWhatIsWrongWithAProfile() throws {
        let scratch = try Scratch()
        let good = scratch.path("provider.json")
        _ = try smppscope(["profile", Paths.capture, "-o", good])
        var profile = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: good))) as? [String: Any])

        let missing = try smppscope(["simulate", "--account", "a:b", "--profile", scratch.path("none.json")])
        #expect(missing.status == 1 && missing.errors.contains("cannot read"))
        #expect(missing.errors.contains("hint: make one with: smppscope profile CAPTURE -o"))

        let other = scratch.path("other.json")
        try #"{"latency": {}}"#.write(toFile: other, atomically: true, encoding: .utf8)
        let notAProfile = try smppscope(["simulate", "--account", "a:b", "--profile", other])
        #expect(
            notAProfile.status == 1 && notAProfile.errors.contains("is not a provider profile"), "\(notAProfile.errors)"
        )

        profile["version"] = 99
        let future = scratch.path("future.json")
        try JSONSerialization.data(withJSONObject: profile).write(to: URL(fileURLWithPath: future))
        let newer = try smppscope(["simulate", "--account", "a:b", "--profile", future])
        #expect(newer.status == 1 && newer.errors.contains("version 99"), "\(newer.errors)")

        // Two SMSCs: --smsc chooses, and must name one of them.
        profile["version"] = 1
        var smscs = try #require(profile["smscs"] as? [[String: Any]])
        var second = smscs[0]
        second["server"] = "127.0.0.1:3701"
        smscs.append(second)
        profile["smscs"] = smscs
        let two = scratch.path("two.json")
        try JSONSerialization.data(withJSONObject: profile).write(to: URL(fileURLWithPath: two))
        let unchosen = try smppscope(["simulate", "--account", "a:b", "--profile", two])
        #expect(unchosen.status == 1 && unchosen.errors.contains("describes 2 SMSCs"))
        #expect(unchosen.errors.contains("choose one with --smsc: 127.0.0.1:3700, 127.0.0.1:3701"))
        let wrong = try smppscope(["simulate", "--account", "a:b", "--profile", two, "--smsc", "10.0.0.1:1"])
        #expect(wrong.status == 1 && wrong.errors.contains("has no SMSC 10.0.0.1:1"))
        let alone = try smppscope(["simulate", "--account", "a:b", "--smsc", "127.0.0.1:3701"])
        #expect(alone.status != 0 && alone.errors.contains("--smsc chooses an SMSC of --profile"))

        let port = freePort()
        let (process, errors) = try startSmppscope(
            [
                "simulate", "--listen", "127.0.0.1:\(port)", "--log", "none", "--account", "smsckz:x", "--profile", two,
                "--smsc", "127.0.0.1:3701",
            ], ready: "Ctrl-C")
        defer { stop(process) }
        #expect(process.isRunning, "\(errors)")
    }

    /// A store gives the same profile as the captures imported into it, SMSC by SMSC, in SQLite and PostgreSQL.
    @Test func aStoreGivesTheProfileOfItsCaptures() throws {
        let scratch = try Scratch()
        let captures = ["smpplib_simulator_port3700.pcap", "kannel_simulator_port3701.pcap"].map {
            Paths.root.appendingPathComponent("Captures/\($0)").path
        }
        var stores = [scratch.path("smpp.sqlite")]
        if PostgresServer.available { stores.append(try PostgresServer.shared.get().makeDatabase()) }
        func smscs(_ arguments: [String]) throws -> [String: NSDictionary] {
            let run = try smppscope(["profile", "--format", "json"] + arguments)
            #expect(run.status == 0, "\(run.errors)")
            let json = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
            let entries = json?["smscs"] as? [[String: Any]] ?? []
            return Dictionary(uniqueKeysWithValues: entries.map { ($0["server"] as? String ?? "", $0 as NSDictionary) })
        }
        var fromCaptures: [String: NSDictionary] = [:]
        for capture in captures { fromCaptures.merge(try smscs([capture])) { first, _ in first } }
        #expect(fromCaptures.count == 2)
        for store in stores {
            #expect(try smppscope(["import"] + captures + ["--store", store]).status == 0)
            let fromStore = try smscs(["--store", store])
            #expect(Set(fromStore.keys) == Set(fromCaptures.keys))
            for (server, profile) in fromCaptures {
                #expect(
                    fromStore[server] == profile,
                    "\(server) from \(store.hasPrefix("postgres") ? "PostgreSQL" : "SQLite")")
            }
        }
    }
}

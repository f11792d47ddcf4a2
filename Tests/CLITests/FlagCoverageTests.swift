// Every option a subcommand's --help lists is run by at least one test (its spelling, quoted, appears under
// Tests/), and prune, the one command that needs PostgreSQL, from the command line.

import Foundation
import TestSupport
import Testing

@Suite("Flag coverage", .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct FlagCoverageTests {
    static let subcommands = [
        "decode", "analyze", "import", "sessions", "export", "record", "replay", "simulate", "prune",
    ]

    /// The long options a subcommand's help lists.
    static func flags(of subcommand: String) throws -> [String] {
        let help = try smppscope([subcommand, "--help"]).output
        var flags: Set<String> = []
        // Option lines: "  -h, --help   Show…" or "  --store <file>   The…": the names come before the description.
        for line in help.split(separator: "\n") where line.hasPrefix("  -") {
            let trimmed = line.drop { $0 == " " }
            let names = trimmed.components(separatedBy: "  ").first ?? ""
            for word in names.split(separator: " ") where word.hasPrefix("--") {
                flags.insert(String(word.prefix { $0 != "," }))
            }
        }
        return flags.subtracting(["--help", "--version"]).sorted()
    }

    @Test(arguments: FlagCoverageTests.subcommands)
    func everyOptionOfTheHelpIsRunByATest(subcommand: String) throws {
        let folder = Paths.root.appendingPathComponent("Tests")
        var sources = ""
        let files =
            FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects.compactMap {
                $0 as? URL
            } ?? []
        for file in files where file.pathExtension == "swift" {
            sources += (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        }
        let flags = try Self.flags(of: subcommand)
        #expect(!flags.isEmpty)
        let uncovered = flags.filter { !sources.contains("\"\($0)\"") }
        #expect(uncovered.isEmpty, "smppscope \(subcommand): \(uncovered) run by no test")
    }

    /// prune drops the days before its cutoff: a capture's sessions go when they are older than --older-than, and
    /// stay when they are not (ages worked out from the capture's own time, whatever day the test runs).
    @Test(.enabled(if: PostgresServer.available, "PostgreSQL is not installed"))
    func pruneDropsWhatIsOlderThanTheCutoff() throws {
        let server = try PostgresServer.shared.get()
        let url = try server.makeDatabase()
        #expect(try smppscope(["import", Paths.capture, "--store", url]).status == 0)
        let listed = try smppscope(["sessions", "--store", url, "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
        let end = try #require(((json?["sessions"] as? [[String: Any]])?.first?["end"] as? Double))
        let ageDays = Int((Date().timeIntervalSince1970 - end) / 86_400)
        let kept = try smppscope(["prune", "--store", url, "--older-than", "\(ageDays + 2)d"])
        #expect(kept.status == 0, "\(kept.errors)")
        #expect(try storedSessions(url).count == 1, "younger than the cutoff: kept")
        let pruned = try smppscope(["prune", "--store", url, "--older-than", "\(max(0, ageDays - 2))d"])
        #expect(pruned.status == 0, "\(pruned.errors)")
        #expect(try storedSessions(url).isEmpty, "older than the cutoff: dropped")
        let bad = try smppscope(["prune", "--store", url, "--older-than", "soon"])
        #expect(bad.status != 0 && bad.errors.contains("30d"))
    }
}

// How the help reads at 80 columns, and what a wrong flag is told: every line of every subcommand's --help fits,
// no example is broken by the wrapping (a long one continues with a backslash), no sentence is broken by hand (a
// line ends where a greedy wrap at 80 columns would not have ended it), and a flag or value that does not exist
// gets an error naming it, the values it may take, and where to read more.

import Foundation
import TestSupport
import Testing

@Suite("Help texts", .enabled(if: Paths.binary != nil, "needs a built smppscope"))
struct HelpTextTests {
    /// Each subcommand with arguments it accepts (never run here: a wrong flag stops the parse first).
    static let subcommands: [(String, [String])] = [
        ("decode", ["c.pcap"]), ("analyze", ["c.pcap"]), ("import", ["c.pcap", "--store", "s.sqlite"]),
        ("sessions", ["--store", "s.sqlite"]),
        ("export", ["--store", "s.sqlite", "--session", "1", "--pcap", "o.pcap"]),
        ("record", ["--upstream", "127.0.0.1:1", "--live"]), ("replay", ["c.pcap", "--target", "127.0.0.1:1"]),
        ("simulate", []), ("prune", ["--store", "postgres://u@127.0.0.1/db", "--older-than", "30d"]),
        ("anonymize", ["c.pcap", "-o", "o.pcap", "--key", "k.key"]),
    ]

    static let example = try! NSRegularExpression(pattern: "^\\s*(\\S+=\\S+ |sudo )?smppscope ")

    static func isExample(_ line: String) -> Bool {
        example.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }

    static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }

    /// Where the text of a line starts: after an option's name in the options list, else after the indentation.
    static func textStart(_ line: String) -> Int {
        let indent = indentation(line)
        let rest = line.dropFirst(indent)
        guard rest.hasPrefix("-"), let gap = rest.range(of: "  ") else { return indent }
        let after = rest[gap.lowerBound...].prefix { $0 == " " }.count
        return indent + rest.distance(from: rest.startIndex, to: gap.lowerBound) + after
    }

    /// What is wrong with the layout of one help text.
    static func problems(_ help: String) -> [String] {
        var found: [String] = []
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() {
            if line.count > 80 { found.append("over 80 columns: \(line)") }
            guard index + 1 < lines.count else { continue }
            let next = lines[index + 1]
            let a = line.trimmingCharacters(in: .whitespaces)
            let b = next.trimmingCharacters(in: .whitespaces)
            guard !a.isEmpty, !b.isEmpty else { continue }
            if isExample(line), !a.hasSuffix("\\"), indentation(next) < indentation(line), !isExample(next) {
                found.append("an example broken by the wrapping: \(a) / \(b)")
            }
            guard indentation(next) == textStart(line), !isExample(next), !b.hasPrefix("-"),
                a.last.map({ !".:!?".contains($0) }) ?? false
            else { continue }
            let word = b.split(separator: " ").first.map(String.init) ?? b
            if line.trimmingCharacters(in: .whitespaces).count + indentation(line) + 1 + word.count <= 79 {
                found.append("a sentence broken by hand: \(a) / \(b)")
            }
        }
        return found
    }

    @Test func theDetectorFindsWhatItLooksFor() {
        let good = """
            Examples:
              smppscope decode capture.pcap --format jsonl \\
                  --session 2

            A paragraph that the parser wrapped at eighty columns, as it does for every
            discussion it prints.
            """
        #expect(Self.problems(good).isEmpty)
        let handBroken = "A sentence broken\nby hand in the middle."
        #expect(Self.problems(handBroken).count == 1)
        let wrapped =
            "Examples:\n  smppscope record --listen 127.0.0.1:2775 --upstream smsc.example.com:3700\n--store x"
        #expect(Self.problems(wrapped).count == 1)
        #expect(Self.problems(String(repeating: "x", count: 81)).count == 1)
    }

    @Test(arguments: [""] + HelpTextTests.subcommands.map(\.0))
    func theHelpReadsWellAt80Columns(subcommand: String) throws {
        let result = try smppscope(
            (subcommand.isEmpty ? [] : [subcommand]) + ["--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0)
        #expect(result.output.contains("USAGE:"))
        let problems = Self.problems(result.output)
        #expect(problems.isEmpty, "smppscope \(subcommand) --help: \(problems.joined(separator: "\n"))")
    }

    @Test(arguments: HelpTextTests.subcommands.map(\.0))
    func aWrongFlagOrValueIsNamedWithWhatToDo(subcommand: String) throws {
        let arguments = Self.subcommands.first { $0.0 == subcommand }?.1 ?? []
        let unknown = try smppscope([subcommand] + arguments + ["--no-such-flag"])
        #expect(unknown.status == 64)
        #expect(unknown.errors.contains("Unknown option '--no-such-flag'"), "\(unknown.errors)")
        #expect(unknown.errors.contains("See 'smppscope \(subcommand) --help' for more information."))

        // Every option with a closed set of values: a wrong one is told the values.
        let help = try smppscope([subcommand, "--help"], environment: ["COLUMNS": "200"]).output
        for line in help.split(separator: "\n") where line.contains("(values: ") {
            guard let option = line.split(separator: " ").first(where: { $0.hasPrefix("--") }) else { continue }
            let wrong = try smppscope([subcommand] + arguments + [String(option), "no-such-value"])
            #expect(wrong.status == 64, "\(subcommand) \(option)")
            #expect(
                wrong.errors.contains("'no-such-value' is invalid") && wrong.errors.contains("Please provide one of"),
                "\(subcommand) \(option): \(wrong.errors)")
        }
    }

    @Test func anUnknownSubcommandIsToldTheSubcommands() throws {
        let result = try smppscope(["decodee", "c.pcap"])
        #expect(result.status == 64)
        #expect(result.errors.contains("See 'smppscope --help'"), "\(result.errors)")
    }
}

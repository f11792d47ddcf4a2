// `smppscope profile`: what an SMSC does, learned from its traffic, as a profile `simulate --profile` can play; and
// the departures from SMPP seen in it, as a report for the vendor.

import ArgumentParser
import Foundation
import Profile
import Report
import Timeline

enum ProfileFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Learn what each SMSC of a capture does: ids, receipts, response times, limits, quirks.",
        discussion: """
            Examples:
              smppscope profile Captures/smpplib_smsckz_port3700.pcap
              smppscope profile capture.pcap -o provider.json
              smppscope simulate --profile provider.json --account shop:secret
              smppscope profile --store smpp.sqlite --conformance --format json

            The profile (JSON, documented in docs/profile.md) has one entry per SMSC (server address). \
            --conformance lists every departure from SMPP 3.4 / 5.0 seen, with the clause and the PDUs that show \
            it.
            """)

    @OptionGroup var input: InputOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the profile as JSON to this file.", valueName: "file"))
    var output: String?

    @Option(help: "Output format on standard output: text or json.")
    var format: ProfileFormat = .text

    @Flag(name: .long, help: "Show the departures from SMPP seen instead of the profile.")
    var conformance = false

    func run() throws {
        var profiler = ProviderProfiler()
        try input.readTimeline(label: "profiling", decodesEveryPDU: true) { profiler.consume($0) }
        let profile = profiler.profile(source: input.name)
        if profiler.skippedPDUs > 0 {
            writeStandardError(
                "warning: \(profiler.skippedPDUs) PDUs of SMSCs past the first \(ProviderProfiler.maximumSMSCs) were "
                    + "not profiled; select fewer with --filter (live) or a store's --source\n")
        }
        guard !profile.smscs.isEmpty else {
            throw failure(
                CommandError(
                    .nothingToDo, "no SMPP session in \(input.name) shows which side is the SMSC",
                    location: input.name,
                    hint: "a profile needs the binds or the handshakes; give --port PORT for SMPP on other ports"))
        }
        if let output {
            try writeOutputFile(Self.json(profile), to: output)
        }
        let sink = OutputSink()
        if conformance {
            let report = profiler.conformance(source: input.name)
            sink.write(format == .json ? Self.json(report) : ProfileText.render(report))
        } else if format == .json {
            sink.write(Self.json(profile))
        } else {
            sink.write(ProfileText.render(profile))
        }
        try finishOutput(sink)
        if let output, format == .text { writeStandardError("wrote \(output)\n") }
    }

    /// Sorted keys, indented, one trailing newline.
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// Reads a profile file for `simulate --profile`, with errors a user can act on.
func loadProviderProfile(_ path: String) throws -> ProviderProfile {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw failure(
            CommandError(
                .unreadableFile, "cannot read \(path)", location: path,
                hint: "make one with: smppscope profile CAPTURE -o \(path)"))
    }
    do {
        let profile = try JSONDecoder().decode(ProviderProfile.self, from: data)
        guard profile.format == ProviderProfile.formatName, profile.version <= ProviderProfile.currentVersion else {
            throw failure(
                CommandError(
                    .invalidSetting,
                    "\(path) is a \(profile.format) file of version \(profile.version); this smppscope reads "
                        + "\(ProviderProfile.formatName) up to version \(ProviderProfile.currentVersion)",
                    location: path))
        }
        return profile
    } catch let error as DecodingError {
        throw failure(
            CommandError(
                .invalidSetting, "\(path) is not a provider profile: \(error.summary)", location: path,
                hint: "make one with: smppscope profile CAPTURE -o \(path)"))
    }
}

extension DecodingError {
    /// Where and what, in a line.
    fileprivate var summary: String {
        switch self {
        case .keyNotFound(let key, let context):
            return "\(Self.path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? context.debugDescription : "\(Self.path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "unreadable"
        }
    }

    fileprivate static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
    }
}

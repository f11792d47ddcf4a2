// `smppscope replay`: recorded client sessions sent again to a target SMSC, and what came out differently.

import ArgumentParser
import Capture
import Foundation
import NIOPosix
import Recording
import Replay
import ReplayCore
import Report
import SMPP
import Store
import Timeline

extension ReplayOptions.OnThrottle: ExpressibleByArgument {}

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay recorded client sessions against an SMSC and compare what comes back with the recording.",
        discussion: """
            Each recorded client session becomes a new session to the target, bound with your credentials; its \
            requests are sent again with new sequence numbers, at the recorded pace (or --speed, --rate, --fast), \
            message ids in query_sm/cancel_sm/replace_sm are mapped to the target's, and the target's requests are \
            answered as the recorded client answered them. The password comes from --password-file or the \
            SMPPSCOPE_PASSWORD environment variable.

            Examples:
              SMPPSCOPE_PASSWORD=secret smppscope replay \\
                  Captures/kannel_simulator_port3701.pcap --target 127.0.0.1:2775
              smppscope replay --store smpp.sqlite --session 3 --target 127.0.0.1:2775 \\
                  --system-id test --password-file pw
              smppscope replay capture.pcap --target 127.0.0.1:2775 --speed 10 \\
                  --rewrite-destination '7701*=7999*'
              smppscope replay capture.pcap --target 127.0.0.1:2775 --fast --window 1000 \\
                  --format json --max-differences 0

            The target gets real messages: anything but loopback needs --allow-remote-target. --dry-run shows what \
            would be sent without connecting. The exit status is 1 when the differences exceed --max-differences.
            """)

    @OptionGroup var input: InputOptions

    @Option(help: ArgumentHelp("The SMSC to replay against.", valueName: "host:port"))
    var target: String

    @Option(name: .long, help: ArgumentHelp("Bind as this system_id (default: the recorded one).", valueName: "id"))
    var systemID: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Read the bind password from this file (else SMPPSCOPE_PASSWORD).", valueName: "file"))
    var passwordFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Keep the recorded gaps, divided by this (2: twice as fast).", valueName: "factor"))
    var speed: Double?

    @Option(
        name: .long,
        help: ArgumentHelp("Send each session's requests at this many per second.", valueName: "per-second"))
    var rate: Double?

    @Flag(name: .long, help: "Send as fast as --window allows.")
    var fast = false

    @Option(
        name: .long,
        help: ArgumentHelp("Requests a session may have unanswered (required with --fast).", valueName: "requests"))
    var window: Int?

    @Option(name: .long, help: "On ESME_RTHROTTLED: as-recorded, resend (back-off 1, 2, 4 s) or give-up.")
    var onThrottle = ReplayOptions.OnThrottle.asRecorded

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Rewrite destination addresses, FROM=TO; a trailing * keeps the rest (repeatable).", valueName: "rule"))
    var rewriteDestination: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Rewrite source addresses (repeatable).", valueName: "rule"))
    var rewriteSource: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Replay only sessions bound with this system_id (repeatable).", valueName: "id"))
    var recordedSystemID: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Replay only this recorded session (repeatable).", valueName: "id"))
    var session: [Int] = []

    @Option(
        name: .long,
        help: ArgumentHelp("Replay the sessions this many times, one pass after another.", valueName: "count"))
    var loop = 1

    @Flag(name: .long, help: "Speak TLS to the target, verifying its certificate.")
    var tls = false

    @Option(name: .long, help: ArgumentHelp("Trust these PEM certificates for the target.", valueName: "file"))
    var tlsCA: String?

    @Flag(name: .long, help: "Speak TLS to the target without verifying it (test SMSCs only).")
    var tlsNoVerify = false

    @Option(
        name: .long,
        help: ArgumentHelp("The oldest TLS version accepted from the target: 1.2 or 1.3.", valueName: "version"))
    var tlsMinimumVersion = "1.2"

    @Flag(name: .long, help: "Allow a target that is not this machine: the replay sends real messages.")
    var allowRemoteTarget = false

    @Flag(name: .long, help: "Show what would be sent, without connecting.")
    var dryRun = false

    @Option(help: "Output format: text or json.")
    var format: AnalyzeFormat = .text

    @Option(
        name: .long, help: ArgumentHelp("Also write the comparison as a self-contained HTML page.", valueName: "file"))
    var html: String?

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Do not count status changes to or from this status, e.g. ESME_RTHROTTLED or 0x58 (repeatable).",
            valueName: "status"))
    var ignoreStatus: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Do not count status changes of this command, e.g. query_sm (repeatable).", valueName: "command"))
    var ignoreCommand: [String] = []

    @Flag(name: .long, help: "Do not count requests the target left unanswered.")
    var ignoreMissing = false

    @Option(name: .long, help: ArgumentHelp("Exit 1 when there are more differences than this.", valueName: "count"))
    var maxDifferences: Int?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each response.", valueName: "seconds"))
    var responseTimeout = 10.0

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds to wait for the recording's receipts after the last response.", valueName: "seconds"))
    var receiptWait = 5.0

    @Option(name: .long, help: ArgumentHelp("Record the replay into this store.", valueName: "file"))
    var recordStore: String?

    @Option(name: .long, help: ArgumentHelp("Record the replay as pcapng.", valueName: "file"))
    var recordPcap: String?

    func validate() throws {
        guard hostPort(target) != nil else {
            throw ValidationError("invalid --target \"\(target)\"; expected host:port")
        }
        if [speed != nil, rate != nil, fast].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --speed, --rate and --fast")
        }
        if let speed, speed <= 0 { throw ValidationError("--speed must be positive") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if fast && window == nil {
            throw ValidationError("--fast needs --window N (how many requests may be outstanding)")
        }
        if let window, window <= 0 { throw ValidationError("--window must be positive") }
        if loop < 1 { throw ValidationError("--loop must be at least 1") }
        if tls && tlsNoVerify { throw ValidationError("give --tls or --tls-no-verify, not both") }
        if tlsCA != nil && !tls { throw ValidationError("--tls-ca goes with --tls") }
        if tlsVersion(tlsMinimumVersion) == nil {
            throw ValidationError("invalid --tls-minimum-version \"\(tlsMinimumVersion)\"; use 1.2 or 1.3")
        }
        for rule in rewriteDestination + rewriteSource where AddressRewrite(rule) == nil {
            throw ValidationError("invalid rewrite \"\(rule)\"; use FROM=TO, or PREFIX*=PREFIX* to keep the rest")
        }
        if input.interface != nil {
            throw ValidationError("replay reads a capture file or --store, not a live interface")
        }
        let stored = input.stored
        if stored.messageID != nil || stored.destination != nil || stored.status != nil || stored.receiptState != nil {
            throw ValidationError(
                "replay sends whole sessions: select them with --session, --recorded-system-id, --source, or --from/--to (when they were bound)"
            )
        }
        for status in ignoreStatus where parseStatus(status) == nil {
            throw ValidationError(
                "unknown status \"\(status)\" for --ignore-status; give a name such as ESME_RTHROTTLED or a number such as 0x58"
            )
        }
        for command in ignoreCommand where CommandID(name: command) == nil {
            throw ValidationError(
                "unknown command \"\(command)\" for --ignore-command; give an SMPP name such as query_sm")
        }
    }

    func run() throws {
        guard let (host, port) = hostPort(target) else { return }
        var options = ReplayOptions(targetHost: host, targetPort: port, password: "")
        if !options.targetIsLoopback && !allowRemoteTarget && !dryRun {
            throw failure(
                CommandError(
                    .refused, "the target \(host) is not this machine, and a replay sends real messages",
                    hint: "add --allow-remote-target if that is what you want; rewrite addresses to test numbers first")
            )
        }
        options.systemID = systemID
        if let speed { options.pace = .recorded(speed: speed) }
        if let rate { options.pace = .rate(rate) }
        if fast { options.pace = .asFastAsPossible }
        options.window = window
        options.onThrottle = onThrottle
        options.destinationRewrites = rewriteDestination.compactMap(AddressRewrite.init)
        options.sourceRewrites = rewriteSource.compactMap(AddressRewrite.init)
        options.responseTimeout = responseTimeout
        options.receiptWait = receiptWait
        options.loops = loop
        if tls { options.tls = .verified(trustRoots: tlsCA, serverName: nil) }
        if tlsNoVerify { options.tls = .unverified }
        options.minimumTLSVersion = tlsVersion(tlsMinimumVersion) ?? .tls12

        // A time range selects the sessions bound within it, whole: the store is read without it.
        var reading = input
        reading.stored.from = nil
        reading.stored.to = nil
        var planner = ReplayPlanner(
            sessions: input.stored.store == nil ? Set(session) : [], systemIDs: Set(recordedSystemID),
            boundFrom: input.stored.from.flatMap(parseTime), boundTo: input.stored.to.flatMap(parseTime))
        try reading.readTimeline(
            label: "reading", decodesEveryPDU: false, sessions: input.stored.store == nil ? [] : session
        ) {
            planner.add($0)
        }
        let plan = planner.finish()
        if plan.sessions.isEmpty {
            if !recordedSystemID.isEmpty || input.stored.from != nil || input.stored.to != nil {
                throw failure(
                    CommandError(
                        .nothingToDo,
                        "nothing to replay: no session bound with the given system_id or within the given time"))
            }
            let reasons = plan.skipped.isEmpty ? "" : " (" + plan.skipped.joined(separator: "; ") + ")"
            throw failure(CommandError(.nothingToDo, "nothing to replay: no client session with a bind\(reasons)"))
        }
        if dryRun {
            try printPlan(plan, options)
            return
        }
        options.password = try password()

        var recorder: Recorder?
        if recordStore != nil || recordPcap != nil {
            var recording = RecorderOptions()
            if let recordStore {
                recording.store = try openStore(recordStore)
                recording.sourceName = "replay of \(input.name) against \(target)"
            }
            recording.pcapPath = recordPcap
            recorder = try Recorder(options: recording)
        }
        let outcome: ReplayOutcome
        do {
            outcome = try Replayer(
                plan: plan, options: options, recordInto: recorder, group: MultiThreadedEventLoopGroup.singleton
            ).run()
        } catch {
            try? recorder?.finish()
            throw failure(any: error, context: "the replay could not run")
        }
        try recorder?.finish()
        var ignoring = ReplayIgnoreRules()
        ignoring.statuses = Set(ignoreStatus.compactMap(parseStatus))
        ignoring.commands = Set(ignoreCommand.compactMap { CommandID(name: $0)?.name })
        ignoring.missingResponses = ignoreMissing
        let comparison = ReplayComparison(plan: plan, outcome: outcome, ignoring: ignoring)
        if let html {
            try writeOutputFile(ReplayHTML.render(comparison, title: input.name), to: html)
            if format == .text { writeStandardError("wrote \(html)\n") }
        }
        let sink = OutputSink()
        switch format {
        case .json:
            sink.bytes += ReplayJSON.render(comparison)
            sink.bytes.append(0x0A)
        case .text:
            sink.write(ReplayText.render(comparison))
        }
        try finishOutput(sink)
        if comparison.sent == 0, let failed = comparison.failedSessions.first {
            throw failure(
                CommandError(
                    .failed, "the replay sent nothing: \(failed.reason)",
                    hint: "check --target, and that the SMSC there accepts the bind"))
        }
        if let maxDifferences, comparison.differences > maxDifferences {
            writeStandardError("\(comparison.differences) differences, more than the \(maxDifferences) allowed\n")
            throw ExitCode(1)
        }
    }

    private func password() throws -> String {
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw failure(
                    CommandError(
                        .unreadableFile, "cannot read \(passwordFile)", location: passwordFile,
                        hint: "give a file that holds the bind password"))
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let value = ProcessInfo.processInfo.environment["SMPPSCOPE_PASSWORD"] { return value }
        throw failure(
            CommandError(
                .invalidSetting, "no bind password",
                hint: "put it in a file and give --password-file FILE, or set SMPPSCOPE_PASSWORD"))
    }

    private func printPlan(_ plan: ReplayPlan, _ options: ReplayOptions) throws {
        let sink = OutputSink()
        for skipped in plan.skipped { sink.write("skipped \(skipped)\n") }
        for session in plan.sessions {
            sink.write(
                "session \(session.id): \(session.bindCommand.name) as \(options.systemID ?? session.bind.systemID) "
                    + "(system_type \"\(session.bind.systemType)\"), \(session.requests.count) requests\n")
            for request in session.requests {
                var detail = ""
                if case .shortMessage(let body) = request.pdu.body {
                    let destination = options.destinationRewrites.apply(body.destination.address)
                    detail = " \(options.sourceRewrites.apply(body.source.address)) -> \(destination)"
                    if destination != body.destination.address { detail += " (was \(body.destination.address))" }
                }
                if case .querySM(let body) = request.pdu.body {
                    detail = " message_id \(body.messageID) (mapped to the new id)"
                }
                let time = formatFixed(request.offset, decimals: 6)
                sink.write(
                    "  +\(time) s  \(request.command.name)\(detail)  recorded: \(request.originalStatus?.name ?? "no response")\n"
                )
            }
        }
        try finishOutput(sink)
    }
}

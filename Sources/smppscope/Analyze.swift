// `smppscope analyze`: latency, throttling, window, receipts and session health of a capture.

@_spi(Lent) import Analysis
import ArgumentParser
import Capture
import Foundation
@_spi(Lent) import Ingest
import Report
@_spi(Lent) import Timeline

enum AnalyzeFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Measure a capture: response times, throttling, window use, receipts, session health.",
        discussion: """
            Examples:
              smppscope analyze Captures/smpplib_smsckz_port3700.pcap --limit 30
              smppscope analyze capture.pcap --format json | jq '.latency.submit_sm'
              smppscope analyze capture.pcap --kannel-conf /etc/kannel/kannel.conf \\
                  --html report.html
              smppscope analyze --store smpp.sqlite \\
                  --from 2026-11-26T08:00:00 --to 2026-11-26T09:00:00
            """)

    @OptionGroup var input: InputOptions

    @Option(help: "Output format on standard output: text or json.")
    var format: AnalyzeFormat = .text

    @Option(
        name: .long,
        help: ArgumentHelp("Also write a self-contained HTML report with charts to this file.", valueName: "file"))
    var html: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The account's submit_sm per second limit (SMSC.kz: 30).", valueName: "per-second"))
    var limit: Double?

    @Option(
        name: .long,
        help: ArgumentHelp("The window (outstanding requests) the client was configured with.", valueName: "requests"))
    var window: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read throughput, max-pending-submits and enquire-link-interval from the smsc group of a Kannel configuration.",
            valueName: "file"))
    var kannelConf: String?

    @Option(name: .long, help: ArgumentHelp("Silences longer than this are idle violations.", valueName: "seconds"))
    var idleLimit: Double = 120

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Digits of the destination prefixes receipts are also counted by (0 for none, at most 6).",
            valueName: "digits"))
    var prefixDigits = 4

    @Option(
        name: .long,
        help: ArgumentHelp(
            "What the SMSC reads data_coding 0 as: gsm7, gsm7-packed, latin1, ascii, or auto (as each session's "
                + "system_type says).",
            valueName: "alphabet"))
    var dcs0 = DefaultAlphabetChoice.auto

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        if let window, window <= 0 { throw ValidationError("--window must be positive") }
        if idleLimit <= 0 { throw ValidationError("--idle-limit must be positive") }
        if !(0...DestinationPrefix.maximumDigits).contains(prefixDigits) {
            throw ValidationError("--prefix-digits must be between 0 and \(DestinationPrefix.maximumDigits)")
        }
    }

    func run() throws {
        var configuration = AnalysisConfiguration()
        configuration.idleLimit = idleLimit
        configuration.destinationPrefixDigits = prefixDigits
        configuration.defaultAlphabet = dcs0.alphabet
        if let kannelConf {
            guard let text = try? String(contentsOfFile: kannelConf, encoding: .utf8) else {
                throw failure(
                    CommandError(
                        .unreadableFile, "cannot read \(kannelConf)", location: kannelConf,
                        hint: "give the path of a Kannel configuration file"))
            }
            guard let group = KannelSMSCGroup.parse(text).first else {
                throw failure(
                    CommandError(.invalidSetting, "\(kannelConf) has no \"group = smsc\" section", location: kannelConf)
                )
            }
            configuration.throughputLimit = group.throughput
            configuration.window = group.maxPendingSubmits
            configuration.enquireLinkInterval = group.enquireLinkInterval
        }
        if let limit { configuration.throughputLimit = limit }
        if let window { configuration.window = window }

        let analyzer = Analyzer(configuration: configuration)
        try input.readTimeline(
            label: "analyzing", decodesEveryPDU: false, lent: { analyzer.handle(lent: $0) },
            other: { analyzer.handle($0) },
            prepare: Analyzer.prepare, upcoming: { analyzer.prefetch($0) })
        let report = analyzer.finish()
        let sink = OutputSink()
        switch format {
        case .json:
            sink.bytes += AnalyzeJSON.render(report)
            sink.bytes.append(0x0A)
        case .text:
            sink.write(AnalyzeText.render(report))
        }
        try finishOutput(sink)
        if let html {
            try writeOutputFile(AnalyzeHTML.render(report, title: input.name), to: html)
            if format == .text { writeStandardError("wrote \(html)\n") }
        }
    }
}

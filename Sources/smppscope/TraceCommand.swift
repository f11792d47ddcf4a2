// `smppscope trace`: messages followed across hops and captures.

import ArgumentParser
import Capture
import Foundation
import Ingest
import Report
import Store
import Timeline
import Trace

enum TraceFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Follow each message across gateways and captures: its hops, ids, receipts, latencies, and losses.",
        discussion: """
            Give the captures of each hop (one capture may hold several), or a store whose sources they are. A \
            message is followed from the ESME's submit through each gateway to the SMSC by its destination, text \
            and time, and back by the id each hop's response gave; two captures of one link (taken on two hosts) \
            are recognised by the PDUs they share, and the second one's clock offset and drift are reported.

            Examples:
              smppscope trace esme-side.pcap smsc-side.pcap
              smppscope trace gateway.pcap --format json | jq '.findings'
              smppscope trace --store smpp.sqlite --html journeys.html
            """)

    @Argument(help: ArgumentHelp("Captures, one per hop or host (pcap or pcapng).", valueName: "capture"))
    var captures: [String] = []

    @Option(
        name: .long, help: ArgumentHelp("Also each source of this store (or those --source names).", valueName: "file"))
    var store: String?

    @Option(
        name: .long, parsing: .singleValue, help: ArgumentHelp("A source of the store (repeatable).", valueName: "id"))
    var source: [Int64] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "From the store, only PDUs at or after this time (epoch seconds or 2026-11-26T08:34:06, UTC).",
            valueName: "time"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("From the store, only PDUs at or before this time.", valueName: "time"))
    var to: String?

    @Option(help: "Output format on standard output: text or json.")
    var format: TraceFormat = .text

    @Option(name: .long, help: ArgumentHelp("Also write an HTML page with a ladder per message.", valueName: "file"))
    var html: String?

    @Option(name: .long, help: ArgumentHelp("How long a message may take to reach its next hop.", valueName: "seconds"))
    var window: Double = 60

    @Option(
        name: .long,
        help: ArgumentHelp("A receipt passed on later than this after the next hop's is late.", valueName: "seconds"))
    var lateReceipt: Double = 5

    func validate() throws {
        if captures.isEmpty && store == nil { throw ValidationError("give captures, or --store") }
        if store == nil && (!source.isEmpty || from != nil || to != nil) {
            throw ValidationError("--source, --from and --to apply to --store")
        }
        if let from, parseTime(from) == nil { throw ValidationError("invalid --from \"\(from)\"") }
        if let to, parseTime(to) == nil { throw ValidationError("invalid --to \"\(to)\"") }
        if !(window > 0) { throw ValidationError("--window must be positive") }
        if !(lateReceipt > 0) { throw ValidationError("--late-receipt must be positive") }
    }

    func run() throws {
        var inputs: [TraceJoiner.Input] = []
        for path in captures {
            var collector = TraceCollector(input: inputs.count)
            let packets: PacketSource
            do {
                packets = try PacketSource.open(path: path)
                let ingest = CaptureIngest(source: packets, decodesEveryPDU: false)
                var bar: ProgressBar?
                if case .file(let reader) = packets, reader.path != "-" {
                    bar = ProgressBar.make(label: "reading \(path)", totalBytes: reader.totalBytes)
                }
                defer { bar?.finish() }
                try ingest.run(progress: { bar?.update(bytes: $0.bytesRead, total: $0.totalBytes, items: $0.pdus) }) {
                    collector.consume($0)
                }
            } catch let error as CaptureError {
                throw failure(error)
            }
            inputs.append(Self.input(path, &collector))
        }
        if let path = store {
            let opened = try openExistingStore(path)
            do {
                let sources = try opened.sources().filter { source.isEmpty || source.contains($0.id) }
                for id in source where !sources.contains(where: { $0.id == id }) {
                    throw failure(CommandError(.nothingToDo, "the store has no source \(id)", location: path))
                }
                for stored in sources {
                    var collector = TraceCollector(input: inputs.count)
                    var filter = StoreFilter()
                    filter.sourceID = stored.id
                    filter.from = from.flatMap(parseTime)
                    filter.to = to.flatMap(parseTime)
                    try opened.timeline(filter, decodesEveryPDU: false) { collector.consume($0) }
                    inputs.append(Self.input("\(PostgresLocation.redacting(path)) source \(stored.id)", &collector))
                }
            } catch let error as StoreError {
                throw failure(error)
            }
        }
        for input in inputs where input.messages.isEmpty {
            writeStandardError("warning: no submit_sm in \(input.name)\n")
        }
        var joiner = TraceJoiner()
        joiner.window = window
        joiner.lateReceipt = lateReceipt
        let report = joiner.join(inputs)
        let sink = OutputSink()
        switch format {
        case .json:
            sink.bytes += TraceRender.json(report)
            sink.bytes.append(0x0A)
        case .text:
            sink.write(TraceRender.text(report))
        }
        try finishOutput(sink)
        if let html {
            try writeOutputFile(TraceRender.html(report, title: report.inputs.joined(separator: ", ")), to: html)
            if format == .text { writeStandardError("wrote \(html)\n") }
        }
    }

    static func input(_ name: String, _ collector: inout TraceCollector) -> TraceJoiner.Input {
        let (messages, fingerprints) = collector.finish()
        if collector.skipped > 0 {
            writeStandardError(
                "warning: \(name): \(collector.skipped) messages past the bound of \(TraceCollector.maximumMessages) not followed\n"
            )
        }
        return TraceJoiner.Input(
            name: name, messages: messages, fingerprints: fingerprints, first: collector.first, last: collector.last)
    }
}

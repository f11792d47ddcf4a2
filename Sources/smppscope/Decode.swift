// `smppscope decode`: every PDU of a capture, as a readable timeline or as JSON Lines.

import ArgumentParser
@_spi(Lent) import Capture
import Dispatch
import Ingest
import LiveCapture
@_spi(Lent) import Report
@_spi(Lent) import SMPP
import Timeline

#if canImport(Glibc)
    import Glibc
#endif

enum DecodeFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case jsonl
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Show every SMPP PDU of a capture, in order.",
        discussion: """
            Examples:
              smppscope decode Captures/smpplib_smsckz_port3700.pcap
              smppscope decode capture.pcapng --format jsonl | jq \\
                  'select(.command == "submit_sm_resp")'
              smppscope decode capture.pcap --session 2 \\
                  --command submit_sm --command submit_sm_resp
              sudo smppscope decode --interface any --port 3700
              smppscope decode --store smpp.sqlite --message-id 1a2b3c
            """)

    @OptionGroup var input: InputOptions

    @Option(help: "Output format: text or jsonl.")
    var format: DecodeFormat = .text

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Only this session (repeatable).", valueName: "id"))
    var session: [Int] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Only this command, e.g. submit_sm (repeatable).", valueName: "name"))
    var command: [String] = []

    @Flag(name: .long, help: "Leave out gap, session and diagnostic events.")
    var pdusOnly = false

    @Flag(name: .long, help: "Show bind passwords instead of <redacted>.")
    var showSecrets = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read data_coding 0 as gsm7, gsm7-packed, latin1 or ascii; auto reads it as each peer's messages show.",
            valueName: "alphabet"))
    var dcs0 = DefaultAlphabetChoice.auto

    func validate() throws {
        for name in command where CommandID(name: name) == nil {
            throw ValidationError("unknown command \"\(name)\"; use SMPP names such as submit_sm or deliver_sm_resp")
        }
    }

    func run() throws {
        let commands = Set(command.compactMap { CommandID(name: $0) })
        let sessions = Set(session)
        var chosen = RenderOptions(showSecrets: showSecrets, defaultAlphabet: dcs0.alphabet)
        if dcs0 == .auto { chosen.sessionAlphabets = try input.inferDefaultAlphabets() }
        let options = chosen
        let text = DecodeText(options: options)
        let format = self.format
        let sink = OutputSink()
        if format == .text { sink.write(text.header + "\n") }
        // Lines are rendered on another core, in chunks, and written in order. A live capture renders one event
        // at a time, so that each line shows as soon as its PDU passes.
        // Read once: the options are property wrappers, costly to read for every event.
        let isLive = input.interface != nil
        let pdusOnly = self.pdusOnly
        let renderer = OrderedRenderer<TimelineEvent>(workers: 2, chunkSize: isLive ? 1 : 2_048) { events, out in
            Self.render(events, format: format, text: text, options: options, into: &out)
        }

        do {
            try input.readTimeline(label: "decoding", decodesEveryPDU: false, sessions: session) { event in
                if case .pdu(let item) = event {
                    guard sessions.isEmpty || sessions.contains(item.session),
                        commands.isEmpty || commands.contains(item.header.commandID)
                    else { return }
                } else if pdusOnly || !Self.eventMatches(event, sessions: sessions) {
                    return
                }
                try renderer.add(event, writingTo: sink)
                if isLive { try renderer.finish(writingTo: sink) }
            }
            try renderer.finish(writingTo: sink)
        } catch is OutputClosed {
            // The reader went away (quietly) or the output failed (reported below).
        }
        try finishOutput(sink)
    }

    /// Lines for events, in order: text or JSON Lines.
    static func render(
        _ events: [TimelineEvent], format: DecodeFormat, text: DecodeText, options: RenderOptions,
        into json: inout JSONWriter
    ) {
        var names = DecodeJSON.Names()
        for event in events {
            switch (format, event) {
            case (.jsonl, .pdu(let item)):
                DecodeJSON.writeLine(item, into: &json, names: &names, options: options)
            case (.jsonl, _):
                let before = json.count
                DecodeJSON.write(event: event, into: &json)
                guard json.count > before else { continue }
            case (.text, .pdu(let item)):
                json.raw(text.line(item))
            case (.text, _):
                guard let line = text.line(event: event) else { continue }
                json.raw(line)
            }
            json.separator(0x0A)
        }
    }

    private static func eventMatches(_ event: TimelineEvent, sessions: Set<Int>) -> Bool {
        guard !sessions.isEmpty else { return true }
        switch event {
        case .sessionOpened(let session): return sessions.contains(session.id)
        case .gap(let gap): return sessions.contains(gap.connection)
        case .sessionEnded(let end, _): return sessions.contains(end.connection)
        case .streamDiagnostic(let diagnostic): return diagnostic.connection.map(sessions.contains) ?? true
        case .captureDiagnostic, .pdu: return true
        }
    }
}

/// Writes what is left of the output; a failure other than a reader gone away (a full disk) ends the run with the
/// reason and status 1.
func finishOutput(_ sink: OutputSink) throws {
    do {
        try sink.finish()
    } catch let error as CaptureError {
        throw failure(error)
    }
}

/// Writes a finished output file (a report) atomically, or ends the run with the reason.
func writeOutputFile(_ text: String, to path: String) throws {
    do {
        try OutputFile.write(Array(text.utf8), to: path)
    } catch let error as CaptureError {
        throw failure(error)
    }
}

/// Opens the input, turning capture errors into a clean exit with the reason and a hint.
func openInput(_ input: InputOptions) throws -> (PacketSource, LiveCapture?) {
    signal(SIGPIPE, SIG_IGN)
    do {
        return try input.openSource()
    } catch let error as CaptureError {
        throw failure(error)
    }
}

/// Ctrl-C and SIGTERM stop a live capture; what was captured is still flushed.
func installInterruptHandler(_ capture: LiveCapture) -> DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    interrupt.setEventHandler { capture.stop() }
    interrupt.resume()
    let terminate = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
    terminate.setEventHandler { capture.stop() }
    terminate.resume()
    // Keep the SIGTERM source alive with the SIGINT one.
    interrupt.setCancelHandler { terminate.cancel() }
    return interrupt
}

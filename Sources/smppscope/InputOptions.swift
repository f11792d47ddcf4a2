// Options shared by the commands that read timelines: a capture file, a live interface, or a store.

import ArgumentParser
import Capture
@_spi(Lent) import Ingest
import LiveCapture
@_spi(Lent) import Reassembly
import Report
import SMPP
import Store
@_spi(Lent) import Timeline

struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("A pcap or pcapng file, or - for standard input.", valueName: "capture"))
    var capture: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Capture live from this interface (\"any\" for all) instead of a file.", valueName: "name"))
    var interface: String?

    @Option(
        name: .long, help: ArgumentHelp("BPF filter for live capture, e.g. \"tcp port 3700\".", valueName: "expression")
    )
    var filter: String?

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Treat TCP traffic on this port as SMPP whatever its content (repeatable).", valueName: "port"))
    var port: [UInt16] = []

    @Option(name: .long, help: ArgumentHelp("Largest command_length accepted.", valueName: "bytes"))
    var maxPDULength: Int = SMPPFramer.defaultMaximumLength

    @OptionGroup(title: "Reading from a store") var stored: StoreSelection

    func validate() throws {
        let inputs = [capture != nil, interface != nil, stored.store != nil].filter { $0 }.count
        if inputs == 0 {
            throw ValidationError(
                "give a capture file (or - for standard input), --interface to capture live, or --store to read a store"
            )
        }
        if inputs > 1 {
            throw ValidationError("give one input: a capture file, --interface or --store")
        }
        if filter != nil && interface == nil {
            throw ValidationError(
                "--filter applies to live capture (--interface); filter a file with tcpdump -r IN -w OUT FILTER")
        }
        if maxPDULength < 16 {
            throw ValidationError("--max-pdu-length must be at least 16")
        }
        if stored.store != nil, !port.isEmpty {
            throw ValidationError("--port applies when reading captures; give it to `smppscope import`")
        }
    }

    var configuration: ReassemblyConfiguration {
        ReassemblyConfiguration(maximumPDULength: maxPDULength, forcedPorts: Set(port))
    }

    /// A name for the input, for titles.
    var name: String { capture ?? interface ?? stored.store.map(PostgresLocation.redacting) ?? "capture" }

    /// Opens the packet source; the live capture is returned too so Ctrl-C can stop it.
    func openSource() throws -> (PacketSource, LiveCapture?) {
        if let interface {
            var bpf = filter
            if bpf == nil, !port.isEmpty {
                bpf = "tcp and (" + port.map { "port \($0)" }.joined(separator: " or ") + ")"
            }
            let live = try LiveCapture(interface: interface, filter: bpf ?? "tcp")
            return (.live(live), live)
        }
        return (try PacketSource.open(path: capture ?? "-"), nil)
    }

    /// Reads the input and hands over its timeline events in order, showing progress on a terminal.
    func readTimeline(
        label: String, decodesEveryPDU: Bool, sessions: [Int] = [], _ handle: (TimelineEvent) throws -> Void
    ) throws {
        try readTimeline(
            label: label, decodesEveryPDU: decodesEveryPDU, sessions: sessions, pdu: { try handle(.pdu($0)) },
            other: handle)
    }

    /// Reads the input, handing its timeline PDUs to `pdu` and the other events to `other`, in order.
    func readTimeline(
        label: String, decodesEveryPDU: Bool, sessions: [Int] = [], pdu: (TimelinePDU) throws -> Void,
        other: (TimelineEvent) throws -> Void
    ) throws {
        if try readStoredTimeline(decodesEveryPDU: decodesEveryPDU, sessions: sessions, pdu: pdu, other: other) {
            return
        }
        try readCapture(label: label, decodesEveryPDU: decodesEveryPDU) { ingest, progress in
            try ingest.run(progress: progress, pdu: pdu, other: other)
        }
    }

    /// Reads the input, handing its timeline PDUs with their bytes lent to `pdu` and the other events to `other`,
    /// in order; `prepare` may run on the reading thread and `upcoming` see PDUs a little ahead
    /// (``CaptureIngest/run(parallel:progress:lent:other:prepare:upcoming:)``).
    func readTimeline(
        label: String, decodesEveryPDU: Bool, sessions: [Int] = [], lent pdu: (LentPDU) throws -> Void,
        other: (TimelineEvent) throws -> Void, prepare: PDUPreparation? = nil,
        upcoming: ((LentPDU) -> PreparedPDU?)? = nil
    ) throws {
        if try readStoredTimeline(
            decodesEveryPDU: decodesEveryPDU, sessions: sessions, pdu: { try $0.withLent(pdu) }, other: other)
        {
            return
        }
        try readCapture(label: label, decodesEveryPDU: decodesEveryPDU) { ingest, progress in
            try ingest.run(progress: progress, lent: pdu, other: other, prepare: prepare, upcoming: upcoming)
        }
    }

    /// The timeline of a store, when the input is one; false otherwise.
    private func readStoredTimeline(
        decodesEveryPDU: Bool, sessions: [Int], pdu: (TimelinePDU) throws -> Void, other: (TimelineEvent) throws -> Void
    ) throws -> Bool {
        guard let path = stored.store else { return false }
        let store = try openExistingStore(path)
        do {
            try store.timeline(try stored.filter(sessions: sessions), decodesEveryPDU: decodesEveryPDU) { event in
                if case .pdu(let item) = event { try pdu(item) } else { try other(event) }
            }
        } catch let error as StoreError {
            throw failure(error)
        }
        return true
    }

    /// A capture or live interface through `run`, with progress shown on a terminal.
    private func readCapture(
        label: String, decodesEveryPDU: Bool,
        _ run: (CaptureIngest, @escaping (IngestProgress) -> Void) throws -> Void
    ) throws {
        let (source, live) = try openInput(self)
        let ingest = CaptureIngest(source: source, configuration: configuration, decodesEveryPDU: decodesEveryPDU)
        let stop = live.map(installInterruptHandler)
        defer { stop?.cancel() }
        var bar: ProgressBar?
        if case .file(let reader) = source, reader.path != "-" {
            bar = ProgressBar.make(label: label, totalBytes: reader.totalBytes)
        }
        defer { bar?.finish() }
        try run(ingest) { progress in
            bar?.update(bytes: progress.bytesRead, total: progress.totalBytes, items: progress.pdus)
        }
    }
}

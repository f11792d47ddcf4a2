// Options shared by the commands that read captures.

import ArgumentParser
import Capture
import Ingest
import Reassembly
import SMPP

struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("A pcap or pcapng file, or - for standard input.", valueName: "capture"))
    var capture: String?

    @Option(name: .long, help: ArgumentHelp("Capture live from this interface (\"any\" for all) instead of a file.", valueName: "name"))
    var interface: String?

    @Option(name: .long, help: ArgumentHelp("BPF filter for live capture, e.g. \"tcp port 3700\".", valueName: "expression"))
    var filter: String?

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Treat TCP traffic on this port as SMPP whatever its content (repeatable).", valueName: "port"))
    var port: [UInt16] = []

    @Option(name: .long, help: ArgumentHelp("Largest command_length accepted.", valueName: "bytes"))
    var maxPDULength: Int = SMPPFramer.defaultMaximumLength

    func validate() throws {
        if capture == nil && interface == nil {
            throw ValidationError("give a capture file (or - for standard input), or --interface to capture live")
        }
        if capture != nil && interface != nil {
            throw ValidationError("give either a capture file or --interface, not both")
        }
        if filter != nil && interface == nil {
            throw ValidationError("--filter applies to live capture (--interface); filter a file with tcpdump -r IN -w OUT FILTER")
        }
        if maxPDULength < 16 {
            throw ValidationError("--max-pdu-length must be at least 16")
        }
    }

    var configuration: ReassemblyConfiguration {
        ReassemblyConfiguration(maximumPDULength: maxPDULength, forcedPorts: Set(port))
    }

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
}

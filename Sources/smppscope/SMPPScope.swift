// The smppscope command: subcommands parse their options, call the modules, and print.

import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

@main
struct SMPPScope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smppscope",
        abstract: "Decode, analyze and keep SMPP traffic from captures; simulate an SMSC.",
        discussion: """
            Reads pcap and pcapng files (or - for standard input), or a live interface, reassembles the TCP \
            streams and decodes every SMPP 3.4 / 5.0 PDU, on any port.

            Quick start:
              smppscope decode Captures/smpplib_smsckz_port3700.pcap
            """,
        version: "0.1.0",
        subcommands: [
            Decode.self, Analyze.self, Import.self, Sessions.self, Export.self, Record.self, ReplayCommand.self,
            Simulate.self, Prune.self, AnonymizeCommand.self, ProfileCommand.self, ServeCommand.self, TraceCommand.self,
        ]
    )

    static func main() async {
        // Stores, journals, exports and reports hold phone numbers and message text: whatever smppscope creates is
        // its user's alone (0600 files, 0700 folders), or less when the umask says so.
        umask(umask(0) | 0o077)
        await main(nil)
    }
}

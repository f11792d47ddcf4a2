// `smppscope trace`: a real gateway (Jasmin, between python smpplib and the simulator, each hop recorded by
// `smppscope record`) with Jasmin's own log as the oracle for the ids it gave and got, and smpplib's for the receipts;
// and two captures of one link, one shifted in time by editcap, whose offset must be found.

import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Jasmin's python (a virtual environment with PyPI jasmin), where it is installed.
let jasminPython: String? = {
    let candidates = [
        ProcessInfo.processInfo.environment["SMPPSCOPE_JASMIN_PYTHON"], "/opt/smppscope-jasmin/bin/python",
    ]
    return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

let gatewayAvailable =
    jasminPython != nil && geteuid() == 0
    && ["/usr/sbin/rabbitmq-server", "/usr/bin/redis-server"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: $0)
    }

/// Two hops in one capture, built by hand: the ESME (port 41310) to a gateway on 2775, the gateway (port 41311) to
/// the SMSC on 3700. Times are in milliseconds from the start; each hop's bytes are sent in time order.
struct TwoHopCapture {
    enum Hop {
        /// The ESME's transceiver to the gateway, the gateway's to the SMSC, and the ESME's receiver (another bind).
        case downstream, upstream, receiver
    }

    private var events: [(milliseconds: UInt32, hop: Hop, bytes: [UInt8], side: TCPConversation.Side)] = []

    mutating func at(_ milliseconds: UInt32, _ hop: Hop, _ bytes: [UInt8], from side: TCPConversation.Side) {
        events.append((milliseconds, hop, bytes, side))
    }

    func write(to path: String) throws {
        var conversations: [Hop: TCPConversation] = [
            .downstream: TCPConversation(clientPort: 41_310, serverPort: 2_775),
            .upstream: TCPConversation(
                clientPort: 41_311, serverPort: 3_700, clientSequence: 9_000, serverSequence: 12_000),
            .receiver: TCPConversation(
                clientPort: 41_312, serverPort: 2_775, clientSequence: 20_000, serverSequence: 30_000),
        ]
        for hop in [Hop.downstream, .upstream, .receiver] {
            conversations[hop]?.handshake()
            conversations[hop]?.send(Sample.bind(), from: .client)
            conversations[hop]?.send(Sample.bindResponse(), from: .server)
        }
        for event in events.sorted(by: { $0.milliseconds < $1.milliseconds }) {
            conversations[event.hop]?.seconds = 1_795_682_046 + event.milliseconds / 1_000
            conversations[event.hop]?.nanoseconds = (event.milliseconds % 1_000) * 1_000_000
            conversations[event.hop]?.send(event.bytes, from: event.side)
        }
        let packets = conversations.values.flatMap(\.packets).sorted {
            ($0.seconds, $0.nanoseconds) < ($1.seconds, $1.nanoseconds)
        }
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: packets)).write(to: URL(fileURLWithPath: path))
    }
}

@Suite("trace", .serialized, .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct TraceTests {
    /// A part of a long message (UDH with an 8-bit reference of 42).
    static func part(sequence: UInt32, of total: UInt8, number: UInt8, text: String) -> [UInt8] {
        Sample.bytes(
            PDU(
                .submitSM, sequence: sequence,
                body: .shortMessage(
                    .init(
                        source: Address(ton: 5, address: "SHOP"),
                        destination: Address(ton: 1, npi: 1, address: "77011234567"), esmClass: 0x40,
                        registeredDelivery: 1,
                        shortMessage: ByteBuffer(bytes: [5, 0, 3, 42, total, number] + Array(text.utf8))))))
    }

    /// Each finding, on a hand-built capture of two hops where each thing went wrong once.
    @Test func whatGoesWrongBetweenHopsIsFound() throws {
        var capture = TwoHopCapture()
        // 1: forwarded, its receipt passed on 7 s after the SMSC's (late).
        capture.at(1_000, .downstream, Sample.submit(sequence: 2, text: "one"), from: .client)
        capture.at(1_010, .downstream, Sample.submitResponse(sequence: 2, id: "gw-1"), from: .server)
        capture.at(1_100, .upstream, Sample.submit(sequence: 7, text: "one"), from: .client)
        capture.at(1_110, .upstream, Sample.submitResponse(sequence: 7, id: "854019"), from: .server)
        capture.at(2_000, .upstream, Sample.deliveredByTLV(sequence: 1, id: "854019"), from: .server)
        capture.at(9_000, .downstream, Sample.deliveredByTLV(sequence: 1, id: "gw-1"), from: .server)
        // 2: accepted by the gateway, never sent on.
        capture.at(3_000, .downstream, Sample.submit(sequence: 3, text: "two"), from: .client)
        capture.at(3_010, .downstream, Sample.submitResponse(sequence: 3, id: "gw-2"), from: .server)
        // 3: sent on twice.
        capture.at(4_000, .downstream, Sample.submit(sequence: 4, text: "three"), from: .client)
        capture.at(4_010, .downstream, Sample.submitResponse(sequence: 4, id: "gw-3"), from: .server)
        capture.at(4_100, .upstream, Sample.submit(sequence: 8, text: "three"), from: .client)
        capture.at(4_110, .upstream, Sample.submitResponse(sequence: 8, id: "854020"), from: .server)
        capture.at(4_500, .upstream, Sample.submit(sequence: 9, text: "three"), from: .client)
        capture.at(4_510, .upstream, Sample.submitResponse(sequence: 9, id: "854021"), from: .server)
        // 4: accepted by the gateway, refused upstream.
        capture.at(5_000, .downstream, Sample.submit(sequence: 5, text: "four"), from: .client)
        capture.at(5_010, .downstream, Sample.submitResponse(sequence: 5, id: "gw-4"), from: .server)
        capture.at(5_100, .upstream, Sample.submit(sequence: 10, text: "four"), from: .client)
        capture.at(
            5_110, .upstream,
            Sample.bytes(PDU(.submitSMResp, status: CommandStatus(0x58), sequence: 10, body: .messageID(""))),
            from: .server)
        // 5: its SMSC receipt never passed on (the capture goes on 20 s after it).
        capture.at(6_000, .downstream, Sample.submit(sequence: 6, text: "five"), from: .client)
        capture.at(6_010, .downstream, Sample.submitResponse(sequence: 6, id: "gw-5"), from: .server)
        capture.at(6_100, .upstream, Sample.submit(sequence: 11, text: "five"), from: .client)
        capture.at(6_110, .upstream, Sample.submitResponse(sequence: 11, id: "854022"), from: .server)
        capture.at(7_000, .upstream, Sample.deliveredByTLV(sequence: 2, id: "854022"), from: .server)
        // 6: its receipt came on the ESME's other bind.
        capture.at(10_000, .downstream, Sample.submit(sequence: 7, text: "six"), from: .client)
        capture.at(10_010, .downstream, Sample.submitResponse(sequence: 7, id: "gw-6"), from: .server)
        capture.at(10_100, .upstream, Sample.submit(sequence: 12, text: "six"), from: .client)
        capture.at(10_110, .upstream, Sample.submitResponse(sequence: 12, id: "854023"), from: .server)
        capture.at(11_000, .upstream, Sample.deliveredByTLV(sequence: 3, id: "854023"), from: .server)
        capture.at(11_010, .receiver, Sample.deliveredByTLV(sequence: 1, id: "gw-6"), from: .server)
        // 7: two parts from the ESME, one message upstream.
        capture.at(12_000, .downstream, Self.part(sequence: 8, of: 2, number: 1, text: "seven-a"), from: .client)
        capture.at(12_001, .downstream, Self.part(sequence: 9, of: 2, number: 2, text: "seven-b"), from: .client)
        capture.at(12_010, .downstream, Sample.submitResponse(sequence: 8, id: "gw-7"), from: .server)
        capture.at(12_011, .downstream, Sample.submitResponse(sequence: 9, id: "gw-8"), from: .server)
        capture.at(12_100, .upstream, Sample.submit(sequence: 13, text: "seven-aseven-b"), from: .client)
        capture.at(12_110, .upstream, Sample.submitResponse(sequence: 13, id: "854024"), from: .server)
        capture.at(27_000, .downstream, Sample.enquireLink(sequence: 9), from: .client)
        let scratch = try Scratch()
        let path = scratch.path("two-hops.pcap")
        try capture.write(to: path)
        if let keep = ProcessInfo.processInfo.environment["SMPPSCOPE_KEEP_TRACE_CAPTURE"] {
            try capture.write(to: keep)
        }

        func trace(_ arguments: [String]) throws -> [String: Any] {
            let run = try smppscope(["trace"] + arguments + ["--format", "json"])
            #expect(run.status == 0, "\(run.errors)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        }
        let report = try trace([path])
        let found = Dictionary(
            ((report["findings"] as? [[String: Any]]) ?? []).map {
                ($0["code"] as? String ?? "", $0["count"] as? Int ?? 0)
            },
            uniquingKeysWith: +)
        #expect(
            found == [
                "receipt_forwarded_late": 1, "message_lost_between_hops": 1, "message_duplicated_between_hops": 1,
                "status_changed_between_hops": 1, "receipt_not_forwarded": 1, "receipt_on_other_bind": 1,
                "parts_regrouped": 1,
            ], "\(found)")
        let journeys = try #require(report["messages"] as? [[String: Any]])
        #expect(journeys.map { ($0["hops"] as? [Any])?.count ?? 0 } == [2, 1, 2, 2, 2, 2, 2])
        let first = try #require(journeys.first?["hops"] as? [[String: Any]])
        #expect(first.map { ($0["parts"] as? [[String: Any]])?.first?["message_id"] as? String } == ["gw-1", "854019"])
        #expect(abs((first[0]["forward_ms"] as? Double ?? 0) - 100) < 0.001)

        // A later limit for late receipts, a shorter window for the next hop.
        let patient = try trace([path, "--late-receipt", "10"])
        #expect(
            !((patient["findings"] as? [[String: Any]]) ?? []).contains {
                $0["code"] as? String == "receipt_forwarded_late"
            })
        let hasty = try trace([path, "--window", "0.05"])
        #expect(((hasty["messages"] as? [[String: Any]]) ?? []).allSatisfy { ($0["hops"] as? [Any])?.count == 1 })

        // The same from a store: its source is the input.
        let store = scratch.path("two-hops.sqlite")
        #expect(try smppscope(["import", path, "--store", store]).status == 0)
        let stored = try trace(["--store", store, "--source", "1"])
        #expect(
            ((stored["messages"] as? [[String: Any]]) ?? []).map { ($0["hops"] as? [Any])?.count ?? 0 } == [
                2, 1, 2, 2, 2, 2, 2,
            ])
        // serve's message view shows the journey from the store.
        let server = try ServeProcess(store: store)
        let message = try server.json("/api/messages/gw-1")
        let journey = try #require(message["journey"] as? [[String: Any]])
        #expect(
            journey.map { ($0["parts"] as? [[String: Any]])?.first?["message_id"] as? String } == ["gw-1", "854019"])
        #expect(journey.map { $0["smsc"] as? String } == ["127.0.0.1:2775", "127.0.0.1:3700"])
        #expect(try server.json("/api/messages/gw-2")["journey"] is NSNull, "a message that went no further")
        server.stop()
        // A time range of the store: the first two messages only (the second one's submit is at 3 s).
        let range = try trace(["--store", store, "--from", "1795682046", "--to", "1795682049.5"])
        #expect(((range["messages"] as? [[String: Any]]) ?? []).map { ($0["hops"] as? [Any])?.count ?? 0 } == [2, 1])
        let unknown = try smppscope(["trace", "--store", store, "--source", "7"])
        #expect(unknown.status == 1 && unknown.errors.contains("the store has no source 7"))
        let none = try smppscope(["trace", scratch.path("absent.pcap")])
        #expect(none.status == 1 && none.errors.contains("error: "))
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/editcap"), "needs editcap (wireshark-common)"))
    func twoCapturesOfOneLinkGiveTheirClockOffset() throws {
        let scratch = try Scratch()
        let shifted = scratch.path("shifted.pcap")
        let editcap = Process()
        editcap.executableURL = URL(fileURLWithPath: "/usr/bin/editcap")
        editcap.arguments = ["-t", "1.234567", Paths.capture, shifted]
        try editcap.run()
        editcap.waitUntilExit()
        #expect(editcap.terminationStatus == 0)

        let run = try smppscope(["trace", Paths.capture, shifted, "--format", "json"])
        #expect(run.status == 0, "\(run.errors)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let offsets = try #require(report["clock_offsets"] as? [[String: Any]])
        #expect(offsets.count == 1)
        let offset = try #require(offsets.first?["offset_ms"] as? Double)
        #expect(abs(offset - -1_234.567) < 1, "the shifted capture's clock is 1234.567 ms ahead: \(offset)")
        #expect(abs(offsets.first?["drift_ppm"] as? Double ?? 99) < 1)
        // The copy adds no message: one hop each, every submit_sm tshark sees counted once.
        let messages = try #require(report["messages"] as? [[String: Any]])
        #expect(messages.allSatisfy { ($0["hops"] as? [Any])?.count == 1 })
        let parts = messages.flatMap { (($0["hops"] as? [[String: Any]])?.first?["parts"] as? [Any]) ?? [] }
        if TShark.available {
            let submits = try TShark.pdus(Paths.capture, decodeAs: 3700).filter { $0.commandID == 4 }
            #expect(parts.count == submits.count)
        }
        #expect((report["findings"] as? [Any])?.isEmpty == true)
    }

    @Test(
        .enabled(
            if: gatewayAvailable,
            "needs root, rabbitmq-server and redis-server, and Jasmin in /opt/smppscope-jasmin (see .ci/run)"))
    func aRealGatewaysJourneysAreFollowed() throws {
        let scratch = try Scratch()
        try withRunningSimulator(["--account", "smsckz:secret:1000"]) { smscPort in
            // The upstream hop, recorded.
            let upstreamProxy = freePort()
            let (upstreamRecorder, _) = try startSmppscope(
                [
                    "record", "--listen", "127.0.0.1:\(upstreamProxy)", "--upstream", "127.0.0.1:\(smscPort)", "--pcap",
                    scratch.path("upstream.pcapng"), "--summary-every", "0",
                ], ready: "listening on")
            // Jasmin, its connector to the upstream proxy.
            let gateway = Process()
            gateway.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            gateway.arguments = [
                "python3", Paths.root.appendingPathComponent("Tests/Peers/jasmin_gateway.py").path, "--python",
                jasminPython ?? "", "--folder", scratch.path("jasmin"), "--upstream", String(upstreamProxy),
                "--upstream-login", "smsckz:secret", "--esme-login", "shop:shop-pw",
            ]
            let gatewayInput = Pipe()
            let gatewayOutput = Pipe()
            let gatewayErrors = StandardErrorLog()
            let errorPipe = Pipe()
            gateway.standardInput = gatewayInput
            gateway.standardOutput = gatewayOutput
            gateway.standardError = errorPipe
            errorPipe.fileHandleForReading.readabilityHandler = { gatewayErrors.append($0.availableData) }
            try gateway.run()
            defer {
                try? gatewayInput.fileHandleForWriting.close()
                gateway.waitUntilExit()
            }
            var line = Data()
            while gateway.isRunning, !String(decoding: line, as: UTF8.self).contains("\n") {
                line += gatewayOutput.fileHandleForReading.availableData
            }
            let ready = String(decoding: line, as: UTF8.self)
            let gatewayPort = try #require(
                Int(ready.replacingOccurrences(of: "ready ", with: "").trimmingCharacters(in: .whitespacesAndNewlines)),
                "Jasmin did not start: \(ready) \(gatewayErrors.all)")
            // The downstream hop, recorded.
            let downstreamProxy = freePort()
            let (downstreamRecorder, _) = try startSmppscope(
                [
                    "record", "--listen", "127.0.0.1:\(downstreamProxy)", "--upstream", "127.0.0.1:\(gatewayPort)",
                    "--pcap", scratch.path("downstream.pcapng"), "--summary-every", "0",
                ], ready: "listening on")

            // python smpplib sends through Jasmin.
            let client = Process()
            client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            client.arguments = [
                "python3", Paths.root.appendingPathComponent("Tests/Peers/smpplib_gateway_client.py").path, "127.0.0.1",
                String(downstreamProxy), "shop", "shop-pw", "5",
            ]
            let clientOutput = Pipe()
            client.standardOutput = clientOutput
            client.standardError = FileHandle.nullDevice
            try client.run()
            let said = clientOutput.fileHandleForReading.readDataToEndOfFile()
            client.waitUntilExit()
            let esme = try #require(try JSONSerialization.jsonObject(with: said) as? [String: Any])
            for recorder in [downstreamRecorder, upstreamRecorder] {
                recorder.interrupt()
                recorder.waitUntilExit()
            }

            let html = scratch.path("journeys.html")
            let run = try smppscope([
                "trace", scratch.path("downstream.pcapng"), scratch.path("upstream.pcapng"), "--format", "json",
                "--html",
                html,
            ])
            #expect(run.status == 0, "\(run.errors)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
            let journeys = try #require(report["messages"] as? [[String: Any]])

            // Jasmin's log: the id it gave the ESME (queue-msgid) and the one the SMSC gave it (smpp-msgid).
            let log = try String(contentsOfFile: scratch.path("jasmin/logs/messages.log"), encoding: .utf8)
            var mapping: Set<String> = []
            for line in log.split(separator: "\n") where line.contains("SMS-MT") {
                guard let queue = line.range(of: "[queue-msgid:"), let smpp = line.range(of: "[smpp-msgid:b'") else {
                    continue
                }
                let given = line[queue.upperBound...].prefix { $0 != "]" }
                let got = line[smpp.upperBound...].prefix { $0 != "'" }
                mapping.insert("\(given) \(got)")
            }
            let sent = try #require(esme["sent"] as? [[String: Any]])
            #expect(sent.count == 6 && mapping.count == 7, "5 messages and a long one of 2 parts: \(mapping)")
            #expect(journeys.count == sent.count)
            for message in sent {
                let destination = message["destination"] as? String ?? ""
                let journey = try #require(
                    journeys.first { $0["destination"] as? String == destination }, "a journey for \(destination)")
                let hops = try #require(journey["hops"] as? [[String: Any]])
                #expect(hops.count == 2, "\(destination) followed through the gateway")
                guard hops.count == 2 else { continue }
                let down = (hops[0]["parts"] as? [[String: Any]] ?? []).map { $0["message_id"] as? String ?? "" }
                let up = (hops[1]["parts"] as? [[String: Any]] ?? []).map { $0["message_id"] as? String ?? "" }
                #expect(down == message["ids"] as? [String], "the ids the ESME got, as smpplib says")
                #expect(down.count == up.count)
                for (given, got) in zip(down, up) {
                    #expect(mapping.contains("\(given) \(got)"), "Jasmin's log maps \(given) to \(got)")
                }
                #expect(hops[0]["system_id"] as? String == "shop" && hops[1]["system_id"] as? String == "smsckz")
                #expect((hops[0]["forward_ms"] as? Double ?? -1) >= 0)
            }
            // Each receipt smpplib got is on the first hop of its message, in the state smpplib read.
            let receipts = try #require(esme["receipts"] as? [[String: Any]])
            #expect(receipts.count >= sent.count)
            for receipt in receipts {
                let id = receipt["id"] as? String ?? ""
                let part = journeys.flatMap {
                    ($0["hops"] as? [[String: Any]])?.first?["parts"] as? [[String: Any]] ?? []
                }
                .first { $0["message_id"] as? String == id }
                #expect(
                    (part?["receipt"] as? [String: Any])?["state"] as? String == receipt["stat"] as? String,
                    "the receipt for \(id)")
            }
            #expect((report["findings"] as? [Any])?.isEmpty == true, "\(report["findings"] ?? "")")
            let stages = try #require(report["hops"] as? [String: Any])
            for stage in ["hop1.submit_response", "hop1_to_hop2.forward", "hop2.submit_response", "hop2.receipt"] {
                #expect(stages[stage] != nil, "\(stage)")
            }
            // Both hops imported into a store: serve's message view follows each message across them.
            let store = scratch.path("hops.sqlite")
            let imported = try smppscope([
                "import", scratch.path("downstream.pcapng"), scratch.path("upstream.pcapng"), "--store", store,
            ])
            #expect(imported.status == 0, "\(imported.errors)")
            let server = try ServeProcess(store: store)
            for message in sent {
                guard let id = (message["ids"] as? [String])?.first else { continue }
                let view = try server.json("/api/messages/\(id)")
                let hops = try #require(view["journey"] as? [[String: Any]], "a journey for \(id)")
                let ids = hops.map { ($0["parts"] as? [[String: Any]])?.first?["message_id"] as? String ?? "" }
                #expect(ids.count == 2 && mapping.contains("\(ids[0]) \(ids[1])"), "\(ids)")
            }
            server.stop()
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.components(separatedBy: "class=\"chart ladder\"").count - 1 == sent.count)
        }
    }
}

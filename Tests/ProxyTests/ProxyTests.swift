// The recording proxy between peers whose every byte the tests control, and between a real client and the
// simulator: transparency, half-closes and resets carried across, faults, many sessions, TLS on both sides.

import Capture
import Foundation
import Ingest
import NIOCore
import NIOPosix
import NIOSSL
import Proxy
import Reassembly
import Recording
import SMPP
import Simulator
import Store
import TestSupport
import Testing
import Transport

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps every recorded event.
final class CollectingSink: RecordingSink, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [StreamEvent] = []
    private var notices: [String] = []

    func record(_ event: StreamEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }

    func note(_ notice: ProxyNotice) {
        lock.lock()
        notices.append(notice.description)
        lock.unlock()
    }

    var all: [StreamEvent] {
        lock.lock()
        defer { lock.unlock() }
        return events
    }

    var allNotices: [String] {
        lock.lock()
        defer { lock.unlock() }
        return notices
    }

    /// The client's endpoint, from the first opening recorded.
    var client: Endpoint? {
        for case .opened(let connection) in all { return connection.synSender ?? connection.first }
        return nil
    }

    /// PDU bytes per direction: 0 from the client, 1 from the SMSC.
    func pdus(client: Endpoint?) -> [[UInt8]] {
        var result: [[UInt8]] = [[], []]
        for case .pdu(let pdu) in all {
            result[pdu.source == client ? 0 : 1] += Array(pdu.raw.readableBytesView)
        }
        return result
    }

    func waitFor(timeout: Double = 5, _ condition: ([StreamEvent]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(all) { return true }
            usleep(10_000)
        }
        return condition(all)
    }
}

func startProxy(
    upstreamPort: Int, sink: CollectingSink, _ configure: (inout ProxyConfiguration) -> Void = { _ in }
) throws -> (RecordProxy, Int) {
    var configuration = ProxyConfiguration(upstreamHost: "127.0.0.1", upstreamPort: upstreamPort)
    configuration.listenPort = 0
    configure(&configuration)
    let proxy = try RecordProxy(configuration: configuration, sink: sink) { sink.note($0) }
    return (proxy, proxy.address?.port ?? 0)
}

/// Encoded PDUs of a short session, client side and SMSC side.
enum Traffic {
    static let fromClient: [[UInt8]] = [
        Sample.bind(sequence: 1),
        Sample.submit(sequence: 2, text: "first"),
        Sample.submit(sequence: 3, text: String(repeating: "long message ", count: 10)),
        Sample.enquireLink(sequence: 4),
        Sample.unbind(sequence: 5),
    ]
    static let fromSMSC: [[UInt8]] = [
        Sample.bindResponse(sequence: 1),
        Sample.submitResponse(sequence: 2, id: "A1"),
        Sample.submitResponse(sequence: 3, id: "A2"),
        Sample.deliver(
            sequence: 7,
            text: "id:A1 sub:001 dlvrd:001 submit date:2611261200 done date:2611261200 stat:DELIVRD err:000"),
    ]

    /// Sends bytes in pieces of odd sizes, with pauses, so PDUs arrive split and merged.
    static func dribble(_ bytes: [UInt8], over connection: SocketConnection, seed: UInt64) throws {
        var random = seed
        var offset = 0
        while offset < bytes.count {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let size = Int(random >> 59) + 1
            let end = min(bytes.count, offset + size)
            try connection.send(Array(bytes[offset..<end]))
            if random & 0x3 == 0 { usleep(2_000) }
            offset = end
        }
    }
}

@Suite("Recording proxy", .serialized)
struct ProxyTests {
    @Test func bytesGoThroughUnchangedAndTheRecordingHoldsEveryPDU() throws {
        let upstream = try Listener()
        let sink = CollectingSink()
        let (proxy, port) = try startProxy(upstreamPort: upstream.port, sink: sink)
        defer { proxy.shutdown() }

        let client = try SocketConnection.connect(port: port)
        let server = try upstream.accept()
        let clientBytes = Traffic.fromClient.flatMap { $0 }
        let smscBytes = Traffic.fromSMSC.flatMap { $0 }
        try Traffic.dribble(clientBytes, over: client, seed: 1)
        #expect(server.receive(atLeast: clientBytes.count).bytes == clientBytes)
        try Traffic.dribble(smscBytes, over: server, seed: 2)
        #expect(client.receive(atLeast: smscBytes.count).bytes == smscBytes)

        // Half-close: the client's FIN reaches the SMSC, which can still answer, then closes.
        client.shutdownOutput()
        let afterFIN = server.receive(timeout: 5)
        #expect(afterFIN.closed && afterFIN.bytes.isEmpty)
        let last = Sample.unbindResponse(sequence: 5)
        try server.send(last)
        server.closeNow()
        let tail = client.receive(timeout: 5)
        #expect(tail.bytes == last)
        #expect(tail.closed)

        #expect(sink.waitFor { $0.contains { if case .ended = $0 { return true } else { return false } } })
        let events = sink.all
        guard case .opened(let connection)? = events.first else {
            Issue.record("the first event is not the opening: \(events.first.map { "\($0)" } ?? "none")")
            return
        }
        #expect(connection.synSender == connection.first)
        #expect(sink.waitFor { _ in sink.pdus(client: connection.first)[1].count == smscBytes.count + last.count })
        let recorded = sink.pdus(client: connection.first)
        #expect(recorded[0] == clientBytes)
        #expect(recorded[1] == smscBytes + last)
        let ends = events.compactMap { event -> ConnectionEnd? in
            if case .ended(let end) = event { return end } else { return nil }
        }
        #expect(ends.count == 1)
        #expect(ends.first?.kind == .fin)
        #expect(ends.first?.by == connection.first)
        // Stream offsets count each direction's bytes.
        let offsets = events.compactMap { event -> UInt64? in
            if case .pdu(let pdu) = event, pdu.source == connection.first {
                return pdu.streamOffset
            } else {
                return nil
            }
        }
        let expectedOffsets = Traffic.fromClient.indices.map { index in
            UInt64(Traffic.fromClient[..<index].reduce(0) { $0 + $1.count })
        }
        #expect(offsets == expectedOffsets)
    }

    @Test(arguments: [
        // Text that is not SMPP between two PDUs.
        Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
        // A header whose command_length the codec refuses (over the maximum), then bytes of its would-be body.
        [0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2, 3],
        // A command_length under the header's size.
        [0, 0, 0, 3, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 3],
    ])
    func bytesThatDoNotFrameAreForwardedReportedAndTheRecordingGoesOn(junk: [UInt8]) throws {
        let upstream = try Listener()
        let sink = CollectingSink()
        let (proxy, port) = try startProxy(upstreamPort: upstream.port, sink: sink)
        defer { proxy.shutdown() }
        let client = try SocketConnection.connect(port: port)
        let server = try upstream.accept()
        let before = Sample.bind(sequence: 1)
        let after = Sample.enquireLink(sequence: 2) + Sample.submit(sequence: 3, text: "after the damage")
        let bytes = before + junk + after
        try client.send(bytes)
        #expect(server.receive(atLeast: bytes.count).bytes == bytes, "forwarding is untouched")
        // Everything after the damage is still recorded, and the damage is reported where it is.
        #expect(sink.waitFor { _ in sink.pdus(client: sink.client)[0].count >= before.count + after.count })
        #expect(sink.pdus(client: sink.client)[0] == before + after)
        let diagnostics = sink.all.compactMap { event -> StreamDiagnostic? in
            if case .diagnostic(let diagnostic) = event { return diagnostic } else { return nil }
        }
        #expect(
            diagnostics.contains {
                $0.message == "skipped \(junk.count) bytes that do not frame as SMPP, to resynchronise"
            })
        #expect(diagnostics.allSatisfy { $0.streamOffset == UInt64(before.count) })
        #expect(sink.allNotices.contains { $0.contains("stream offset \(before.count)") })
    }

    @Test func aResetSMSCResetsTheClientAndTheProxyGoesOn() throws {
        let upstream = try Listener()
        let sink = CollectingSink()
        let (proxy, port) = try startProxy(upstreamPort: upstream.port, sink: sink)
        defer { proxy.shutdown() }
        let client = try SocketConnection.connect(port: port)
        let server = try upstream.accept()
        try client.send(Sample.bind(sequence: 1))
        _ = server.receive(atLeast: Sample.bind(sequence: 1).count)
        server.reset()
        let seen = client.receive(timeout: 5)
        #expect(seen.closed, "the client sees the SMSC go")
        #expect(seen.reset, "as a reset")
        #expect(
            sink.waitFor { events in
                events.contains { if case .ended(let end) = $0 { return end.kind == .rst } else { return false } }
            })

        // The proxy lives on.
        let second = try SocketConnection.connect(port: port)
        let secondServer = try upstream.accept()
        try second.send(Sample.enquireLink(sequence: 9))
        #expect(secondServer.receive(atLeast: 16).bytes == Sample.enquireLink(sequence: 9))
    }

    @Test func aKilledClientClosesItsSMSCConnection() throws {
        let upstream = try Listener()
        let sink = CollectingSink()
        let (proxy, port) = try startProxy(upstreamPort: upstream.port, sink: sink)
        defer { proxy.shutdown() }
        let client = try SocketConnection.connect(port: port)
        let server = try upstream.accept()
        try client.send(Sample.bind(sequence: 1))
        _ = server.receive(atLeast: Sample.bind(sequence: 1).count)
        client.reset()
        let seen = server.receive(timeout: 5)
        #expect(seen.closed)
        #expect(proxy.waitForSessions(seconds: 5))
    }

    @Test func anUnreachableSMSCClosesTheClientWithAReason() throws {
        let port: Int
        do {
            let unused = try Listener()
            port = unused.port
        }
        let sink = CollectingSink()
        let (proxy, proxyPort) = try startProxy(upstreamPort: port, sink: sink)
        defer { proxy.shutdown() }
        let client = try SocketConnection.connect(port: proxyPort)
        #expect(client.receive(timeout: 5).closed)
        #expect(sink.waitFor { _ in sink.allNotices.contains { $0.contains("cannot reach the SMSC") } })
        #expect(!sink.all.contains { if case .opened = $0 { return true } else { return false } })
    }

    @Test func clientsOutsideTheAllowListAreRefused() throws {
        let upstream = try Listener()
        let sink = CollectingSink()
        let (proxy, port) = try startProxy(upstreamPort: upstream.port, sink: sink) {
            $0.allow = [CIDR("10.0.0.0/8")].compactMap { $0 }
        }
        defer { proxy.shutdown() }
        let client = try SocketConnection.connect(port: port)
        #expect(client.receive(timeout: 5).closed)
        #expect(sink.allNotices.contains { $0.contains("not in --allow") })
        #expect((try? upstream.accept(timeout: 0.3)) == nil)
        #expect(CIDR("127.0.0.0/8")?.contains(IPAddress("127.1.2.3") ?? IPAddress(ipv4: 0)) == true)
        #expect(CIDR("::1")?.contains(IPAddress("::1") ?? IPAddress(ipv4: 0)) == true)
        #expect(CIDR("2001:db8::/32")?.contains(IPAddress("2001:db8:1::5") ?? IPAddress(ipv4: 0)) == true)
        #expect(CIDR("2001:db8::/32")?.contains(IPAddress("2001:db9::5") ?? IPAddress(ipv4: 0)) == false)
    }

    @Test func aThousandSessionsAtOnce() throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 8_192 {
            limit.rlim_cur = min(limit.rlim_max, 8_192)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let upstream = try Listener()
        let sink = CollectingSink()
        let (proxy, port) = try startProxy(upstreamPort: upstream.port, sink: sink)
        defer { proxy.shutdown() }
        let count = 1_000
        // The SMSC side answers each enquire_link on every connection it accepts.
        let answered = Thread {
            var servers: [SocketConnection] = []
            for _ in 0..<count {
                guard let server = try? upstream.accept() else { break }
                servers.append(server)
            }
            for server in servers {
                let request = server.receive(atLeast: 16, timeout: 10).bytes
                guard request.count == 16 else { continue }
                let sequence =
                    UInt32(request[12]) << 24 | UInt32(request[13]) << 16 | UInt32(request[14]) << 8
                    | UInt32(request[15])
                try? server.send(Sample.bytes(PDU(.enquireLinkResp, sequence: sequence)))
            }
            Thread.sleep(forTimeInterval: 5)
            _ = servers
        }
        answered.start()
        var clients: [SocketConnection] = []
        for index in 0..<count {
            let client = try SocketConnection.connect(port: port)
            try client.send(Sample.enquireLink(sequence: UInt32(index + 1)))
            clients.append(client)
        }
        // All of them open at once through the proxy (it accepts them from its backlog).
        let deadline = Date().addingTimeInterval(10)
        while proxy.counters.open < count, Date() < deadline { usleep(10_000) }
        #expect(proxy.counters.open == count)
        var ok = 0
        for (index, client) in clients.enumerated() {
            let reply = client.receive(atLeast: 16, timeout: 10).bytes
            if reply == Sample.bytes(PDU(.enquireLinkResp, sequence: UInt32(index + 1))) { ok += 1 }
        }
        #expect(ok == count)
        #expect(proxy.counters.sessions == count)
        for client in clients { client.closeNow() }
    }

    @Test func tlsOnBothSidesEndToEnd() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("smppscope-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ pem: (certificate: String, privateKey: String), _ name: String) throws -> (String, String) {
            let certificate = folder.appendingPathComponent("\(name).pem").path
            let key = folder.appendingPathComponent("\(name).key").path
            try pem.certificate.write(toFile: certificate, atomically: true, encoding: .utf8)
            try pem.privateKey.write(toFile: key, atomically: true, encoding: .utf8)
            return (certificate, key)
        }
        let (smscCertificate, smscKey) = try write(try Simulator.selfSignedPEM(commonName: "localhost"), "smsc")
        let (proxyCertificate, proxyKey) = try write(try Simulator.selfSignedPEM(commonName: "localhost"), "proxy")

        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.listenPort = 0
        simulatorConfiguration.tlsHost = "127.0.0.1"
        simulatorConfiguration.tlsPort = 0
        simulatorConfiguration.certificatePath = smscCertificate
        simulatorConfiguration.privateKeyPath = smscKey
        simulatorConfiguration.accounts = [.init(systemID: "shop", password: "secret")]
        simulatorConfiguration.latency = 0
        simulatorConfiguration.jitter = 0
        let simulator = try Simulator(configuration: simulatorConfiguration) { _ in }
        defer { simulator.shutdown() }

        let sink = CollectingSink()
        let (proxy, port) = try startProxy(upstreamPort: simulator.tlsAddress?.port ?? 0, sink: sink) {
            $0.clientCertificate = proxyCertificate
            $0.clientPrivateKey = proxyKey
            $0.upstreamTLS = .verified(trustRoots: smscCertificate, serverName: "localhost")
        }
        defer { proxy.shutdown() }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(proxyCertificate)
        let context = try NIOSSLContext(configuration: tls)
        let collector = Collector()
        let channel = try ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMPPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).wait()
        let bind = PDU(.bindTransceiver, sequence: 1, body: .bind(.init(systemID: "shop", password: "secret")))
        try channel.writeAndFlush(bind.encoded).wait()
        #expect(collector.next()?.commandStatus == .ok)
        var submit = submitPDU("through two TLS hops")
        submit.header.sequenceNumber = 2
        try channel.writeAndFlush(submit.encoded).wait()
        let response = collector.next()
        #expect(response?.commandID == .submitSMResp)
        #expect(response?.commandStatus == .ok)
        try channel.close().wait()
        #expect(
            sink.waitFor { events in
                events.filter { if case .pdu = $0 { return true } else { return false } }.count >= 4
            })
        let commands = sink.all.compactMap { event -> CommandID? in
            if case .pdu(let pdu) = event { return pdu.header.commandID } else { return nil }
        }
        #expect(Array(commands.prefix(4)) == [.bindTransceiver, .bindTransceiverResp, .submitSM, .submitSMResp])
    }
}

/// Collects decoded PDUs from a NIO client channel.
final class Collector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let condition = NSCondition()
    private var pdus: [PDU] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        condition.lock()
        if let pdu = try? PDU.decode(frame) { pdus.append(pdu) }
        condition.broadcast()
        condition.unlock()
    }

    func next(timeout: Double = 5) -> PDU? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while pdus.isEmpty {
            if !condition.wait(until: deadline) { return nil }
        }
        return pdus.removeFirst()
    }
}

/// Runs a program to its end.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], timeout: Double = 120) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning, Date() < deadline { usleep(20_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return process.terminationStatus
}

enum RealPeers {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var smpplib: Bool {
        (try? runProgram("/usr/bin/env", ["python3", "-c", "import smpplib"], timeout: 20)) == 0
    }
}

@Suite("Recording proxy with a real client", .serialized, .enabled(if: RealPeers.smpplib, "needs python smpplib"))
struct RealClientProxyTests {
    /// python smpplib through the proxy to the simulator; smpplib's own log of its socket is the oracle for what
    /// each direction carried, and the store and the journal must hold exactly that.
    @Test func smpplibThroughTheProxyRecordsWhatItsSocketCarried() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "smppscope-real-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.listenPort = 0
        simulatorConfiguration.accounts = [.init(systemID: "tester", password: "s3cr3tpw")]
        let simulator = try Simulator(configuration: simulatorConfiguration) { _ in }
        defer { simulator.shutdown() }
        let smscPort = try #require(simulator.plainAddress?.port)

        let store = try SQLiteStore(path: folder.appendingPathComponent("record.sqlite").path)
        var options = RecorderOptions()
        options.store = store
        options.sourceName = "test"
        options.pcapPath = folder.appendingPathComponent("journal.pcapng").path
        let recorder = try Recorder(options: options)
        var configuration = ProxyConfiguration(upstreamHost: "127.0.0.1", upstreamPort: smscPort)
        configuration.listenPort = 0
        let proxy = try RecordProxy(configuration: configuration, sink: recorder) { _ in }
        let proxyPort = try #require(proxy.address?.port)

        let log = folder.appendingPathComponent("smpplib.log").path
        let script = RealPeers.root.appendingPathComponent("Tests/Peers/smpplib_client.py").path
        let status = try runProgram("/usr/bin/env", ["python3", script, "127.0.0.1", "\(proxyPort)", log, "20"])
        #expect(status == 0, "the smpplib client failed")
        #expect(proxy.waitForSessions(seconds: 10))
        proxy.shutdown()
        try recorder.finish()

        // What smpplib wrote and read, as it logged it.
        var sent: [UInt8] = []
        var received: [UInt8] = []
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.last == "done")
        for line in lines {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            let bytes = stride(from: 0, to: parts[1].count, by: 2).compactMap { offset -> UInt8? in
                let start = parts[1].index(parts[1].startIndex, offsetBy: offset)
                return UInt8(parts[1][start..<parts[1].index(start, offsetBy: 2)], radix: 16)
            }
            if parts[0] == "sent" { sent += bytes } else if parts[0] == "received" { received += bytes }
        }
        #expect(sent.count > 1_000)

        // The store holds exactly those bytes, the bind's password redacted.
        var stored: [String: [UInt8]] = [:]
        var sources: [Endpoint] = []
        try store.read(StoreFilter()) { event in
            if case .stream(.opened(let connection)) = event { sources.append(connection.first) }
            guard case .stream(.pdu(let pdu)) = event else { return }
            stored[sources.contains(pdu.source) ? "up" : "down", default: []] += Array(pdu.raw.readableBytesView)
        }
        let redactedUp = redactPasswords(sent)
        #expect(redactedUp != sent, "the bind's password was redacted")
        #expect(stored["up"] == redactedUp)
        #expect(stored["down"] == received)
        #expect(try store.sources().first?.completedAt != nil)

        // The journal decodes to the same PDUs.
        var journal: [String: [UInt8]] = [:]
        try CaptureIngest(source: try PacketSource.open(path: options.pcapPath ?? "")).run { event in
            if case .pdu(let item) = event {
                journal[item.fromClient == true ? "up" : "down", default: []] += Array(item.raw.readableBytesView)
            }
        }
        #expect(journal["up"] == redactedUp)
        #expect(journal["down"] == received)
    }

    /// The PDUs of a byte stream with bind passwords redacted.
    func redactPasswords(_ bytes: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        var out: [UInt8] = []
        let framer = SMPPFramer()
        while case .frame(let frame) = framer.step(&buffer) {
            out += Array((PasswordRedaction.redacted(frame) ?? frame).readableBytesView)
        }
        return out
    }
}

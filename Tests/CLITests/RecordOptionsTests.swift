// `smppscope record`'s options as users give them: who may connect, how many, the metrics endpoint's bounds, the
// accounts the metrics name, sealed passwords, and TLS towards the SMSC in each of its forms.

import Foundation
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A self-signed certificate for `names` (subjectAltName entries, e.g. DNS:localhost), made by openssl.
func makeCertificate(
    in scratch: Scratch, name: String = "smsc", names: String = "DNS:localhost,IP:127.0.0.1"
) -> (certificate: String, key: String) {
    let certificate = scratch.path("\(name).pem")
    let key = scratch.path("\(name).key")
    #expect(
        FaultPeers.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", certificate,
                "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=\(names)",
            ]))
    return (certificate, key)
}

/// An SMSC on plain sockets that answers each bind with `status` for each connection it accepts, in a thread.
final class BindAnswerer: @unchecked Sendable {
    let listener: Listener
    private let statuses: [CommandStatus]

    init(statuses: [CommandStatus]) throws {
        listener = try Listener()
        self.statuses = statuses
        let listener = self.listener
        Thread {
            var kept: [SocketConnection] = []
            for status in statuses {
                guard let server = try? listener.accept() else { return }
                let bind = server.receive(atLeast: 16, timeout: 5).bytes
                guard bind.count >= 16 else { continue }
                let sequence =
                    UInt32(bind[12]) << 24 | UInt32(bind[13]) << 16 | UInt32(bind[14]) << 8 | UInt32(bind[15])
                try? server.send(
                    Sample.bytes(
                        PDU(
                            .bindTransceiverResp, status: status, sequence: sequence,
                            body: .bindResponse(.init(systemID: "SMSC")))))
                kept.append(server)
            }
            Thread.sleep(forTimeInterval: 10)
            _ = kept
        }.start()
    }
}

@Suite(
    "Record options", .serialized,
    .enabled(
        if: Paths.binary != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
        "needs a built smppscope and openssl"))
struct RecordOptionsTests {
    @Test func allowAndMaxSessionsDecideWhoConnects() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let outside = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, ["--allow", "10.0.0.0/8"])
        let refused = try SocketConnection.connect(port: outside.port)
        #expect(refused.receive(timeout: 5).closed)
        #expect(outside.errors(containing: "not in --allow").contains("not in --allow"))
        #expect((try? upstream.accept(timeout: 0.3)) == nil)
        #expect(outside.stop() == 0)

        let scratch2 = try Scratch()
        let inside = try RecordProcess(
            upstreamPort: upstream.port, scratch: scratch2, ["--allow", "127.0.0.0/8", "--max-sessions", "1"])
        let first = try SocketConnection.connect(port: inside.port)
        let server = try upstream.accept()
        let second = try SocketConnection.connect(port: inside.port)
        #expect(second.receive(timeout: 5).closed, "a second session is one more than --max-sessions 1")
        let metrics = inside.waitForMetrics { $0["smppscope_limit_reached_total{limit=\"max_sessions\"}"] == 1 }
        #expect(metrics["smppscope_limit_reached_total{limit=\"max_sessions\"}"] == 1)
        first.closeNow()
        server.closeNow()
        #expect(inside.stop() == 0)
    }

    @Test func theMetricsEndpointClosesSlowAndIdleConnections() throws {
        let scratch = try Scratch()
        let upstream = try Listener()
        let proxy = try RecordProcess(
            upstreamPort: upstream.port, scratch: scratch,
            ["--metrics-header-timeout", "0.5", "--metrics-idle-timeout", "0.5"])
        // Half a request header, then nothing.
        let slow = try SocketConnection.connect(port: proxy.metricsPort)
        try slow.send(Array("GET /metr".utf8))
        let cut = slow.receive(timeout: 3)
        #expect(cut.closed && cut.bytes.isEmpty, "closed without an answer")
        // A whole request on a kept-alive connection, answered, then silence.
        let idle = try SocketConnection.connect(port: proxy.metricsPort)
        try idle.send(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let answered = idle.receive(timeout: 3)
        #expect(String(decoding: answered.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(answered.closed, "closed after the idle timeout")
        let metrics = proxy.metrics()
        #expect(metrics["smppscope_limit_reached_total{limit=\"metrics_header_timeout\"}"] == 1)
        #expect(metrics["smppscope_limit_reached_total{limit=\"metrics_idle_timeout\"}"] == 1)
        #expect(proxy.stop() == 0)
    }

    /// An account becomes a label once its bind is accepted, at most --metrics-max-accounts of them; the rest are
    /// "other", and a refused bind adds nothing.
    @Test func metricsNameAcceptedAccountsUpToTheLimit() throws {
        let scratch = try Scratch()
        let smsc = try BindAnswerer(statuses: [.ok, .invalidPassword, .ok])
        let proxy = try RecordProcess(
            upstreamPort: smsc.listener.port, scratch: scratch, ["--metrics-max-accounts", "1"])
        var clients: [SocketConnection] = []
        for account in ["first", "refused", "third"] {
            let client = try SocketConnection.connect(port: proxy.port)
            try client.send(
                Sample.bytes(PDU(.bindTransceiver, sequence: 1, body: .bind(.init(systemID: account, password: "pw")))))
            _ = client.receive(atLeast: 16, timeout: 5)
            try client.send(Sample.submit(sequence: 2, text: account))
            clients.append(client)
        }
        let metrics = proxy.waitForMetrics {
            $0["smppscope_outstanding_requests{system_id=\"other\",direction=\"esme_to_smsc\"}"] == 1
        }
        #expect(metrics["smppscope_outstanding_requests{system_id=\"first\",direction=\"esme_to_smsc\"}"] == 1)
        #expect(metrics["smppscope_outstanding_requests{system_id=\"other\",direction=\"esme_to_smsc\"}"] == 1)
        #expect(
            metrics["smppscope_outstanding_requests{system_id=\"(none)\",direction=\"esme_to_smsc\"}"] == 1,
            "the refused bind's session")
        #expect(!metrics.keys.contains { $0.contains("refused") || $0.contains("third") })
        #expect(metrics["smppscope_limit_reached_total{limit=\"metrics_accounts\"}"] == 1)
        for client in clients { client.closeNow() }
        #expect(proxy.stop() == 0)
    }

    @Test func aPasswordKeyKeepsBindPasswordsSealedInTheStore() throws {
        let scratch = try Scratch()
        let key = scratch.path("key")
        try String(repeating: "cd", count: 32).write(toFile: key, atomically: true, encoding: .utf8)
        let upstream = try Listener()
        let proxy = try RecordProcess(upstreamPort: upstream.port, scratch: scratch, ["--password-key", key])
        let client = try SocketConnection.connect(port: proxy.port)
        let server = try upstream.accept()
        try client.send(Sample.bind())
        _ = server.receive(atLeast: Sample.bind().count)
        client.closeNow()
        server.closeNow()
        #expect(proxy.stop() == 0)
        let sealed = try smppscope(["decode", "--store", proxy.store, "--password-key", key, "--show-secrets"])
        #expect(sealed.output.contains("password=secret"))
        let without = try smppscope(["decode", "--store", proxy.store, "--show-secrets"])
        #expect(!without.output.contains("password=secret"))
    }

    /// TLS towards the SMSC: verified against a given CA and name, refused when the name does not match (or, with
    /// no name, when the certificate does not name the address), or not verified at all.
    @Test func tlsTowardsTheSMSCInEachForm() throws {
        let scratch = try Scratch()
        // A name only: the address the proxy connects to is not in it.
        let (certificate, key) = makeCertificate(in: scratch, names: "DNS:localhost")
        let tlsPort = freePort()
        let simulator = try RecordProcessLike.start(
            [
                "simulate", "--listen", "127.0.0.1:\(freePort())", "--tls-listen", "127.0.0.1:\(tlsPort)", "--cert",
                certificate, "--key", key,
                "--log", "none",
            ], ready: "Ctrl-C", environment: ["SMPPSCOPE_SIMULATOR_ACCOUNTS": "shop:secret"])
        defer { _ = simulator.stop() }
        for (options, works) in [
            (["--upstream-tls", "--upstream-ca", certificate, "--upstream-server-name", "localhost"], true),
            (["--upstream-tls", "--upstream-ca", certificate, "--upstream-server-name", "smsc.example.com"], false),
            (["--upstream-tls"], false),
            (["--upstream-tls-no-verify"], true),
        ] {
            let run = try Scratch()
            let proxy = try RecordProcess(upstreamPort: tlsPort, scratch: run, options)
            let client = try SMPPTestClient(port: proxy.port)
            let bound = try client.bind(systemID: "shop", password: "secret")
            #expect((bound?.commandStatus == .ok) == works, "\(options)")
            if !works {
                #expect(
                    proxy.errors(containing: "the SMSC connection failed").contains("the SMSC connection failed"),
                    "\(options): \(proxy.errors)")
            }
            client.disconnect()
            #expect(proxy.stop() == 0)
        }
    }
}

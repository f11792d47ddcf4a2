// `smppscope record` as users run it: through the simulator, then killed with SIGKILL mid-recording.

import Foundation
import SMPP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Starts smppscope in the background and waits until `ready` appears on its standard error.
func startSmppscope(_ arguments: [String], ready: String) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Paths.binary ?? "")
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    var seen = Data()
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline, !String(decoding: seen, as: UTF8.self).contains(ready), process.isRunning {
        seen += errors.fileHandleForReading.availableData
    }
    return (process, errors)
}

/// Ends a process started by ``startSmppscope(_:ready:)`` at once.
func stop(_ process: Process) {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
}

/// The PDUs of the first source of a store, as `sessions` lists them, asked every 0.2 s until there are `count`
/// or `seconds` have passed.
func storedPDUs(_ store: String, reaching count: Int, within seconds: TimeInterval) throws -> Int {
    var stored = 0
    let deadline = Date().addingTimeInterval(seconds)
    while stored < count, Date() < deadline {
        usleep(200_000)
        let listed = try smppscope(["sessions", "--store", store, "--format", "json"])
        let json = try? JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
        stored = ((json?["sources"] as? [[String: Any]])?.first?["pdus"] as? Int) ?? 0
    }
    return stored
}

/// Runs `body` with `smppscope simulate` (its other `arguments`: accounts, delays) listening on a free port, which
/// `body` gets; the simulator is stopped afterwards.
func withRunningSimulator(_ arguments: [String], _ body: (Int) throws -> Void) throws {
    let port = freePort()
    let (simulator, _) = try startSmppscope(
        ["simulate", "--listen", "127.0.0.1:\(port)", "--log", "none"] + arguments, ready: "Ctrl-C")
    defer { stop(simulator) }
    try body(port)
}

/// Runs `body` with `smppscope record --metrics-listen` (metrics only) in front of a simulator with the other
/// `arguments`; `body` gets the proxy's port and the metrics port.
func withMetricsRecorder(simulator arguments: [String], _ body: (_ proxy: Int, _ metrics: Int) throws -> Void) throws {
    try withRunningSimulator(arguments) { smscPort in
        let proxyPort = freePort()
        let metricsPort = freePort()
        let (recorder, _) = try startSmppscope(
            [
                "record", "--listen", "127.0.0.1:\(proxyPort)", "--upstream", "127.0.0.1:\(smscPort)",
                "--metrics-listen", "127.0.0.1:\(metricsPort)", "--summary-every", "0",
            ],
            ready: "127.0.0.1:\(metricsPort)/metrics")
        defer { stop(recorder) }
        try body(proxyPort, metricsPort)
    }
}

@Suite(
    "Record command", .serialized, .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct RecordCommandTests {
    @Test func aRecordingKilledWithSIGKILLLeavesAStoreThatOpens() throws {
        let scratch = try Scratch()
        try withRunningSimulator(["--account", "shop:secret:1000"]) { smscPort in
            let proxyPort = freePort()
            let store = scratch.path("live.sqlite")
            let (recorder, _) = try startSmppscope(
                [
                    "record", "--listen", "127.0.0.1:\(proxyPort)", "--upstream", "127.0.0.1:\(smscPort)", "--store",
                    store,
                    "--summary-every", "0",
                ],
                ready: "listening on")

            let client = try SMPPTestClient(port: proxyPort)
            #expect(try client.bind(systemID: "shop", password: "secret")?.commandStatus == .ok)
            for index in 0..<60 {
                #expect(try client.request(submitPDU("message \(index)", registeredDelivery: 0))?.commandStatus == .ok)
            }
            // Batches reach the store at least every second while traffic flows.
            let stored = try storedPDUs(store, reaching: 122, within: 10)
            #expect(stored >= 122, "the bind and 60 submits with their responses are stored while the session is open")

            stop(recorder)
            client.disconnect()

            let listed = try smppscope(["sessions", "--store", store, "--format", "json"])
            #expect(listed.status == 0, "the store opens after SIGKILL: \(listed.errors)")
            let json = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any]
            let source = try #require((json?["sources"] as? [[String: Any]])?.first)
            #expect(source["kind"] as? String == "proxy")
            #expect(source["complete"] as? Bool == false)
            let analysis = try smppscope(["analyze", "--store", store, "--format", "json"])
            let report = try JSONSerialization.jsonObject(with: Data(analysis.output.utf8)) as? [String: Any]
            #expect(report?["pdus_total"] as? Int == source["pdus"] as? Int)
            #expect(!(try smppscope(["decode", "--store", store])).output.contains("secret"))
        }
    }

    @Test(.enabled(if: PostgresServer.available, "PostgreSQL is not installed"))
    func aRecordingIntoPostgreSQLOutlivesAServerRestart() throws {
        try PostgresServer.exclusively { try recordThroughARestart() }
    }

    func recordThroughARestart() throws {
        let server = try PostgresServer.shared.get()
        try #require(server.canRestart)
        let url = try server.makeDatabase()
        try withRunningSimulator(["--account", "shop:secret:1000"]) { smscPort in
            let proxyPort = freePort()
            let (recorder, _) = try startSmppscope(
                [
                    "record", "--listen", "127.0.0.1:\(proxyPort)", "--upstream", "127.0.0.1:\(smscPort)", "--store",
                    url,
                    "--summary-every", "0",
                ],
                ready: "listening on")
            defer { stop(recorder) }
            let client = try SMPPTestClient(port: proxyPort)
            #expect(try client.bind(systemID: "shop", password: "secret")?.commandStatus == .ok)
            for index in 0..<30 {
                #expect(try client.request(submitPDU("before \(index)", registeredDelivery: 0))?.commandStatus == .ok)
            }
            // The database goes away and comes back; the traffic goes on meanwhile.
            try server.restart()
            for index in 0..<30 {
                #expect(try client.request(submitPDU("after \(index)", registeredDelivery: 0))?.commandStatus == .ok)
            }
            // Everything reaches the store once it is back: the bind and 60 submits with their responses.
            let stored = try storedPDUs(url, reaching: 122, within: 30)
            #expect(stored == 122)
            let decoded = try smppscope(["decode", "--store", url, "--format", "jsonl"])
            let submits = decoded.output.split(separator: "\n").filter { $0.contains("\"command\":\"submit_sm\"") }
            #expect(submits.count == 60, "each submit once: nothing lost, nothing written twice")
            client.disconnect()
        }
    }

    @Test func recordNeedsADestinationAndSaysSo() throws {
        let result = try smppscope(["record", "--upstream", "127.0.0.1:2775"])
        #expect(result.status != 0)
        #expect(result.errors.contains("--store FILE, --pcap FILE, --live, or --metrics-listen HOST:PORT"))
        let bad = try smppscope(["record", "--upstream", "127.0.0.1:2775", "--metrics-listen", "9464"])
        #expect(bad.status != 0)
        #expect(bad.errors.contains("invalid --metrics-listen \"9464\"; expected host:port"))
    }

    @Test func withMetricsAlonePrometheusScrapesTheTraffic() throws {
        try withMetricsRecorder(simulator: ["--account", "shop:secret:5"]) { proxyPort, metricsPort in
            let client = try SMPPTestClient(port: proxyPort)
            #expect(try client.bind(systemID: "shop", password: "secret")?.commandStatus == .ok)
            // Five a second are accepted: of ten sent at once, some are throttled.
            var statuses: [CommandStatus] = []
            for index in 0..<10 {
                statuses.append(
                    try client.request(submitPDU("message \(index)", registeredDelivery: 0))?.commandStatus
                        ?? .unknownError)
            }
            let throttled = statuses.filter { $0 == .throttled }.count
            let accepted = statuses.filter { $0 == .ok }.count
            #expect(throttled > 0 && accepted + throttled == 10)

            var samples: [String: Double] = [:]
            let deadline = Date().addingTimeInterval(5)
            repeat {
                let reply = try httpRequest(port: metricsPort, path: "/metrics")
                #expect(reply.status == 200)
                samples = prometheusSamples(reply.body)
                if samples["smppscope_response_seconds_count{command=\"submit_sm\",responder=\"smsc\"}"] == 10 { break }
                usleep(50_000)
            } while Date() < deadline
            #expect(
                samples["smppscope_pdus_total{command=\"submit_sm\",status=\"ESME_ROK\",direction=\"esme_to_smsc\"}"]
                    == 10)
            #expect(
                samples[
                    "smppscope_pdus_total{command=\"submit_sm_resp\",status=\"ESME_ROK\",direction=\"smsc_to_esme\"}"]
                    == Double(accepted))
            #expect(
                samples[
                    "smppscope_pdus_total{command=\"submit_sm_resp\",status=\"ESME_RTHROTTLED\",direction=\"smsc_to_esme\"}"
                ] == Double(throttled))
            #expect(samples["smppscope_throttled_total{system_id=\"shop\"}"] == Double(throttled))
            #expect(samples["smppscope_response_seconds_count{command=\"submit_sm\",responder=\"smsc\"}"] == 10)
            #expect(samples["smppscope_sessions_open"] == 1)
            client.disconnect()
        }
    }
}

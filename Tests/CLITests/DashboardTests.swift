// The Grafana dashboard in docs/grafana against what `record --metrics-listen` serves: a session through the proxy
// that exercises every metric (throttled submits, a submit left unanswered when the client goes), then each query
// of the dashboard read for the metrics and labels it uses, each of which must be in the scrape. The scrape itself
// passes `promtool check metrics` where promtool is installed (Debian `prometheus`), and the Prometheus naming
// conventions in any case.

import Foundation
import SMPP
import TestSupport
import Testing

@Suite("Grafana dashboard")
struct DashboardTests {
    static let dashboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/grafana/smppscope-record.json")

    /// One metric family of a scrape: its type, HELP text and the label names of its samples.
    struct Family {
        var type = ""
        var help = ""
        var labels: Set<String> = []
    }

    /// Families by name, from Prometheus' text format.
    static func families(_ text: String) -> [String: Family] {
        var families: [String: Family] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            let words = line.split(separator: " ", maxSplits: 3).map(String.init)
            if words.count >= 4, words[0] == "#", words[1] == "TYPE" || words[1] == "HELP" {
                if words[1] == "TYPE" { families[words[2], default: Family()].type = words[3] }
                if words[1] == "HELP" { families[words[2], default: Family()].help = words[3] }
                continue
            }
            guard !line.hasPrefix("#"), let name = line.split(whereSeparator: { $0 == "{" || $0 == " " }).first
            else { continue }
            var base = String(name)
            for suffix in ["_bucket", "_sum", "_count"] where base.hasSuffix(suffix) && families[base] == nil {
                base = String(base.dropLast(suffix.count))
            }
            if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                for pair in line[line.index(after: open)..<close].split(separator: ",") {
                    if let equals = pair.firstIndex(of: "=") {
                        families[base, default: Family()].labels.insert(String(pair[..<equals]))
                    }
                }
            }
            if families[base] == nil { families[base] = Family() }
        }
        return families
    }

    /// Every query of the dashboard: its panels' targets and its variables.
    static func queries(_ json: [String: Any]) -> [String] {
        var queries: [String] = []
        for panel in json["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                if let expr = target["expr"] as? String { queries.append(expr) }
            }
        }
        let templating = json["templating"] as? [String: Any]
        for variable in templating?["list"] as? [[String: Any]] ?? [] {
            if let definition = variable["definition"] as? String { queries.append(definition) }
        }
        return queries
    }

    /// The metric names a query reads, and the label names it groups or filters by.
    static func references(_ query: String) -> (metrics: Set<String>, labels: Set<String>) {
        func matches(_ pattern: String) -> [String] {
            let regex = try! NSRegularExpression(pattern: pattern)
            let range = NSRange(query.startIndex..., in: query)
            return regex.matches(in: query, range: range).compactMap { match in
                Range(match.range(at: 1), in: query).map { String(query[$0]) }
            }
        }
        let metrics = Set(matches("(smppscope_[a-z_]+)"))
        var labels = Set(matches("\\b([a-z_]+)\\s*(?:=~|!~|!=|=)\\s*\"").filter { !$0.isEmpty })
        for group in matches("by \\(([^)]*)\\)") {
            for label in group.split(separator: ",") { labels.insert(label.trimmingCharacters(in: .whitespaces)) }
        }
        for group in matches("label_values\\([a-z_]+, ([a-z_]+)\\)") { labels.insert(group) }
        return (metrics, labels)
    }

    @Test func everyQueryReadsMetricsAndLabelsThatMetricsServes() throws {
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.dashboard)) as? [String: Any])
        let queries = Self.queries(json)
        #expect(queries.count >= 15)
        try withMetricsRecorder(simulator: ["--account", "shop:secret:5", "--late-response", "6:30"]) {
            proxyPort, metricsPort in
            let client = try SMPPTestClient(port: proxyPort)
            #expect(try client.bind(systemID: "shop", password: "secret")?.commandStatus == .ok)
            // Ten at once: five a second are accepted, the rest throttled; the sixth accepted would come 30 s late.
            var sent: Set<UInt32> = []
            for index in 0..<10 { sent.insert(try client.send(submitPDU("message \(index)", registeredDelivery: 0))) }
            var answered = 0
            while answered < 10, let response = try client.receive(timeout: 2) {
                if sent.contains(response.header.sequenceNumber) { answered += 1 }
            }
            // One more, to be accepted and answered late: the client goes first, and it is left unanswered.
            Thread.sleep(forTimeInterval: 1.1)
            for index in 10..<13 { _ = try client.send(submitPDU("message \(index)", registeredDelivery: 0)) }
            Thread.sleep(forTimeInterval: 0.3)
            client.disconnect()

            var text = ""
            var served: [String: Family] = [:]
            let deadline = Date().addingTimeInterval(10)
            repeat {
                let reply = try httpRequest(port: metricsPort, path: "/metrics")
                text = reply.body
                served = Self.families(text)
                if served["smppscope_unanswered_requests_total"] != nil, served["smppscope_throttled_total"] != nil {
                    break
                }
                usleep(100_000)
            } while Date() < deadline

            for query in queries {
                let (metrics, labels) = Self.references(query)
                #expect(!metrics.isEmpty, "\(query) reads no smppscope metric")
                var known: Set<String> = ["instance", "job"]
                for metric in metrics {
                    let base = ["_bucket", "_count", "_sum"].reduce(metric) { name, suffix in
                        name.hasSuffix(suffix) && served[name] == nil ? String(name.dropLast(suffix.count)) : name
                    }
                    let family = served[base]
                    #expect(family != nil, "\(metric), in \(query), is not served")
                    known.formUnion(family?.labels ?? [])
                    if base != metric, metric.hasSuffix("_bucket") { known.insert("le") }
                }
                #expect(labels.isSubset(of: known), "\(query) uses \(labels.subtracting(known)), which no series has")
            }

            // Prometheus conventions: a HELP for each, counters in _total, times in seconds.
            for (name, family) in served where name.hasPrefix("smppscope_") {
                #expect(!family.help.isEmpty, "\(name) has no HELP")
                #expect((family.type == "counter") == name.hasSuffix("_total"), "\(name) is a \(family.type)")
                #expect(!name.contains("millis") && !name.contains("_ms"), "\(name): base units")
                if family.type == "histogram" { #expect(name.hasSuffix("_seconds")) }
            }
            if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            }) {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: promtool)
                process.arguments = ["check", "metrics"]
                let input = Pipe()
                let output = Pipe()
                process.standardInput = input
                process.standardOutput = output
                process.standardError = output
                try process.run()
                input.fileHandleForWriting.write(Data(text.utf8))
                try input.fileHandleForWriting.close()
                let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "promtool check metrics: \(said)")
            }
        }
    }
}

// The proxy's metrics as Prometheus reads them: a scripted session through the proxy, scraped over HTTP while it
// is open and after it ended; every number checked against what the session sent.

import Capture
import Foundation
import NIOCore
import Prometheus
import Proxy
import Reassembly
import Recording
import SMPP
import Store
import TestSupport
import Testing
import Transport

/// One scrape, parsed.
struct Scrape {
    var status: Int
    var headers: String
    var samples: [String: Double]

    init(port: Int, method: String = "GET", path: String = "/metrics") throws {
        let reply = try httpRequest(port: port, method: method, path: path)
        status = reply.status
        headers = reply.headers
        samples = prometheusSamples(reply.body)
    }

    subscript(_ key: String) -> Double? { samples[key] }
}

@Suite("Proxy metrics", .serialized)
struct MetricsTests {
    @Test func prometheusSeesWhatPassedThroughTheProxy() throws {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[ProxyMetrics.responseTimeLabel] = ProxyMetrics.responseTimeBuckets
        let metrics = ProxyMetrics(factory: factory)
        var options = RecorderOptions()
        options.metrics = metrics.handle
        let recorder = try Recorder(options: options)
        let upstream = try Listener()
        var configuration = ProxyConfiguration(upstreamHost: "127.0.0.1", upstreamPort: upstream.port)
        configuration.listenPort = 0
        let proxy = try RecordProxy(configuration: configuration, sink: recorder) { _ in }
        let endpoint = try MetricsEndpoint(host: "127.0.0.1", port: 0) {
            let status = recorder.status
            metrics.update(
                proxy.counters,
                .init(
                    storeBacklog: status.storeBacklog, storeDropped: status.storeDropped,
                    journalDropped: status.journalDropped,
                    metricsDropped: status.metricsDropped))
            return registry.emitToBuffer()
        }
        defer {
            endpoint.shutdown()
            proxy.shutdown()
            try? recorder.finish()
        }
        let metricsPort = endpoint.address?.port ?? 0

        let client = try SocketConnection.connect(port: proxy.address?.port ?? 0)
        let smsc = try upstream.accept()
        let fromClient =
            Sample.bind(sequence: 1) + Sample.submit(sequence: 2) + Sample.submit(sequence: 3)
            + Sample.submit(sequence: 4)
            + Sample.bytes(PDU(CommandID(0x00FF_1234), sequence: 5))
        try client.send(fromClient)
        #expect(smsc.receive(atLeast: fromClient.count).bytes.count == fromClient.count)
        // The bind and one submit answered, one submit throttled, one left waiting; the vendor request too.
        let fromSMSC =
            Sample.bindResponse(sequence: 1) + Sample.submitResponse(sequence: 2, id: "M1")
            + Sample.bytes(PDU(.submitSMResp, status: .throttled, sequence: 3))
            + Sample.deliver(sequence: 9, text: "hello")
        try smsc.send(fromSMSC)
        #expect(client.receive(atLeast: fromSMSC.count).bytes.count == fromSMSC.count)
        let answer = Sample.bytes(PDU(.deliverSMResp, sequence: 9, body: .messageID("")))
        try client.send(answer)
        #expect(smsc.receive(atLeast: answer.count).bytes.count == answer.count)

        let open = try scrape(metricsPort) {
            $0["smppscope_response_seconds_count{command=\"deliver_sm\",responder=\"esme\"}"] == 1
        }
        #expect(open.status == 200)
        #expect(open.headers.contains("text/plain; version=0.0.4"))
        #expect(open["smppscope_pdus_total{command=\"submit_sm\",status=\"ESME_ROK\",direction=\"esme_to_smsc\"}"] == 3)
        #expect(
            open["smppscope_pdus_total{command=\"submit_sm_resp\",status=\"ESME_ROK\",direction=\"smsc_to_esme\"}"] == 1
        )
        #expect(
            open[
                "smppscope_pdus_total{command=\"submit_sm_resp\",status=\"ESME_RTHROTTLED\",direction=\"smsc_to_esme\"}"
            ] == 1)
        #expect(open["smppscope_pdus_total{command=\"unknown\",status=\"ESME_ROK\",direction=\"esme_to_smsc\"}"] == 1)
        #expect(open["smppscope_throttled_total{system_id=\"esme\"}"] == 1)
        #expect(open["smppscope_response_seconds_count{command=\"submit_sm\",responder=\"smsc\"}"] == 2)
        #expect(open["smppscope_response_seconds_count{command=\"bind_transceiver\",responder=\"smsc\"}"] == 1)
        // The fourth submit and the vendor request wait for an answer.
        #expect(open["smppscope_outstanding_requests{system_id=\"esme\",direction=\"esme_to_smsc\"}"] == 2)
        #expect(open["smppscope_outstanding_requests{system_id=\"esme\",direction=\"smsc_to_esme\"}"] == 0)
        #expect(open["smppscope_sessions_open"] == 1)
        #expect(open["smppscope_sessions_total"] == 1)
        #expect(open["smppscope_forwarded_bytes_total"] == Double(fromClient.count + fromSMSC.count + answer.count))
        let seconds = open["smppscope_response_seconds_sum{command=\"submit_sm\",responder=\"smsc\"}"] ?? -1
        #expect(seconds > 0 && seconds < 10)

        client.closeNow()
        smsc.closeNow()
        let ended = try scrape(metricsPort) {
            $0["smppscope_sessions_open"] == 0
                && $0["smppscope_unanswered_requests_total{command=\"submit_sm\",direction=\"esme_to_smsc\"}"] == 1
        }
        #expect(ended["smppscope_outstanding_requests{system_id=\"esme\",direction=\"esme_to_smsc\"}"] == 0)
        #expect(ended["smppscope_unanswered_requests_total{command=\"unknown\",direction=\"esme_to_smsc\"}"] == 1)
        #expect(ended["smppscope_sessions_total"] == 1)

        #expect(try Scrape(port: metricsPort, path: "/").status == 404)
        #expect(try Scrape(port: metricsPort, method: "POST").status == 405)
    }

    /// Scrapes until `ready` holds (the metrics follow the traffic by a few milliseconds) or 5 s have passed.
    func scrape(_ port: Int, until ready: (Scrape) -> Bool) throws -> Scrape {
        let deadline = Date().addingTimeInterval(5)
        var last = try Scrape(port: port)
        while !ready(last), Date() < deadline {
            usleep(20_000)
            last = try Scrape(port: port)
        }
        return last
    }
}

// The hot loops of smppscope, one by one: reading and reassembly, sessions and analysis, the frame check, PDU
// decoding and JSON rendering. Input: the capture named by SMPPSCOPE_BENCH_CAPTURE (Benchmarks/micro.sh makes one
// with tools/gen_smpp_pcap.py), else the bundled Kannel capture.
//
// Every benchmark goes through the whole capture once per iteration: time per PDU = time / the PDU count in the
// name, PDUs/s = throughput x that count.

import Analysis
import Benchmark
import Capture
import Foundation
import Ingest
import NIOCore
import Reassembly
import Report
import SMPP
import Timeline

/// The capture, read once: its path, PDUs (each with its bytes of its own) and timeline events.
struct Input {
    let path: String
    let pdus: [TimelinePDU]
    let events: [TimelineEvent]

    static func load() -> Input {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path =
            ProcessInfo.processInfo.environment["SMPPSCOPE_BENCH_CAPTURE"]
            ?? root.appendingPathComponent("Captures/kannel_simulator_port3701.pcap").path
        var pdus: [TimelinePDU] = []
        var events: [TimelineEvent] = []
        do {
            let ingest = CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: true)
            try ingest.run(parallel: false) { event in
                guard case .pdu(var item) = event else {
                    events.append(event)
                    return
                }
                // Own bytes: the slices handed to the callback belong to the stream buffers.
                item.raw = ByteBuffer(buffer: item.raw)
                pdus.append(item)
                var undecoded = item
                undecoded.pdu = nil
                events.append(.pdu(undecoded))
            }
        } catch {
            fatalError("cannot read \(path): \(error)")
        }
        precondition(!pdus.isEmpty, "\(path) holds no SMPP PDU")
        return Input(path: path, pdus: pdus, events: events)
    }
}

nonisolated(unsafe) private var cachedInput: Input?

private func input() -> Input {
    if let cachedInput { return cachedInput }
    let loaded = Input.load()
    cachedInput = loaded
    return loaded
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000)
    let data = input()
    let count = data.pdus.count
    let name = URL(fileURLWithPath: data.path).lastPathComponent

    Benchmark("read + reassemble (\(name), \(count) PDUs)") { benchmark in
        for _ in benchmark.scaledIterations {
            var pdus = 0
            do {
                let ingest = CaptureIngest(source: try PacketSource.open(path: data.path), decodesEveryPDU: false)
                try ingest.runEvents(parallel: false) { event in
                    if case .stream(.pdu) = event { pdus += 1 }
                }
            } catch {
                fatalError("\(error)")
            }
            precondition(pdus == count)
            blackHole(pdus)
        }
    }

    Benchmark("sessions + analysis (\(name), \(count) PDUs)") { benchmark in
        for _ in benchmark.scaledIterations {
            let analyzer = Analyzer()
            for event in data.events { analyzer.handle(event) }
            blackHole(analyzer.finish())
        }
    }

    Benchmark("frame check + field locations (\(name), \(count) PDUs)") { benchmark in
        for _ in benchmark.scaledIterations {
            for item in data.pdus { blackHole(PDUDigest(frame: item.raw)) }
        }
    }

    Benchmark("PDU decode (\(name), \(count) PDUs)") { benchmark in
        for _ in benchmark.scaledIterations {
            for item in data.pdus { blackHole(try? PDU.decode(item.raw)) }
        }
    }

    Benchmark("JSON lines of decoded PDUs (\(name), \(count) PDUs)") { benchmark in
        var json = JSONWriter(capacity: 1 << 20)
        let options = RenderOptions()
        for _ in benchmark.scaledIterations {
            for item in data.pdus {
                DecodeJSON.write(item, into: &json, options: options)
                json.separator(0x0A)
                if json.count > 1 << 20 { json.reset() }
            }
            blackHole(json.count)
        }
    }

    Benchmark("JSON lines from the wire, as decode writes them (\(name), \(count) PDUs)") { benchmark in
        var json = JSONWriter(capacity: 1 << 20)
        var names = DecodeJSON.Names()
        let options = RenderOptions()
        for _ in benchmark.scaledIterations {
            for item in data.pdus {
                DecodeJSON.writeLine(item, into: &json, names: &names, options: options)
                json.separator(0x0A)
                if json.count > 1 << 20 { json.reset() }
            }
            blackHole(json.count)
        }
    }
}

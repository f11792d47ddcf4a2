// Files are read, reassembled and followed by session on a second thread and handed over in batches; the events,
// their order and the sessions at the end must be those of the single-threaded path, on every capture at hand.

import Capture
import Foundation
@_spi(Lent) import Ingest
@_spi(Lent) import Reassembly
import TestSupport
import Testing
@_spi(Lent) import Timeline

@Suite("Pipelined and single-threaded ingest")
struct PipelineEquivalenceTests {
    static let captures = CapturesAtHand.all

    /// One line per timeline event, with every field of a PDU and its bytes.
    static func timeline(_ path: String, parallel: Bool) throws -> (lines: [String], sessions: String, pdus: Int) {
        let ingest = CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: false)
        var lines: [String] = []
        try ingest.run(
            parallel: parallel,
            pdu: { item in
                lines.append(
                    "pdu \(item.session) \(item.timestamp.nanoseconds) \(item.frame) \(item.source) \(item.destination) "
                        + "\(String(describing: item.fromClient)) \(item.streamOffset) \(item.header) \(item.digest) "
                        + "\(item.isoDefault) \(item.pdu.map { "\($0)" } ?? "-") \(Array(item.raw.readableBytesView))")
            },
            other: { event in lines.append("\(event)") })
        let sessions = ingest.tracker.sessions.sorted { $0.key < $1.key }.map { "\($0.value)" }.joined(separator: "\n")
        return (lines, sessions, ingest.pdus)
    }

    @Test(arguments: captures)
    func theSameEventsInTheSameOrder(path: String) throws {
        let pipelined = try Self.timeline(path, parallel: true)
        let single = try Self.timeline(path, parallel: false)
        #expect(pipelined.lines.count > 10)
        #expect(pipelined.lines == single.lines)
        #expect(pipelined.sessions == single.sessions)
        #expect(pipelined.pdus == single.pdus)
    }

    @Test(arguments: captures)
    func theSameReassemblyEventsForStoring(path: String) throws {
        func events(parallel: Bool) throws -> [String] {
            let ingest = CaptureIngest(source: try PacketSource.open(path: path))
            var lines: [String] = []
            try ingest.runEvents(parallel: parallel) { event in
                if case .stream(.pdu(let framed)) = event {
                    lines.append(
                        "pdu \(framed.session) \(framed.frame) \(framed.streamOffset) \(Array(framed.raw.readableBytesView))"
                    )
                } else {
                    lines.append("\(event)")
                }
            }
            return lines
        }
        #expect(try events(parallel: true) == events(parallel: false))
    }
}

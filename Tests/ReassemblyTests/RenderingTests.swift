// The output path of `decode`: JSON strings escaped right whatever their length and content (the writer scans
// eight bytes at a time), and chunks rendered on worker threads coming out exactly as rendering one by one.

import Foundation
import Ingest
@_spi(Lent) import Report
import Testing
import Timeline

@Suite("Rendering")
struct RenderingTests {
    @Test func stringsAreEscapedAtEveryPositionAndLength() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "Ж", "😀"]
        for length in 0..<40 {
            for special in specials {
                for position in stride(from: 0, through: length, by: max(1, length / 7)) {
                    var characters = Array(repeating: Character("a"), count: length)
                    if position < length { characters[position] = special } else { characters.append(special) }
                    let text = String(characters)
                    var json = JSONWriter()
                    json.beginArray()
                    json.string(text)
                    json.endArray()
                    let parsed = try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String]
                    #expect(
                        parsed == [text],
                        "\(text.debugDescription) came back as \(String(decoding: json.bytes, as: UTF8.self))")
                    // Control characters, quotes and backslashes never appear raw.
                    let inner = json.bytes.dropFirst(2).dropLast(2)
                    #expect(!inner.contains { $0 < 0x20 || $0 == 0x7F })
                }
            }
        }
    }

    @Test func everyByteValueRoundTrips() throws {
        let all = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        var json = JSONWriter()
        json.beginObject()
        json.dynamicKey(all)
        json.string(all)
        json.endObject()
        let parsed = try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: String]
        #expect(parsed == [all: all])
    }

    @Test(arguments: [1, 2])
    func chunksRenderedOnWorkersComeOutInOrder(workers: Int) throws {
        let path = Fixtures.path("generated/stress_sll.pcap")
        var events: [TimelineEvent] = []
        try CaptureIngest(source: try PacketSource.open(path: path)).run { events.append($0) }
        #expect(events.count > 1_000)
        @Sendable func render(_ events: [TimelineEvent], _ json: inout JSONWriter) {
            var names = DecodeJSON.Names()
            for event in events {
                if case .pdu(let item) = event {
                    DecodeJSON.writeLine(item, into: &json, names: &names, options: RenderOptions())
                } else {
                    DecodeJSON.write(event: event, into: &json)
                }
                json.separator(0x0A)
            }
        }
        var expected: [UInt8] = []
        for event in events {
            var json = JSONWriter()
            render([event], &json)
            expected += json.bytes
        }
        // Chunk sizes that do and do not divide the count, and one larger than it.
        for chunkSize in [1, 7, 64, 1_000, events.count + 1] {
            let renderer = OrderedRenderer<TimelineEvent>(workers: workers, chunkSize: chunkSize, render: render)
            var output: [UInt8] = []
            for event in events { renderer.add(event) { output += Array($0) } }
            renderer.finish { output += Array($0) }
            #expect(output == expected, "chunks of \(chunkSize) on \(workers) workers")
        }
    }
}

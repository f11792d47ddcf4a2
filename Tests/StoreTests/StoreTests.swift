// The timeline store: a stored capture reads back as the capture (same analysis, same PDUs), imports are
// idempotent and resumable, filters find what they should, passwords never reach the file in clear.

import Analysis
import Capture
import Crypto
import Foundation
import Ingest
import NIOCore
import Reassembly
import Report
import SMPP
import Store
import TestSupport
import Testing
import Timeline

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every capture shipped with the repository: real-software captures, reference captures, generated ones.
    static var captures: [String] {
        var paths: [String] = []
        for folder in ["Captures", "Tests/Fixtures/reference", "Tests/Fixtures/generated"] {
            let url = root.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            paths += names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map {
                url.appendingPathComponent($0).path
            }
        }
        return paths
    }

    static let kannel = root.appendingPathComponent("Captures/kannel_simulator_port3701.pcap").path
    static let smpplib = root.appendingPathComponent("Captures/smpplib_smsckz_port3700.pcap").path
}

/// A store in a fresh temporary folder, removed afterwards.
final class TemporaryStore {
    let folder: URL
    let path: String
    let store: SQLiteStore

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("smppscope-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent("store.sqlite").path
        store = try SQLiteStore(path: path)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Imports a capture as `smppscope import` does; nil when it is in the store already.
    @discardableResult
    func importCapture(_ path: String, options: ImportOptions = ImportOptions()) throws -> StoreImport? {
        guard
            let writer = try store.beginImport(
                kind: .file, name: path, fingerprint: try SourceFingerprint.file(path: path), options: options)
        else { return nil }
        try feed(path, into: writer)
        try writer.finish()
        return writer
    }

    func feed(_ path: String, into writer: StoreImport, stopAfter limit: Int = .max) throws {
        let ingest = CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: false)
        var count = 0
        try ingest.runEvents { event in
            count += 1
            if count > limit { throw Interrupted() }
            switch event {
            case .stream(let stream): try writer.add(stream)
            case .capture(let diagnostic): try writer.add(diagnostic)
            }
        }
    }
}

struct Interrupted: Error {}

func analysisJSON(capture path: String) throws -> String {
    let analyzer = Analyzer()
    try CaptureIngest(source: try PacketSource.open(path: path), decodesEveryPDU: false).run { analyzer.handle($0) }
    return String(decoding: AnalyzeJSON.render(analyzer.finish()), as: UTF8.self)
}

func analysisJSON(store: any TimelineStore, filter: StoreFilter = StoreFilter()) throws -> String {
    let analyzer = Analyzer()
    try store.timeline(filter, decodesEveryPDU: false) { analyzer.handle($0) }
    return String(decoding: AnalyzeJSON.render(analyzer.finish()), as: UTF8.self)
}

/// The decode JSON Lines of every event, as `smppscope decode --format jsonl` writes them.
func decodeLines(_ events: ((TimelineEvent) throws -> Void) throws -> Void) throws -> [String] {
    var lines: [String] = []
    try events { event in
        var json = JSONWriter()
        if case .pdu(let item) = event {
            DecodeJSON.write(item, into: &json, options: RenderOptions())
        } else {
            DecodeJSON.write(event: event, into: &json)
        }
        if !json.bytes.isEmpty { lines.append(String(decoding: json.bytes, as: UTF8.self)) }
    }
    return lines
}

func decodeLines(capture path: String) throws -> [String] {
    try decodeLines { handle in try CaptureIngest(source: try PacketSource.open(path: path)).run(handle) }
}

func decodeLines(store: any TimelineStore, filter: StoreFilter = StoreFilter()) throws -> [String] {
    try decodeLines { handle in try store.timeline(filter, handle) }
}

@Suite("Timeline store")
struct StoreTests {
    @Test("analyze from the store equals analyze from the capture", arguments: Fixtures.captures)
    func analysisReadsBackTheSame(capture: String) throws {
        let temporary = try TemporaryStore()
        try temporary.importCapture(capture)
        let fromStore = try analysisJSON(store: temporary.store)
        #expect(fromStore == (try analysisJSON(capture: capture)))
        #expect(fromStore.contains("\"sessions\""))
    }

    @Test("decode from the store equals decode from the capture", arguments: Fixtures.captures)
    func decodeReadsBackTheSame(capture: String) throws {
        let temporary = try TemporaryStore()
        try temporary.importCapture(capture)
        let expected = try decodeLines(capture: capture)
        #expect(expected.count > 100)
        #expect(try decodeLines(store: temporary.store) == expected)
    }

    @Test func aSourceOfAStoreOfManyReadsBackAsItsCapture() throws {
        let temporary = try TemporaryStore()
        for capture in Fixtures.captures.prefix(3) { try temporary.importCapture(capture) }
        let sources = try temporary.store.sources()
        #expect(sources.count == 3)
        for (source, capture) in zip(sources, Fixtures.captures.prefix(3)) {
            var filter = StoreFilter()
            filter.sourceID = source.id
            #expect(try analysisJSON(store: temporary.store, filter: filter) == (try analysisJSON(capture: capture)))
        }
        // Without a source, sessions carry store-wide ids: 1, 2, 3 for three one-session captures.
        let sessions = try temporary.store.sessions(sourceID: nil)
        #expect(sessions.map(\.id) == [1, 2, 3])
        #expect(sessions.map(\.connection) == [1, 1, 1])
    }

    @Test func importingTwiceAddsNothing() throws {
        let temporary = try TemporaryStore()
        #expect(try temporary.importCapture(Fixtures.kannel) != nil)
        let before = try decodeLines(store: temporary.store)
        #expect(try temporary.importCapture(Fixtures.kannel) == nil)
        #expect(try temporary.store.sources().count == 1)
        #expect(try decodeLines(store: temporary.store) == before)
    }

    @Test func anInterruptedImportKeepsWholeBatchesAndResumes() throws {
        let capture = Fixtures.root.appendingPathComponent("Tests/Fixtures/generated/clean_ethernet.pcap").path
        let temporary = try TemporaryStore()
        var options = ImportOptions()
        options.batchSize = 500
        let fingerprint = try SourceFingerprint.file(path: capture)
        let first = try #require(
            try temporary.store.beginImport(kind: .file, name: capture, fingerprint: fingerprint, options: options))
        #expect(throws: Interrupted.self) { try temporary.feed(capture, into: first, stopAfter: 1_234) }
        // As if the process stopped here: batches handed over are written, the rest is lost.
        try first.waitForWrites()

        let reopened = try SQLiteStore(path: temporary.path)
        let source = try #require(try reopened.sources().first)
        #expect(source.completedAt == nil)
        #expect(source.events % 500 == 0 || source.events == 1_234)
        var stored = 0
        try reopened.read(StoreFilter()) { event in
            if case .stream(.pdu) = event { stored += 1 }
        }
        #expect(stored == source.pdus)

        let second = try #require(
            try reopened.beginImport(kind: .file, name: capture, fingerprint: fingerprint, options: options))
        #expect(second.resumeAfter == source.events)
        try temporary.feed(capture, into: second)
        try second.finish()
        #expect(
            try reopened.beginImport(kind: .file, name: capture, fingerprint: fingerprint, options: options) == nil)
        #expect(try decodeLines(store: reopened) == (try decodeLines(capture: capture)))
        #expect(try analysisJSON(store: reopened) == (try analysisJSON(capture: capture)))
    }

    @Test func exportedPCAPDecodesToTheSamePDUs() throws {
        for capture in [
            Fixtures.kannel, Fixtures.root.appendingPathComponent("Tests/Fixtures/generated/stress_sll.pcap").path,
        ] {
            let temporary = try TemporaryStore()
            try temporary.importCapture(capture)
            let sessions = try temporary.store.sessions(sourceID: nil)
            let exported = temporary.folder.appendingPathComponent("export.pcap").path
            let writer = try PCAPWriter(path: exported)
            var synthesizer = TCPSynthesizer()
            var filter = StoreFilter()
            filter.sessions = Set(sessions.prefix(2).map(\.id))
            try temporary.store.read(filter) { event in
                guard case .stream(let stream) = event else { return }
                for packet in synthesizer.packets(for: stream) { try writer.write(packet) }
            }
            try writer.close()

            // Frames differ (the handshake is new) and so do stream offsets after a gap (the synthesised
            // stream has none); everything else is the same.
            func pdus(_ lines: [String]) -> [String] {
                lines.filter { $0.contains("\"command_id\"") }.map {
                    $0.replacingOccurrences(of: #""frame":\d+,"#, with: "", options: .regularExpression)
                        .replacingOccurrences(of: #""stream_offset":\d+,"#, with: "", options: .regularExpression)
                }
            }
            let original = pdus(try decodeLines(store: temporary.store, filter: filter))
            let reread = try decodeLines(capture: exported)
            #expect(original.count > 100)
            let mismatch = zip(pdus(reread), original).first { $0 != $1 }
            #expect(mismatch == nil, "first difference: \(String(describing: mismatch))")
            #expect(pdus(reread).count == original.count)
            #expect(!reread.contains { $0.contains("\"gap\"") || $0.contains("diagnostic") })
        }
    }

    @Test func noPasswordInClearAndTheKeyBringsItBack() throws {
        let temporary = try TemporaryStore()
        let key = SymmetricKey(size: .bits256)
        try temporary.importCapture(Fixtures.smpplib, options: ImportOptions(passwordKey: key))
        // The capture's bind says password "secret"; as a C-string it must be nowhere in the files.
        for name in try FileManager.default.contentsOfDirectory(atPath: temporary.folder.path) {
            let data = try Data(contentsOf: temporary.folder.appendingPathComponent(name))
            #expect(data.range(of: Data("secret\0".utf8)) == nil, "\(name) holds the password")
        }
        let redacted = try decodeLines(store: temporary.store).filter { $0.contains("\"bind_transceiver\"") }
        #expect(redacted.count == 1)
        var bind: TimelinePDU?
        try temporary.store.timeline(StoreFilter()) { event in
            if case .pdu(let item) = event, item.header.commandID == .bindTransceiver { bind = item }
        }
        guard case .bind(let stored)? = bind?.decoded().body else { Issue.record("no bind"); return }
        #expect(stored.password == "******")

        var filter = StoreFilter()
        filter.passwordKey = key
        try temporary.store.timeline(filter) { event in
            if case .pdu(let item) = event, item.header.commandID == .bindTransceiver { bind = item }
        }
        guard case .bind(let restored)? = bind?.decoded().body else { Issue.record("no bind"); return }
        #expect(restored.password == "secret")

        filter.passwordKey = SymmetricKey(size: .bits256)
        let wrong = #expect(throws: StoreError.self) { try temporary.store.timeline(filter) { _ in } }
        #expect(wrong?.code == .wrongKey)
        #expect(wrong?.hint == "give the key used at import")
    }

    @Test func aMessageIDIsFoundInTheSpellingsSMSCsUse() throws {
        let temporary = try TemporaryStore()
        let path = try mixedSpellingCapture(temporary.folder)
        // Batches of two events: the submit, its response and the receipt sit in different batches.
        var options = ImportOptions()
        options.batchSize = 2
        try temporary.importCapture(path, options: options)
        // 0x1A2B3C is 1715004: the response gives it in hex, the receipt in decimal.
        for spelling in ["1A2B3C", "1a2b3c", "001A2B3C", "1715004"] {
            #expect(
                try commands(in: temporary.store, messageID: spelling) == [
                    "submit_sm", "submit_sm_resp", "deliver_sm",
                ],
                "searched as \(spelling)")
        }
        #expect(try commands(in: temporary.store, messageID: "1A2B3D").isEmpty)
    }

    @Test func filtersFindMessagesAddressesStatusesAndTimes() throws {
        let temporary = try TemporaryStore()
        try temporary.importCapture(Fixtures.kannel)
        func commands(_ filter: StoreFilter) throws -> [String] {
            var found: [String] = []
            try temporary.store.timeline(filter) { event in
                if case .pdu(let item) = event { found.append(item.header.commandID.name) }
            }
            return found
        }
        // A message id: the submit it was given to, its response, its receipt.
        var messageID: String?
        try temporary.store.timeline(StoreFilter()) { event in
            if messageID == nil, case .pdu(let item) = event, item.header.commandID == .submitSMResp,
                item.header.commandStatus == .ok, case .messageID(let id) = item.decoded().body
            {
                messageID = id
            }
        }
        var filter = StoreFilter()
        filter.messageID = try #require(messageID)
        #expect(try commands(filter) == ["submit_sm", "submit_sm_resp", "deliver_sm"])

        filter = StoreFilter()
        filter.status = CommandStatus.throttled.rawValue
        let throttled = try commands(filter)
        #expect(!throttled.isEmpty)
        #expect(throttled.allSatisfy { $0 == "submit_sm_resp" })

        // Receipts by state, against tshark's reading of the capture: deliver_sm with a receipt's esm_class, by the
        // stat: in their text.
        let receipts = try TShark.pdus(Fixtures.kannel, decodeAs: 3701).filter {
            $0.commandID == 5 && $0["esm.submit.msg_type"] == "0x01"
        }
        func state(_ pdu: TShark.PDU) -> String {
            String(decoding: pdu.message, as: UTF8.self).components(separatedBy: "stat:").last?.prefix(7).description
                ?? ""
        }
        let expectedUndelivered = receipts.filter { state($0) == "UNDELIV" }.count
        let expectedDelivered = receipts.filter { state($0) == "DELIVRD" }.count
        #expect(expectedUndelivered > 0 && expectedDelivered > 0, "the capture has receipts in both states")
        filter = StoreFilter()
        filter.receiptState = "undeliv"
        let undelivered = try commands(filter)
        #expect(undelivered.count == expectedUndelivered)
        #expect(undelivered.allSatisfy { $0 == "deliver_sm" })
        filter.receiptState = "DELIVRD"
        let delivered = try commands(filter)
        #expect(delivered.count == expectedDelivered)

        filter = StoreFilter()
        filter.address = "77013000009"
        let toOne = try commands(filter)
        #expect(toOne.contains("submit_sm") && toOne.contains("deliver_sm"))

        var times: [Timestamp] = []
        try temporary.store.timeline(StoreFilter()) { event in
            if case .pdu(let item) = event { times.append(item.timestamp) }
        }
        filter = StoreFilter()
        filter.from = times[10]
        filter.to = times[20]
        #expect(try commands(filter).count == times.filter { $0 >= times[10] && $0 <= times[20] }.count)
    }

    @Test func aFileThatIsNotAStoreIsRefusedWithAReason() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-store-\(UUID().uuidString)")
            .path
        FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: 8192))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try SQLiteStore(path: path)
        } throws: { error in
            "\(error)".contains("cannot open the store")
        }
    }
}

/// The commands of the PDUs a message-id search finds.
func commands(in store: any TimelineStore, messageID: String) throws -> [String] {
    var filter = StoreFilter()
    filter.messageID = messageID
    var found: [String] = []
    try store.timeline(filter) { event in
        if case .pdu(let item) = event { found.append(item.header.commandID.name) }
    }
    return found
}

/// A session whose SMSC answers a submit with a hex message id and sends the receipt with the decimal one.
func mixedSpellingCapture(_ folder: URL) throws -> String {
    var conversation = TCPConversation()
    conversation.handshake()
    conversation.send(Sample.bind(sequence: 1), from: .client)
    conversation.send(Sample.bindResponse(sequence: 1), from: .server)
    conversation.send(Sample.submit(sequence: 2, text: "first"), from: .client)
    conversation.send(Sample.submitResponse(sequence: 2, id: "1A2B3C"), from: .server)
    conversation.send(Sample.submit(sequence: 3, text: "second"), from: .client)
    conversation.send(Sample.submitResponse(sequence: 3, id: "1A2B3E"), from: .server)
    conversation.wait(microseconds: 500_000)
    conversation.send(
        Sample.deliver(
            sequence: 7,
            text: "id:1715004 sub:001 dlvrd:001 submit date:2611261200 done date:2611261200 stat:DELIVRD err:000"),
        from: .server)
    let path = folder.appendingPathComponent("mixed-spelling.pcap").path
    try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets, nanosecond: true)).write(
        to: URL(fileURLWithPath: path))
    return path
}

// A selection analysed as `analyze` does, a session written as a pcap file, and what the live view watches.

import Analysis
import Capture
import Foundation
import Reassembly
import Report
import Store
import Timeline

extension StoreBrowser {
    /// The most PDUs a pcap export holds (about 30 MB); a longer session is cut there and says so.
    public static let exportLimit = 200_000

    private struct ExportFull: Error {}

    /// The analysis of what `query` selects (its key, session, login, source and time; not a command or a page).
    public func analyze(_ query: PDUQuery) throws(ServeError) -> AnalysisReport {
        if query.command != nil || query.cursor != nil {
            throw ServeError(
                .invalidParameter, "an analysis takes no command or cursor",
                location: query.command != nil ? "command" : "cursor",
                hint: "select by source, session, system_id, message_id, address, status, state, from and to")
        }
        var filter = StoreFilter()
        filter.sourceID = query.sourceID
        filter.storeWideSessionIDs = true
        filter.messageID = query.messageID
        filter.address = query.address
        filter.status = query.status
        filter.receiptState = query.receiptState
        filter.from = query.from
        filter.to = query.to
        if query.systemID != nil || query.session != nil {
            let sessions = try locked { try store.sessions(sourceID: query.sourceID) }.filter {
                (query.systemID == nil || $0.systemID == query.systemID)
                    && (query.session == nil || $0.id == query.session)
            }
            guard !sessions.isEmpty else {
                throw ServeError(
                    .notFound, "no stored session matches", location: query.session != nil ? "session" : "system_id")
            }
            filter.sessions = Set(sessions.map(\.id))
        }
        let analyzer = Analyzer(configuration: AnalysisConfiguration())
        try locked {
            try store.timeline(filter, decodesEveryPDU: false) { analyzer.handle($0) }
        }
        return analyzer.finish()
    }

    /// A session as a pcap file that Wireshark and smppscope open: a synthesised TCP connection (see `export`), its
    /// first `exportLimit` PDUs; `truncated` when there were more.
    public func pcap(session id: Int64) throws(ServeError) -> (bytes: [UInt8], truncated: Bool) {
        let session = try session(id)
        var filter = StoreFilter()
        filter.sourceID = session.sourceID
        filter.storeWideSessionIDs = true
        filter.sessions = [id]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "smppscope-serve-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ServeError(
                .storeFailed, "cannot make a temporary folder for the export: \(error)", location: folder.path)
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("session.pcap").path
        var truncated = false
        try locked {
            let writer = try PCAPWriter(path: path)
            var synthesizer = TCPSynthesizer()
            var pdus = 0
            do {
                try store.read(filter) { event in
                    guard case .stream(let stream) = event else { return }
                    if case .pdu = stream {
                        if pdus == Self.exportLimit {
                            truncated = true
                            throw ExportFull()
                        }
                        pdus += 1
                    }
                    for packet in synthesizer.packets(for: stream) { try writer.write(packet) }
                }
            } catch is ExportFull {
            } catch {
                writer.abandon()
                throw error
            }
            try writer.close()
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServeError(.storeFailed, "the export could not be read back", location: path)
        }
        return ([UInt8](data), truncated)
    }

    /// What the live view follows: each source's counts and whether it is still being written; changes as a recorder
    /// writes into the store.
    public func liveSnapshot() throws(ServeError) -> [UInt8] {
        let sources = try locked { try store.sources() }
        var json = JSONWriter(capacity: 1_024)
        json.beginObject()
        json.key("pdus"); json.int(sources.reduce(0) { $0 + $1.pdus })
        json.key("events"); json.int(sources.reduce(0) { $0 + $1.events })
        json.key("recording"); json.bool(sources.contains { $0.completedAt == nil })
        Self.write(sources, into: &json)
        json.endObject()
        return json.bytes
    }
}

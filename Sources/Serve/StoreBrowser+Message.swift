// One message's life: the PDUs that carry its id (the submit, its response, receipts, queries), and, for a long
// message, its other parts with their responses and receipts, on whichever session they came.

import Capture
import Reassembly
import Report
import SMPP
import Store
import Timeline
import Trace

extension StoreBrowser {
    /// The most PDUs a message view gathers.
    public static let messageLimit = 1_000
    /// How far around a part the other parts of a long message are looked for, and how long after a part its
    /// response is waited for.
    static let partWindow: Int64 = 300_000_000_000
    static let responseWindow: Int64 = 60_000_000_000

    struct Found {
        var sourceID: Int64
        var item: TimelinePDU
        var ref: String { "\(sourceID)-\(item.frame)-\(item.streamOffset)" }
    }

    private struct Enough: Error {}

    /// Reads the PDUs `filter` selects, source by source, until `keep` says stop or `limit` are kept.
    private func collect(
        _ filter: StoreFilter, limit: Int = StoreBrowser.messageLimit, scanLimit: Int = StoreBrowser.scanLimit,
        keep: (TimelinePDU) -> Bool = { _ in true }, done: ([Found]) -> Bool = { _ in false }
    ) throws(ServeError) -> [Found] {
        let sources = try locked { try store.sources() }.filter { filter.sourceID == nil || $0.id == filter.sourceID }
        var found: [Found] = []
        var scanned = 0
        try locked {
            for source in sources {
                var one = filter
                one.sourceID = source.id
                one.storeWideSessionIDs = true
                do {
                    try store.timeline(one, decodesEveryPDU: false) { event in
                        guard case .pdu(let item) = event else { return }
                        scanned += 1
                        if keep(item) {
                            found.append(Found(sourceID: source.id, item: item))
                            if found.count >= limit || done(found) { throw Enough() }
                        }
                        if scanned >= scanLimit { throw Enough() }
                    }
                } catch is Enough {
                    return
                }
            }
        }
        return found
    }

    /// `{"message_id", "parts": [...], "pdus": [...], "sessions": [...]}`.
    public func message(_ id: String) throws(ServeError) -> [UInt8] {
        guard !id.isEmpty, id.utf8.count <= 64 else {
            throw ServeError(.invalidParameter, "a message id is 1 to 64 bytes long", location: "message_id")
        }
        var filter = StoreFilter()
        filter.messageID = id
        var all = try collect(filter)
        guard !all.isEmpty else {
            throw ServeError(
                .notFound, "no PDU in the store carries message id \(id)", location: "message_id",
                hint: "search with GET /api/pdus?message_id=\(id) or by address")
        }
        all += try otherParts(of: all)
        var byRef: [String: Found] = [:]
        for found in all { byRef[found.ref] = found }
        let pdus = byRef.values.sorted {
            ($0.item.timestamp, $0.sourceID, $0.item.frame, $0.item.streamOffset)
                < ($1.item.timestamp, $1.sourceID, $1.item.frame, $1.item.streamOffset)
        }
        let parts = Self.parts(of: pdus)
        let sessionIDs = Set(pdus.map { Int64($0.item.session) })
        let sessions = try locked { try store.sessions(sourceID: nil) }.filter { sessionIDs.contains($0.id) }

        var json = JSONWriter(capacity: 16 * 1_024)
        json.beginObject()
        json.key("message_id"); json.string(id)
        json.key("parts")
        json.beginArray()
        for part in parts {
            json.beginObject()
            json.key("seq")
            if let sequence = part.sequence { json.int(sequence) } else { json.null() }
            json.key("total")
            if let total = part.total { json.int(total) } else { json.null() }
            json.key("submit"); json.string(part.submit)
            json.key("response")
            if let response = part.response { json.string(response) } else { json.null() }
            json.key("message_id")
            if let partID = part.messageID { json.string(partID) } else { json.null() }
            json.key("status")
            if let status = part.status { json.string(status) } else { json.null() }
            json.key("receipts")
            json.beginArray()
            for receipt in part.receipts { json.string(receipt) }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.key("pdus")
        json.beginArray()
        var linker = PageLinker()
        let options = RenderOptions()
        for found in pdus {
            Self.write(found.item, sourceID: found.sourceID, linker: &linker, options: options, into: &json)
        }
        json.endArray()
        json.key("sessions")
        json.beginArray()
        for session in sessions { Self.write(session, into: &json) }
        json.endArray()
        json.key("journey")
        if let (journey, names) = try journey(of: pdus) {
            json.beginArray()
            for (index, hop) in journey.hops.enumerated() {
                TraceRender.writeHop(
                    hop, next: index + 1 < journey.hops.count ? journey.hops[index + 1] : nil, inputs: names,
                    into: &json)
            }
            json.endArray()
        } else {
            json.null()
        }
        json.endObject()
        return json.bytes
    }

    /// The message on every hop the store holds (`trace`'s journey): the submits to its destination with its text
    /// within `TraceJoiner.window` of it, on any session of any source, with their responses and receipts; nil when
    /// the message shows on one hop only.
    func journey(of pdus: [Found]) throws(ServeError) -> (Journey, [String])? {
        guard let submit = pdus.first(where: { Self.isSubmit($0.item) }),
            let destination = submit.item.decoded().destination?.address, !destination.isEmpty
        else { return nil }
        let joiner = TraceJoiner()
        let time = submit.item.timestamp.nanoseconds
        var around = StoreFilter()
        around.address = destination
        around.from = Timestamp(nanoseconds: time - Int64(joiner.window * 1e9))
        around.to = Timestamp(nanoseconds: time + Int64(joiner.window * 1e9))
        let submits = try collect(around, limit: 200) { Self.isSubmit($0) }
        guard Set(submits.map { $0.item.destination }).count > 1 else { return nil }
        // Each submit's response (its session, just after), then the receipts of the ids they gave.
        let found = try submits + responsesAndReceipts(of: submits)
        // One input per source, its PDUs in time order.
        let sources = Array(Set(found.map(\.sourceID))).sorted()
        let storedSessions = try locked { try store.sessions(sourceID: nil) }
        var inputs: [TraceJoiner.Input] = []
        for source in sources {
            var collector = TraceCollector(input: inputs.count)
            var seen: Set<String> = []
            for entry in found.filter({ $0.sourceID == source }).sorted(by: { $0.item.timestamp < $1.item.timestamp })
            where seen.insert(entry.ref).inserted {
                collector.consume(.pdu(entry.item))
            }
            var (messages, _) = collector.finish()
            for index in messages.indices {
                messages[index].systemID = storedSessions.first { $0.id == Int64(messages[index].session) }?.systemID
            }
            inputs.append(
                TraceJoiner.Input(
                    name: "source \(source)", messages: messages, fingerprints: [:], first: collector.first,
                    last: collector.last))
        }
        let report = joiner.join(inputs)
        let journey = report.journeys.first { journey in
            journey.hops.contains { hop in
                hop.session == submit.item.session
                    && hop.parts.contains { $0.sequenceNumber == submit.item.header.sequenceNumber }
            }
        }
        guard let journey, journey.hops.count > 1 else { return nil }
        return (journey, report.inputs)
    }

    /// For a long message, the other parts: submits of the same session to the same address with the same
    /// concatenation reference, their responses, and the receipts of the ids those gave.
    private func otherParts(of found: [Found]) throws(ServeError) -> [Found] {
        guard
            let first = found.first(where: { Self.isSubmit($0.item) && Self.concatenation(of: $0.item) != nil }),
            let concatenation = Self.concatenation(of: first.item),
            let destination = first.item.decoded().destination?.address, !destination.isEmpty
        else { return [] }
        let time = first.item.timestamp.nanoseconds
        var filter = StoreFilter()
        filter.sourceID = first.sourceID
        filter.sessions = [Int64(first.item.session)]
        filter.address = destination
        filter.from = Timestamp(nanoseconds: time - Self.partWindow)
        filter.to = Timestamp(nanoseconds: time + Self.partWindow)
        let siblings = try collect(filter, limit: Int(concatenation.total)) { item in
            guard Self.isSubmit(item), let other = Self.concatenation(of: item) else { return false }
            return other.reference == concatenation.reference && other.total == concatenation.total
        }
        guard !siblings.isEmpty else { return [] }
        return try siblings + responsesAndReceipts(of: siblings)
    }

    /// The responses to `submits` (on their sessions, within `responseWindow` after them) and the PDUs that carry
    /// the ids those gave (receipts, queries).
    private func responsesAndReceipts(of submits: [Found]) throws(ServeError) -> [Found] {
        var found: [Found] = []
        for group in Dictionary(grouping: submits, by: { "\($0.sourceID) \($0.item.session)" }).values {
            guard let first = group.first else { continue }
            var waiting = Set(group.map { $0.item.header.sequenceNumber })
            var window = StoreFilter()
            window.sourceID = first.sourceID
            window.sessions = [Int64(first.item.session)]
            let times = group.map(\.item.timestamp.nanoseconds)
            window.from = Timestamp(nanoseconds: times.min() ?? 0)
            window.to = Timestamp(nanoseconds: (times.max() ?? 0) + Self.responseWindow)
            found += try collect(window, limit: group.count, scanLimit: 50_000) { item in
                item.header.commandID.isResponse && item.destination == first.item.source
                    && waiting.remove(item.header.sequenceNumber) != nil
            }
        }
        var carrying: [Found] = []
        for response in found {
            guard response.item.header.commandStatus == .ok, let id = response.item.decoded().messageID, !id.isEmpty
            else { continue }
            var byID = StoreFilter()
            byID.messageID = id
            carrying += try collect(byID, limit: 64)
        }
        return found + carrying
    }

    struct Part {
        var sequence: Int?
        var total: Int?
        var submit: String
        var response: String?
        var messageID: String?
        var status: String?
        var receipts: [String] = []
    }

    /// Each submit with its response, the id it got, and the receipts for that id.
    static func parts(of pdus: [Found]) -> [Part] {
        var parts: [Part] = []
        for submit in pdus where isSubmit(submit.item) {
            let concatenation = concatenation(of: submit.item)
            var part = Part(
                sequence: concatenation.map { Int($0.sequence) }, total: concatenation.map { Int($0.total) },
                submit: submit.ref)
            if let response = pdus.first(where: {
                $0.item.session == submit.item.session && $0.item.header.commandID.isResponse
                    && $0.item.destination == submit.item.source
                    && $0.item.header.sequenceNumber == submit.item.header.sequenceNumber
                    && $0.item.timestamp >= submit.item.timestamp
            }) {
                part.response = response.ref
                part.status = response.item.header.commandStatus.name
                part.messageID = response.item.decoded().messageID
            }
            // Receipts for the id from the same SMSC (the address the submit went to), on any of its sessions: the
            // same id from another SMSC is another message.
            if let id = part.messageID, !id.isEmpty {
                part.receipts = pdus.filter {
                    ($0.item.header.commandID == .deliverSM || $0.item.header.commandID == .dataSM)
                        && $0.item.source == submit.item.destination
                        && $0.item.decoded().deliveryReceipt()?.messageID.map { MessageID.equivalent($0, id) } == true
                }.map(\.ref)
            }
            parts.append(part)
        }
        return parts.sorted { ($0.sequence ?? 0) < ($1.sequence ?? 0) }
    }

    static func isSubmit(_ item: TimelinePDU) -> Bool {
        let command = item.header.commandID
        return command == .submitSM || command == .submitMulti || (command == .dataSM && item.fromClient != false)
    }

    static func concatenation(of item: TimelinePDU) -> Concatenation? {
        item.decoded().message(isoDefault: item.isoDefault)?.concatenation
    }
}

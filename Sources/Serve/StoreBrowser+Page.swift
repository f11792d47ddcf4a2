// A page of PDUs: read from the store source by source, each in its capture's order, kept when the query selects
// them, written with the links the page shows (a response to its request, with the latency; a receipt to the
// submit whose response gave the id), and a cursor to go on from.

@_spi(Lent) import Capture
@_spi(Lent) import Reassembly
@_spi(Lent) import Report
import SMPP
import Store
import Timeline

extension StoreBrowser {
    /// Ends a read once the page is full.
    private struct PageFull: Error {}

    /// Writes `"pdus": [...]`, `"next_cursor"` and `"scanned"` for `query`; `sessions` (store-wide) restricts the
    /// read when given, and an empty list selects nothing.
    func writePage(_ query: PDUQuery, sessions: [StoredSession]?, into json: inout JSONWriter) throws(ServeError) {
        var next: PDUCursor?
        var scanned = 0
        var linker = PageLinker()
        json.key("pdus")
        json.beginArray()
        if sessions?.isEmpty != true {
            let sessionIDs = Set((sessions ?? []).map(\.id))
            let sources = try locked { try store.sources() }.filter {
                (query.sourceID == nil || $0.id == query.sourceID)
                    && (query.cursor == nil || $0.id >= query.cursor?.sourceID ?? 0)
            }.sorted { $0.id < $1.id }
            let options = RenderOptions()
            var count = 0
            try locked {
                for source in sources {
                    let resume = query.cursor?.sourceID == source.id ? query.cursor : nil
                    var position: PDUCursor?
                    do {
                        try store.timeline(
                            query.filter(sourceID: source.id, sessions: sessionIDs), decodesEveryPDU: false
                        ) { event in
                            guard case .pdu(let item) = event else { return }
                            // Where the read stands: the packet that completed this PDU, and how many of its PDUs
                            // were read; a resumed read skips what the pages before read.
                            let read = position?.frame == item.frame ? (position?.readAtFrame ?? 0) + 1 : 1
                            position = PDUCursor(
                                sourceID: source.id, frame: item.frame, timestamp: item.timestamp, readAtFrame: read)
                            if let resume,
                                item.frame < resume.frame || (item.frame == resume.frame && read <= resume.readAtFrame)
                            {
                                return
                            }
                            scanned += 1
                            if query.command == nil || item.header.commandID == query.command {
                                if count == query.limit {
                                    // One more than the page holds: the next page starts with it.
                                    next = PDUCursor(
                                        sourceID: source.id, frame: item.frame, timestamp: item.timestamp,
                                        readAtFrame: read - 1)
                                    throw PageFull()
                                }
                                count += 1
                                Self.write(item, sourceID: source.id, linker: &linker, options: options, into: &json)
                            }
                            if scanned >= Self.scanLimit {
                                next = position
                                throw PageFull()
                            }
                        }
                    } catch is PageFull {
                        return
                    }
                }
            }
        }
        json.endArray()
        json.key("next_cursor")
        if let next { json.string(next.description) } else { json.null() }
        json.key("scanned"); json.int(scanned)
    }
}

extension StoreBrowser {
    /// A PDU as the API gives it: decode's keys, then its source, its `ref`, its side, and its links within the page.
    static func write(
        _ item: TimelinePDU, sourceID: Int64, linker: inout PageLinker, options: RenderOptions,
        into json: inout JSONWriter
    ) {
        let links = linker.link(item, sourceID: sourceID)
        DecodeJSON.write(item, into: &json, options: options) { json in
            json.key("source_id"); json.int(sourceID)
            json.key("ref"); json.string(links.ref)
            json.key("from_esme")
            if let fromClient = item.fromClient { json.bool(fromClient) } else { json.null() }
            if let request = links.request {
                json.key("request"); json.string(request)
            }
            if let latency = links.latency {
                json.key("latency_ms"); json.double(latency, decimals: 3)
            }
            if let submit = links.receiptFor {
                json.key("receipt_for"); json.string(submit)
            }
        }
    }
}

/// The links among the PDUs of a page: responses to their requests, receipts to their submits. Bounded by the page.
struct PageLinker {
    struct RequestKey: Hashable {
        var session: Int
        var requester: Endpoint
        var sequence: UInt32
    }

    struct Links {
        var ref: String
        var request: String?
        var latency: Double?
        var receiptFor: String?
    }

    private var requests: [RequestKey: (ref: String, time: Timestamp, command: CommandID)] = [:]
    /// The submits whose response gave a message id, by the id's link form.
    private var submits: [UInt64: String] = [:]

    mutating func link(_ item: TimelinePDU, sourceID: Int64) -> Links {
        var links = Links(ref: "\(sourceID)-\(item.frame)-\(item.streamOffset)")
        let command = item.header.commandID
        if !command.isResponse {
            requests[RequestKey(session: item.session, requester: item.source, sequence: item.header.sequenceNumber)] =
                (links.ref, item.timestamp, command)
            if command == .deliverSM || command == .dataSM, let id = item.decoded().deliveryReceipt()?.messageID {
                for linkKey in Self.keys(of: id) where links.receiptFor == nil { links.receiptFor = submits[linkKey] }
            }
            return links
        }
        let key = RequestKey(session: item.session, requester: item.destination, sequence: item.header.sequenceNumber)
        guard let request = requests[key] else { return links }
        links.request = request.ref
        links.latency = Double(item.timestamp.nanoseconds - request.time.nanoseconds) / 1e6
        if request.command == .submitSM || request.command == .dataSM || request.command == .submitMulti,
            item.header.commandStatus == .ok, let id = item.decoded().messageID, !id.isEmpty
        {
            for linkKey in Self.keys(of: id) { submits[linkKey] = request.ref }
        }
        return links
    }

    /// The link forms of an id: its own and that of its other number form (hex <-> decimal).
    static func keys(of id: String) -> [UInt64] {
        [MessageID.linkKey(id)] + MessageID.alternativeLinkKeys(id)
    }
}

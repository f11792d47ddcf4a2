// One input's messages, as `trace` needs them: each submit (a long message's parts together) with its response and
// the receipt for the id it was given, on the session and SMSC it went to; and a fingerprint of every PDU, by which
// two captures of one link are recognised and their clocks compared.
//
// Bounds: messages 1,000,000 per input (later ones counted in `skipped`); long messages in progress 100,000;
// requests waiting for their response 100,000; ids waiting for their receipt 1,000,000; fingerprints 1,000,000.

import Capture
import Reassembly
import SMPP
import Timeline

/// Reads one input's timeline for `trace`.
public struct TraceCollector {
    public static let maximumMessages = 1_000_000
    static let maximumLong = 100_000
    static let maximumPending = 100_000
    static let maximumFingerprints = 1_000_000

    struct RequestKey: Hashable {
        var session: Int
        var sequence: UInt32
    }

    struct LongKey: Hashable {
        var session: Int
        var destination: String
        var reference: Int
        var total: Int
    }

    struct ReceiptKey: Hashable {
        var smsc: String
        var id: UInt64
    }

    let input: Int
    private var systemIDs: [Int: String] = [:]
    private var messages: [HopMessage] = []
    private var partTexts: [[String]] = []
    private var pending: [RequestKey: (message: Int, part: Int)] = [:]
    private var long: [LongKey: Int] = [:]
    private var awaitingReceipt: [ReceiptKey: (message: Int, part: Int)] = [:]
    /// PDU bytes' hash -> the time it was seen; nil when the same bytes came more than once.
    private var fingerprints: [UInt64: Int64?] = [:]
    public private(set) var skipped = 0
    public private(set) var first: Timestamp?
    public private(set) var last: Timestamp?

    public init(input: Int) {
        self.input = input
    }

    public mutating func consume(_ event: TimelineEvent) {
        switch event {
        case .sessionOpened(let session):
            if let systemID = session.bind?.systemID { systemIDs[session.id] = systemID }
        case .pdu(let item):
            consume(item)
        default:
            break
        }
    }

    private mutating func consume(_ item: TimelinePDU) {
        if first == nil { first = item.timestamp }
        last = max(last ?? item.timestamp, item.timestamp)
        fingerprint(item)
        let command = item.header.commandID
        let fromESME = item.fromClient ?? true
        if command == .bindTransmitter || command == .bindTransceiver || command == .bindReceiver,
            case .bind(let bind) = item.decoded().body
        {
            systemIDs[item.session] = bind.systemID
        }
        if (command == .submitSM || command == .dataSM) && fromESME {
            submitted(item)
        } else if command == .submitSMResp || command == .dataSMResp {
            answered(item)
        } else if (command == .deliverSM || command == .dataSM) && !fromESME {
            receipt(item)
        }
    }

    private mutating func fingerprint(_ item: TimelinePDU) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in item.raw.readableBytesView { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        if let seen = fingerprints[hash] {
            if seen != nil { fingerprints[hash] = .some(nil) }
        } else if fingerprints.count < Self.maximumFingerprints {
            fingerprints[hash] = item.timestamp.nanoseconds
        }
    }

    private mutating func submitted(_ item: TimelinePDU) {
        let pdu = item.decoded()
        guard let destination = pdu.destination?.address else { return }
        let message = pdu.message(isoDefault: item.isoDefault)
        let text = message?.decoded.text ?? message.map { Self.hex($0.decoded.payload) } ?? ""
        let concatenation = message?.concatenation
        let registered: Bool
        switch pdu.body {
        case .shortMessage(let body): registered = body.registeredDelivery & 0x03 != 0
        case .dataSM(let body): registered = body.registeredDelivery & 0x03 != 0
        default: registered = false
        }
        let part = HopMessage.Part(
            sequenceNumber: item.header.sequenceNumber, frame: item.frame, time: item.timestamp,
            seq: concatenation.map { Int($0.sequence) }, registeredDelivery: registered)
        let esme = item.source.description
        let smsc = item.destination.description
        var index: Int?
        if let concatenation, concatenation.total > 1 {
            let key = LongKey(
                session: item.session, destination: destination, reference: Int(concatenation.reference),
                total: Int(concatenation.total))
            if let known = long[key] {
                index = known
            } else if long.count < Self.maximumLong {
                long[key] = messages.count
            }
        }
        if index == nil {
            guard messages.count < Self.maximumMessages else {
                skipped += 1
                return
            }
            messages.append(
                HopMessage(
                    input: input, session: item.session, systemID: systemIDs[item.session], esme: esme, smsc: smsc,
                    destination: destination, text: "", parts: [], time: item.timestamp))
            partTexts.append([])
            index = messages.count - 1
        }
        guard let index else { return }
        messages[index].parts.append(part)
        partTexts[index].append(text)
        if let concatenation, messages[index].parts.count >= Int(concatenation.total) {
            long[
                LongKey(
                    session: item.session, destination: destination, reference: Int(concatenation.reference),
                    total: Int(concatenation.total))] = nil
        }
        if pending.count < Self.maximumPending {
            pending[RequestKey(session: item.session, sequence: item.header.sequenceNumber)] =
                (index, messages[index].parts.count - 1)
        }
    }

    private mutating func answered(_ item: TimelinePDU) {
        guard
            let (message, part) = pending.removeValue(
                forKey: RequestKey(session: item.session, sequence: item.header.sequenceNumber))
        else { return }
        messages[message].parts[part].response = item.timestamp
        messages[message].parts[part].status = item.header.commandStatus.name
        messages[message].parts[part].statusValue = item.header.commandStatus.rawValue
        guard item.header.commandStatus == .ok, let id = item.decoded().messageID, !id.isEmpty else { return }
        messages[message].parts[part].messageID = id
        if awaitingReceipt.count < Self.maximumMessages {
            awaitingReceipt[ReceiptKey(smsc: messages[message].smsc, id: MessageID.linkKey(id))] = (message, part)
        }
    }

    private mutating func receipt(_ item: TimelinePDU) {
        let pdu = item.decoded()
        let text = pdu.message(isoDefault: item.isoDefault)?.decoded.text
        guard let receipt = pdu.deliveryReceipt(text: text), let id = receipt.messageID else { return }
        let keys = [MessageID.linkKey(id)] + MessageID.alternativeLinkKeys(id)
        for key in keys {
            guard let (message, part) = awaitingReceipt[ReceiptKey(smsc: item.source.description, id: key)] else {
                continue
            }
            if messages[message].parts[part].receipt == nil {
                messages[message].parts[part].receipt = HopMessage.Receipt(
                    session: item.session, frame: item.frame, time: item.timestamp, state: receipt.state)
            }
            return
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }

    /// The input's messages (each long message's parts in order, its text whole) and the fingerprints seen once.
    public mutating func finish() -> (messages: [HopMessage], fingerprints: [UInt64: Int64]) {
        for index in messages.indices {
            let order = messages[index].parts.indices.sorted {
                (messages[index].parts[$0].seq ?? 0) < (messages[index].parts[$1].seq ?? 0)
            }
            messages[index].text = order.map { partTexts[index][$0] }.joined()
            messages[index].parts = order.map { messages[index].parts[$0] }
            messages[index].time = messages[index].parts.map(\.time).min() ?? messages[index].time
        }
        var unique: [UInt64: Int64] = [:]
        for (hash, time) in fingerprints { if let time { unique[hash] = time } }
        return (messages, unique)
    }
}

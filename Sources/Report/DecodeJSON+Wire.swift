// `decode --format jsonl` straight from a PDU's bytes, for the operations nearly all traffic is made of: the same
// line as the general path, without building the PDU's values on the way.
//
// Unsafe code, and its invariants: `WireFields` keeps the lent bytes of the PDU being written and lives only
// inside that write; every field read is checked against the PDU's length first (a field that does not fit ends
// the fast path, and the general path writes the PDU).

@_spi(Lent) import Capture
import NIOCore
@_spi(Lent) import Reassembly
@_spi(Lent) import SMPP
import Timeline

extension DecodeJSON {
    /// Text already rendered for earlier lines — endpoints, commands and statuses as JSON strings, the seconds of
    /// the last timestamp — so that each line copies it instead of formatting and escaping it again.
    public struct Names {
        /// The two endpoints of each session, by session id.
        private var sessions: [Pair?] = []
        private var commands: [[UInt8]?] = Array(repeating: nil, count: CommandID.knownCount)
        private var statuses: [(UInt32, [UInt8])] = []

        private final class Pair {
            var first: Endpoint
            var firstName: [UInt8]
            var second: Endpoint
            var secondName: [UInt8]

            init(_ endpoint: Endpoint, _ name: [UInt8]) {
                first = endpoint
                firstName = name
                second = endpoint
                secondName = name
            }
        }

        public init() {}

        /// `"10.1.0.3:49433"`.
        mutating func endpoint(_ endpoint: Endpoint, session: Int) -> [UInt8] {
            guard session >= 0, session < 1 << 20 else { return Self.quoted(endpoint.description) }
            if session >= sessions.count {
                sessions.append(contentsOf: repeatElement(nil, count: session + 1 - sessions.count))
            }
            guard let pair = sessions[session] else {
                let name = Self.quoted(endpoint.description)
                sessions[session] = Pair(endpoint, name)
                return name
            }
            if pair.first == endpoint { return pair.firstName }
            if pair.second == endpoint { return pair.secondName }
            // The newest endpoint first, the one before it second.
            let name = Self.quoted(endpoint.description)
            pair.second = pair.first
            pair.secondName = pair.firstName
            pair.first = endpoint
            pair.firstName = name
            return name
        }

        /// The whole seconds of the last timestamp written and their digits: PDUs close in time share them.
        private var second: UInt64 = .max
        private var secondDigits: [UInt8] = []

        /// The timestamp as ``Timestamp/description`` writes it.
        mutating func writeTimestamp(_ timestamp: Timestamp, into json: inout JSONWriter) {
            let nanoseconds = timestamp.nanoseconds
            guard nanoseconds >= 0 else {
                json.raw(timestamp.description)
                return
            }
            let whole = UInt64(nanoseconds) / 1_000_000_000
            let fraction = UInt64(nanoseconds) % 1_000_000_000
            if whole != second {
                var digits = JSONWriter(capacity: 32)
                digits.int(whole)
                digits.separator(UInt8(ascii: "."))
                secondDigits = digits.bytes
                second = whole
            }
            json.raw(secondDigits)
            if fraction % 1_000 == 0 {
                json.digits(fraction / 1_000, width: 6)
            } else {
                json.digits(fraction, width: 9)
            }
        }

        /// `"submit_sm"`.
        mutating func command(_ id: CommandID) -> [UInt8] {
            guard let index = id.knownIndex else { return Self.quoted(id.name) }
            if let name = commands[index] { return name }
            let name = Self.quoted(id.name)
            commands[index] = name
            return name
        }

        /// `"ESME_ROK"`.
        mutating func status(_ status: CommandStatus) -> [UInt8] {
            for entry in statuses where entry.0 == status.rawValue { return entry.1 }
            let name = Self.quoted(status.name)
            if statuses.count < 32 { statuses.append((status.rawValue, name)) }
            return name
        }

        private static func quoted(_ text: String) -> [UInt8] {
            var json = JSONWriter(capacity: 64)
            json.string(text)
            return json.bytes
        }
    }

    /// One PDU as ``write(_:into:options:)`` writes it: from its bytes where ``writeFromWire(_:into:names:options:)``
    /// can, else the general way.
    public static func writeLine(
        _ item: TimelinePDU, into json: inout JSONWriter, names: inout Names, options: RenderOptions
    ) {
        if !writeFromWire(item, into: &json, names: &names, options: options) {
            write(item, into: &json, options: options)
        }
    }

    /// Writes what ``write(_:into:options:)`` writes, read straight from the PDU's bytes, when the PDU is a
    /// header-only operation, a response that carries a message_id, a submit_sm or a deliver_sm, and decodes
    /// without a single problem. Returns false, with nothing written, for every other PDU: the caller renders it the
    /// general way. `json` is at the top level (between values). None of these operations carries a password, so
    /// `options` changes nothing here yet; binds, which do, always take the general path.
    public static func writeFromWire(
        _ item: TimelinePDU, into json: inout JSONWriter, names: inout Names, options: RenderOptions
    ) -> Bool {
        let header = item.header
        let id = header.commandID
        guard item.digest.isWellFormed, id.isKnown else { return false }
        let frame = item.raw
        enum Shape { case headerOnly, messageID, shortMessage }
        let shape: Shape
        if frame.readableBytes == PDUHeader.size {
            // Well-formed and 16 bytes: a response, or a request without a body. An ESME_ROK response that
            // should carry a body is reported by the decoder.
            guard !(id.isResponse && header.commandStatus == .ok && id.requiresBodyWhenOK) else { return false }
            shape = .headerOnly
        } else if id == .submitSM || id == .deliverSM {
            shape = .shortMessage
        } else if id == .submitSMResp || id == .deliverSMResp || id == .dataSMResp || id == .broadcastSMResp
            || id == .queryBroadcastSMResp
        {
            shape = .messageID
        } else {
            return false
        }

        let start = json.count
        json.beginObject()
        json.key("ts"); names.writeTimestamp(item.timestamp, into: &json)
        json.key("src"); json.raw(names.endpoint(item.source, session: item.session))
        json.key("dst"); json.raw(names.endpoint(item.destination, session: item.session))
        json.key("session"); json.int(item.session)
        json.key("frame"); json.int(item.frame)
        json.key("stream_offset"); json.int(item.streamOffset)
        json.key("command_length"); json.int(header.commandLength)
        json.key("command_id"); json.int(id.rawValue)
        json.key("command"); json.raw(names.command(id))
        json.key("command_status"); json.int(header.commandStatus.rawValue)
        json.key("command_status_name"); json.raw(names.status(header.commandStatus))
        json.key("sequence_number"); json.int(header.sequenceNumber)
        let complete: Bool
        switch shape {
        case .headerOnly:
            complete = true
        case .messageID:
            complete = writeMessageIDResponse(frame, into: &json)
        case .shortMessage:
            // data_coding 0 read in another alphabet than the session's: the general way.
            if item.digest.shortMessage?.dataCoding == 0, options.alphabet(forSession: item.session, command: id) != nil
            {
                complete = false
            } else {
                complete = writeShortMessage(item, into: &json)
            }
        }
        guard complete else {
            json.truncate(to: start)
            return false
        }
        json.endObject()
        return true
    }

    /// message_id and TLVs of submit_sm_resp and its kind.
    private static func writeMessageIDResponse(_ frame: ByteBuffer, into json: inout JSONWriter) -> Bool {
        frame.withUnsafeReadableBytes { bytes in
            var fields = WireFields(bytes)
            guard let messageID = fields.cString(max: 65) else { return false }
            json.key("message_id"); writeField(bytes[messageID], into: &json)
            return writeTLVs(bytes, region: fields.offset..<bytes.count, into: &json)
        }
    }

    /// The mandatory fields of a submit_sm or deliver_sm, its message, TLVs and receipt.
    private static func writeShortMessage(_ item: TimelinePDU, into json: inout JSONWriter) -> Bool {
        let frame = item.raw
        guard let location = item.digest.shortMessage else { return false }
        return frame.withUnsafeReadableBytes { bytes -> Bool in
            var fields = WireFields(bytes)
            func string(_ key: StaticString, max: Int) -> Bool {
                guard let range = fields.cString(max: max) else { return false }
                json.key(key); writeField(bytes[range], into: &json)
                return true
            }
            func time(_ key: StaticString) -> Bool {
                guard let range = fields.cString(max: 17) else { return false }
                if !range.isEmpty {
                    guard case .success = SMPPTime.parse(fieldString(UnsafeRawBufferPointer(rebasing: bytes[range])))
                    else { return false }
                }
                json.key(key); writeField(bytes[range], into: &json)
                return true
            }
            func int(_ key: StaticString) -> Bool {
                guard let value = fields.u8() else { return false }
                json.key(key); json.int(value)
                return true
            }
            guard string("service_type", max: 6), int("source_addr_ton"), int("source_addr_npi"),
                string("source_addr", max: 21), int("dest_addr_ton"), int("dest_addr_npi"),
                string("destination_addr", max: 21), int("esm_class"), int("protocol_id"), int("priority_flag"),
                time("schedule_delivery_time"), time("validity_period"), int("registered_delivery"),
                int("replace_if_present_flag"), int("data_coding"), int("sm_default_msg_id"),
                let length = fields.u8()
            else { return false }
            let shortMessage = fields.offset..<(fields.offset + Int(length))
            guard shortMessage.upperBound <= bytes.count, shortMessage == location.shortMessage else { return false }
            json.key("sm_length"); json.int(length)
            json.key("short_message_hex"); json.hexString(octets: UnsafeRawBufferPointer(rebasing: bytes[shortMessage]))

            // The message: read here when its octets are ASCII in its character set, else the general way.
            let tlvRegion = shortMessage.upperBound..<bytes.count
            let lookup = { (tag: TLVTag) in PDULayout.tlv(tag, in: frame, region: tlvRegion) }
            let (octetRange, _) = PDULayout.messageOctets(in: frame, at: location)
            let octets = UnsafeRawBufferPointer(rebasing: bytes[octetRange])
            let charset = DataCoding(location.dataCoding).charset(isoDefault: item.isoDefault)
            let text: String?
            let problems: [String]
            if location.esmClass & 0x40 == 0, MessageText.readsAsASCII(octets, charset: charset) {
                json.key("text"); json.string(utf8: octets)
                if let concatenation = Concatenation(sar: lookup) { writeUDH(concatenation, into: &json) }
                // The text is needed as a string only where it may be a receipt.
                let mayBeReceipt =
                    item.header.commandID == .deliverSM
                    && PDULayout.mayCarryReceipt(in: frame, at: location, isoDefault: item.isoDefault)
                text = mayBeReceipt ? String(decoding: octets, as: UTF8.self) : nil
                problems = []
            } else {
                let message = PDULayout.message(in: frame, at: location, isoDefault: item.isoDefault)
                writeMessage(message, into: &json)
                text = message.decoded.text
                problems = message.decoded.problems
            }
            guard writeTLVs(bytes, region: tlvRegion, into: &json) else { return false }
            if let receipt = PDULayout.deliveryReceipt(in: frame, at: location, text: text) {
                json.key("receipt")
                writeReceipt(receipt, into: &json)
            }
            if !problems.isEmpty {
                json.key("error"); json.string(problems.joined(separator: "; "))
            }
            return true
        }
    }

    /// A C-string field's value as the decoder reads it (``fieldString(_:)``).
    private static func writeField(_ slice: Slice<UnsafeRawBufferPointer>, into json: inout JSONWriter) {
        let value = UnsafeRawBufferPointer(rebasing: slice)
        if value.allSatisfy({ $0 < 0x80 }) {
            json.string(utf8: value)
        } else {
            json.string(fieldString(value))
        }
    }

    /// The `tlvs` array, when there are TLVs; false when one of them would be reported by the decoder (a length
    /// that does not fit its type) or is of a kind only the general path writes.
    private static func writeTLVs(_ bytes: UnsafeRawBufferPointer, region: Range<Int>, into json: inout JSONWriter)
        -> Bool
    {
        guard !region.isEmpty else { return true }
        json.key("tlvs")
        json.beginArray()
        var offset = region.lowerBound
        while offset < region.upperBound {
            guard offset + 4 <= region.upperBound else { return false }
            let tag = TLVTag(UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]))
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let start = offset + 4
            guard start + length <= region.upperBound else { return false }
            let value = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
            json.beginObject()
            json.key("tag"); json.int(tag.rawValue)
            json.key("name"); json.string(tag.name)
            json.key("length"); json.int(length)
            json.key("value")
            switch tag.kind {
            case .integer(let widths):
                guard widths.contains(length) else { return false }
                json.int(value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            case .cString:
                let content = value.last == 0 ? value[..<(length - 1)] : value[...]
                writeField(content, into: &json)
            case .octets:
                json.hexString(octets: value)
            case .networkErrorCode:
                guard length == 3 else { return false }
                json.beginObject()
                json.key("network_type"); json.int(value[0])
                json.key("error_code"); json.int(UInt16(value[1]) << 8 | UInt16(value[2]))
                json.endObject()
            case .presence:
                guard length <= 1 else { return false }
                if length == 0 { json.bool(true) } else { json.int(value[0]) }
            case .broadcastContentType, .broadcastFrequencyInterval, .broadcastAreaIdentifier:
                return false
            }
            json.endObject()
            offset = start + length
        }
        json.endArray()
        return true
    }
}

/// Reads the mandatory fields of a body in order, as the decoder does, from offsets into the PDU.
private struct WireFields {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = PDUHeader.size

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// A C-string of at most `max` bytes with its NUL; nil when it has no NUL or is longer (the decoder warns).
    mutating func cString(max: Int) -> Range<Int>? {
        let start = offset
        var index = start
        while index < bytes.count {
            if bytes[index] == 0 {
                guard index - start + 1 <= max else { return nil }
                offset = index + 1
                return start..<index
            }
            index += 1
        }
        return nil
    }

    mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }
}

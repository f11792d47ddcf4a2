// `decode --format jsonl`: one JSON object per PDU (docs/output-contract.md), events interleaved with an
// `event` key.

import Capture
import NIOCore
import Reassembly
import SMPP
import Timeline

/// How PDUs are rendered.
public struct RenderOptions: Sendable {
    /// Show bind passwords instead of `<redacted>`.
    public var showSecrets: Bool
    /// data_coding 0 read in this alphabet on every session (`--dcs0`), or in the one found for a session's
    /// messages one way (`sessionAlphabets`, by ``alphabetKey(session:fromSMSC:)``), else as the session's
    /// system_type says.
    public var defaultAlphabet: DefaultAlphabet?
    public var sessionAlphabets: [Int: DefaultAlphabet] = [:]

    /// The key of a session's messages one way in `sessionAlphabets`: submit_sm and other messages from the ESME,
    /// or deliver_sm from the SMSC.
    public static func alphabetKey(session: Int, fromSMSC: Bool) -> Int { session << 1 | (fromSMSC ? 1 : 0) }

    public init(showSecrets: Bool = false, defaultAlphabet: DefaultAlphabet? = nil) {
        self.showSecrets = showSecrets
        self.defaultAlphabet = defaultAlphabet
    }

    /// The alphabet data_coding 0 is read in on a session's message, when not the one its system_type says.
    public func alphabet(forSession session: Int, command: CommandID) -> DefaultAlphabet? {
        if let defaultAlphabet { return defaultAlphabet }
        guard !sessionAlphabets.isEmpty else { return nil }
        return sessionAlphabets[Self.alphabetKey(session: session, fromSMSC: command == .deliverSM)]
    }

    public static let redacted = "<redacted>"
}

/// Writes timeline events as JSON Lines.
public enum DecodeJSON {
    /// One PDU as a JSON object (no newline); `extra` adds keys of the caller's at its end.
    public static func write(
        _ item: TimelinePDU, into json: inout JSONWriter, options: RenderOptions,
        extra: (inout JSONWriter) -> Void = { _ in }
    ) {
        let item = item.forOutput(options)
        let pdu = item.decoded()
        json.beginObject()
        json.key("ts"); json.raw(item.timestamp.description)
        json.key("src"); json.string(item.source.description)
        json.key("dst"); json.string(item.destination.description)
        json.key("session"); json.int(item.session)
        json.key("frame"); json.int(item.frame)
        json.key("stream_offset"); json.int(item.streamOffset)
        json.key("command_length"); json.int(pdu.header.commandLength)
        json.key("command_id"); json.int(pdu.commandID.rawValue)
        json.key("command"); json.string(pdu.commandID.name)
        json.key("command_status"); json.int(pdu.commandStatus.rawValue)
        json.key("command_status_name"); json.string(pdu.commandStatus.name)
        json.key("sequence_number"); json.int(pdu.sequenceNumber)
        writeFields(pdu.fields, into: &json, options: options)
        if case .opaque(let body) = pdu.body {
            json.key("body_hex"); json.hexString(body.readableBytesView)
        } else if case .undecodable(let body) = pdu.body {
            json.key("body_hex"); json.hexString(body.readableBytesView)
        }
        let message = pdu.message(
            isoDefault: item.isoDefault,
            defaultAlphabet: options.alphabet(forSession: item.session, command: pdu.commandID))
        if let message { writeMessage(message, into: &json) }
        if !pdu.tlvs.isEmpty {
            json.key("tlvs")
            json.beginArray()
            for tlv in pdu.tlvs { writeTLV(tlv, into: &json) }
            json.endArray()
        }
        if let receipt = pdu.deliveryReceipt(text: message?.decoded.text) {
            json.key("receipt")
            writeReceipt(receipt, into: &json)
        }
        var problems = pdu.diagnostics.map(\.description)
        if let message { problems += message.decoded.problems }
        if let trailing = pdu.trailingBytes {
            json.key("trailing_hex"); json.hexString(trailing.readableBytesView)
        }
        if !problems.isEmpty {
            json.key("error"); json.string(problems.joined(separator: "; "))
        }
        extra(&json)
        json.endObject()
    }

    /// `text` and `udh` of a message.
    static func writeMessage(_ message: PDU.Message, into json: inout JSONWriter) {
        if let text = message.decoded.text {
            json.key("text"); json.string(text)
        }
        if let concatenation = message.concatenation { writeUDH(concatenation, into: &json) }
    }

    static func writeUDH(_ concatenation: Concatenation, into json: inout JSONWriter) {
        json.key("udh")
        json.beginObject()
        json.key("ref"); json.int(concatenation.reference)
        json.key("total"); json.int(concatenation.total)
        json.key("seq"); json.int(concatenation.sequence)
        json.endObject()
    }

    static func writeFields(_ fields: [PDU.Field], into json: inout JSONWriter, options: RenderOptions) {
        for field in fields {
            switch field.value {
            case .integer(let value):
                json.dynamicKey(field.name); json.int(value)
            case .string(let value):
                json.dynamicKey(field.name); json.string(value)
            case .secret(let value):
                json.dynamicKey(field.name); json.string(options.showSecrets ? value : RenderOptions.redacted)
            case .octets(let value):
                json.dynamicKey(field.name + "_hex"); json.hexString(value.readableBytesView)
            case .destinations(let list):
                json.dynamicKey(field.name)
                json.beginArray()
                for entry in list {
                    json.beginObject()
                    switch entry {
                    case .sme(let address):
                        json.key("dest_flag"); json.int(1)
                        json.key("dest_addr_ton"); json.int(address.ton)
                        json.key("dest_addr_npi"); json.int(address.npi)
                        json.key("destination_addr"); json.string(address.address)
                    case .distributionList(let name):
                        json.key("dest_flag"); json.int(2)
                        json.key("dl_name"); json.string(name)
                    }
                    json.endObject()
                }
                json.endArray()
            case .unsuccessful(let list):
                json.dynamicKey(field.name)
                json.beginArray()
                for entry in list {
                    json.beginObject()
                    json.key("dest_addr_ton"); json.int(entry.address.ton)
                    json.key("dest_addr_npi"); json.int(entry.address.npi)
                    json.key("destination_addr"); json.string(entry.address.address)
                    json.key("error_status_code"); json.int(entry.errorStatusCode.rawValue)
                    json.key("error_status_name"); json.string(entry.errorStatusCode.name)
                    json.endObject()
                }
                json.endArray()
            }
        }
    }

    static func writeTLV(_ tlv: TLV, into json: inout JSONWriter) {
        json.beginObject()
        json.key("tag"); json.int(tlv.tag.rawValue)
        json.key("name"); json.string(tlv.tag.name)
        json.key("length"); json.int(tlv.length)
        json.key("value")
        switch tlv.value {
        case .integer(let value): json.int(value)
        case .string(let value): json.string(value)
        case .octets(let value): json.hexString(value)
        case .networkErrorCode(let type, let code):
            json.beginObject()
            json.key("network_type"); json.int(type)
            json.key("error_code"); json.int(code)
            json.endObject()
        case .broadcastContentType(let network, let content):
            json.beginObject()
            json.key("network_type"); json.int(network)
            json.key("content_type"); json.int(content)
            json.endObject()
        case .broadcastFrequencyInterval(let unit, let number):
            json.beginObject()
            json.key("time_unit"); json.int(unit)
            json.key("number"); json.int(number)
            json.endObject()
        case .broadcastAreaIdentifier(let format, let area):
            json.beginObject()
            json.key("format"); json.int(format)
            json.key("area_hex"); json.hexString(area)
            json.endObject()
        case .present: json.bool(true)
        }
        json.endObject()
    }

    static func writeReceipt(_ receipt: DeliveryReceipt, into json: inout JSONWriter) {
        json.beginObject()
        if let id = receipt.id ?? receipt.receiptedMessageID { json.key("id"); json.string(id) }
        if let sub = receipt.sub { json.key("sub"); json.string(sub) }
        if let dlvrd = receipt.dlvrd { json.key("dlvrd"); json.string(dlvrd) }
        if let date = receipt.submitDate { json.key("submit_date"); json.string(date) }
        if let date = receipt.doneDate { json.key("done_date"); json.string(date) }
        if let stat = receipt.state { json.key("stat"); json.string(stat) }
        if let err = receipt.err { json.key("err"); json.string(err) }
        if let text = receipt.text { json.key("text"); json.string(text) }
        for (key, value) in receipt.hlr {
            json.dynamicKey(key); json.string(value)
        }
        json.endObject()
    }

    /// A non-PDU event as a JSON object with an `event` key, or nil for events not shown.
    public static func write(event: TimelineEvent, into json: inout JSONWriter) {
        switch event {
        case .pdu:
            return
        case .sessionOpened(let session):
            json.beginObject()
            json.key("event"); json.string("session_opened")
            json.key("ts"); json.raw(session.connection.firstSeen.description)
            json.key("session"); json.int(session.id)
            if let client = session.client, let server = session.server {
                json.key("client"); json.string(client.description)
                json.key("server"); json.string(server.description)
            } else {
                json.key("endpoints")
                json.beginArray()
                json.string(session.connection.first.description)
                json.string(session.connection.second.description)
                json.endArray()
            }
            json.endObject()
        case .gap(let gap):
            json.beginObject()
            json.key("event"); json.string("gap")
            json.key("ts"); json.raw(gap.timestamp.description)
            json.key("session"); json.int(gap.connection)
            json.key("src"); json.string(gap.source.description)
            json.key("dst"); json.string(gap.destination.description)
            json.key("frame"); json.int(gap.frame)
            json.key("stream_offset"); json.int(gap.streamOffset)
            json.key("size"); json.int(gap.size)
            json.key("reason"); json.string(gap.reason.rawValue)
            json.endObject()
        case .sessionEnded(let end, _):
            json.beginObject()
            json.key("event"); json.string("session_ended")
            json.key("ts"); json.raw(end.timestamp.description)
            json.key("session"); json.int(end.connection)
            json.key("frame"); json.int(end.frame)
            json.key("how"); json.string(end.kind.rawValue)
            json.key("by"); json.string(end.by.description)
            json.endObject()
        case .streamDiagnostic(let diagnostic):
            json.beginObject()
            json.key("event"); json.string("diagnostic")
            json.key("ts"); json.raw(diagnostic.timestamp.description)
            if let session = diagnostic.connection { json.key("session"); json.int(session) }
            json.key("src"); json.string(diagnostic.source.description)
            json.key("dst"); json.string(diagnostic.destination.description)
            json.key("frame"); json.int(diagnostic.frame)
            json.key("stream_offset"); json.int(diagnostic.streamOffset)
            json.key("message"); json.string(diagnostic.message)
            json.endObject()
        case .captureDiagnostic(let diagnostic):
            json.beginObject()
            json.key("event"); json.string("diagnostic")
            if let frame = diagnostic.frame { json.key("frame"); json.int(frame) }
            if let offset = diagnostic.fileOffset { json.key("file_offset"); json.int(offset) }
            json.key("message"); json.string(diagnostic.message)
            json.endObject()
        }
    }
}

// `decode` as text: a readable timeline, one line per PDU, gaps and diagnostics in line.

import Capture
import Reassembly
import SMPP
import Timeline

/// Renders timeline events as readable lines.
public struct DecodeText: Sendable {
    public var options: RenderOptions
    /// Longest text shown before it is cut with an ellipsis.
    public var textLimit = 70

    public init(options: RenderOptions) {
        self.options = options
    }

    /// The column header.
    public var header: String {
        pad("time (UTC)", 27) + pad("sess", 5) + pad("direction", 11) + pad("command", 24) + pad("seq", 9)
            + pad("status", 17) + "details"
    }

    /// One line for a PDU.
    public func line(_ item: TimelinePDU) -> String {
        let item = item.forOutput(options)
        let pdu = item.decoded()
        let direction: String
        switch item.fromClient {
        case true?: direction = "ESME→SMSC"
        case false?: direction = "SMSC→ESME"
        case nil: direction = "\(item.source.port)→\(item.destination.port)"
        }
        let status = pdu.commandID.isResponse || pdu.commandStatus != .ok ? pdu.commandStatus.name : ""
        var line =
            pad(utcString(item.timestamp), 27) + pad(String(item.session), 5) + pad(direction, 11)
            + pad(pdu.commandID.name, 24) + pad(String(pdu.sequenceNumber), 9) + pad(status, 17)
        line += details(item).joined(separator: " ")
        if !pdu.diagnostics.isEmpty {
            line += "  ! " + pdu.diagnostics.map(\.description).joined(separator: "; ")
        }
        return line
    }

    private func details(_ item: TimelinePDU) -> [String] {
        let pdu = item.decoded()
        var parts: [String] = []
        switch pdu.body {
        case .bind(let bind):
            parts.append("system_id=\(bind.systemID)")
            parts.append("password=\(options.showSecrets ? bind.password : RenderOptions.redacted)")
            if !bind.systemType.isEmpty { parts.append("system_type=\(bind.systemType)") }
            let flags = SystemTypeFlags(systemType: bind.systemType).summary
            if !flags.isEmpty { parts.append("(\(flags))") }
            parts.append("version=0x\(String(bind.interfaceVersion, radix: 16))")
        case .bindResponse(let response):
            parts.append("system_id=\(response.systemID)")
        case .outbind(let outbind):
            parts.append("system_id=\(outbind.systemID)")
            parts.append("password=\(options.showSecrets ? outbind.password : RenderOptions.redacted)")
        case .messageID(let id) where !id.isEmpty:
            parts.append("message_id=\(id)")
        case .opaque(let body):
            parts.append("\(body.readableBytes) body bytes")
        default:
            if let id = pdu.messageID, !id.isEmpty { parts.append("message_id=\(id)") }
        }
        if case .querySMResponse(let response) = pdu.body {
            parts.append("state=\(DeliveryReceipt.stateName(response.messageState))")
        }
        if let source = pdu.source, let destination = pdu.destination {
            parts.append("\(source.address)→\(destination.address)")
        } else if let source = pdu.source, pdu.commandID != .querySM {
            parts.append("from \(source.address)")
        }
        let message = pdu.message(
            isoDefault: item.isoDefault,
            defaultAlphabet: options.alphabet(forSession: item.session, command: pdu.commandID))
        if let receipt = pdu.deliveryReceipt(text: message?.decoded.text) {
            var text = "receipt"
            if let id = receipt.messageID { text += " id=\(id)" }
            if let state = receipt.state { text += " \(state)" }
            if let err = receipt.err { text += " err=\(err)" }
            parts.append(text)
        } else if let message {
            if let dataCoding = pdu.dataCoding, dataCoding != 0 { parts.append("dc=\(dataCoding)") }
            if let concatenation = message.concatenation {
                parts.append("[part \(concatenation.sequence)/\(concatenation.total) ref \(concatenation.reference)]")
            }
            if let text = message.decoded.text {
                let kz = SMSCKZMessage(text: text)
                if kz.channel != .sms { parts.append("channel=\(kz.channel.title)") }
                if !kz.text.isEmpty || kz.channel == .sms { parts.append(quoted(kz.text)) }
                if let subject = kz.subject { parts.append("subject=" + quoted(subject)) }
                if let comment = kz.comment { parts.append("comment=" + quoted(comment)) }
            } else {
                parts.append("\(message.decoded.payload.count) octets of \(message.decoded.charset.rawValue)")
            }
        }
        return parts
    }

    private func quoted(_ text: String) -> String {
        var shown = ""
        var count = 0
        for character in text {
            if count == textLimit {
                shown += "…"
                break
            }
            switch character {
            case "\n": shown += "\\n"
            case "\r": shown += "\\r"
            case "\"": shown += "\\\""
            default: shown.append(character)
            }
            count += 1
        }
        return "\"" + shown + "\""
    }

    /// A line for a non-PDU event, or nil for events not shown.
    public func line(event: TimelineEvent) -> String? {
        switch event {
        case .pdu:
            return nil
        case .sessionOpened(let session):
            if let client = session.client, let server = session.server {
                return "-- session \(session.id): ESME \(client) ↔ SMSC \(server)"
            }
            return
                "-- session \(session.id): \(session.connection.first) ↔ \(session.connection.second) (roles not yet known)"
        case .gap(let gap):
            return "~~ session \(gap.connection): \(gap.size) bytes missing from \(gap.source) at stream offset "
                + "\(gap.streamOffset) (\(gap.reason.rawValue)), frame \(gap.frame)"
        case .sessionEnded(let end, let session):
            let side = session.isClient(end.by).map { $0 ? "the ESME" : "the SMSC" } ?? "\(end.by)"
            return "-- session \(end.connection): \(end.kind == .rst ? "reset (RST)" : "closed (FIN)") by \(side) at "
                + utcString(end.timestamp)
        case .streamDiagnostic(let diagnostic):
            let session = diagnostic.connection.map { "session \($0), " } ?? ""
            return "!! \(session)\(diagnostic)"
        case .captureDiagnostic(let diagnostic):
            return "!! \(diagnostic)"
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text + " " : text + String(repeating: " ", count: width - count)
    }
}

/// "2026-11-26 08:34:06.272603" (UTC).
public func utcString(_ timestamp: Timestamp) -> String {
    let total = timestamp.nanoseconds
    var seconds = total / 1_000_000_000
    var nanos = total % 1_000_000_000
    if nanos < 0 {
        nanos += 1_000_000_000
        seconds -= 1
    }
    var days = seconds / 86_400
    var rest = seconds % 86_400
    if rest < 0 {
        rest += 86_400
        days -= 1
    }
    let (year, month, day) = civilDate(fromDays: Int(days))
    func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let micros = String(nanos / 1_000)
    return
        "\(year)-\(two(Int64(month)))-\(two(Int64(day))) \(two(rest / 3_600)):\(two(rest % 3_600 / 60)):\(two(rest % 60))."
        + String(repeating: "0", count: 6 - micros.count) + micros
}

/// Year, month, day of a count of days since 1970-01-01 (H. Hinnant's algorithm).
func civilDate(fromDays days: Int) -> (Int, Int, Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

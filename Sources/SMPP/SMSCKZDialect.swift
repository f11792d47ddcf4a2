// The SMSC.kz dialect: system_type flags, comments after "\n~~~\n", and the special texts that turn a submit_sm
// into another channel (MMS, e-mail, call, Viber, social, Telegram bot, HLR, ping).

/// The flags SMSC.kz reads from a bind's system_type, comma separated (`"ISO,SINGLE"`, `"MCON3"`).
public struct SystemTypeFlags: Hashable, Sendable {
    /// Parallel connections allowed with `MCONn` (1 to 9); nil without the flag (one connection per login).
    public var maxConnections: Int?
    /// `ISO`: data_coding 0 is ISO-8859-1 instead of GSM 03.38.
    public var iso: Bool
    /// `SINGLE`: one delivery receipt per part of a long message, and a distinct message id per part.
    public var single: Bool
    /// Other comma-separated values, as written.
    public var others: [String]

    public init(systemType: String) {
        maxConnections = nil
        iso = false
        single = false
        others = []
        for raw in systemType.split(separator: ",") {
            let flag = String(raw).trimmingSpaces()
            let upper = flag.uppercased()
            if upper == "ISO" {
                iso = true
            } else if upper == "SINGLE" {
                single = true
            } else if upper.hasPrefix("MCON"), upper.count == 5, let n = Int(upper.dropFirst(4)), (1...9).contains(n) {
                maxConnections = n
            } else if !flag.isEmpty {
                others.append(flag)
            }
        }
    }

    /// The flags in plain words, e.g. "up to 3 connections, ISO-8859-1 for data_coding 0".
    public var summary: String {
        var parts: [String] = []
        if let maxConnections {
            parts.append(maxConnections == 1 ? "one connection" : "up to \(maxConnections) connections")
        }
        if iso { parts.append("ISO-8859-1 for data_coding 0") }
        if single { parts.append("one receipt per part") }
        return parts.joined(separator: ", ")
    }
}

/// How SMSC.kz delivers a submitted text.
public enum SMSCKZChannel: String, Hashable, Sendable, CaseIterable {
    case sms
    case mms
    case mail
    case call
    case viber
    case social
    case bot
    case hlr
    case ping

    /// The text marker that selects the channel (`__MMS__`); nil for plain SMS.
    public var marker: String? {
        switch self {
        case .sms: return nil
        case .mms: return "__MMS__"
        case .mail: return "__MAIL__"
        case .call: return "__CALL__"
        case .viber: return "__VIBER__"
        case .social: return "__SOC__"
        case .bot: return "__BOT__"
        case .hlr: return "__HLR__"
        case .ping: return "__PING__"
        }
    }

    /// A name for people ("Telegram bot").
    public var title: String {
        switch self {
        case .sms: return "SMS"
        case .mms: return "MMS"
        case .mail: return "e-mail"
        case .call: return "voice call"
        case .viber: return "Viber"
        case .social: return "social networks"
        case .bot: return "Telegram bot"
        case .hlr: return "HLR lookup"
        case .ping: return "ping SMS"
        }
    }
}

/// A submitted text read the SMSC.kz way.
public struct SMSCKZMessage: Hashable, Sendable {
    public var channel: SMSCKZChannel
    /// The text that is sent, without the channel marker, the field lines and the comment.
    public var text: String
    /// The comment after `"\n~~~\n"`, kept in the sender's history and not sent.
    public var comment: String?
    /// `subj:` of MMS and e-mail.
    public var subject: String?
    /// `voice:` of a call.
    public var voice: String?
    /// `bot:` of a Telegram bot message.
    public var bot: String?

    /// Splits the comment, finds the channel marker and its fields.
    public init(text full: String) {
        var body = full
        comment = nil
        if let (before, after) = full.splitOnce("\n~~~\n") {
            body = before
            comment = after
        }
        channel = .sms
        subject = nil
        voice = nil
        bot = nil
        for candidate in SMSCKZChannel.allCases {
            guard let marker = candidate.marker, body.hasPrefix(marker) else { continue }
            channel = candidate
            var rest = body.dropFirst(marker.count)
            if rest.first == ":" { rest = rest.dropFirst() }
            if rest.first == " " { rest = rest.dropFirst() }
            body = String(rest)
            break
        }
        guard channel != .sms else {
            text = body
            return
        }
        var kept: [Substring] = []
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("subj:") {
                subject = String(line.dropFirst(5)).trimmingSpaces()
            } else if line.hasPrefix("voice:") {
                voice = String(line.dropFirst(6)).trimmingSpaces()
            } else if line.hasPrefix("bot:") {
                bot = String(line.dropFirst(4)).trimmingSpaces()
            } else {
                kept.append(line)
            }
        }
        text = kept.joined(separator: "\n")
    }
}

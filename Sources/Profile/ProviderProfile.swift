// What an SMSC does, learned from its traffic: the value `smppscope profile` writes as JSON and `simulate --profile`
// reads. The format is documented in docs/profile.md; `version` changes when a key changes meaning.

/// Everything learned from one input, one entry per SMSC.
public struct ProviderProfile: Codable, Hashable, Sendable {
    /// The format's name, so that a file can be told from other JSON.
    public var format = ProviderProfile.formatName
    /// The format's version; keys may be added within a version, never changed in meaning.
    public var version = ProviderProfile.currentVersion
    /// The input it was learned from.
    public var source: String
    public var smscs: [SMSC]

    public static let formatName = "smppscope-provider-profile"
    public static let currentVersion = 1

    public init(source: String, smscs: [SMSC]) {
        self.source = source
        self.smscs = smscs
    }

    /// What one SMSC (a server address) did.
    public struct SMSC: Codable, Hashable, Sendable {
        /// `address:port` of the SMSC.
        public var server: String
        /// The system_ids the ESMEs bound with.
        public var systemIDs: [String]
        /// The system_id the SMSC answered binds with.
        public var smscSystemIDs: [String]
        /// interface_version of the binds, as "3.4" or "5.0".
        public var interfaceVersions: [String]
        public var sessions: Int
        public var messageIDs: MessageIDs
        public var longMessages: LongMessages
        public var receipts: Receipts
        /// Per command (`submit_sm`, ...): statuses and response times of the SMSC's answers.
        public var responses: [String: Responses]
        public var throttling: Throttling
        public var window: Window
        public var binds: Binds
        public var enquireLink: EnquireLink
        public var idle: Idle
        public var duplicates: Duplicates
        public var quirks: Quirks

        public init(
            server: String, systemIDs: [String], smscSystemIDs: [String], interfaceVersions: [String], sessions: Int,
            messageIDs: MessageIDs, longMessages: LongMessages, receipts: Receipts, responses: [String: Responses],
            throttling: Throttling, window: Window, binds: Binds, enquireLink: EnquireLink, idle: Idle,
            duplicates: Duplicates, quirks: Quirks
        ) {
            self.server = server
            self.systemIDs = systemIDs
            self.smscSystemIDs = smscSystemIDs
            self.interfaceVersions = interfaceVersions
            self.sessions = sessions
            self.messageIDs = messageIDs
            self.longMessages = longMessages
            self.receipts = receipts
            self.responses = responses
            self.throttling = throttling
            self.window = window
            self.binds = binds
            self.enquireLink = enquireLink
            self.idle = idle
            self.duplicates = duplicates
            self.quirks = quirks
        }

        enum CodingKeys: String, CodingKey {
            case server, sessions, receipts, responses, throttling, window, binds, idle, duplicates, quirks
            case systemIDs = "system_ids"
            case smscSystemIDs = "smsc_system_ids"
            case interfaceVersions = "interface_versions"
            case messageIDs = "message_ids"
            case longMessages = "long_messages"
            case enquireLink = "enquire_link"
        }
    }

    /// How submit_sm_resp writes message ids.
    public struct MessageIDs: Codable, Hashable, Sendable {
        /// Ids seen (accepted submits).
        public var seen: Int
        /// `decimal`, `hex` (only 0-9 and a-f, some letter among them), `alphanumeric`, `uuid` or `none`.
        public var format: String
        /// Letters' case: `upper`, `lower`, `mixed` or `none` (no letters).
        public var letterCase: String
        public var minLength: Int
        public var maxLength: Int
        /// Every id had the same length and some started with 0: numbers written with leading zeros.
        public var zeroPadded: Bool
        /// decimal and hex ids: each id one more than the one before, as a share of consecutive ids.
        public var sequentialShare: Double
        /// The first ids seen (at most three).
        public var examples: [String]

        public init(
            seen: Int, format: String, letterCase: String, minLength: Int, maxLength: Int, zeroPadded: Bool,
            sequentialShare: Double, examples: [String]
        ) {
            self.seen = seen
            self.format = format
            self.letterCase = letterCase
            self.minLength = minLength
            self.maxLength = maxLength
            self.zeroPadded = zeroPadded
            self.sequentialShare = sequentialShare
            self.examples = examples
        }

        enum CodingKeys: String, CodingKey {
            case seen, format, examples
            case letterCase = "case"
            case minLength = "min_length"
            case maxLength = "max_length"
            case zeroPadded = "zero_padded"
            case sequentialShare = "sequential_share"
        }
    }

    /// What the SMSC did with long (concatenated) messages.
    public struct LongMessages: Codable, Hashable, Sendable {
        /// Long messages whose parts were all accepted.
        public var seen: Int
        /// `shared` (one id for all parts), `per_part`, or `unknown`.
        public var ids: String
        public init(seen: Int, ids: String) {
            self.seen = seen
            self.ids = ids
        }

    }

    /// The delivery receipts the SMSC sent.
    public struct Receipts: Codable, Hashable, Sendable {
        public var seen: Int
        /// Receipts whose id matched an accepted submit.
        public var linked: Int
        /// Where the id is: `text`, `tlv`, `both` or `none`.
        public var idIn: String
        /// How the receipt writes the response's id: `exact`, `hex_to_decimal`, `decimal_to_hex`, `zero_padding`,
        /// `letter_case`, or `unknown`.
        public var idForm: String
        /// `message` (one receipt per message, long ones included), `part` (one per part), or `unknown`.
        public var per: String
        /// The commonest text, values replaced by `{field}`; nil when receipts carry no text.
        public var template: String?
        /// Receipts that followed the template.
        public var templateShare: Double
        /// TLV names receipts carried, with the share of receipts that carried each.
        public var tlvs: [String: Double]
        /// Final state → receipts.
        public var states: [String: Int]
        /// err: value → receipts.
        public var errors: [String: Int]
        /// The same as shares of the receipts that gave one.
        public var stateShares: [String: Double]
        public var errorShares: [String: Double]
        /// From the submit to its receipt.
        public var delay: DelayHistogram

        public init(
            seen: Int, linked: Int, idIn: String, idForm: String, per: String, template: String?, templateShare: Double,
            tlvs: [String: Double], states: [String: Int], errors: [String: Int], stateShares: [String: Double],
            errorShares: [String: Double], delay: DelayHistogram
        ) {
            self.seen = seen
            self.linked = linked
            self.idIn = idIn
            self.idForm = idForm
            self.per = per
            self.template = template
            self.templateShare = templateShare
            self.tlvs = tlvs
            self.states = states
            self.errors = errors
            self.stateShares = stateShares
            self.errorShares = errorShares
            self.delay = delay
        }

        enum CodingKeys: String, CodingKey {
            case seen, linked, per, template, tlvs, states, errors, delay
            case stateShares = "state_shares"
            case errorShares = "error_shares"
            case idIn = "id_in"
            case idForm = "id_form"
            case templateShare = "template_share"
        }
    }

    /// The SMSC's answers to one command.
    public struct Responses: Codable, Hashable, Sendable {
        public var count: Int
        /// Status name (`ESME_ROK`, `ESME_RTHROTTLED`, `0x00000401` ...) → responses.
        public var statuses: [String: Int]
        /// From the request to its response.
        public var latency: DelayHistogram
        /// The same, of the responses with status 0 (ESME_ROK) only.
        public var acceptedLatency: DelayHistogram
        /// Error responses sent with a body, and without one.
        public var errorsWithBody: Int
        public var errorsWithoutBody: Int

        public init(
            count: Int, statuses: [String: Int], latency: DelayHistogram, acceptedLatency: DelayHistogram,
            errorsWithBody: Int, errorsWithoutBody: Int
        ) {
            self.count = count
            self.statuses = statuses
            self.latency = latency
            self.acceptedLatency = acceptedLatency
            self.errorsWithBody = errorsWithBody
            self.errorsWithoutBody = errorsWithoutBody
        }

        enum CodingKeys: String, CodingKey {
            case count, statuses, latency
            case acceptedLatency = "accepted_latency"
            case errorsWithBody = "errors_with_body"
            case errorsWithoutBody = "errors_without_body"
        }
    }

    /// Where ESME_RTHROTTLED starts.
    public struct Throttling: Codable, Hashable, Sendable {
        /// submit_sm answered ESME_RTHROTTLED.
        public var throttled: Int
        /// Runs of throttled answers less than a second apart.
        public var episodes: Int
        /// What the limit counts: `parts` (every submit_sm), `messages` (a long message once), or `unknown`.
        public var counts: String
        public var accounts: [Account]

        public struct Account: Codable, Hashable, Sendable {
            public var systemID: String
            /// submit_sm accepted in the second before each throttled one, the commonest value: the limit per
            /// second; nil when nothing was throttled.
            public var limitPerSecond: Int?
            /// The most submit_sm accepted within any one second.
            public var peakAcceptedPerSecond: Int
            public var throttled: Int

            public init(systemID: String, limitPerSecond: Int?, peakAcceptedPerSecond: Int, throttled: Int) {
                self.systemID = systemID
                self.limitPerSecond = limitPerSecond
                self.peakAcceptedPerSecond = peakAcceptedPerSecond
                self.throttled = throttled
            }

            enum CodingKeys: String, CodingKey {
                case throttled
                case systemID = "system_id"
                case limitPerSecond = "limit_per_second"
                case peakAcceptedPerSecond = "peak_accepted_per_second"
            }
        }
        public init(throttled: Int, episodes: Int, counts: String, accounts: [Account]) {
            self.throttled = throttled
            self.episodes = episodes
            self.counts = counts
            self.accounts = accounts
        }

    }

    /// Where ESME_RMSGQFUL starts.
    public struct Window: Codable, Hashable, Sendable {
        /// The fewest requests outstanding on a connection when one was answered ESME_RMSGQFUL; nil if never.
        public var queueFullAt: Int?
        public var queueFull: Int
        /// The most requests outstanding on a connection that were all accepted.
        public var largestAccepted: Int

        public init(queueFullAt: Int?, queueFull: Int, largestAccepted: Int) {
            self.queueFullAt = queueFullAt
            self.queueFull = queueFull
            self.largestAccepted = largestAccepted
        }

        enum CodingKeys: String, CodingKey {
            case largestAccepted = "largest_accepted"
            case queueFullAt = "queue_full_at"
            case queueFull = "queue_full"
        }
    }

    /// How binds were answered.
    public struct Binds: Codable, Hashable, Sendable {
        public var accepted: Int
        /// Status name → refused binds.
        public var refused: [String: Int]
        /// The most connections one login had bound at once.
        public var mostConcurrentPerLogin: Int
        /// Binds refused while the login had another connection bound, by status.
        public var refusedWhileBound: [String: Int]
        /// Binds accepted while the login had another connection bound, after which the SMSC ended the older one
        /// within two seconds.
        public var replacements: Int
        /// system_type values, → binds.
        public var systemTypes: [String: Int]

        public init(
            accepted: Int, refused: [String: Int], mostConcurrentPerLogin: Int, refusedWhileBound: [String: Int],
            replacements: Int, systemTypes: [String: Int]
        ) {
            self.accepted = accepted
            self.refused = refused
            self.mostConcurrentPerLogin = mostConcurrentPerLogin
            self.refusedWhileBound = refusedWhileBound
            self.replacements = replacements
            self.systemTypes = systemTypes
        }

        enum CodingKeys: String, CodingKey {
            case accepted, refused, replacements
            case mostConcurrentPerLogin = "most_concurrent_per_login"
            case refusedWhileBound = "refused_while_bound"
            case systemTypes = "system_types"
        }
    }

    /// Keep-alives.
    public struct EnquireLink: Codable, Hashable, Sendable {
        public var fromESME: Int
        public var fromSMSC: Int
        /// The median time between the SMSC's own enquire_links on a connection; nil when it sent fewer than two.
        public var smscIntervalSeconds: Double?
        /// The SMSC answered every enquire_link it was sent.
        public var answered: Bool

        public init(fromESME: Int, fromSMSC: Int, smscIntervalSeconds: Double?, answered: Bool) {
            self.fromESME = fromESME
            self.fromSMSC = fromSMSC
            self.smscIntervalSeconds = smscIntervalSeconds
            self.answered = answered
        }

        enum CodingKeys: String, CodingKey {
            case answered
            case fromESME = "from_esme"
            case fromSMSC = "from_smsc"
            case smscIntervalSeconds = "smsc_interval_s"
        }
    }

    /// How sessions ended on the SMSC's side.
    public struct Idle: Codable, Hashable, Sendable {
        /// Connections the SMSC ended (unbind, FIN or RST) after the ESME had sent nothing for a while.
        public var endedBySMSC: Int
        /// The shortest silence after which the SMSC ended one; nil when it never did.
        public var endedAfterSilenceSeconds: Double?
        /// `unbind` or `close`, as the SMSC did; nil when it never did.
        public var action: String?

        public init(endedBySMSC: Int, endedAfterSilenceSeconds: Double?, action: String?) {
            self.endedBySMSC = endedBySMSC
            self.endedAfterSilenceSeconds = endedAfterSilenceSeconds
            self.action = action
        }

        enum CodingKeys: String, CodingKey {
            case action
            case endedBySMSC = "ended_by_smsc"
            case endedAfterSilenceSeconds = "ended_after_silence_s"
        }
    }

    /// Identical submits (same source, destination and text) sent again.
    public struct Duplicates: Codable, Hashable, Sendable {
        /// Refused while an identical one had been accepted this recently.
        public var refused: Int
        /// The status they were refused with (the commonest).
        public var status: String?
        /// The longest time after the accepted copy that a refusal came.
        public var refusedWithinSeconds: Double?
        /// The shortest time after the accepted copy that an identical submit was accepted again.
        public var acceptedAgainAfterSeconds: Double?

        public init(refused: Int, status: String?, refusedWithinSeconds: Double?, acceptedAgainAfterSeconds: Double?) {
            self.refused = refused
            self.status = status
            self.refusedWithinSeconds = refusedWithinSeconds
            self.acceptedAgainAfterSeconds = acceptedAgainAfterSeconds
        }

        enum CodingKeys: String, CodingKey {
            case refused, status
            case refusedWithinSeconds = "refused_within_s"
            case acceptedAgainAfterSeconds = "accepted_again_after_s"
        }
    }

    /// What the SMSC does that SMPP leaves open or that departs from it (the details: `profile --conformance`).
    public struct Quirks: Codable, Hashable, Sendable {
        /// generic_nack the SMSC sent, by status.
        public var genericNacks: [String: Int]
        /// TLV tags outside the specification's list the SMSC sent (`0x1401` ...), → PDUs.
        public var vendorTLVs: [String: Int]
        /// Statuses the specification does not define, → responses.
        public var nonStandardStatuses: [String: Int]
        /// Departures from SMPP seen (codes of `profile --conformance`), → occurrences.
        public var departures: [String: Int]

        public init(
            genericNacks: [String: Int], vendorTLVs: [String: Int], nonStandardStatuses: [String: Int],
            departures: [String: Int]
        ) {
            self.genericNacks = genericNacks
            self.vendorTLVs = vendorTLVs
            self.nonStandardStatuses = nonStandardStatuses
            self.departures = departures
        }

        enum CodingKeys: String, CodingKey {
            case departures
            case genericNacks = "generic_nacks"
            case vendorTLVs = "vendor_tlvs"
            case nonStandardStatuses = "non_standard_statuses"
        }
    }
}

// How the simulated SMSC behaves: accounts, limits, latency, receipts, timeouts, listeners.

import Transport

/// Settings of the simulator.
public struct SimulatorConfiguration: Sendable {
    /// One login.
    public struct Account: Sendable, Hashable {
        public var systemID: String
        public var password: String
        /// Accepted submit_sm per second; nil for the default.
        public var throughput: Double?

        public init(systemID: String, password: String, throughput: Double? = nil) {
            self.systemID = systemID
            self.password = password
            self.throughput = throughput
        }

        /// Accounts one per line (`SYSTEM_ID:PASSWORD[:TPS]`; blank lines and lines starting with # are skipped), as in
        /// an accounts file or the `SMPPSCOPE_SIMULATOR_ACCOUNTS` variable (lines or spaces apart). Nil, with the
        /// number of the bad line, when one does not parse.
        public static func list(_ text: String) -> Result<[Account], AccountListError> {
            var accounts: [Account] = []
            var entry = 0
            for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                for word in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                    entry += 1
                    guard let account = Account(specification: String(word)) else {
                        return .failure(AccountListError(entry: entry))
                    }
                    accounts.append(account)
                }
            }
            return .success(accounts)
        }

        /// Parses `SYSTEM_ID:PASSWORD[:TPS]`.
        public init?(specification: String) {
            let parts = specification.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(
                String.init)
            guard parts.count >= 2, !parts[0].isEmpty else { return nil }
            systemID = parts[0]
            password = parts[1]
            if parts.count == 3 {
                guard let value = Double(parts[2]), value > 0 else { return nil }
                throughput = value
            }
        }
    }

    /// An entry of an accounts list that is not `SYSTEM_ID:PASSWORD[:TPS]`.
    public struct AccountListError: Error, Sendable {
        /// 1-based, among the entries.
        public var entry: Int
    }

    /// Final states of receipts and how often each is drawn.
    public struct ReceiptShares: Sendable, Hashable {
        public var delivered = 0.9
        public var undeliverable = 0.05
        public var expired = 0.03
        public var rejected = 0.02

        public init() {}

        /// Parses `DELIVRD=0.9,UNDELIV=0.05,EXPIRED=0.03,REJECTD=0.02` (missing ones are 0, the rest normalised).
        public init?(specification: String) {
            delivered = 0
            undeliverable = 0
            expired = 0
            rejected = 0
            for item in specification.split(separator: ",") {
                let pair = item.split(separator: "=")
                guard pair.count == 2, let value = Double(pair[1]), value >= 0 else { return nil }
                switch pair[0].uppercased() {
                case "DELIVRD": delivered = value
                case "UNDELIV": undeliverable = value
                case "EXPIRED": expired = value
                case "REJECTD": rejected = value
                default: return nil
                }
            }
            guard delivered + undeliverable + expired + rejected > 0 else { return nil }
        }
    }

    /// What to do with a connection silent for longer than the idle timeout.
    public enum IdleAction: String, Sendable, CaseIterable, Codable {
        case close
        case unbind
    }

    public var accounts: [Account] = []
    /// Where to listen for plain SMPP.
    public var listenHost = "127.0.0.1"
    public var listenPort = 2775
    /// Where to listen for SMPP over TLS; nil for no TLS listener.
    public var tlsHost: String?
    public var tlsPort: Int?
    /// PEM certificate chain and private key for TLS; a self-signed pair is made when nil.
    public var certificatePath: String?
    public var privateKeyPath: String?
    /// Accepted submit_sm per second per account unless the account says otherwise (SMSC.kz: 30).
    public var throughput = 30.0
    /// Requests a connection may have waiting for a response; more are answered ESME_RMSGQFUL.
    public var window: Int?
    /// Response latency: a fixed part plus a uniform jitter, in seconds.
    public var latency = 0.002
    public var jitter = 0.003
    /// A latency distribution instead: (percentile 0...100, seconds) points, ascending.
    public var latencyDistribution: [(percentile: Double, seconds: Double)]?
    /// Receipts come this many seconds after the submit (uniform).
    public var receiptDelay: ClosedRange<Double> = 0.2...2.0
    public var receiptShares = ReceiptShares()
    public var idleTimeout = 120.0
    public var idleAction = IdleAction.close
    /// Identical submits within this many seconds are refused (SMSC.kz loop protection).
    public var duplicateWindow = 60.0
    /// Inject a mobile-originated message to every bound receiver this often (seconds); nil for never.
    public var mobileOriginatedEvery: Double?
    /// The oldest TLS version the TLS listener accepts.
    public var minimumTLSVersion = TLSMinimumVersion.tls12
    /// A line-based control port ("mo SYSTEM_ID SOURCE DESTINATION TEXT"); nil for none.
    public var controlHost: String?
    public var controlPort: Int?
    /// Seed of the random choices (latency, receipt states and delays), for repeatable runs.
    public var seed: UInt64 = 1
    /// The system_id the SMSC answers binds with.
    public var smscSystemID = "SMSCKZ"
    /// The first message id given.
    public var firstMessageID: UInt64 = 854_019
    /// How receipts write the id the submit_sm_resp gave (as some SMSCs do): alike, or another way.
    public var receiptIDForm = ReceiptIDForm.asResponse
    /// Seconds the clock receipts are dated from is off (negative: behind), as an SMSC with a wrong clock writes
    /// them; the receipts still come when they are due.
    public var receiptClockOffset = 0.0
    /// This part number of every long message is refused (ESME_RSUBMITFAIL), as an SMSC that drops parts does;
    /// the message's other parts are accepted and its receipt sent when they are all in.
    public var refusedPart: Int?
    /// Every `every`-th accepted submit_sm is answered `seconds` late, past a client's response timeout.
    public var lateResponses: (every: Int, seconds: Double)?
    /// Every n-th receipt is sent again a second later, as SMSCs that repeat receipts do.
    public var duplicateReceipts: Int?
    /// What the per-account rate counts: every submit_sm (SMSC.kz), or whole messages.
    public var throttleCounts = ThrottleCounts.parts
    /// How submit_sm_resp writes ids; nil for as ``receiptIDForm`` says (decimal, SMSC.kz).
    public var messageIDFormat: MessageIDFormat?
    /// Where receipts carry what they say: the text, the TLVs, or both (SMSC.kz).
    public var receiptCarries = ReceiptCarries.both
    /// One receipt per part of a long message, each part with its own id, for every login (as SMSC.kz's `SINGLE`
    /// flag asks for one connection); else one id and one receipt per message.
    public var receiptPerPart = false
    /// The text of receipts, `{id}`, `{sub}`, `{dlvrd}`, `{submit_date}`, `{done_date}`, `{stat}`, `{err}` and
    /// `{text}` filled in (``ReceiptTemplate``); nil for SMSC.kz's.
    public var receiptTemplate: String?
    /// Error answers to submit_sm and data_sm carry an empty message_id (SMSC.kz), or no body (SMPP 3.4).
    public var errorResponsesWithBody = true
    /// A receipt delay distribution instead of ``receiptDelay``: (percentile 0...100, seconds) points, ascending.
    public var receiptDelayDistribution: [(percentile: Double, seconds: Double)]?

    /// How message ids are written: a number in base 10 or 16, the letters' case, zeros in front up to a width.
    public struct MessageIDFormat: Sendable, Hashable {
        public var radix: Int
        public var uppercase: Bool
        public var width: Int

        public init(radix: Int, uppercase: Bool = true, width: Int = 0) {
            self.radix = radix
            self.uppercase = uppercase
            self.width = width
        }

        /// Parses `decimal`, `hex` or `HEX` (upper-case letters), with `:WIDTH` for zeros in front.
        public init?(specification: String) {
            let parts = specification.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count) else { return nil }
            switch parts[0] {
            case "decimal": self.init(radix: 10)
            case "hex": self.init(radix: 16, uppercase: false)
            case "HEX": self.init(radix: 16, uppercase: true)
            default: return nil
            }
            if parts.count == 2 {
                guard let width = Int(parts[1]), (1...64).contains(width) else { return nil }
                self.width = width
            }
        }

        /// The `number`th id.
        public func id(_ number: UInt64) -> String {
            let digits = String(number, radix: radix, uppercase: uppercase)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
    }

    /// Where receipts carry their id and state. The raw values are the `--receipts-carry` values.
    public enum ReceiptCarries: String, Sendable, Hashable, CaseIterable {
        /// The text (`id:... stat:...`) and the receipted_message_id, message_state and network_error_code TLVs.
        case both
        /// The text only.
        case text
        /// The TLVs only, with an empty short_message.
        case tlv
    }

    /// What the rate limit counts. The raw values are the `--throttle-counts` values.
    public enum ThrottleCounts: String, Sendable, Hashable, CaseIterable {
        /// Every submit_sm, each part of a long message included.
        case parts
        /// Whole messages: a single one or the first part of a long one.
        case messages
    }

    /// How the simulator writes message ids in responses and in receipts. A closed set; the raw values are the
    /// `--receipt-id-form` values.
    public enum ReceiptIDForm: String, Sendable, Hashable, CaseIterable {
        /// Decimal in both.
        case asResponse = "as-response"
        /// Hexadecimal in submit_sm_resp, decimal in receipts.
        case decimalForHex = "decimal-for-hex"
        /// Decimal in submit_sm_resp, hexadecimal in receipts.
        case hexForDecimal = "hex-for-decimal"
        /// Decimal in both, receipts padded with zeros to 10 digits.
        case zeroPadded = "zero-padded"
        /// Hexadecimal in both: lower case in submit_sm_resp, upper case in receipts.
        case otherCase = "other-case"

        /// The id of the `number`th message as a submit_sm_resp gives it.
        public func responseID(_ number: UInt64) -> String {
            switch self {
            case .asResponse, .hexForDecimal, .zeroPadded: String(number)
            case .decimalForHex: String(number, radix: 16, uppercase: true)
            case .otherCase: String(number, radix: 16, uppercase: false)
            }
        }

        /// The id a receipt gives for a message whose response gave `id`.
        public func receiptID(forResponse id: String) -> String {
            switch self {
            case .asResponse: id
            case .decimalForHex: UInt64(id, radix: 16).map { String($0) } ?? id
            case .hexForDecimal: UInt64(id).map { String($0, radix: 16, uppercase: true) } ?? id
            case .zeroPadded: id.count < 10 ? String(repeating: "0", count: 10 - id.count) + id : id
            case .otherCase: id.uppercased()
            }
        }
    }

    public init() {}

    /// The account with this system_id.
    func account(_ systemID: String) -> Account? { accounts.first { $0.systemID == systemID } }
}

// One finding of an analysis: what it is (a code from a closed set), how much it matters, the words for a person,
// and the PDUs that show it.

/// A finding: the same shape in text, JSON and HTML (docs/output.md, "Findings").
public struct Finding: Hashable, Sendable {
    /// What the finding is about. A closed set; the raw values are the stable names of the JSON output.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The SMSC refused a bind.
        case bindRefused = "bind_refused"
        /// The SMSC answered ESME_RTHROTTLED.
        case throttled = "throttled"
        /// The client sent faster than the configured limit without being throttled.
        case overThroughputLimit = "over_throughput_limit"
        /// What limited a session's throughput (its window, the SMSC's latency, the throttling).
        case sessionVerdict = "session_verdict"
        /// How much of the configured window a client used.
        case windowUsage = "window_usage"
        /// A session was silent longer than the idle limit.
        case idleOverLimit = "idle_over_limit"
        /// A session was closed shortly after another bound with the same system_id.
        case sessionReplaced = "session_replaced"
        /// A session was reset with requests unanswered.
        case resetWithUnanswered = "reset_with_unanswered"
        /// enquire_link came at another interval than configured.
        case enquireLinkInterval = "enquire_link_interval"
        /// Requests got no response in the capture.
        case unansweredRequests = "unanswered_requests"
        /// Responses that answer no request of the capture.
        case orphanResponses = "orphan_responses"
        /// submit_sm that repeated one sent within the duplicate window, with the cause (``ResendCause``).
        case duplicateSubmit = "duplicate_submit"
        /// Receipts the SMSC sent again (same id and state) within the duplicate window, with the cause.
        case duplicateReceipt = "duplicate_receipt"
        /// The delivery receipts: how many, their states, their latency.
        case receipts = "receipts"
        /// Accepted messages that asked for a receipt and got no final one in the capture.
        case receiptsMissing = "receipts_missing"
        /// Long messages some of whose parts the SMSC never accepted.
        case longMessageIncomplete = "long_message_incomplete"
        /// A part of a long message accepted twice with the same content.
        case longMessageDuplicatePart = "long_message_duplicate_part"
        /// A part number of an open long message accepted again with other content: two messages, one reference.
        case longMessageReferenceClash = "long_message_reference_clash"
        /// A long message some of whose receipts said DELIVRD and others did not, or did not come.
        case longMessagePartlyDelivered = "long_message_partly_delivered"
        /// A long message whose parts are numbered in more than one way, or sent over more than one bind.
        case longMessageMixedConcat = "long_message_mixed_concat"
        /// An account's messages got final receipts for fewer than the coverage threshold of those that asked.
        case receiptCoverageLow = "receipt_coverage_low"
        /// DELIVRD receipts sooner after the submit than any handset answers.
        case receiptTooFast = "receipt_too_fast"
        /// Every receipt of an account has the same state, error and nearly the same latency.
        case receiptUniform = "receipt_uniform"
        /// Intermediate receipts never followed by a final one.
        case receiptNotFinal = "receipt_not_final"
        /// Receipts whose done date is earlier than their message's submit.
        case receiptDoneBeforeSubmit = "receipt_done_before_submit"
        /// Receipts that write the id of their submit_sm_resp another way (hex for decimal, leading zeros, case),
        /// or in no way the capture's responses did.
        case receiptIDMismatch = "receipt_id_mismatch"
        /// An account sent faster than the SMSC accepts (ESME_RTHROTTLED), with the rate it does accept.
        case rateAboveLimit = "rate_above_limit"
        /// An account kept more requests outstanding than the SMSC takes (ESME_RMSGQFUL).
        case windowAboveLimit = "window_above_limit"
        /// The client's response timeout is shorter than the SMSC's response times.
        case timeoutBelowLatency = "timeout_below_latency"
        /// A peer writes data_coding 0 in another alphabet than the SMSC reads it as.
        case defaultAlphabet = "dcs0_alphabet"
        /// Messages with data_coding 0 whose octets are UCS-2.
        case ucs2UnderDefault = "ucs2_under_dcs0"
        /// Messages that start with a concatenation user data header without esm_class UDHI (0x40).
        case udhWithoutUDHI = "udh_without_udhi"
        /// Parts of long messages that end in a GSM 03.38 escape whose character went to the next part.
        case gsmEscapeSplit = "gsm_escape_split"
        /// Messages sent as UCS-2 that GSM 03.38 could carry, in fewer segments.
        case costlierEncoding = "costlier_encoding"
        /// Bytes the capture does not have.
        case captureGaps = "capture_gaps"
        /// PDUs the codec could not decode whole.
        case malformedPDUs = "malformed_pdus"
        /// SMSC.kz's special texts (HLR, ping, viber...).
        case specialTexts = "special_texts"
    }

    /// How much it matters: `error` (something failed), `warning` (something to fix or look at), `info`.
    public enum Severity: String, Hashable, Sendable, CaseIterable, Comparable {
        case info
        case warning
        case error

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }

        private var rank: Int {
            switch self {
            case .info: 0
            case .warning: 1
            case .error: 2
            }
        }
    }

    /// A PDU that shows the finding.
    public struct Evidence: Hashable, Sendable {
        public var session: Int
        public var sequenceNumber: UInt32
        /// Its command name (`submit_sm_resp`).
        public var command: String
        /// Its time, seconds since 1970.
        public var time: Double

        public init(session: Int, sequenceNumber: UInt32, command: String, time: Double) {
            self.session = session
            self.sequenceNumber = sequenceNumber
            self.command = command
            self.time = time
        }
    }

    /// A value of a code-specific field.
    public enum Value: Hashable, Sendable {
        case int(Int)
        case double(Double)
        case string(String)
    }

    /// At most this many PDUs are given as evidence of one finding.
    public static let evidenceLimit = 5

    public var code: Code
    public var severity: Severity
    /// The finding in plain words, with the advice where there is one.
    public var message: String
    /// The session it is about, if one.
    public var session: Int?
    /// How many instances it stands for.
    public var count: Int
    public var evidence: [Evidence]
    /// Code-specific fields, in order (`limit`, `peak_per_second`, ...).
    public var fields: [Field]

    public struct Field: Hashable, Sendable {
        public var name: String
        public var value: Value

        public init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }
    }

    public init(
        _ code: Code, _ severity: Severity, _ message: String, session: Int? = nil, count: Int = 1,
        evidence: [Evidence] = [], fields: [Field] = []
    ) {
        self.code = code
        self.severity = severity
        self.message = message
        self.session = session
        self.count = count
        self.evidence = Array(evidence.prefix(Self.evidenceLimit))
        self.fields = fields
    }
}

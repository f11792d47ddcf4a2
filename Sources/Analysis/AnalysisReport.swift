// The result of an analysis: plain values, ready to render as text, JSON or HTML.

/// One bind attempt and its answer.
public struct BindSummary: Hashable, Sendable {
    public var command: String
    public var systemID: String
    public var systemType: String
    public var interfaceVersion: UInt8
    /// Status of the bind response; nil when no response was seen.
    public var status: UInt32?
    public var statusName: String?
    public var statusMeaning: String?
    public var time: Double
    /// SMSC.kz flags of system_type in words ("up to 3 connections, one receipt per part").
    public var flags: String
    /// The bind's sequence_number.
    public var sequenceNumber: UInt32 = 0
}

/// A run of ESME_RTHROTTLED responses in one session.
public struct ThrottleEpisode: Hashable, Sendable {
    public var session: Int
    public var start: Double
    public var end: Double
    public var count: Int
    /// submit_sm the client sent in the second before the episode started.
    public var rateBefore: Int
    /// Messages sent again after being throttled in this episode, and the mean wait before resending (s).
    public var resubmissions: Int
    public var meanWaitSeconds: Double?
    /// The sequence_number of the episode's first throttled response.
    public var firstSequenceNumber: UInt32 = 0
}

/// Outstanding requests of one direction of a session over time.
public struct WindowSummary: Hashable, Sendable {
    /// The most requests awaiting a response at once.
    public var max: Int
    /// Time-weighted mean while at least one request was outstanding.
    public var mean: Double
    /// 99% of the busy time had at most this many outstanding.
    public var p99: Int
    /// The window compared with: the configured one, else the one the client evidently used (`max`).
    public var window: Int
    public var windowConfigured: Bool
    /// Share of the busy time spent at (or above) `window`.
    public var shareAtWindow: Double
    /// Seconds with at least one request outstanding.
    public var busySeconds: Double
}

/// A silence between consecutive PDUs of a session.
public struct Silence: Hashable, Sendable {
    public var start: Double
    public var seconds: Double
}

/// A request that never got its response.
public struct UnansweredRequest: Hashable, Sendable {
    public var session: Int
    public var command: String
    public var sequenceNumber: UInt32
    public var time: Double
}

/// A response no request in the capture asked for.
public struct OrphanResponse: Hashable, Sendable {
    public var session: Int
    public var command: String
    public var sequenceNumber: UInt32
    public var time: Double
}

/// Everything about one session.
public struct SessionReport: Hashable, Sendable {
    public var id: Int
    /// "ip:port"; when the roles could not be told, the first endpoint seen.
    public var client: String
    public var server: String
    public var rolesKnown: Bool
    /// The last bind of the session.
    public var bind: BindSummary?
    /// Every bind attempt.
    public var binds: [BindSummary]
    public var pdus: Int
    public var start: Double
    public var end: Double
    /// "unbind", "fin", "rst" or nil while still open.
    public var close: String?
    /// "client", "server" or nil.
    public var closedBy: String?
    public var longestSilenceSeconds: Double
    public var silencesOverLimit: [Silence]
    /// The most requests from the client (ESME) awaiting a response at once: the window it used.
    public var maxOutstanding: Int
    /// The same for requests from the server (deliver_sm, enquire_link).
    public var maxOutstandingServer: Int
    public var clientWindow: WindowSummary?
    public var serverWindow: WindowSummary?
    public var submits: Int
    public var throttled: Int
    public var throttleEpisodes: [ThrottleEpisode]
    public var peakSubmitPerSecond: Int
    /// Mean submit_sm per second over the seconds in which the session sent any.
    public var meanSubmitPerSecond: Double
    public var submitLatency: LatencySummary?
    /// "throttled", "window-bound", "latency-bound" or "load-bound", with the reason in words.
    public var verdict: String?
    public var verdictReason: String?
    /// Mean seconds between enquire_link requests, from the client and from the server.
    public var enquireLinkIntervalClient: Double?
    public var enquireLinkIntervalServer: Double?
    public var enquireLinks: Int
    /// The session a newer bind of the same system_id replaced this one with (SMSC.kz one connection per login).
    public var replacedBySession: Int?
    public var unanswered: Int
    public var orphanResponses: Int
}

/// Delivery receipts and mobile-originated messages.
public struct ReceiptReport: Hashable, Sendable {
    public var count = 0
    /// Receipts by final state (DELIVRD, UNDELIV, …).
    public var stat: [String: Int] = [:]
    /// Receipts by their `err:` code, for states other than DELIVRD.
    public var errors: [String: Int] = [:]
    /// Receipts linked to a submit of the capture.
    public var linked = 0
    /// Receipts whose id no submit_sm_resp of the capture gave.
    public var unknownIDs = 0
    /// Receipts repeating one received within the duplicate window after their message was done with (not unknown
    /// ids: ``AnalysisReport/receiptResends`` gives their causes).
    public var copies = 0
    /// Accepted submits (distinct message ids) that asked for a receipt (registered_delivery) and got no final one
    /// in the capture.
    public var withoutReceipt = 0
    /// submit_sm (request time) to receipt.
    public var latency: LatencySummary?
    /// Mobile-originated messages (deliver_sm that are not receipts).
    public var mobileOriginated = 0
    /// Long messages: whole messages seen, with one id shared by their parts, with one id per part.
    public var longMessages = 0
    public var longMessagesSharedID = 0
    public var longMessagesPerPartID = 0
    /// Receipts for long messages: one for the whole message, or one per part.
    public var longMessagesOneReceipt = 0
    public var longMessagesReceiptPerPart = 0
    /// Receipts by how they wrote the id of their submit_sm_resp (``ReceiptIDTransform``), unmatched included.
    public var idTransforms: [ReceiptIDTransform: Int] = [:]
    /// Per transform other than `exact`: up to a few receipts that show it, and the first id written so.
    public var idTransformEvidence: [ReceiptIDTransform: [Finding.Evidence]] = [:]
    public var idTransformExample: [ReceiptIDTransform: String] = [:]
    /// Per account (system_id), how its receipts came.
    public var accounts: [ReceiptQuality] = []
    /// The same per destination prefix (``ReceiptQuality/account`` holds the prefix); empty when not asked for.
    public var prefixes: [ReceiptQuality] = []
    /// Long messages that asked for receipts, by what their receipts said.
    public var longMessageReceipts = LongMessageReceipts()
}

/// Long messages by what their receipts said, all parts (or the one receipt of a shared id) together.
public struct LongMessageReceipts: Hashable, Sendable {
    /// Every receipt the message's ids expect came and said DELIVRD.
    public var allDelivered = 0
    /// Some said DELIVRD, others another state or did not come.
    public var someDelivered = 0
    /// Final receipts came, none DELIVRD.
    public var noneDelivered = 0
    /// No final receipt came.
    public var unknown = 0
    /// The first messages delivered in part.
    public var partlyDelivered: [PartlyDelivered] = []
}

/// A long message delivered in part: its parts, the receipts its ids expect, the DELIVRD ones, its first part.
public struct PartlyDelivered: Hashable, Sendable {
    public var parts: Int
    public var receipts: Int
    public var delivered: Int
    public var first: Finding.Evidence
}

/// How one account's receipts came: coverage, speed, variety, finality.
public struct ReceiptQuality: Hashable, Sendable {
    public var account: String
    /// Accepted messages (one per message id) that asked for a receipt.
    public var asked = 0
    /// Of those, the ones still young at the end of the capture (submitted later than the receipt latency's p99
    /// before the end, at least 10 s): not counted in the coverage.
    public var pending = 0
    /// Of those asked, the ones with a final receipt.
    public var final = 0
    /// Messages with an intermediate receipt (ENROUTE, ACCEPTD...) and no final one.
    public var notFinal = 0
    /// Final receipts linked to their submit, DELIVRD ones, and DELIVRD ones sooner than the too-fast threshold.
    public var linkedFinal = 0
    public var delivered = 0
    public var tooFast = 0
    /// The first few too-fast receipts.
    public var tooFastEvidence: [Finding.Evidence] = []
    /// The state and the error code every linked final receipt gave, when all gave the same one (nil otherwise),
    /// and their latency range (ms).
    public var onlyState: String?
    public var onlyError: String?
    public var minimumLatencyMs: Double?
    public var maximumLatencyMs: Double?
    /// Final receipts with a submit and a done date, those whose done date is before the submit (``doneBeforeSubmitEvidence``
    /// the first few), those among them before the submit date the receipt gives itself, and the most any was
    /// early by (seconds).
    public var datesChecked = 0
    public var doneBeforeSubmit = 0
    public var doneBeforeOwnSubmitDate = 0
    public var earliestBySeconds: Int64 = 0
    public var doneBeforeSubmitEvidence: [Finding.Evidence] = []

    public init(account: String) { self.account = account }

    /// Final receipts per accepted message that asked for one and had time to get it; nil when none did.
    public var coverage: Double? {
        let counted = asked - pending
        return counted > 0 ? Double(final) / Double(counted) : nil
    }
}

/// Rates and outstanding requests over the whole input, for charts.
public struct TimeSeries: Hashable, Sendable {
    /// Epoch seconds of the first point.
    public var start: Double
    /// Seconds between points: 0.1 for inputs up to half an hour, wider for longer ones (see `SeriesBuilder`).
    public var step: Double
    /// submit_sm in the second ending at each point.
    public var submitsPerSecond: [Double]
    /// ESME_RTHROTTLED responses in the second ending at each point.
    public var throttledPerSecond: [Double]
    /// The most requests outstanding from clients (all sessions together) during each step.
    public var outstanding: [Int]
}

/// The whole analysis.
public struct AnalysisReport: Hashable, Sendable {
    public var pdusTotal: Int
    /// Command name -> count, names as in decode.
    public var countsPerCommand: [String: Int]
    /// "submit_sm_resp ESME_RTHROTTLED" -> count, for every response with a non-zero status.
    public var errorResponses: [String: Int]
    public var throttledResponses: Int
    public var queueFullResponses: Int
    public var requestResponsePairs: Int
    public var unansweredRequests: Int
    public var unanswered: [UnansweredRequest]
    public var orphanResponses: [OrphanResponse]
    /// Request command -> response time.
    public var latency: [String: LatencySummary]
    /// system_id -> request command -> response time.
    public var latencyBySystemID: [String: [String: LatencySummary]]
    /// The most requests from one client awaiting a response at once, over all sessions.
    public var maxOutstanding: Int
    public var sessions: [SessionReport]
    public var receipts: ReceiptReport
    public var peakSubmitPerSecond: Int
    public var throttleEpisodes: [ThrottleEpisode]
    public var duplicateSubmits: Int
    /// What the server answered to the duplicates: status name -> count.
    public var duplicateResponses: [String: Int]
    /// What each account can do: rate and window limits, response times, settings that fit.
    public var capacity: [CapacityReport] = []
    /// What the texts' encodings show, per peer and direction.
    public var encodings: [EncodingReport] = []
    /// Every submit_sm repeating one sent within the duplicate window (accepted or not), by cause.
    public var submitResends = ResendCauses()
    /// Every receipt (same id and state) the SMSC sent again within the duplicate window, by cause.
    public var receiptResends = ResendCauses()
    public var idleViolations: Int
    public var idleLimit: Double
    public var throughputLimit: Double?
    public var configuredWindow: Int?
    /// submit_sm by SMSC.kz channel (sms, mms, mail, call, viber, social, bot, hlr, ping).
    public var channels: [String: Int]
    /// submit_sm whose text carries an SMSC.kz comment.
    public var submitsWithComment: Int
    public var gaps: Int
    public var gapBytes: Int
    public var diagnostics: Int
    public var malformedPDUs: Int
    public var series: TimeSeries
    /// Response time distribution of submit_sm, for a chart: bucket upper edges (ms) and counts.
    public var submitLatencyEdgesMs: [Double]
    public var submitLatencyBuckets: [Int]
    public var receiptLatencyEdgesMs: [Double]
    public var receiptLatencyBuckets: [Int]
    /// What a person reading the report should know first, most important first.
    public var findings: [Finding]
    /// What the long messages did.
    public var longMessages = LongMessageReport()
}

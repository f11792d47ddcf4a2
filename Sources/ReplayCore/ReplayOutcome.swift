// What a replay did, request by request and session by session: the runner fills it in, the comparison reads it.

import SMPP

/// What happened to one planned request.
public struct RequestOutcome: Sendable {
    public var index: Int
    /// Seconds from the replay's start.
    public var scheduled: Double?
    public var sent: Double?
    public var status: CommandStatus?
    public var latency: Double?
    public var messageID: String?
    public var receiptState: String?
    public var attempts = 0
    /// Why it was not sent, or why its response is missing.
    public var note: String?

    public init(index: Int) { self.index = index }
}

/// What happened to one replayed session.
public struct SessionOutcome: Sendable {
    public var recordedSession: Int
    public var pass: Int
    public var bindStatus: CommandStatus?
    public var error: String?
    public var requests: [RequestOutcome]
    /// Responses to nothing the replay sent.
    public var extraResponses = 0
    public var serverRequests = 0
    public var receipts = 0
    /// Receipts for ids the replay did not get.
    public var unknownReceipts = 0
    public var throttled = 0

    public init(recordedSession: Int, pass: Int, requests: [RequestOutcome]) {
        self.recordedSession = recordedSession
        self.pass = pass
        self.requests = requests
    }
}

/// The whole replay.
public struct ReplayOutcome: Sendable {
    public var sessions: [SessionOutcome] = []
    public var seconds = 0.0

    public init() {}
}

// What `trace` found: each message's journey over the hops the inputs hold, the latency of each hop, the clocks of
// the inputs against each other, and what went wrong between hops.

import Capture

/// One input's view of one message on one hop: its submits (a long message's parts), their responses, receipts.
public struct HopMessage: Sendable {
    /// The input (capture or stored source) it was read from, 0-based in the order given.
    public var input: Int
    public var session: Int
    public var systemID: String?
    public var esme: String
    public var smsc: String
    public var destination: String
    public var text: String
    public var parts: [Part]
    /// The first part's submit time, on the input's own clock.
    public var time: Timestamp

    public struct Part: Sendable {
        public var sequenceNumber: UInt32
        public var frame: Int
        public var time: Timestamp
        public var seq: Int?
        public var registeredDelivery: Bool
        public var response: Timestamp?
        /// The command_status name; nil when no response was seen.
        public var status: String?
        public var statusValue: UInt32?
        public var messageID: String?
        public var receipt: Receipt?
    }

    public struct Receipt: Sendable {
        public var session: Int
        public var frame: Int
        public var time: Timestamp
        public var state: String?
    }

    /// Every part was accepted.
    public var accepted: Bool { parts.allSatisfy { $0.statusValue == 0 } }
    /// The last response's time.
    public var lastResponse: Timestamp? { parts.compactMap(\.response).max() }
    /// The first receipt's time.
    public var firstReceipt: Timestamp? { parts.compactMap(\.receipt?.time).min() }
}

/// A message followed across hops, first hop (nearest the sender) first.
public struct Journey: Sendable {
    public var hops: [HopMessage]
    /// Further copies of the message on a next hop (a gateway that sent it twice), by hop index.
    public var duplicates: [Int: [HopMessage]] = [:]
}

/// How an input's clock stands to another's, from PDUs both captured (the two ends of one link).
public struct ClockOffset: Sendable {
    public var input: Int
    public var reference: Int
    /// Add to a time of `input` to get `reference`'s clock, in seconds.
    public var offset: Double
    /// How fast `input`'s clock runs against `reference`'s, in parts per million.
    public var driftPPM: Double
    public var matches: Int
    /// The largest distance of a match from the fitted line, in seconds.
    public var residual: Double
}

/// Something that went wrong between hops (the shape of analyze's findings).
public struct TraceFinding: Sendable {
    public enum Code: String, Sendable, CaseIterable {
        case receiptNotForwarded = "receipt_not_forwarded"
        case receiptForwardedLate = "receipt_forwarded_late"
        case receiptOnOtherBind = "receipt_on_other_bind"
        case messageLostBetweenHops = "message_lost_between_hops"
        case messageDuplicatedBetweenHops = "message_duplicated_between_hops"
        case partsRegrouped = "parts_regrouped"
        case statusChangedBetweenHops = "status_changed_between_hops"
    }

    public enum Severity: String, Sendable {
        case info, warning, error
    }

    public var code: Code
    public var severity: Severity
    public var message: String
    public var count: Int
    /// The journeys concerned (indexes into `TraceReport.journeys`), the first few.
    public var journeys: [Int]
}

/// Latency percentiles of one hop's stage, in milliseconds.
public struct LatencySummary: Sendable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func at(_ q: Double) -> Double {
            sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]
        }
        count = sorted.count
        p50 = at(0.5)
        p90 = at(0.9)
        p99 = at(0.99)
        max = sorted[sorted.count - 1]
    }
}

/// Everything `trace` says.
public struct TraceReport: Sendable {
    public var inputs: [String]
    public var journeys: [Journey]
    public var clockOffsets: [ClockOffset]
    public var findings: [TraceFinding]
    /// Per stage ("esme_submit_response", "gateway_forward", ...), with its hop: percentiles in ms.
    public var stages: [(name: String, summary: LatencySummary)]
    /// Per account (the first hop's system_id): the end-to-end time from the first submit to the receipt it got.
    public var accounts: [(systemID: String, messages: Int, endToEnd: LatencySummary?)]
    /// Inputs read as another input's copy of the same link.
    public var mirrors: [Int: Int]
}

// What a store of timelines does, whatever keeps it (SQLite here; PostgreSQL for fleets): sources are imported
// as the reassembly events they produced, and read back as the same events, so that every consumer (decode,
// analyze, export, replay) sees a stored timeline exactly as it saw the capture.

import Capture
import Crypto
import Reassembly

/// What made a stored timeline: an imported capture file or a recording (the proxy, a replay).
public enum SourceKind: String, Hashable, Sendable, CaseIterable {
    case file
    case proxy
}

/// Where a timeline came from.
public struct StoredSource: Hashable, Sendable {
    public var id: Int64
    public var kind: SourceKind
    public var name: String
    public var fingerprint: String
    public var startedAt: Double
    /// When the import finished; nil while it is incomplete (interrupted, or a recorder still writing).
    public var completedAt: Double?
    public var events: Int
    public var pdus: Int
}

/// A session as stored: the TCP connection, its bind and its end.
public struct StoredSession: Hashable, Sendable {
    public var id: Int64
    public var sourceID: Int64
    /// The connection number within its source.
    public var connection: Int
    /// Where the session's opening stands among its source's events.
    public var ordinal: Int
    public var first: Endpoint
    public var second: Endpoint
    public var synSender: Endpoint?
    public var firstSeen: Timestamp
    public var systemID: String?
    public var systemType: String?
    public var bindCommand: UInt32?
    public var bindStatus: UInt32?
    public var endKind: String?
    public var endBy: Endpoint?
    public var end: Timestamp?
    public var pdus: Int
    public var lastPDU: Timestamp?
}

/// Which part of a store to read.
public struct StoreFilter: Sendable {
    public var sourceID: Int64?
    /// Store-wide session ids; with `sourceID`, the session numbers within that source (as reading its capture
    /// numbers them), unless `storeWideSessionIDs`.
    public var sessions: Set<Int64> = []
    /// With `sourceID`, sessions keep their store-wide ids (in `sessions` and in the events read), as without it.
    public var storeWideSessionIDs = false
    public var from: Timestamp?
    public var to: Timestamp?
    /// PDUs that carry this message id (responses, queries, receipts, and the submit it was given to).
    public var messageID: String?
    /// PDUs to or from this address.
    public var address: String?
    /// Responses with this (non-zero) command_status.
    public var status: UInt32?
    /// Delivery receipts with this final state ("DELIVRD", "UNDELIV", ...).
    public var receiptState: String?
    /// With the key the passwords were sealed with, binds read back with their passwords instead of '*'.
    public var passwordKey: SymmetricKey?

    public init() {}

    /// Sessions are numbered within their source: one source is read, as its capture numbers them.
    var numbersSessionsInSource: Bool { sourceID != nil && !storeWideSessionIDs }

    /// True when only some PDUs of a session are wanted (then session and stream events are left out).
    public var selectsPDUs: Bool {
        from != nil || to != nil || messageID != nil || address != nil || status != nil || receiptState != nil
    }
}

/// An event read back from a store, in its original order: what reading the capture produced.
public typealias StoredEvent = PipelineEvent

/// A store of timelines.
public protocol TimelineStore: AnyObject {
    /// Every source, oldest first.
    func sources() throws -> [StoredSource]
    /// Sessions, oldest first, of one source or all.
    func sessions(sourceID: Int64?) throws -> [StoredSession]
    /// Starts importing a source, or resumes an interrupted import; nil when it is complete already.
    func beginImport(kind: SourceKind, name: String, fingerprint: String, options: ImportOptions) throws -> StoreImport?
    /// Reads events in their original order. Sessions in the events carry their store-wide ids, or, when the filter
    /// names one source, their numbers within it, so that a stored capture reads back exactly as the capture.
    func read(_ filter: StoreFilter, _ body: (StoredEvent) throws -> Void) throws
}

// What the analysis keeps per session while the timeline goes by.
//
// Unsafe code, and its invariants: a session's pending requests, windows and latency recorders per direction and
// command are memory of the session's own (`UnsafeMutableBufferPointer.values`, see IntegerTable.swift), freed in
// its deinit and indexed by a direction (0 or 1) or a command's dense number only.

import Capture
import Reassembly
import SMPP
import Timeline

/// Outstanding requests of one direction over time: the count, its maximum, and the time spent at each count.
struct WindowTracker {
    private(set) var count = 0
    private(set) var max = 0
    private var lastChange: Int64?
    /// Nanoseconds spent at each count (index), count 0 included.
    private(set) var timeAt: [Int64] = [0]

    mutating func change(by delta: Int, at time: Int64) {
        if let lastChange, time > lastChange {
            if count >= timeAt.count { timeAt += [Int64](repeating: 0, count: count - timeAt.count + 1) }
            timeAt[count] += time - lastChange
        }
        if lastChange == nil || time > (lastChange ?? time) { lastChange = time }
        count = Swift.max(0, count + delta)
        max = Swift.max(max, count)
    }

    func summary(window configured: Int?) -> WindowSummary? {
        guard max > 0 else { return nil }
        let busy = timeAt.dropFirst().reduce(0, +)
        let window = configured ?? max
        var weighted = 0.0
        var atWindow: Int64 = 0
        for (value, time) in timeAt.enumerated() where value > 0 {
            weighted += Double(value) * Double(time)
            if value >= window { atWindow += time }
        }
        var p99 = max
        if busy > 0 {
            var cumulative: Int64 = 0
            for (value, time) in timeAt.enumerated() where value > 0 {
                cumulative += time
                if Double(cumulative) >= 0.99 * Double(busy) {
                    p99 = value
                    break
                }
            }
        }
        return WindowSummary(
            max: max, mean: busy > 0 ? weighted / Double(busy) : Double(max), p99: p99, window: window,
            windowConfigured: configured != nil, shareAtWindow: busy > 0 ? Double(atWindow) / Double(busy) : 0,
            busySeconds: Double(busy) / 1e9)
    }
}

/// A request waiting for its response.
struct PendingRequest {
    var command: CommandID
    var time: Int64
    /// For submit_sm: the identity of the message (system_id, addresses, octets), for duplicates and resubmits.
    var messageKey: UInt64 = 0
    var isDuplicate = false
    /// A part of a long message: what it says of that is in its session's `pendingParts` (kept apart so that the
    /// table of pending requests stays small).
    var isPart = false
    /// Counted in the all-sessions outstanding series.
    var fromClient = false
    /// registered_delivery asks for a receipt whatever the outcome (1) or on success (3).
    var wantsReceipt = false
    /// The destination's prefix (``DestinationPrefix/key(of:digits:)``).
    var prefix: UInt32 = 0

    /// What the empty slots of a table of pending requests hold.
    static let none = PendingRequest(command: .genericNack, time: 0)
}

/// A part of a long message waiting for its response.
struct PendingPart {
    var part: ConcatenatedPart
    /// A hash of the destination address.
    var destination: UInt32
}

/// Per session state.
final class SessionState {
    let id: Int
    let first: Endpoint
    let second: Endpoint
    var session: Session
    var pdus = 0
    var firstPDU: Int64?
    var lastPDU: Int64?
    var longestSilence: Int64 = 0
    var silences: [Silence] = []
    /// Index 0: requests from `first`; 1: from `second`.
    let pending = UnsafeMutableBufferPointer.values(IntegerTable(placeholder: PendingRequest.none), count: 2)
    let windows = UnsafeMutableBufferPointer.values(WindowTracker(), count: 2)
    var binds: [BindSummary] = []
    var pendingBindIndex: [UInt32: Int] = [:]
    var submits = 0
    var throttled = 0
    var episodes: [ThrottleEpisode] = []
    var lastThrottle: Int64?
    var submitTimes = SlidingWindowCounter()
    var peakSubmitPerSecond = 0
    /// Seconds in which the session sent submit_sm, and the last of them.
    var activeSeconds = 0
    var lastSubmitSecond: Int64 = .min
    /// Response times of this session's submit_sm.
    var submitLatency: LatencyRecorder? { CommandID.submitSM.knownIndex.map { latency[$0] } }
    var enquireLinks = 0
    var enquireLinkLast: [Int64?] = [nil, nil]
    var enquireLinkIntervals: [(sum: Double, count: Int)] = [(0, 0), (0, 0)]
    var unanswered = 0
    var orphans = 0
    var end: ConnectionEnd?
    var endTime: Int64?
    var unbindFrom: Int?
    /// The system_id of the last bind request, and what follows from its system_type.
    private(set) var systemID = ""
    /// A key of the system_id that is the same in every run (it goes into message keys).
    private(set) var systemIDHash: UInt64 = 0
    private(set) var receiptPerPart = false
    /// For the submit_sm that are parts of long messages, by sequence_number until their response: the part and a
    /// hash of the destination. At most `maximumPendingParts`; past it the oldest are dropped.
    var pendingParts = IntegerTable(
        placeholder: PendingPart(
            part: ConcatenatedPart(reference: 0, total: 0, sequence: 0, kind: .udh8), destination: 0))
    static let maximumPendingParts = 65_536
    /// The account's index among the receipt tracker's (``ReceiptTracker/accountIndex(_:)``).
    var receiptAccount: UInt16 = 0
    /// Response times by request command (by ``CommandID/knownIndex``, others apart); merged by system_id for the
    /// report. A recorder with nothing recorded stands for a command never answered.
    let latency = UnsafeMutableBufferPointer.values(LatencyRecorder(precision: .two), count: CommandID.knownCount)
    var otherLatency: [CommandID: LatencyRecorder] = [:]

    func recordLatency(_ command: CommandID, _ nanoseconds: Int64) {
        if let index = command.knownIndex {
            latency[index].record(nanoseconds: nanoseconds)
        } else {
            otherLatency[command, default: LatencyRecorder(precision: .two)].record(nanoseconds: nanoseconds)
        }
    }

    /// Every command's recorder.
    var latencies: [(CommandID, LatencyRecorder)] {
        var result = otherLatency.map { ($0.key, $0.value) }
        for id in CommandID.allKnown {
            if let index = id.knownIndex, latency[index].count > 0 { result.append((id, latency[index])) }
        }
        return result
    }

    func bound(systemID: String, systemType: String) {
        self.systemID = systemID
        var key = MessageKey(seed: 0)
        var systemID = systemID
        systemID.withUTF8 { key.add(UnsafeRawBufferPointer($0)) }
        systemIDHash = key.value
        receiptPerPart = SystemTypeFlags(systemType: systemType).single
    }

    init(session: Session) {
        self.id = session.id
        self.session = session
        first = session.connection.first
        second = session.connection.second
    }

    deinit {
        pending.freeValues()
        windows.freeValues()
        latency.freeValues()
    }

    /// 0 for PDUs from `first`, 1 for PDUs from `second`.
    func direction(of source: Endpoint) -> Int { source == first ? 0 : 1 }

    /// The endpoint of a direction index.
    func endpoint(_ direction: Int) -> Endpoint { direction == 0 ? first : second }

    /// "client" or "server" for a direction, when the roles are known.
    func role(_ direction: Int) -> String? {
        guard let client = session.client else { return nil }
        return endpoint(direction) == client ? "client" : "server"
    }

    /// Index of the client's direction (0 when the roles are unknown).
    var clientDirection: Int {
        guard let client = session.client else { return 0 }
        return client == first ? 0 : 1
    }
}

/// Counts events whose times fall in (t - 1 s, t], for the peak per second over a sliding window.
/// Times come nearly in order; a late one is placed where it belongs.
public struct SlidingWindowCounter: Sendable {
    private var times: [Int64] = []
    private var head = 0
    /// The most events in any window so far.
    public private(set) var peak = 0

    public init() {}

    /// Events in (time - width, time], among those still kept (the last window's worth).
    public func count(endingAt time: Int64, width: Int64 = 1_000_000_000) -> Int {
        // The kept times are in order: two binary searches, whatever the rate.
        firstIndex(after: time) - firstIndex(after: time - width)
    }

    /// The index of the first kept time later than `time` (`times.count` when none is).
    private func firstIndex(after time: Int64) -> Int {
        var low = head
        var high = times.count
        while low < high {
            let middle = (low + high) / 2
            if times[middle] <= time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Adds an event (nanoseconds); returns the count of the window ending at it.
    @discardableResult
    public mutating func add(_ time: Int64, width: Int64 = 1_000_000_000) -> Int {
        var index = times.count
        while index > head, times[index - 1] > time { index -= 1 }
        // Nearly always the latest event: appended, not inserted through the general path.
        if index == times.count { times.append(time) } else { times.insert(time, at: index) }
        while head < times.count, times[head] <= time - width, head < index { head += 1 }
        if head > 4_096, head * 2 > times.count {
            times.removeFirst(head)
            index -= head
            head = 0
        }
        // Windows ending at this event and at the later ones it now falls inside.
        var start = head
        for end in index..<times.count {
            while times[start] <= times[end] - width { start += 1 }
            peak = Swift.max(peak, end - start + 1)
        }
        return index - head + 1
    }
}

/// Session states by id: an array for the dense ids a capture gives (1, 2, 3...), a dictionary for any others
/// (a store's ids), so that the lookup done for every PDU costs no hashing.
struct SessionTable {
    private static let denseLimit = 1 << 20
    private var dense: [SessionState?] = []
    private var sparse: [Int: SessionState] = [:]

    subscript(id: Int) -> SessionState? {
        @inline(__always) get {
            if id >= 0, id < dense.count { return dense[id] }
            return id >= 0 && id < Self.denseLimit ? nil : sparse[id]
        }
        set {
            if id >= 0, id < Self.denseLimit {
                if id >= dense.count {
                    dense += [SessionState?](repeating: nil, count: id - dense.count + 1)
                }
                dense[id] = newValue
            } else {
                sparse[id] = newValue
            }
        }
    }

    /// Every session, in no particular order.
    var values: [SessionState] {
        dense.compactMap { $0 } + sparse.values
    }
}

// Where the recording goes, off the forwarding path: a store (in batches), a pcapng journal (rotated by size),
// a live view. Each has its own thread and its own bounded queue, so a slow store does not hold up the journal,
// and neither holds up forwarding; what a full queue cannot take is counted and reported.

import Capture
import Foundation
import NIOCore
import Reassembly
import SMPP
import Store
import Transport

/// How a recording is kept.
public struct RecorderOptions {
    /// The store and what the recording is called there.
    public var store: (any TimelineStore)?
    public var sourceName = "record"
    public var importOptions = ImportOptions()
    /// The pcapng journal; rotated to NAME.1.pcapng, NAME.2.pcapng, ... past `pcapRotateBytes`.
    public var pcapPath: String?
    public var pcapRotateBytes: Int?
    /// Called on its own thread for every event, in order.
    public var live: (@Sendable (StreamEvent) -> Void)?
    /// Metrics of the traffic (the proxy's), fed every event on their own thread.
    public var metrics: (@Sendable (StreamEvent) -> Void)?
    /// Bytes of events a queue holds before it drops.
    public var queueLimit = 256 << 20
    /// Told once, from the consumer's thread, when the store or the journal cannot be written (a full disk): what
    /// failed and why. What follows is not kept there; `finish()` reports the failure again.
    public var failure: (@Sendable (String) -> Void)?
    /// A store batch is written at least this often while traffic flows.
    public var flushInterval = 1.0

    public init() {}
}

/// What the recorder has done so far.
public struct RecorderStatus: Sendable {
    public var storedEvents = 0
    public var storeBacklog = 0
    public var storeDropped = 0
    public var journalDropped = 0
    public var metricsDropped = 0
    public var journalFiles: [String] = []
}

/// Takes events from the proxy and hands them to the store, the journal and the live view.
public final class Recorder: RecordingSink, @unchecked Sendable {
    private let consumers: [EventConsumer]
    private let storeConsumer: EventConsumer?
    private let journalConsumer: EventConsumer?
    private let metricsConsumer: EventConsumer?
    private let journal: Journal?
    private let importer: StoreImport?

    public init(options: RecorderOptions) throws {
        var consumers: [EventConsumer] = []
        if let store = options.store {
            let name = options.sourceName
            var importOptions = options.importOptions
            importOptions.background = true
            guard
                let importer = try store.beginImport(
                    kind: .proxy, name: name, fingerprint: "proxy:\(UUID().uuidString)", options: importOptions)
            else { throw StoreError(.databaseFailed, "cannot start a recording in the store") }
            self.importer = importer
            let consumer = EventConsumer(
                name: "store", limit: options.queueLimit, idleInterval: options.flushInterval,
                process: { events in for event in events { try importer.add(event) } },
                idle: { try importer.flush() }, failure: options.failure)
            storeConsumer = consumer
            consumers.append(consumer)
        } else {
            importer = nil
            storeConsumer = nil
        }
        if let path = options.pcapPath {
            let journal = try Journal(path: path, rotateBytes: options.pcapRotateBytes)
            self.journal = journal
            let consumer = EventConsumer(
                name: "journal", limit: options.queueLimit, idleInterval: options.flushInterval,
                process: { events in for event in events { try journal.write(event) } },
                idle: { try journal.flush() }, failure: options.failure)
            journalConsumer = consumer
            consumers.append(consumer)
        } else {
            journal = nil
            journalConsumer = nil
        }
        if let live = options.live {
            consumers.append(
                EventConsumer(
                    name: "live", limit: options.queueLimit, idleInterval: 3_600,
                    process: { events in for event in events { live(event) } }, idle: {}))
        }
        if let metrics = options.metrics {
            let consumer = EventConsumer(
                name: "metrics", limit: options.queueLimit, idleInterval: 3_600,
                process: { events in for event in events { metrics(event) } }, idle: {})
            metricsConsumer = consumer
            consumers.append(consumer)
        } else {
            metricsConsumer = nil
        }
        self.consumers = consumers
        for consumer in consumers { consumer.start() }
    }

    public func record(_ event: StreamEvent) {
        for consumer in consumers { consumer.enqueue(event) }
    }

    public var status: RecorderStatus {
        var status = RecorderStatus()
        if let storeConsumer {
            status.storedEvents = storeConsumer.processed
            status.storeBacklog = storeConsumer.backlog
            status.storeDropped = storeConsumer.dropped
        }
        if let journalConsumer { status.journalDropped = journalConsumer.dropped }
        if let metricsConsumer { status.metricsDropped = metricsConsumer.dropped }
        status.journalFiles = journal?.files ?? []
        return status
    }

    /// Writes everything queued, completes the store's source and closes the journal.
    public func finish() throws {
        var failure: Error?
        for consumer in consumers {
            do { try consumer.stop() } catch { failure = failure ?? error }
        }
        do { try importer?.finish() } catch { failure = failure ?? error }
        do { try journal?.close() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
}

/// A thread draining a bounded queue of events.
final class EventConsumer: @unchecked Sendable {
    let name: String
    private let limit: Int
    private let idleInterval: Double
    private let process: ([StreamEvent]) throws -> Void
    private let idle: () throws -> Void
    private let failureNotice: (@Sendable (String) -> Void)?
    private let condition = NSCondition()
    private var queue: [StreamEvent] = []
    private var queuedBytes = 0
    private var stopping = false
    private var stopped = false
    private var failure: Error?
    // Under `condition`.
    private var droppedCount = 0
    private var processedCount = 0
    /// Events queued before the thread is woken early.
    static let wakeAt = 4_096
    /// How often the thread looks at the queue.
    static let pollInterval = 0.02

    init(
        name: String, limit: Int, idleInterval: Double, process: @escaping ([StreamEvent]) throws -> Void,
        idle: @escaping () throws -> Void, failure: (@Sendable (String) -> Void)? = nil
    ) {
        failureNotice = failure
        self.name = name
        self.limit = limit
        self.idleInterval = idleInterval
        self.process = process
        self.idle = idle
    }

    func start() {
        let thread = Thread { [self] in
            lowerPriority()
            run()
        }
        thread.name = "smppscope.\(name)"
        thread.start()
    }

    func enqueue(_ event: StreamEvent) {
        let size = event.approximateSize
        condition.lock()
        if queuedBytes + size > limit || failure != nil {
            droppedCount += 1
        } else {
            queue.append(event)
            queuedBytes += size
            // The thread looks every few milliseconds anyway; waking it per event would cost the forwarding
            // thread more than the event is worth.
            if queue.count == Self.wakeAt { condition.signal() }
        }
        condition.unlock()
    }

    /// Events that did not fit the queue.
    var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedCount
    }

    /// Events handed to `process`.
    var processed: Int {
        condition.lock()
        defer { condition.unlock() }
        return processedCount
    }

    var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    private func run() {
        var lastWork = Date()
        while true {
            condition.lock()
            if queue.count < Self.wakeAt, !stopping {
                _ = condition.wait(until: Date().addingTimeInterval(Self.pollInterval))
            }
            let events = queue
            queue.removeAll(keepingCapacity: true)
            queuedBytes = 0
            let done = stopping && events.isEmpty
            condition.unlock()
            do {
                if !events.isEmpty { try process(events) }
                if !done, Date().timeIntervalSince(lastWork) >= idleInterval {
                    try idle()
                    lastWork = Date()
                }
            } catch {
                condition.lock()
                let first = failure == nil
                failure = failure ?? error
                condition.unlock()
                if first { failureNotice?("the \(name) cannot be written: \(error); it records nothing more") }
            }
            condition.lock()
            processedCount += events.count
            condition.unlock()
            if done { break }
        }
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Processes what is queued, then ends the thread; reports the first error met.
    func stop() throws {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }
}

/// Recording is background work: when the two compete for a core, forwarding wins. (On Linux a thread has its
/// own nice value, and PRIO_PROCESS with 0 sets the calling thread's.)
func lowerPriority() {
    #if canImport(Glibc)
        var parameters = sched_param(sched_priority: 0)
        _ = sched_setscheduler(0, 5 /* SCHED_IDLE */, &parameters)
    #endif
}

extension StreamEvent {
    /// Bytes an event takes in a queue, roughly: the event's value and a PDU's bytes.
    var approximateSize: Int {
        if case .pdu(let pdu) = self { return MemoryLayout<StreamEvent>.stride + pdu.raw.readableBytes }
        return MemoryLayout<StreamEvent>.stride + 64
    }
}

/// The pcapng journal: synthesised TCP for every recorded PDU, passwords redacted, rotated by size.
final class Journal {
    private let base: String
    private let rotateBytes: Int?
    private var writer: PCAPWriter
    private var synthesizer = TCPSynthesizer()
    private(set) var files: [String]
    private var open: [Int: Connection] = [:]

    init(path: String, rotateBytes: Int?) throws {
        base = path
        self.rotateBytes = rotateBytes
        writer = try PCAPWriter(path: path, format: .pcapng, atomic: false)
        files = [path]
    }

    func write(_ event: StreamEvent) throws {
        var event = event
        switch event {
        case .opened(let connection): open[connection.id] = connection
        case .ended(let end): open[end.connection] = nil
        case .pdu(var pdu):
            if let redacted = PasswordRedaction.redacted(pdu.raw) {
                pdu.raw = redacted
                event = .pdu(pdu)
            }
        default: break
        }
        for packet in synthesizer.packets(for: event) { try writer.write(packet) }
        if let rotateBytes, writer.size >= rotateBytes { try rotate() }
    }

    /// A new file; connections still open go on in it mid-stream (no handshake), as a capture started late.
    private func rotate() throws {
        try writer.close()
        let url = URL(fileURLWithPath: base)
        let stem = url.deletingPathExtension().path
        let ext = url.pathExtension.isEmpty ? "pcapng" : url.pathExtension
        let next = "\(stem).\(files.count).\(ext)"
        writer = try PCAPWriter(path: next, format: .pcapng, atomic: false)
        files.append(next)
    }

    func flush() throws { try writer.flush() }

    func close() throws { try writer.close() }
}

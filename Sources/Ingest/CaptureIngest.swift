// Runs a capture (file, standard input or live interface) through packet decoding, reassembly and session
// tracking, and hands each timeline event to the caller.

import Capture
@_spi(Lent) import Reassembly
@_spi(Lent) import Timeline

/// Where packets come from.
public enum PacketSource {
    case file(CaptureFileReader)
    case live(any LivePacketSource)

    /// Opens a capture file, or standard input for "-".
    public static func open(path: String) throws -> PacketSource {
        .file(try CaptureFileReader(path: path))
    }
}

/// Progress of a run through a file.
public struct IngestProgress: Sendable {
    public var bytesRead: Int
    public var totalBytes: Int?
    public var packets: Int
    public var pdus: Int
}

/// Packets -> segments -> PDUs -> timeline events.
public final class CaptureIngest {
    public let source: PacketSource
    public let reassembler: SMPPStreamReassembler
    public private(set) var tracker: SessionTracker
    private var decoder = PacketDecoder()
    public private(set) var packets = 0
    public private(set) var pdus = 0
    /// The reading thread prepares every PDU for the consumer (``PDUPreparation``), not only while the consumer
    /// is behind: the same results either way (for tests, and for measuring the split of work).
    public var preparesAlways = false

    /// `decodesEveryPDU` false leaves decoding to the consumer (only binds are decoded for the sessions).
    public init(
        source: PacketSource, configuration: ReassemblyConfiguration = ReassemblyConfiguration(),
        decodesEveryPDU: Bool = true
    ) {
        self.source = source
        tracker = SessionTracker(decodesEveryPDU: decodesEveryPDU)
        reassembler = SMPPStreamReassembler(configuration: configuration)
    }

    /// Reads everything and hands over the reassembly events and capture diagnostics as they are, before any
    /// session tracking (for storing them). For files, reading and reassembly run on a second thread.
    public func runEvents(
        parallel: Bool = true, progress: ((IngestProgress) -> Void)? = nil, _ handle: (PipelineEvent) throws -> Void
    ) throws {
        try dispatch(parallel: parallel, progress: progress, pdu: { try handle(.stream(.pdu($0))) }, other: handle)
    }

    /// Reads everything, calling `handle` for each timeline event in capture order and `progress` now and then.
    ///
    /// For files, reading, reassembly and session tracking run on a second thread while `handle` runs on the calling
    /// one; the events and their order are the same as with one thread (`parallel: false`).
    public func run(
        parallel: Bool = true, progress: ((IngestProgress) -> Void)? = nil, _ handle: (TimelineEvent) throws -> Void
    ) throws {
        try run(parallel: parallel, progress: progress, pdu: { try handle(.pdu($0)) }, other: handle)
    }

    /// Reads everything, handing timeline PDUs (nearly every event) to `pdu` as they are and the other timeline
    /// events to `other`, in capture order: the same events as ``run(parallel:progress:_:)``, without wrapping each
    /// PDU in an event to unwrap it again.
    ///
    /// `upcoming`, when given, sees each PDU a few places before `pdu` does, possibly before events that come
    /// ahead of it (on the pipelined path; not at all on the other), so that the consumer can prepare for it; what
    /// it returns for a PDU that came unprepared is the PDU's ``TimelinePDU/prepared``. `prepare`, when given, runs
    /// on the reading thread for the PDUs of the batches it fills while the consumer is behind (on the pipelined
    /// path; not at all on the other), its result in the PDU's ``TimelinePDU/prepared``.
    @_spi(Lent) public func run(
        parallel: Bool = true, progress: ((IngestProgress) -> Void)? = nil, pdu: (TimelinePDU) throws -> Void,
        other: (TimelineEvent) throws -> Void, prepare: PDUPreparation? = nil,
        upcoming: ((LentPDU) -> PreparedPDU?)? = nil
    ) throws {
        if try runTimelinePipelined(
            parallel: parallel, progress: progress, prepare: prepare,
            {
                try $0.forEach(pdu: pdu, other: other, upcoming: upcoming)
            })
        {
            return
        }
        var tracker = self.tracker
        defer { self.tracker = tracker }
        try dispatch(
            parallel: false, progress: progress, pdu: { try tracker.handlePDU($0, pdu: pdu) },
            other: { try tracker.handle($0, other) })
    }

    /// ``run(parallel:progress:pdu:other:prepare:upcoming:)`` with each PDU's bytes lent for the call that
    /// receives it: for a consumer that keeps nothing of them, handed over without reference counting.
    @_spi(Lent) public func run(
        parallel: Bool = true, progress: ((IngestProgress) -> Void)? = nil, lent pdu: (LentPDU) throws -> Void,
        other: (TimelineEvent) throws -> Void, prepare: PDUPreparation? = nil,
        upcoming: ((LentPDU) -> PreparedPDU?)? = nil
    ) throws {
        if try runTimelinePipelined(
            parallel: parallel, progress: progress, prepare: prepare,
            {
                try $0.forEach(lent: pdu, other: other, upcoming: upcoming)
            })
        {
            return
        }
        try run(parallel: false, progress: progress, pdu: { try $0.withLent(pdu) }, other: other)
    }

    /// The pipelined path of the timeline runs, each batch to `consume`; false when it did not run (not a file, or
    /// no second thread).
    private func runTimelinePipelined(
        parallel: Bool, progress: ((IngestProgress) -> Void)?, prepare: PDUPreparation?,
        _ consume: (TimelineBatch) throws -> Void
    ) throws -> Bool {
        guard parallel, case .file = source else { return false }
        // Sessions are followed on the reading thread too: the consumer gets timeline events ready.
        let sessions = TrackerBox(tracker)
        var pduCount = 0
        let ran = try runPipelined(
            progress: progress,
            make: { TimelineBatch(capacity: Self.batchSize, sessions: sessions, prepare: prepare) },
            { (batch: TimelineBatch) in
                pduCount += batch.framedPDUs
                try consume(batch)
            })
        if ran {
            tracker = sessions.tracker
            pdus = pduCount
        }
        return ran
    }

    /// Reads everything, handing PDUs (nearly every event) to `pdu` and the other events to `other`, in order.
    private func dispatch(
        parallel: Bool, progress: ((IngestProgress) -> Void)?, pdu: (TimelinePDU) throws -> Void,
        other: (PipelineEvent) throws -> Void
    ) throws {
        var pduCount = 0
        defer { pdus = pduCount }
        if parallel, case .file = source,
            try runPipelined(
                progress: progress, make: { EventBatch(capacity: Self.batchSize) },
                { (batch: EventBatch) in
                    pduCount += batch.framedPDUs
                    try batch.forEach(pdu: pdu, other: other)
                })
        {
            return
        }
        try runSequential(progress: progress) { event in
            if case .stream(.pdu(let framed)) = event {
                pduCount += 1
                try pdu(framed)
            } else {
                try other(event)
            }
        }
    }

    private func runSequential(progress: ((IngestProgress) -> Void)?, _ handle: (PipelineEvent) throws -> Void) throws {
        var diagnostics: [CaptureDiagnostic] = []
        let reassembler = self.reassembler
        var pduCount = 0
        var handleError: Error?
        func forward(_ event: StreamEvent) {
            guard handleError == nil else { return }
            if case .pdu = event { pduCount += 1 }
            do {
                try handle(.stream(event))
            } catch {
                handleError = error
            }
        }
        while let packet = try nextPacket() {
            packets += 1
            decoder.decode(packet, diagnostics: &diagnostics) { segment in
                reassembler.add(segment, forward)
            }
            if case .file(let reader) = source, reader.hasDiagnostics {
                diagnostics.append(contentsOf: reader.takeDiagnostics())
            }
            if !diagnostics.isEmpty {
                for diagnostic in diagnostics { try handle(.capture(diagnostic)) }
                diagnostics.removeAll(keepingCapacity: true)
            }
            if let handleError { throw handleError }
            if let progress, packets & 0x3FFF == 0 {
                progress(currentProgress(pdus: pduCount))
            }
        }
        if case .file(let reader) = source {
            diagnostics.append(contentsOf: reader.takeDiagnostics())
        }
        decoder.finish(diagnostics: &diagnostics)
        if let summary = reassembler.evictionSummary {
            diagnostics.append(CaptureDiagnostic(frame: nil, message: summary))
        }
        for diagnostic in diagnostics { try handle(.capture(diagnostic)) }
        reassembler.finish(forward)
        if let handleError { throw handleError }
        progress?(currentProgress(pdus: pduCount))
    }

    /// The producer side: packets to reassembly events, in batches.
    private final class Producer<Batch: IngestBatch>: @unchecked Sendable {
        let ingest: CaptureIngest
        let queue: BatchQueue<Batch>
        let make: () -> Batch
        init(ingest: CaptureIngest, queue: BatchQueue<Batch>, make: @escaping () -> Batch) {
            self.ingest = ingest
            self.queue = queue
            self.make = make
        }

        func run() {
            do {
                try ingest.produce(into: queue, make: make)
                queue.finish(error: nil)
            } catch {
                queue.finish(error: error)
            }
        }
    }

    static let batchSize = 4_096

    fileprivate func produce<Batch: IngestBatch>(into queue: BatchQueue<Batch>, make: () -> Batch) throws {
        var diagnostics: [CaptureDiagnostic] = []
        var batch = make()
        let preparesAlways = self.preparesAlways
        batch.consumerIsBehind(preparesAlways)
        let reassembler = self.reassembler
        // Taken out of the source once: matching the enum for every packet costs reference counting.
        let reader: CaptureFileReader?
        if case .file(let file) = source { reader = file } else { reader = nil }
        func ship() -> Bool {
            if let reader { batch.bytesRead = reader.bytesRead }
            batch.packets = packets
            let full = batch
            batch = make()
            guard let waiting = queue.put(full) else { return false }
            // Half the queue waiting: the consumer is the slower of the two, and this thread takes some of its work.
            batch.consumerIsBehind(preparesAlways || waiting * 2 >= queue.limit)
            return true
        }
        /// Handles one packet; false when the consumer gave up.
        func handle(_ packet: Packet) -> Bool {
            packets += 1
            decoder.decode(packet, diagnostics: &diagnostics) { segment in
                reassembler.add(segment, lent: { batch.append(pdu: $0) }, other: { batch.append($0) })
            }
            if let reader, reader.hasDiagnostics { diagnostics.append(contentsOf: reader.takeDiagnostics()) }
            if !diagnostics.isEmpty {
                for diagnostic in diagnostics { batch.append(diagnostic) }
                diagnostics.removeAll(keepingCapacity: true)
            }
            return batch.count < Self.batchSize || ship()
        }
        // A file is read in a loop of its own: the reader is not retained and released around every packet.
        if let reader {
            while let packet = try reader.next() {
                guard handle(packet) else { return }
            }
        } else {
            while let packet = try nextPacket() {
                guard handle(packet) else { return }
            }
        }
        if let reader { diagnostics.append(contentsOf: reader.takeDiagnostics()) }
        decoder.finish(diagnostics: &diagnostics)
        if let summary = reassembler.evictionSummary {
            diagnostics.append(CaptureDiagnostic(frame: nil, message: summary))
        }
        for diagnostic in diagnostics { batch.append(diagnostic) }
        reassembler.finish { batch.append($0) }
        _ = ship()
    }

    /// Reading and reassembly on a second thread, `consume` on this one with each batch in turn. Returns false when
    /// no second thread could be started (nothing was read then).
    private func runPipelined<Batch: IngestBatch>(
        progress: ((IngestProgress) -> Void)?, make: @escaping () -> Batch, _ consume: (Batch) throws -> Void
    ) throws -> Bool {
        let queue = BatchQueue<Batch>(limit: 4)
        let producer = Producer(ingest: self, queue: queue, make: make)
        let thread = ProducerThread { producer.run() }
        guard thread.start() else { return false }
        var pduCount = 0
        do {
            while let batch = try queue.take() {
                try consume(batch)
                pduCount += batch.framedPDUs
                if let progress {
                    let total: Int?
                    if case .file(let reader) = source { total = reader.totalBytes } else { total = nil }
                    progress(
                        IngestProgress(
                            bytesRead: batch.bytesRead, totalBytes: total, packets: batch.packets, pdus: pduCount))
                }
            }
        } catch {
            queue.cancel()
            thread.join()
            throw error
        }
        thread.join()
        return true
    }

    private func nextPacket() throws -> Packet? {
        switch source {
        case .file(let reader): return try reader.next()
        case .live(let capture): return try capture.next()
        }
    }

    private func currentProgress(pdus: Int) -> IngestProgress {
        switch source {
        case .file(let reader):
            return IngestProgress(
                bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, packets: packets, pdus: pdus)
        case .live:
            return IngestProgress(bytesRead: 0, totalBytes: nil, packets: packets, pdus: pdus)
        }
    }
}

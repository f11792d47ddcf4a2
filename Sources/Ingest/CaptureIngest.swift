// Runs a capture (file, standard input or live interface) through packet decoding, reassembly and session
// tracking, and hands each timeline event to the caller.

import Capture
import Reassembly
import Timeline

/// Where packets come from.
public enum PacketSource {
    case file(CaptureFileReader)
    case live(LiveCapture)

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

    /// `decodesEveryPDU` false leaves decoding to the consumer (only binds are decoded for the sessions).
    public init(
        source: PacketSource, configuration: ReassemblyConfiguration = ReassemblyConfiguration(), decodesEveryPDU: Bool = true
    ) {
        self.source = source
        tracker = SessionTracker(decodesEveryPDU: decodesEveryPDU)
        reassembler = SMPPStreamReassembler(configuration: configuration)
    }

    /// Reads everything, calling `handle` for each event in capture order and `progress` now and then.
    public func run(
        progress: ((IngestProgress) -> Void)? = nil, _ handle: (TimelineEvent) throws -> Void
    ) throws {
        var diagnostics: [CaptureDiagnostic] = []
        let reassembler = self.reassembler
        var tracker = self.tracker
        var pduCount = 0
        defer {
            self.tracker = tracker
            self.pdus = pduCount
        }
        var handleError: Error?
        func forward(_ event: StreamEvent) {
            guard handleError == nil else { return }
            if case .pdu = event { pduCount += 1 }
            do {
                try tracker.handle(event, handle)
            } catch {
                handleError = error
            }
        }
        while let packet = try nextPacket() {
            packets += 1
            decoder.decode(packet, diagnostics: &diagnostics) { segment in
                reassembler.add(segment, forward)
            }
            if case .file(let reader) = source {
                diagnostics.append(contentsOf: reader.takeDiagnostics())
            }
            if !diagnostics.isEmpty {
                for diagnostic in diagnostics { try handle(.captureDiagnostic(diagnostic)) }
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
        for diagnostic in diagnostics { try handle(.captureDiagnostic(diagnostic)) }
        reassembler.finish(forward)
        if let handleError { throw handleError }
        progress?(currentProgress(pdus: pduCount))
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
            return IngestProgress(bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, packets: packets, pdus: pdus)
        case .live:
            return IngestProgress(bytesRead: 0, totalBytes: nil, packets: packets, pdus: pdus)
        }
    }
}

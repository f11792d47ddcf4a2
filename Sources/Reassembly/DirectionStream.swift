// One direction of a TCP connection: sequence numbers -> ordered bytes -> SMPP frames. Retransmissions are
// dropped, out-of-order segments wait (bounded), missing bytes become gaps, and framing resynchronises after them.

@_spi(Lent) import Capture
@_spi(Lent) import SMPP

/// A whole PDU taken from a direction: its bytes are `start..<start + length` of the direction's buffer until
/// they are handed over (``DirectionStream/takeOutputs(frame:other:)``).
struct FrameOutput {
    var start: Int
    var length: Int
    var offset: UInt64
    var frame: Int
    var timestamp: Timestamp
    /// Set when the structural check was already made (with it, the fields located).
    var digest: PDUDigest?
}

/// What a direction hands to its connection.
enum DirectionOutput {
    /// The stream was found to carry SMPP.
    case detected
    case frame(FrameOutput)
    case gap(offset: UInt64, size: Int, frame: Int, timestamp: Timestamp, reason: StreamGap.Reason)
    case diagnostic(String, offset: UInt64, frame: Int, timestamp: Timestamp)
}

/// `a - b` in 32-bit sequence space.
@inline(__always)
func sequenceDistance(_ a: UInt32, _ b: UInt32) -> Int {
    Int(Int32(bitPattern: a &- b))
}

final class DirectionStream {
    enum Mode: Equatable {
        /// At the start of the stream: the first header decides whether this is SMPP.
        case detecting
        case synced
        /// Searching for the next plausible header.
        case scanning
        /// Dropping the rest of a PDU damaged by a gap.
        case skipping(Int)
        /// Not SMPP: bytes are counted and dropped.
        case notSMPP
    }

    private struct Mark {
        var end: UInt64
        var frame: Int
        var timestamp: Timestamp
    }

    /// The longest rest of a damaged PDU skipped by its command_length rather than searched through.
    static let exactSkipLimit = 4_096

    let framer: SMPPFramer
    let forced: Bool
    /// Memory the waiting segments of this direction may hold (see `HeldSegments`).
    let bufferLimit: Int
    let scanBudget: Int
    /// Memory the waiting segments of every direction may hold together.
    let budget: HeldBudget?

    private(set) var started = false
    private(set) var nextSequence: UInt32 = 0
    private(set) var sawSYN = false
    private(set) var finSequence: UInt32?
    private(set) var mode: Mode
    private var pending = HeldSegments()
    private var buffer = StreamBytes()
    /// Stream offset of the buffer's first readable byte.
    private var bufferOffset: UInt64 = 0
    private var marks: [Mark] = []
    private var marksStart = 0
    private var scanned = 0
    /// Bytes skipped since the last resynchronisation, reported once framing resumes.
    private var skipped: (offset: UInt64, count: Int, frame: Int, timestamp: Timestamp)?
    private var lastFrame = 0
    private var lastTimestamp = Timestamp(nanoseconds: 0)
    /// True once this direction (or its connection) is known to be SMPP.
    var knownSMPP = false
    /// What the last calls produced, in order, for the connection to take (`takeOutputs`). Kept here rather than
    /// passed to a closure, since a closure capturing the connection costs reference counting at every call. A
    /// lone frame (the usual output) waits in its own slot, which copies cheaply; anything else goes in order to
    /// the list. Frames waiting here keep their bytes in the buffer: it is not compacted until they are taken.
    private var loneFrame: FrameOutput?
    private var outputs: [DirectionOutput] = []

    private(set) var retransmittedSegments = 0
    private(set) var outOfOrderSegments = 0

    init(framer: SMPPFramer, forced: Bool, bufferLimit: Int, scanBudget: Int, budget: HeldBudget? = nil) {
        self.framer = framer
        self.forced = forced
        self.bufferLimit = bufferLimit
        self.scanBudget = scanBudget
        self.budget = budget
        mode = .detecting
    }

    deinit {
        pending.removeAll(budget: budget)
    }

    var isFinished: Bool {
        guard let finSequence else { return false }
        return started && sequenceDistance(nextSequence, finSequence) >= 0
    }

    var hasPendingData: Bool { !pending.isEmpty }

    /// Hands what was produced over in order, frames with their bytes (lent: valid during the call) to `frame`
    /// and the rest to `other`, and forgets it.
    @inline(__always)
    func takeOutputs(frame: (FrameOutput, UnsafeRawBufferPointer) -> Void, other: (DirectionOutput) -> Void) {
        if let lone = loneFrame.take() {
            frame(lone, buffer.bytes(at: lone.start, count: lone.length))
        } else if !outputs.isEmpty {
            takeListedOutputs(frame: frame, other: other)
        }
    }

    private func takeListedOutputs(
        frame: (FrameOutput, UnsafeRawBufferPointer) -> Void, other: (DirectionOutput) -> Void
    ) {
        for output in outputs {
            if case .frame(let framed) = output {
                frame(framed, buffer.bytes(at: framed.start, count: framed.length))
            } else {
                other(output)
            }
        }
        outputs.removeAll(keepingCapacity: true)
    }

    private func output(_ output: DirectionOutput) {
        if let lone = loneFrame {
            // The list is empty while a frame is alone: it becomes the list's first entry.
            loneFrame = nil
            outputs.append(.frame(lone))
        }
        outputs.append(output)
    }

    private func output(_ frame: FrameOutput) {
        if loneFrame == nil, outputs.isEmpty {
            loneFrame = frame
        } else {
            output(.frame(frame))
        }
    }

    /// The next byte's offset in the stream.
    var streamOffset: UInt64 { bufferOffset + UInt64(buffer.readableBytes) }

    // MARK: Segments

    func syn(sequence: UInt32) {
        sawSYN = true
        started = true
        nextSequence = sequence &+ 1
        mode = .detecting
    }

    /// Handles one segment's payload (and FIN) in this direction.
    func segment(
        sequence: UInt32, payload: UnsafeRawBufferPointer, declaredLength: Int, fin: Bool, frame: Int,
        timestamp: Timestamp
    ) {
        lastFrame = frame
        lastTimestamp = timestamp
        if !started {
            guard declaredLength > 0 || fin else { return }
            started = true
            nextSequence = sequence
            // Mid-stream: the first byte seen need not start a PDU.
            mode = .scanning
        }
        if fin { finSequence = sequence &+ UInt32(truncatingIfNeeded: declaredLength) }
        guard declaredLength > 0 else { return }
        let distance = sequenceDistance(sequence, nextSequence)
        if distance > 0 {
            outOfOrderSegments += 1
            let kept = pending.insert(
                HeldSegments.Segment(
                    sequence: sequence, bytes: Array(payload), declaredLength: declaredLength, frame: frame,
                    timestamp: timestamp),
                budget: budget)
            if !kept {
                retransmittedSegments += 1
                return
            }
            // Past either budget, what is missing before the first waiting segment is given up as a gap, and what
            // waits is delivered up to the next hole; again while this direction still holds too much.
            while pending.bytes > bufferLimit || budget?.isExceeded == true, let first = pending.first {
                let size = sequenceDistance(first.sequence, nextSequence)
                if size > 0 { gap(size: size, frame: frame, timestamp: timestamp, reason: .bufferLimit) }
                drain()
            }
            return
        }
        accept(sequence: sequence, payload: payload, declaredLength: declaredLength, frame: frame, timestamp: timestamp)
        // Rarely needed: tested here rather than in a call.
        if !pending.isEmpty { drain() }
    }

    /// Takes in an in-order or overlapping segment (sequence at or before nextSequence).
    private func accept(
        sequence: UInt32, payload: UnsafeRawBufferPointer, declaredLength: Int, frame: Int, timestamp: Timestamp
    ) {
        let overlap = -sequenceDistance(sequence, nextSequence)
        guard overlap < declaredLength else {
            retransmittedSegments += 1
            return
        }
        if overlap > 0 { retransmittedSegments += 1 }
        let fresh = declaredLength - overlap
        let available = max(0, payload.count - overlap)
        if available > 0 {
            let slice = UnsafeRawBufferPointer(rebasing: payload[overlap..<(overlap + available)])
            deliver(slice, frame: frame, timestamp: timestamp)
        }
        nextSequence = nextSequence &+ UInt32(truncatingIfNeeded: available)
        if available < fresh {
            gap(size: fresh - available, frame: frame, timestamp: timestamp, reason: .snapLength)
        }
    }

    /// Delivers waiting segments that have become in order.
    private func drain() {
        while let next = pending.first, sequenceDistance(next.sequence, nextSequence) <= 0,
            let first = pending.removeFirst(budget: budget)
        {
            first.bytes.withUnsafeBytes { bytes in
                accept(
                    sequence: first.sequence, payload: bytes, declaredLength: first.declaredLength, frame: first.frame,
                    timestamp: first.timestamp)
            }
        }
    }

    /// The peer acknowledged bytes up to `acknowledgment`: bytes before it that the capture never showed are
    /// missing from the capture, so waiting segments after them can go on.
    func acknowledged(upTo acknowledgment: UInt32, frame: Int, timestamp: Timestamp) {
        guard started, let first = pending.first, sequenceDistance(acknowledgment, nextSequence) > 0 else { return }
        let limit = sequenceDistance(acknowledgment, first.sequence) < 0 ? acknowledgment : first.sequence
        let size = sequenceDistance(limit, nextSequence)
        guard size > 0 else { return }
        gap(size: size, frame: frame, timestamp: timestamp, reason: .missingSegments)
        drain()
    }

    /// The connection is over or the capture ended: what is still missing becomes gaps, what waits is delivered,
    /// and a PDU left incomplete is reported.
    func finish(frame: Int, timestamp: Timestamp) {
        while let first = pending.first {
            let size = sequenceDistance(first.sequence, nextSequence)
            if size > 0 { gap(size: size, frame: frame, timestamp: timestamp, reason: .endOfStream) }
            drain()
        }
        if let finSequence, started, sequenceDistance(finSequence, nextSequence) > 0 {
            gap(
                size: sequenceDistance(finSequence, nextSequence), frame: frame, timestamp: timestamp,
                reason: .endOfStream)
        }
        // What waited for a following header is decided now.
        frameAll(atEnd: true)
        reportSkipped()
        if buffer.readableBytes > 0, mode != .notSMPP, knownSMPP || mode == .synced {
            var detail = ""
            if let length = buffer.firstWord {
                detail = " of a \(length)-byte PDU"
            }
            output(
                .diagnostic(
                    "the stream ends inside a PDU: \(buffer.readableBytes) bytes\(detail) are left",
                    offset: bufferOffset, frame: frame, timestamp: timestamp))
            dropBuffered(buffer.readableBytes)
        }
    }

    // MARK: Bytes

    private func deliver(_ bytes: UnsafeRawBufferPointer, frame: Int, timestamp: Timestamp) {
        var bytes = bytes
        switch mode {
        case .notSMPP:
            bufferOffset += UInt64(bytes.count)
            return
        case .skipping(let left):
            let skip = min(left, bytes.count)
            bufferOffset += UInt64(skip)
            bytes = UnsafeRawBufferPointer(rebasing: bytes[skip...])
            mode = left - skip > 0 ? .skipping(left - skip) : .synced
            if bytes.isEmpty { return }
        default:
            break
        }
        // Frames not yet taken (several segments delivered in one call, when waiting ones come in order) are
        // still to be read where they are.
        buffer.write(bytes, keepingIndices: loneFrame != nil || !outputs.isEmpty)
        while marksStart < marks.count, marks[marksStart].end <= bufferOffset { marksStart += 1 }
        if marksStart > 64 {
            marks.removeFirst(marksStart)
            marksStart = 0
        }
        marks.append(Mark(end: streamOffset, frame: frame, timestamp: timestamp))
        frameAll(atEnd: false)
    }

    /// The packet that carried the byte before `end`.
    private func completion(of end: UInt64) -> (frame: Int, timestamp: Timestamp) {
        while marksStart < marks.count, marks[marksStart].end < end { marksStart += 1 }
        if marksStart > 64 {
            marks.removeFirst(marksStart)
            marksStart = 0
        }
        if marksStart < marks.count { return (marks[marksStart].frame, marks[marksStart].timestamp) }
        return (lastFrame, lastTimestamp)
    }

    private func dropBuffered(_ count: Int) {
        let step = min(count, buffer.readableBytes)
        buffer.moveReaderIndex(forwardBy: step)
        bufferOffset += UInt64(step)
    }

    /// Frames everything the buffer holds, by mode.
    private func frameAll(atEnd: Bool) {
        while true {
            switch mode {
            case .notSMPP, .skipping:
                return
            case .detecting:
                let readable = buffer.readable
                guard let header = PDUHeader.peek(in: readable) else {
                    if atEnd, buffer.readableBytes > 0 { notSMPP() }
                    return
                }
                if forced {
                    guard framer.check(commandLength: header.commandLength) == nil else {
                        mode = .scanning
                        continue
                    }
                } else {
                    guard SMPPHeuristics.isPlausible(header, maximumLength: framer.maximumLength) else {
                        if knownSMPP {
                            mode = .scanning
                            continue
                        }
                        notSMPP()
                        return
                    }
                    // The first PDU must decode as what its header says.
                    let length = Int(header.commandLength)
                    guard length <= readable.count else { return }
                    guard PDULayout.isWellFormed(UnsafeRawBufferPointer(start: readable.baseAddress, count: length))
                    else {
                        if knownSMPP {
                            mode = .scanning
                            continue
                        }
                        notSMPP()
                        return
                    }
                }
                mode = .synced
                becameSMPP()
            case .synced:
                let readable = buffer.readable
                guard let header = PDUHeader.peek(in: readable) else { return }
                if let error = framer.check(commandLength: header.commandLength) {
                    let (frame, timestamp) = completion(of: bufferOffset + 4)
                    output(
                        .diagnostic(
                            "\(error.reason); resynchronising", offset: bufferOffset, frame: frame, timestamp: timestamp
                        ))
                    mode = .scanning
                    continue
                }
                let length = Int(header.commandLength)
                guard length <= readable.count else { return }
                // A damaged command_length shows in what follows, or in a body that does not fit it.
                let next = PDUHeader.peek(in: readable, at: length)
                var digest: PDUDigest?
                if !(next.map { SMPPHeuristics.isPlausible($0, maximumLength: framer.maximumLength) } ?? false) {
                    digest = PDUDigest(bytes: UnsafeRawBufferPointer(start: readable.baseAddress, count: length))
                }
                if digest?.isWellFormed == false {
                    if next != nil {
                        let (frame, timestamp) = completion(of: bufferOffset + 4)
                        output(
                            .diagnostic(
                                "command_length \(length) does not match the bytes that follow; resynchronising",
                                offset: bufferOffset, frame: frame, timestamp: timestamp))
                        mode = .scanning
                        continue
                    }
                    if !atEnd { return }
                }
                let start = buffer.readerIndex
                buffer.moveReaderIndex(forwardBy: length)
                let offset = bufferOffset
                bufferOffset += UInt64(length)
                let done = completion(of: bufferOffset)
                output(
                    FrameOutput(
                        start: start, length: length, offset: offset, frame: done.frame, timestamp: done.timestamp,
                        digest: digest))
            case .scanning:
                guard scan(atEnd: atEnd) else { return }
            }
        }
    }

    private func becameSMPP() {
        if !knownSMPP {
            knownSMPP = true
            output(.detected)
        }
        scanned = 0
    }

    private func notSMPP() {
        mode = .notSMPP
        dropBuffered(buffer.readableBytes)
        pending.removeAll(budget: budget)
    }

    /// Looks for the next plausible PDU. Returns true when framing can go on (synced), false to wait for bytes.
    private func scan(atEnd: Bool) -> Bool {
        let bytes = buffer.readable
        let start = 0
        let end = bytes.count
        var position = start
        while position + PDUHeader.size <= end {
            guard let header = PDUHeader.peek(in: bytes, at: position),
                forced
                    ? framer.check(commandLength: header.commandLength) == nil
                    : SMPPHeuristics.isPlausible(header, maximumLength: framer.maximumLength)
            else {
                position += 1
                continue
            }
            let length = Int(header.commandLength)
            guard position + length <= end else {
                // Not all there yet: keep it as the candidate and wait.
                skipForScan(position - start)
                return false
            }
            guard PDULayout.isWellFormed(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)])) else {
                position += 1
                continue
            }
            let after = position + length
            var confirmed = after == end && (atEnd || knownSMPP)
            if after + PDUHeader.size <= end, let next = PDUHeader.peek(in: bytes, at: after) {
                confirmed = SMPPHeuristics.isPlausible(next, maximumLength: framer.maximumLength)
                if !confirmed {
                    position += 1
                    continue
                }
            } else if !confirmed {
                if atEnd {
                    position += 1
                    continue
                }
                skipForScan(position - start)
                return false
            }
            skipForScan(position - start)
            reportSkipped()
            mode = .synced
            becameSMPP()
            return true
        }
        // Nothing here: keep the last 15 bytes, which may begin a header.
        let keep = atEnd ? 0 : min(PDUHeader.size - 1, end - start)
        skipForScan(end - start - keep)
        if !knownSMPP, scanned > scanBudget { notSMPP() }
        return false
    }

    private func skipForScan(_ count: Int) {
        guard count > 0 else { return }
        if knownSMPP {
            if skipped == nil {
                let (frame, timestamp) = completion(of: bufferOffset + 1)
                skipped = (bufferOffset, 0, frame, timestamp)
            }
            skipped?.count += count
        }
        scanned += count
        dropBuffered(count)
    }

    /// One diagnostic for the bytes skipped while resynchronising.
    private func reportSkipped() {
        guard let skipped else { return }
        self.skipped = nil
        output(
            .diagnostic(
                "skipped \(skipped.count) bytes that do not frame as SMPP, to resynchronise", offset: skipped.offset,
                frame: skipped.frame, timestamp: skipped.timestamp))
    }

    /// Bytes the capture does not have: the framing state decides what is lost with them.
    private func gap(size: Int, frame: Int, timestamp: Timestamp, reason: StreamGap.Reason) {
        guard size > 0 else { return }
        if mode == .notSMPP {
            bufferOffset += UInt64(size)
            nextSequence = nextSequence &+ UInt32(truncatingIfNeeded: size)
            return
        }
        let gapOffset = streamOffset
        if knownSMPP {
            output(.gap(offset: gapOffset, size: size, frame: frame, timestamp: timestamp, reason: reason))
        }
        var nextMode = Mode.scanning
        switch mode {
        case .synced:
            let buffered = buffer.readableBytes
            if buffered == 0 {
                nextMode = .scanning
            } else if let length = buffer.firstWord, framer.check(commandLength: length) == nil {
                // Skip exactly to the next PDU only when the damaged one's header is believable and its rest short;
                // otherwise search, which a damaged length cannot mislead.
                let header = PDUHeader.peek(in: buffer.readable)
                let believable =
                    header.map { SMPPHeuristics.isPlausible($0, maximumLength: framer.maximumLength) } ?? true
                let rest = Int(length) - buffered
                if knownSMPP {
                    output(
                        .diagnostic(
                            "a \(length)-byte PDU lost \(min(rest, size)) bytes in a gap; its \(buffered) bytes are dropped",
                            offset: bufferOffset, frame: frame, timestamp: timestamp))
                }
                if rest > size, believable, rest - size <= Self.exactSkipLimit {
                    nextMode = .skipping(rest - size)
                } else if rest == size, believable {
                    nextMode = .synced
                }
            }
        case .skipping(let left):
            if left > size {
                nextMode = .skipping(left - size)
            } else if left == size {
                nextMode = .synced
            }
        default:
            break
        }
        dropBuffered(buffer.readableBytes)
        bufferOffset += UInt64(size)
        nextSequence = nextSequence &+ UInt32(truncatingIfNeeded: size)
        mode = nextMode
    }
}

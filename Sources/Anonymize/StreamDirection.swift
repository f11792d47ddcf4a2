// One direction of a TCP connection being anonymized: the bytes not yet decided (a PDU still arriving, segments
// that came early), the rewritten bytes kept for the packets that carry them (and for retransmissions), and where
// the rewritten stream is shorter than the original (a blanked password, dropped TLVs), so that sequence and
// acknowledgement numbers can be moved by as much.

import DequeModule

/// One direction of a connection. Offsets are 64-bit positions in the direction's original byte stream (0 is the
/// first byte after the SYN, or the first byte seen); "new" offsets are positions in the rewritten stream.
final class StreamDirection {
    /// The sequence number of offset 0; nil until the SYN or the first data.
    var origin: UInt32?
    /// The highest offset seen, the reference for widening 32-bit sequence numbers.
    private var highest: Int64 = 0
    /// Looking for a plausible SMPP header (after a gap, or when the capture starts inside the stream).
    var resync = true

    // Input: bytes from `decided` on, not yet rewritten.
    private(set) var buffer: [UInt8] = []
    private(set) var bufferHead = 0
    /// Every byte below this offset is decided (rewritten, or zeroed).
    private(set) var decided: Int64 = 0
    /// Segments that came before the bytes ahead of them, by offset.
    private(set) var held: [(offset: Int64, bytes: [UInt8])] = []
    private(set) var heldBytes = 0

    // Output: the rewritten stream's last bytes.
    private var output: [UInt8] = []
    private var outputHead = 0
    /// The new offset of `output[outputHead]`.
    private var outputStart: Int64 = 0
    /// The new offset just past the rewritten bytes kept.
    private var keptEnd: Int64 { outputStart + Int64(output.count - outputHead) }
    /// The new offset of the next rewritten byte.
    private(set) var newDecided: Int64 = 0

    // Where the rewritten stream is shorter: PDUs that shrank, with the total shrinkage before each.
    private var shrinkStarts: [Int64] = []
    private var shrinkOld: [Int32] = []
    private var shrinkNew: [Int32] = []
    private var shrinkBefore: [Int64] = []
    private var shrinkHead = 0
    private var totalShift: Int64 = 0

    /// The payload starts (original offsets) of this direction's packets still waiting to be written, in the
    /// order they will be, and their running minimum: rewritten bytes from the lowest one on are kept whatever
    /// the bound, since those packets will need them.
    private var pins = Deque<Int64>()
    private var pinMinimum = Deque<Int64>()

    /// A packet carrying bytes from `offset` on waits to be written.
    func pin(_ offset: Int64) {
        pins.append(offset)
        while let last = pinMinimum.last, last > offset { pinMinimum.removeLast() }
        pinMinimum.append(offset)
    }

    /// The oldest waiting packet was written.
    func unpin() {
        guard let first = pins.popFirst() else { return }
        if pinMinimum.first == first { pinMinimum.removeFirst() }
    }

    /// Rewritten bytes from before a long gap that waiting packets still need (new offset of the first, bytes).
    private var asides: [(start: Int64, bytes: [UInt8])] = []

    /// The longest run of missing bytes written out as zeros in the output; a longer gap restarts the output
    /// after it, so that a gap costs no memory whatever its length (a sequence number can jump by 2 GiB).
    static let materializedGap = 1 << 16

    /// Held segments per direction (besides their bytes): past it, waiting is given up as past `heldLimit`.
    static let heldSegmentLimit = 4_096

    /// The first held segment's offset, if any.
    var firstHeldOffset: Int64? { held.first?.offset }

    /// Bytes of the stream written as zeros (they could not be read as SMPP).
    private(set) var zeroedBytes = 0

    /// The number of the last packet that touched the direction, for choosing a connection to forget.
    var lastFrame = 0

    /// Bytes kept by the direction (buffer, held segments, output).
    var retained: Int { buffer.count + heldBytes + output.count + asides.reduce(0) { $0 + $1.bytes.count } }

    var bufferedEnd: Int64 { decided + Int64(buffer.count - bufferHead) }
    var buffered: Int { buffer.count - bufferHead }

    /// Sets offset 0 at `sequence`.
    func start(at sequence: UInt32, resync: Bool) {
        origin = sequence
        self.resync = resync
    }

    /// The offset of a sequence number, widened from 32 bits around the highest offset seen; nil before the origin.
    func offset(of sequence: UInt32) -> Int64? {
        guard let origin else { return nil }
        let reference = origin &+ UInt32(truncatingIfNeeded: highest)
        return highest + Int64(Int32(bitPattern: sequence &- reference))
    }

    func saw(upTo offset: Int64) {
        if offset > highest { highest = offset }
    }

    /// The sequence number of a new offset.
    func sequence(ofNew offset: Int64) -> UInt32 {
        (origin ?? 0) &+ UInt32(truncatingIfNeeded: offset)
    }

    /// Where an original offset lies in the rewritten stream. Inside a PDU that shrank, the bytes removed are taken
    /// from its start: the packet that carried its last byte still does (its time is the PDU's time).
    func newOffset(_ offset: Int64) -> Int64 {
        guard shrinkHead < shrinkStarts.count else { return offset - totalShift }
        // The last shrink starting before `offset`.
        var low = shrinkHead
        var high = shrinkStarts.count
        while low < high {
            let middle = (low + high) / 2
            if shrinkStarts[middle] < offset { low = middle + 1 } else { high = middle }
        }
        guard low > shrinkHead else { return offset - shrinkBefore[shrinkHead] }
        let index = low - 1
        let start = shrinkStarts[index]
        let old = Int64(shrinkOld[index])
        let new = Int64(shrinkNew[index])
        let newStart = start - shrinkBefore[index]
        if offset >= start + old { return offset - shrinkBefore[index] - (old - new) }
        return newStart + max(0, offset - start - (old - new))
    }

    // MARK: input

    /// Takes bytes at `offset`: appended when they continue the buffer, held when they come early, ignored where
    /// already decided. Returns false when held segments went over `heldLimit` bytes or ``heldSegmentLimit`` segments
    /// (the caller gives up waiting).
    func receive(_ bytes: UnsafeRawBufferPointer, at offset: Int64, heldLimit: Int) -> Bool {
        let end = offset + Int64(bytes.count)
        saw(upTo: end)
        let bufferedEnd = self.bufferedEnd
        if end <= bufferedEnd { return true }
        if offset > bufferedEnd {
            // After the last held segment with an offset not above this one (segments mostly come in order).
            var low = 0
            var high = held.count
            while low < high {
                let middle = (low + high) / 2
                if held[middle].offset <= offset { low = middle + 1 } else { high = middle }
            }
            held.insert((offset, [UInt8](bytes)), at: low)
            heldBytes += bytes.count
            return heldBytes <= heldLimit && held.count <= Self.heldSegmentLimit
        }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[Int(bufferedEnd - offset)...]))
        absorbHeld()
        return true
    }

    /// Moves held segments that now continue the buffer into it.
    private func absorbHeld() {
        while let first = held.first, first.offset <= bufferedEnd {
            held.removeFirst()
            heldBytes -= first.bytes.count
            let end = first.offset + Int64(first.bytes.count)
            let bufferedEnd = self.bufferedEnd
            if end > bufferedEnd { buffer.append(contentsOf: first.bytes[Int(bufferedEnd - first.offset)...]) }
        }
    }

    /// The undecided bytes, for the caller to read PDUs from.
    func withBuffered<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[bufferHead...])) }
    }

    /// Decides the next `oldLength` buffered bytes as `rewritten`.
    func decide(_ rewritten: [UInt8], replacing oldLength: Int) {
        if rewritten.count != oldLength {
            shrinkStarts.append(decided)
            shrinkOld.append(Int32(oldLength))
            shrinkNew.append(Int32(rewritten.count))
            shrinkBefore.append(totalShift)
            totalShift += Int64(oldLength - rewritten.count)
        }
        consume(oldLength)
        output.append(contentsOf: rewritten)
        newDecided += Int64(rewritten.count)
    }

    /// Decides the next `count` buffered bytes as zeros (they cannot be read as SMPP).
    func scrub(_ count: Int) {
        guard count > 0 else { return }
        zeroedBytes += count
        consume(count)
        output.append(contentsOf: repeatElement(0, count: count))
        newDecided += Int64(count)
    }

    /// Zeroes what is buffered, but for a PDU's 16-byte header when asked.
    private func scrubPartial(keepHeader: Bool) {
        guard keepHeader, !resync else {
            scrub(buffered)
            return
        }
        let kept = min(16, buffered)
        let header = Array(buffer[bufferHead..<(bufferHead + kept)])
        let rest = buffered - kept
        decide(header, replacing: kept)
        scrub(rest)
    }

    private func consume(_ count: Int) {
        bufferHead += count
        decided += Int64(count)
        if bufferHead == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 17)
            bufferHead = 0
        } else if bufferHead >= 1 << 16 {
            buffer.removeFirst(bufferHead)
            bufferHead = 0
        }
    }

    /// Gives up waiting for bytes that did not come: what is buffered (a PDU cut short) is zeroed, the missing bytes
    /// before the first held segment are decided as zeros, and reading resumes at the next plausible header.
    /// Returns false when there was nothing to give up.
    /// `keepHeader`: the buffered bytes start with a plausible header, kept (it holds no personal data) so that
    /// the output still shows a PDU cut short where the input did.
    @discardableResult
    func giveUp(keepHeader: Bool = false) -> Bool {
        guard buffered > 0 || !held.isEmpty else { return false }
        scrubPartial(keepHeader: keepHeader)
        if let first = held.first, first.offset > decided { decideMissing(first.offset - decided) }
        resync = true
        absorbHeld()
        return true
    }

    /// A hole in the stream at the buffer's end (bytes the capture cut by its snapshot length): what is buffered
    /// is zeroed and the hole decided as zeros.
    func hole(_ count: Int, keepHeader: Bool = false) {
        scrubPartial(keepHeader: keepHeader)
        decideMissing(Int64(count))
        resync = true
        absorbHeld()
    }

    /// Decides `count` bytes that did not come as zeros. Up to ``materializedGap`` they are kept in the output
    /// like any other; past it the output restarts after the gap (a packet asking for bytes inside it is given
    /// zeros), and the bytes before it that waiting packets need are set aside.
    private func decideMissing(_ count: Int64) {
        guard count > 0 else { return }
        decided += count
        if count <= Int64(Self.materializedGap) {
            output.append(contentsOf: repeatElement(0, count: Int(count)))
        } else {
            if let pinned = pinMinimum.first {
                let from = max(outputStart, newOffset(pinned))
                if from < keptEnd {
                    let index = outputHead + Int(from - outputStart)
                    asides.append((from, Array(output[index...])))
                }
            }
            output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
            outputHead = 0
            outputStart = newDecided + count
        }
        newDecided += count
    }

    // MARK: output

    /// The rewritten bytes between two new offsets; bytes no longer kept are given as zeros and counted in `lost`.
    func rewritten(_ range: Range<Int64>, lost: inout Int) -> [UInt8] {
        guard !range.isEmpty else { return [] }
        var result: [UInt8] = []
        result.reserveCapacity(range.count)
        var offset = range.lowerBound
        if offset < outputStart {
            let upper = min(range.upperBound, outputStart)
            result.append(contentsOf: repeatElement(0, count: Int(upper - offset)))
            var found = 0
            // Bytes set aside before a long gap.
            for aside in asides {
                let low = max(offset, aside.start)
                let high = min(upper, aside.start + Int64(aside.bytes.count))
                guard low < high else { continue }
                let target = Int(low - offset)
                let source = Int(low - aside.start)
                let count = Int(high - low)
                result.replaceSubrange(target..<(target + count), with: aside.bytes[source..<(source + count)])
                found += count
            }
            lost += Int(upper - offset) - found
            offset = upper
        }
        if offset < range.upperBound {
            let upper = min(range.upperBound, keptEnd)
            if offset < upper {
                let from = outputHead + Int(offset - outputStart)
                result.append(contentsOf: output[from..<(from + Int(upper - offset))])
                offset = upper
            }
            if offset < range.upperBound {
                // Past what was decided: cannot happen for a released packet; zeros rather than anything else.
                let missing = Int(range.upperBound - offset)
                result.append(contentsOf: repeatElement(0, count: missing))
                lost += missing
            }
        }
        return result
    }

    /// ``rewritten(_:lost:)`` written over `bytes` from `start` (as many bytes as the range holds).
    func copyRewritten(_ range: Range<Int64>, into bytes: inout [UInt8], at start: Int, lost: inout Int) {
        guard range.lowerBound >= outputStart, range.upperBound <= keptEnd else {
            let copy = rewritten(range, lost: &lost)
            bytes.replaceSubrange(start..<(start + copy.count), with: copy)
            return
        }
        let from = outputHead + Int(range.lowerBound - outputStart)
        let count = range.count
        output.withUnsafeBytes { source in
            bytes.withUnsafeMutableBytes { target in
                guard let base = target.baseAddress, let sourceBase = source.baseAddress else { return }
                (base + start).copyMemory(from: sourceBase + from, byteCount: count)
            }
        }
    }

    /// Forgets rewritten bytes beyond the last `limit` (kept for retransmissions), and shrink records far behind.
    func trim(keeping limit: Int) {
        let kept = output.count - outputHead
        if kept > limit {
            var drop = kept - limit
            if let pinned = pinMinimum.first {
                // Not what a waiting packet will need.
                drop = min(drop, max(0, Int(newOffset(pinned) - outputStart)))
            }
            outputHead += drop
            outputStart += Int64(drop)
        }
        if !asides.isEmpty {
            // Set-aside bytes are kept while a waiting packet may need them.
            let needed = pinMinimum.first.map(newOffset) ?? .max
            asides.removeAll { $0.start + Int64($0.bytes.count) <= needed }
        }
        if outputHead > 2 * max(limit, 1 << 16) {
            output.removeFirst(outputHead)
            outputHead = 0
        }
        // Shrink records wholly behind what is kept (and an acknowledgement can still name) are folded away.
        let horizon = decided - Int64(4 * max(limit, 1 << 16))
        while shrinkHead < shrinkStarts.count - 1, shrinkStarts[shrinkHead + 1] < horizon { shrinkHead += 1 }
        if shrinkHead > 4_096 {
            shrinkStarts.removeFirst(shrinkHead)
            shrinkOld.removeFirst(shrinkHead)
            shrinkNew.removeFirst(shrinkHead)
            shrinkBefore.removeFirst(shrinkHead)
            shrinkHead = 0
        }
    }
}

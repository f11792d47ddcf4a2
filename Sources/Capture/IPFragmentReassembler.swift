// IPv4 and IPv6 fragments of TCP packets, put back together. Bounded: at most `maximumPending` datagrams wait, for
// at most `timeout` of capture time each, holding at most `maximumHeldBytes` together; a datagram never exceeds
// 64 KiB. Each piece is copied once into its datagram and its new bytes counted, so a datagram cut into many small
// or repeated pieces costs time in proportion to its pieces' bytes, not to their number squared.

import DequeModule

/// Collects IP fragments until a datagram is whole; those given up are reported.
struct IPFragmentReassembler {
    struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var proto: UInt8
    }

    private struct Pending {
        /// The datagram's bytes so far, as long as the furthest piece reaches.
        var bytes: [UInt8] = []
        /// One bit per byte of `bytes`: set once a piece covered it.
        var covered: [UInt64] = []
        var coveredCount = 0
        var totalLength: Int?
        var firstSeen: Timestamp
        var firstFrame: Int
        var pieces = 0

        /// Memory it holds.
        var held: Int { bytes.count + covered.count * 8 + IPFragmentReassembler.overhead }
    }

    private var pending: [Key: Pending] = [:]
    /// Keys in the order their datagrams began, for expiry and for making room; keys already gone are skipped.
    private var order = Deque<(key: Key, firstFrame: Int)>()
    private var heldBytes = 0
    let maximumPending = 1_024
    let timeout: Int64 = 60 * 1_000_000_000
    static let maximumDatagram = 65_535 + 40
    /// Memory all waiting datagrams may hold together.
    static let maximumHeldBytes = 16 << 20
    /// What a waiting datagram costs besides its bytes.
    static let overhead = 128

    /// Adds a fragment; returns the whole payload once every byte is there.
    mutating func add(
        key: Key, offset: Int, last: Bool, bytes: UnsafeRawBufferPointer, at time: Timestamp, frame: Int,
        diagnostics: inout [CaptureDiagnostic]
    ) -> [UInt8]? {
        expire(before: time, diagnostics: &diagnostics)
        let end = offset + bytes.count
        guard end <= Self.maximumDatagram else {
            diagnostics.append(CaptureDiagnostic(frame: frame, message: "IP fragment beyond 64 KiB; dropped"))
            return nil
        }
        var entry: Pending
        if let known = pending.removeValue(forKey: key) {
            entry = known
            heldBytes -= entry.held
        } else {
            if pending.count >= maximumPending { dropOldest("too many incomplete datagrams", &diagnostics) }
            entry = Pending(firstSeen: time, firstFrame: frame)
            order.append((key, frame))
            if order.count > 4 * maximumPending {
                // Keys of datagrams completed or given up stay behind a long-waiting first one: drop them.
                let live = pending
                order = Deque(order.filter { live[$0.key]?.firstFrame == $0.firstFrame })
                order.append((key, frame))
            }
        }
        entry.pieces += 1
        if last { entry.totalLength = end }
        if end > entry.bytes.count {
            entry.bytes.append(contentsOf: repeatElement(0, count: end - entry.bytes.count))
            let words = (end + 63) / 64
            if words > entry.covered.count {
                entry.covered.append(contentsOf: repeatElement(0, count: words - entry.covered.count))
            }
        }
        // Bytes not seen before are taken; bytes seen already keep their first value.
        for index in offset..<end {
            let word = index >> 6
            let bit = UInt64(1) << UInt64(index & 63)
            if entry.covered[word] & bit == 0 {
                entry.covered[word] |= bit
                entry.coveredCount += 1
                entry.bytes[index] = bytes[index - offset]
            }
        }
        if let total = entry.totalLength, entry.bytes.count >= total {
            var covered = 0
            if entry.coveredCount == entry.bytes.count {
                covered = total
            } else {
                covered = (0..<total).reduce(0) { $0 + (entry.covered[$1 >> 6] >> UInt64($1 & 63) & 1 == 1 ? 1 : 0) }
            }
            if covered == total {
                return Array(entry.bytes.prefix(total))
            }
        }
        heldBytes += entry.held
        pending[key] = entry
        while heldBytes > Self.maximumHeldBytes, pending.count > 1 {
            dropOldest("more than \(Self.maximumHeldBytes >> 20) MiB of incomplete datagrams", &diagnostics)
        }
        return nil
    }

    /// Gives up the datagram that began first.
    private mutating func dropOldest(_ why: String, _ diagnostics: inout [CaptureDiagnostic]) {
        while let (key, frame) = order.popFirst() {
            guard let entry = pending[key], entry.firstFrame == frame else { continue }
            pending[key] = nil
            heldBytes -= entry.held
            report(key, entry, why, &diagnostics)
            return
        }
    }

    /// Gives up datagrams that began more than `timeout` before `time`, oldest first.
    private mutating func expire(before time: Timestamp, diagnostics: inout [CaptureDiagnostic]) {
        while let (key, frame) = order.first {
            guard let entry = pending[key], entry.firstFrame == frame else {
                order.removeFirst()
                continue
            }
            guard time.nanoseconds - entry.firstSeen.nanoseconds > timeout else { return }
            order.removeFirst()
            pending[key] = nil
            heldBytes -= entry.held
            report(key, entry, "incomplete after 60 s", &diagnostics)
        }
    }

    mutating func expireAll(diagnostics: inout [CaptureDiagnostic]) {
        for (key, entry) in pending.sorted(by: { $0.value.firstFrame < $1.value.firstFrame }) {
            report(key, entry, "incomplete at the end of the capture", &diagnostics)
        }
        pending = [:]
        order = []
        heldBytes = 0
    }

    private func report(_ key: Key, _ entry: Pending, _ why: String, _ diagnostics: inout [CaptureDiagnostic]) {
        diagnostics.append(
            CaptureDiagnostic(
                frame: entry.firstFrame,
                message:
                    "IP fragments \(key.identification) from \(key.source) to \(key.destination) (\(entry.coveredCount) bytes "
                    + "in \(entry.pieces) pieces) \(why); they are dropped"))
    }
}

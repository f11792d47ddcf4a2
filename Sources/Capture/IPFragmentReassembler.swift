// IPv4 and IPv6 fragments of TCP packets, put back together; bounded in count and in time.

/// Collects IP fragments until a datagram is whole. At most `maximumPending` datagrams wait, each for at most
/// `timeout` of capture time; those given up are reported.
struct IPFragmentReassembler {
    struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var proto: UInt8
    }

    private struct Pending {
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        var totalLength: Int?
        var firstSeen: Timestamp
        var firstFrame: Int
    }

    private var pending: [Key: Pending] = [:]
    let maximumPending = 1_024
    let timeout: Int64 = 60 * 1_000_000_000
    let maximumDatagram = 65_535 + 40

    /// Adds a fragment; returns the whole payload once every byte is there.
    mutating func add(
        key: Key, offset: Int, last: Bool, bytes: UnsafeRawBufferPointer, at time: Timestamp, frame: Int,
        diagnostics: inout [CaptureDiagnostic]
    ) -> [UInt8]? {
        expire(before: time, diagnostics: &diagnostics)
        guard offset + bytes.count <= maximumDatagram else {
            diagnostics.append(CaptureDiagnostic(frame: frame, message: "IP fragment beyond 64 KiB; dropped"))
            return nil
        }
        if pending[key] == nil, pending.count >= maximumPending,
            let oldest = pending.min(by: { $0.value.firstSeen < $1.value.firstSeen })
        {
            pending[oldest.key] = nil
            report(oldest.key, oldest.value, "too many incomplete datagrams", &diagnostics)
        }
        var entry = pending[key] ?? Pending(firstSeen: time, firstFrame: frame)
        entry.pieces.append((offset, Array(bytes)))
        if last { entry.totalLength = offset + bytes.count }
        guard let total = entry.totalLength else {
            pending[key] = entry
            return nil
        }
        var whole = [UInt8](repeating: 0, count: total)
        var covered = [Bool](repeating: false, count: total)
        for piece in entry.pieces where piece.offset < total {
            let end = min(total, piece.offset + piece.bytes.count)
            for index in piece.offset..<end where !covered[index] {
                whole[index] = piece.bytes[index - piece.offset]
                covered[index] = true
            }
        }
        guard covered.allSatisfy({ $0 }) else {
            pending[key] = entry
            return nil
        }
        pending[key] = nil
        return whole
    }

    private mutating func expire(before time: Timestamp, diagnostics: inout [CaptureDiagnostic]) {
        guard !pending.isEmpty else { return }
        for (key, entry) in pending where time.nanoseconds - entry.firstSeen.nanoseconds > timeout {
            pending[key] = nil
            report(key, entry, "incomplete after 60 s", &diagnostics)
        }
    }

    mutating func expireAll(diagnostics: inout [CaptureDiagnostic]) {
        for (key, entry) in pending.sorted(by: { $0.value.firstFrame < $1.value.firstFrame }) {
            report(key, entry, "incomplete at the end of the capture", &diagnostics)
        }
        pending = [:]
    }

    private func report(_ key: Key, _ entry: Pending, _ why: String, _ diagnostics: inout [CaptureDiagnostic]) {
        let bytes = entry.pieces.reduce(0) { $0 + $1.bytes.count }
        diagnostics.append(
            CaptureDiagnostic(
                frame: entry.firstFrame,
                message: "IP fragments \(key.identification) from \(key.source) to \(key.destination) (\(bytes) bytes) "
                    + "\(why); they are dropped"))
    }
}

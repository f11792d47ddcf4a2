// Reads pcap and pcapng captures, streaming, from a path or standard input. Damaged records are reported and
// stepped over: the reader searches for the next plausible record and goes on.

/// Reads the packets of a pcap or pcapng capture, one at a time.
///
/// pcap: microsecond and nanosecond timestamps, both byte orders, snaplen-cut packets. pcapng: sections of
/// either byte order, several interfaces with their own link types, `if_tsresol` and `if_tsoffset`, enhanced,
/// simple and obsolete packet blocks; other blocks are skipped.
public final class CaptureFileReader {
    public enum Format: Hashable, Sendable, CustomStringConvertible {
        case pcap(nanosecond: Bool, bigEndian: Bool)
        case pcapng

        public var description: String {
            switch self {
            case .pcap(let nanosecond, _): return nanosecond ? "pcap (ns)" : "pcap"
            case .pcapng: return "pcapng"
            }
        }
    }

    struct Interface {
        var linkType: LinkType
        var snapLength: Int
        /// Timestamp units: 10^-n when `binary` is false, 2^-n when true.
        var resolutionExponent: Int = 6
        var binaryResolution = false
        var offsetSeconds: Int64 = 0

        /// Nanoseconds since the epoch of a timestamp in this interface's units, saturated at the ends of Int64
        /// where it does not fit (the reader then clamps it to `Timestamp.representable`).
        func nanoseconds(units: UInt64) -> Int64 {
            let n = UInt64(resolutionExponent)
            var value: UInt64
            var overflow = false
            if binaryResolution {
                let whole = units >> n
                let fraction = units & ((1 << n) &- 1)
                let scaled = fraction.multipliedFullWidth(by: 1_000_000_000)
                // (high:low) >> n, where n < 64.
                let fractionNanos = n == 0 ? scaled.low : (scaled.low >> n) | (scaled.high << (64 - n))
                (value, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000)
                if !overflow { (value, overflow) = value.addingReportingOverflow(fractionNanos) }
            } else if resolutionExponent <= 9 {
                var scale: UInt64 = 1
                for _ in 0..<(9 - resolutionExponent) { scale *= 10 }
                (value, overflow) = units.multipliedReportingOverflow(by: scale)
            } else {
                var scale: UInt64 = 1
                for _ in 0..<min(19, resolutionExponent - 9) { scale *= 10 }
                value = units / scale
            }
            if overflow || value > UInt64(Int64.max) { return Int64.max }
            let (offset, offsetOverflow) = offsetSeconds.multipliedReportingOverflow(by: 1_000_000_000)
            if offsetOverflow { return offsetSeconds < 0 ? Int64.min : Int64.max }
            let (sum, sumOverflow) = Int64(value).addingReportingOverflow(offset)
            if sumOverflow { return offset < 0 ? Int64.min : Int64.max }
            return sum
        }
    }

    /// The capture's format.
    public let format: Format
    /// The path given (`-` for standard input).
    public let path: String
    private let source: ByteSource
    private var frame = 0
    private var pendingConsume = 0
    private var diagnostics: [CaptureDiagnostic] = []
    private var finished = false

    // pcap
    private var pcapBigEndian = false
    private var pcapNanoseconds = false
    private var pcapLinkType = LinkType.ethernet
    private var maximumRecord = 262_144
    private var snapLength = 262_144
    private var lastSeconds: UInt32?

    // pcapng
    private var sectionBigEndian = false
    private var interfaces: [Interface] = []
    private var lastTimestamp = Timestamp(nanoseconds: 0)
    /// Packets whose time was outside `Timestamp.representable` and was clamped into it.
    private var clampedTimes = 0

    /// How far a search for the next record after damage goes before giving up.
    static let resyncLimit = 16 << 20
    /// The largest pcapng block read (a packet block holds at most a 256 KiB snapshot; other blocks are small).
    static let maximumBlock = 16 << 20

    /// Opens a capture; "-" reads standard input.
    public init(path: String) throws {
        self.path = path
        source = try ByteSource(path: path)
        guard try source.ensure(4) else {
            let what = source.availableCount == 0 ? "is empty" : "is too short to be a capture"
            throw CaptureError(
                .notACapture, "\(path) \(what)", location: path,
                hint: "smppscope reads pcap and pcapng files (tcpdump -w, dumpcap, Wireshark)")
        }
        let magic = source.available.loadUnaligned(as: UInt32.self)
        switch UInt32(littleEndian: magic) {
        case 0xA1B2_C3D4: format = .pcap(nanosecond: false, bigEndian: false)
        case 0xA1B2_3C4D: format = .pcap(nanosecond: true, bigEndian: false)
        case 0xD4C3_B2A1: format = .pcap(nanosecond: false, bigEndian: true)
        case 0x4D3C_B2A1: format = .pcap(nanosecond: true, bigEndian: true)
        case 0x0A0D_0D0A: format = .pcapng
        default:
            let first = source.available.prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            throw CaptureError(
                .notACapture, "\(path) is not a pcap or pcapng capture (it starts with 0x\(first))", location: path,
                hint: "record one with: tcpdump -i any -w smpp.pcap port 2775")
        }
        if case .pcap(let nanosecond, let bigEndian) = format {
            pcapNanoseconds = nanosecond
            pcapBigEndian = bigEndian
            guard try source.ensure(24) else {
                throw CaptureError(.truncatedHeader, "\(path) ends inside its 24-byte pcap file header", location: path)
            }
            let header = source.available
            snapLength = Int(read32(header, 16, bigEndian))
            pcapLinkType = LinkType(read32(header, 20, bigEndian) & 0x0FFF_FFFF)
            maximumRecord = min(max(snapLength, 262_144), Self.maximumBlock)
            source.consume(24)
        }
    }

    /// The number of bytes read so far, and the total when known, for progress.
    public var bytesRead: Int { source.offset }
    public var totalBytes: Int? { source.size }

    /// True when `takeDiagnostics` has something to return.
    public var hasDiagnostics: Bool { !diagnostics.isEmpty }

    /// Diagnostics found since the last call.
    public func takeDiagnostics() -> [CaptureDiagnostic] {
        // Nearly always empty: returning the array would share its storage and make the next report reallocate.
        if diagnostics.isEmpty { return [] }
        defer { diagnostics.removeAll(keepingCapacity: true) }
        return diagnostics
    }

    /// The next packet, or nil at the end. The packet's data is valid until the next call.
    public func next() throws -> Packet? {
        if pendingConsume > 0 {
            source.consume(pendingConsume)
            pendingConsume = 0
        }
        if finished { return nil }
        var packet: Packet?
        switch format {
        case .pcap: packet = try nextPCAP()
        case .pcapng: packet = try nextPCAPNG()
        }
        guard var found = packet else {
            finished = true
            if clampedTimes > 1 {
                report(
                    "\(clampedTimes) packets in all had times outside \(Timestamp.representableDescription), clamped to it"
                )
            }
            return nil
        }
        if !Timestamp.representable.contains(found.timestamp) {
            clampedTimes += 1
            let clamped = found.timestamp.clamped
            if clampedTimes == 1 {
                report(
                    "packet \(found.frame) has a time (\(found.timestamp.nanoseconds) ns since 1970) outside "
                        + "\(Timestamp.representableDescription); it is taken as \(clamped), as are any others",
                    frame: found.frame)
            }
            found.timestamp = clamped
            packet = found
        }
        return packet
    }

    private func report(_ message: String, frame: Int? = nil, at offset: Int? = nil) {
        diagnostics.append(CaptureDiagnostic(frame: frame, fileOffset: offset ?? source.offset, message: message))
    }

    // MARK: pcap

    private func nextPCAP() throws -> Packet? {
        while true {
            guard try source.ensure(16) else {
                if source.availableCount > 0 {
                    report("the capture ends inside a packet record header (\(source.availableCount) of 16 bytes)")
                }
                return nil
            }
            let header = source.available
            let seconds = read32(header, 0, pcapBigEndian)
            let fraction = read32(header, 4, pcapBigEndian)
            let included = Int(read32(header, 8, pcapBigEndian))
            let original = Int(read32(header, 12, pcapBigEndian))
            guard included <= maximumRecord, fraction < (pcapNanoseconds ? 1_000_000_000 : 1_000_000) else {
                report(
                    "packet record after frame \(frame) is damaged (captured length \(included), "
                        + "fraction \(fraction)); searching for the next record")
                guard try resyncPCAP() else { return nil }
                continue
            }
            guard try source.ensure(16 + included) else {
                report(
                    "the capture ends inside packet \(frame + 1): its record needs \(included) bytes, "
                        + "\(max(0, source.availableCount - 16)) are there", frame: frame + 1)
                return nil
            }
            if included > original || (included < original && included != snapLength) {
                // A length that neither matches the wire length nor the snapshot length: believe it only if a
                // plausible record follows it.
                let next = 16 + included
                let followed =
                    try source.ensure(next + 16)
                    ? plausiblePCAPHeader(source.available, at: next).ok : source.availableCount == next
                if !followed {
                    report(
                        "packet record after frame \(frame) has inconsistent lengths (captured \(included), "
                            + "on the wire \(original)); searching for the next record")
                    guard try resyncPCAP() else { return nil }
                    continue
                }
            }
            frame += 1
            lastSeconds = seconds
            let fractionNanos = pcapNanoseconds ? Int64(fraction) : Int64(fraction) * 1_000
            pendingConsume = 16 + included
            return Packet(
                frame: frame, timestamp: Timestamp(seconds: Int64(seconds), nanoseconds: fractionNanos),
                linkType: pcapLinkType, originalLength: max(original, included),
                data: UnsafeRawBufferPointer(rebasing: source.available[16..<(16 + included)]),
                fileOffset: source.offset)
        }
    }

    /// A strict check for a record header found while searching after damage.
    private func plausiblePCAPHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (ok: Bool, length: Int) {
        guard offset + 16 <= bytes.count else { return (false, 0) }
        let seconds = read32(bytes, offset, pcapBigEndian)
        let fraction = read32(bytes, offset + 4, pcapBigEndian)
        let included = Int(read32(bytes, offset + 8, pcapBigEndian))
        let original = Int(read32(bytes, offset + 12, pcapBigEndian))
        guard included > 0, included <= maximumRecord, original >= included, original <= 1 << 20,
            fraction < (pcapNanoseconds ? 1_000_000_000 : 1_000_000)
        else { return (false, 0) }
        if let lastSeconds, abs(Int64(seconds) - Int64(lastSeconds)) > 7 * 86_400 { return (false, 0) }
        return (true, included)
    }

    private func resyncPCAP() throws -> Bool {
        let damagedAt = source.offset
        var skipped = 0
        while skipped < Self.resyncLimit {
            source.consume(1)
            skipped += 1
            guard try source.ensure(16) else { break }
            let candidate = plausiblePCAPHeader(source.available, at: 0)
            guard candidate.ok else { continue }
            let next = 16 + candidate.length
            if try source.ensure(next + 16) {
                guard plausiblePCAPHeader(source.available, at: next).ok else { continue }
            } else if source.availableCount != next {
                continue
            }
            report("resumed at the next packet record after skipping \(skipped) bytes", at: damagedAt)
            return true
        }
        report("no packet record found after the damage; the rest of the capture is not read", at: damagedAt)
        return false
    }

    // MARK: pcapng

    private static let sectionHeader: UInt32 = 0x0A0D_0D0A

    private func nextPCAPNG() throws -> Packet? {
        while true {
            guard try source.ensure(12) else {
                if source.availableCount > 0 {
                    report("the capture ends inside a block header (\(source.availableCount) bytes)")
                }
                return nil
            }
            var bytes = source.available
            let rawType = bytes.loadUnaligned(as: UInt32.self)
            if rawType == Self.sectionHeader {
                switch UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) {
                case 0x1A2B_3C4D: sectionBigEndian = false
                case 0x4D3C_2B1A: sectionBigEndian = true
                default:
                    report("a section header block has an unknown byte-order magic; searching for the next block")
                    guard try resyncPCAPNG() else { return nil }
                    continue
                }
            }
            let type = read32(bytes, 0, sectionBigEndian)
            let length = Int(read32(bytes, 4, sectionBigEndian))
            guard length >= 12, length % 4 == 0, length <= Self.maximumBlock else {
                report("block of type \(type) has an impossible length \(length); searching for the next block")
                guard try resyncPCAPNG() else { return nil }
                continue
            }
            guard try source.ensure(length) else {
                // Truncated, or a damaged length that points past the end: a block found after it tells which.
                let there = source.availableCount
                if try resyncPCAPNG(quiet: true) {
                    report(
                        "block of type \(type) has a length \(length) past the end of the capture; skipped to the next block"
                    )
                    continue
                }
                report("the capture ends inside a block of \(length) bytes (\(there) are there)")
                return nil
            }
            bytes = source.available
            guard Int(read32(bytes, length - 4, sectionBigEndian)) == length else {
                report("block of type \(type) does not end with its length; searching for the next block")
                guard try resyncPCAPNG() else { return nil }
                continue
            }
            let block = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
            if let packet = handleBlock(type: type, block) {
                pendingConsume = length
                return packet
            }
            source.consume(length)
        }
    }

    /// Handles one whole block; returns a packet for packet blocks.
    private func handleBlock(type: UInt32, _ block: UnsafeRawBufferPointer) -> Packet? {
        let big = sectionBigEndian
        switch type {
        case Self.sectionHeader:
            interfaces = []
        case 1:
            guard block.count >= 20 else {
                report("interface description block too short")
                return nil
            }
            var interface = Interface(
                linkType: LinkType(UInt32(read16(block, 8, big))), snapLength: Int(read32(block, 12, big)))
            forEachOption(block, from: 16) { code, value in
                if code == 9, value.count >= 1 {
                    interface.binaryResolution = value[0] & 0x80 != 0
                    interface.resolutionExponent = min(Int(value[0] & 0x7F), 63)
                } else if code == 14, value.count >= 8 {
                    interface.offsetSeconds = Int64(bitPattern: read64(value, 0, big))
                }
            }
            interfaces.append(interface)
        case 6, 2:
            let enhanced = type == 6
            guard block.count >= 32 else {
                report("packet block too short (\(block.count) bytes)", frame: frame + 1)
                return nil
            }
            let interfaceID = enhanced ? Int(read32(block, 8, big)) : Int(read16(block, 8, big))
            let high = UInt64(read32(block, 12, big))
            let low = UInt64(read32(block, 16, big))
            let captured = Int(read32(block, 20, big))
            let original = Int(read32(block, 24, big))
            guard interfaceID < interfaces.count else {
                report("packet block refers to interface \(interfaceID), which is not described", frame: frame + 1)
                frame += 1
                return nil
            }
            guard 28 + captured <= block.count - 4 else {
                report("packet block's captured length \(captured) runs past the block", frame: frame + 1)
                frame += 1
                return nil
            }
            let interface = interfaces[interfaceID]
            frame += 1
            lastTimestamp = Timestamp(nanoseconds: interface.nanoseconds(units: high << 32 | low))
            return Packet(
                frame: frame, timestamp: lastTimestamp, linkType: interface.linkType,
                originalLength: max(original, captured),
                data: UnsafeRawBufferPointer(rebasing: block[28..<(28 + captured)]), fileOffset: source.offset)
        case 3:
            guard let interface = interfaces.first, block.count >= 16 else {
                report("simple packet block without an interface", frame: frame + 1)
                return nil
            }
            let original = Int(read32(block, 8, big))
            var captured = min(original, block.count - 16)
            if interface.snapLength > 0 { captured = min(captured, interface.snapLength) }
            frame += 1
            return Packet(
                frame: frame, timestamp: lastTimestamp, linkType: interface.linkType, originalLength: original,
                data: UnsafeRawBufferPointer(rebasing: block[12..<(12 + captured)]), fileOffset: source.offset)
        default:
            break
        }
        return nil
    }

    private func forEachOption(
        _ block: UnsafeRawBufferPointer, from start: Int, _ body: (UInt16, UnsafeRawBufferPointer) -> Void
    ) {
        var offset = start
        let end = block.count - 4
        while offset + 4 <= end {
            let code = read16(block, offset, sectionBigEndian)
            let length = Int(read16(block, offset + 2, sectionBigEndian))
            if code == 0 { return }
            guard offset + 4 + length <= end else { return }
            body(code, UnsafeRawBufferPointer(rebasing: block[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + (length + 3) & ~3
        }
    }

    private func plausibleBlock(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 12 else { return nil }
        let raw = bytes.loadUnaligned(as: UInt32.self)
        let type = read32(bytes, 0, sectionBigEndian)
        guard raw == Self.sectionHeader || [1, 2, 3, 4, 5, 6].contains(type) else { return nil }
        let length = Int(read32(bytes, 4, sectionBigEndian))
        guard length >= 12, length % 4 == 0, length <= Self.maximumBlock else { return nil }
        return length
    }

    private func resyncPCAPNG(quiet: Bool = false) throws -> Bool {
        let damagedAt = source.offset
        var skipped = 0
        while skipped < Self.resyncLimit {
            source.consume(1)
            skipped += 1
            guard try source.ensure(12) else { break }
            guard let length = plausibleBlock(source.available) else { continue }
            guard try source.ensure(length), Int(read32(source.available, length - 4, sectionBigEndian)) == length
            else {
                continue
            }
            report("resumed at the next block after skipping \(skipped) bytes", at: damagedAt)
            return true
        }
        if !quiet { report("no block found after the damage; the rest of the capture is not read", at: damagedAt) }
        return false
    }
}

@inline(__always)
func read16(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ bigEndian: Bool) -> UInt16 {
    let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
    return bigEndian ? UInt16(bigEndian: value) : UInt16(littleEndian: value)
}

@inline(__always)
func read32(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ bigEndian: Bool) -> UInt32 {
    let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
    return bigEndian ? UInt32(bigEndian: value) : UInt32(littleEndian: value)
}

@inline(__always)
func read64(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ bigEndian: Bool) -> UInt64 {
    let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    return bigEndian ? UInt64(bigEndian: value) : UInt64(littleEndian: value)
}

// Writes pcap files (nanosecond timestamps) of Ethernet frames, and builds the frames: Ethernet, IPv4 or IPv6, and
// TCP with correct checksums.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A packet to write: its time, its link-layer bytes and their link type, and its length on the wire when the
/// bytes are only its start.
public struct CapturedPacket: Sendable {
    public var timestamp: Timestamp
    public var bytes: [UInt8]
    public var linkType: LinkType
    /// The packet's length on the wire; nil when it is `bytes.count`.
    public var originalLength: Int?

    public init(timestamp: Timestamp, bytes: [UInt8], linkType: LinkType = .ethernet, originalLength: Int? = nil) {
        self.timestamp = timestamp
        self.bytes = bytes
        self.linkType = linkType
        self.originalLength = originalLength
    }

    /// The length written as the original length: never less than the bytes written.
    var wireLength: Int { max(originalLength ?? bytes.count, bytes.count) }
}

/// Writes a pcap or pcapng file with nanosecond timestamps, to a path or `-` (standard output). A pcap holds one
/// link type (Ethernet unless told); a pcapng gets an interface per link type written.
public final class PCAPWriter {
    public enum Format: Sendable {
        case pcap
        case pcapng
    }

    private let file: OutputFile
    public let format: Format
    private var closed = false
    /// Bytes written so far.
    public private(set) var size = 0
    /// Bytes collected before they are written.
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 16
    /// The pcap file's link type; the pcapng file's interfaces, by link type.
    private let linkType: LinkType
    private var interfaces: [LinkType: UInt32] = [.ethernet: 0]

    /// Writes full buffers on a thread of its own, when asked for (a large output).
    private var behind: WriteBehind?
    private let bufferSize: Int

    /// Starts a capture file at `path` ("-": standard output). `atomic` (an export): written under a temporary name
    /// and renamed by `close()`; otherwise in place, readable while it grows (a journal). `writeBehind`: the file is
    /// written by a thread of its own, in 1 MiB buffers, while the caller goes on (errors come at a later `write`
    /// or at `close`).
    public init(
        path: String, format: Format = .pcap, atomic: Bool = true, linkType: LinkType = .ethernet,
        writeBehind: Bool = false
    ) throws {
        self.format = format
        self.linkType = linkType
        file = try OutputFile(path: path, atomic: atomic)
        bufferSize = writeBehind ? 1 << 20 : Self.bufferSize
        if writeBehind {
            let behind = WriteBehind(file: file)
            if behind.start() { self.behind = behind }
        }
        buffer.reserveCapacity(bufferSize + 1_024)
        if format == .pcapng {
            try put(Self.pcapngHeader())
            return
        }
        var header: [UInt8] = []
        header.appendLittleEndian(UInt32(0xA1B2_3C4D))  // nanosecond pcap
        header.appendLittleEndian(UInt16(2))
        header.appendLittleEndian(UInt16(4))
        header.appendLittleEndian(UInt32(0))  // thiszone
        header.appendLittleEndian(UInt32(0))  // sigfigs
        header.appendLittleEndian(UInt32(262_144))  // snaplen
        header.appendLittleEndian(linkType.rawValue)
        try put(header)
    }

    public func write(_ packet: CapturedPacket) throws {
        if format == .pcapng {
            var interface = interfaces[packet.linkType]
            if interface == nil {
                let next = UInt32(interfaces.count)
                try put(Self.interfaceBlock(packet.linkType))
                interfaces[packet.linkType] = next
                interface = next
            }
            try put(Self.enhancedPacketBlock(packet, interface: interface ?? 0))
            return
        }
        guard packet.linkType == linkType else {
            throw CaptureError(
                .cannotWrite, "a pcap file holds packets of one link type (\(linkType)), not \(packet.linkType)",
                location: file.path, hint: "write a pcapng file (name it .pcapng)")
        }
        // pcap's seconds are unsigned 32 bits: times before 1970 are written as 1970, after 2106 as 2106.
        let nanoseconds = min(max(packet.timestamp.nanoseconds, 0), Int64(UInt32.max) * 1_000_000_000 + 999_999_999)
        let seconds = nanoseconds / 1_000_000_000
        let fraction = nanoseconds - seconds * 1_000_000_000
        // The record goes straight into the buffer: a header of four words, then the bytes.
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: seconds))
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: fraction))
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: packet.bytes.count))
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: packet.wireLength))
        buffer.append(contentsOf: packet.bytes)
        size += 16 + packet.bytes.count
        if buffer.count >= bufferSize { try flush() }
    }

    /// Hands what is buffered to the system.
    public func flush() throws {
        guard !closed, !buffer.isEmpty else { return }
        if let behind {
            try behind.submit(&buffer)
            return
        }
        defer { buffer.removeAll(keepingCapacity: true) }
        try file.write(buffer)
    }

    /// Writes what is left and closes the file (renaming it into place when atomic); errors (a full disk) are
    /// reported here, and then no file is left under the name.
    public func close() throws {
        guard !closed else { return }
        do {
            try flush()
            closed = true
            try behind?.finish()
            behind = nil
            try file.close()
        } catch {
            closed = true
            file.abandon()
            throw error
        }
    }

    deinit {
        try? behind?.finish()
    }

    /// Gives the file up (an atomic one is removed).
    public func abandon() {
        closed = true
        try? behind?.finish()
        behind = nil
        file.abandon()
    }

    private func put(_ bytes: [UInt8]) throws {
        buffer += bytes
        size += bytes.count
        if buffer.count >= bufferSize { try flush() }
    }

    /// A section header block and one Ethernet interface with nanosecond timestamps.
    static func pcapngHeader() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt32(0x0A0D_0D0A))
        bytes.appendLittleEndian(UInt32(28))
        bytes.appendLittleEndian(UInt32(0x1A2B_3C4D))
        bytes.appendLittleEndian(UInt16(1))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(UInt64.max)  // section length unknown
        bytes.appendLittleEndian(UInt32(28))
        return bytes + interfaceBlock(.ethernet)
    }

    /// An interface description block: the link type, if_tsresol = 9 (nanoseconds).
    static func interfaceBlock(_ linkType: LinkType) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt32(1))
        bytes.appendLittleEndian(UInt32(32))
        bytes.appendLittleEndian(UInt16(truncatingIfNeeded: linkType.rawValue))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(UInt32(262_144))
        bytes.appendLittleEndian(UInt16(9))
        bytes.appendLittleEndian(UInt16(1))
        bytes += [9, 0, 0, 0]
        bytes.appendLittleEndian(UInt32(0))  // end of options
        bytes.appendLittleEndian(UInt32(32))
        return bytes
    }

    static func enhancedPacketBlock(_ packet: CapturedPacket, interface: UInt32 = 0) -> [UInt8] {
        let padded = (packet.bytes.count + 3) & ~3
        let length = UInt32(truncatingIfNeeded: 32 + padded)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(length))
        bytes.appendLittleEndian(UInt32(6))
        bytes.appendLittleEndian(length)
        bytes.appendLittleEndian(interface)
        // pcapng's units since 1970 are unsigned: times before 1970 are written as 1970.
        let units = UInt64(max(0, packet.timestamp.nanoseconds))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: units >> 32))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: units))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: packet.bytes.count))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: packet.wireLength))
        bytes += packet.bytes
        bytes += [UInt8](repeating: 0, count: padded - packet.bytes.count)
        bytes.appendLittleEndian(length)
        return bytes
    }
}

/// Builds Ethernet frames carrying one TCP segment over IPv4 or IPv6 (both endpoints of the same family).
public enum TCPFrame {
    /// Locally administered MAC addresses, one per side of the conversation.
    static let clientMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
    static let serverMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02]

    public static func ethernet(
        from source: Endpoint, to destination: Endpoint, sequence: UInt32, acknowledgement: UInt32, flags: TCPFlags,
        payload: ArraySlice<UInt8> = [], fromClient: Bool
    ) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(14 + 40 + 20 + payload.count)
        frame += fromClient ? serverMAC : clientMAC
        frame += fromClient ? clientMAC : serverMAC
        let ipv4 = source.address.isIPv4
        frame.appendBigEndian(UInt16(ipv4 ? 0x0800 : 0x86DD))

        var tcp: [UInt8] = []
        tcp.reserveCapacity(20 + payload.count)
        tcp.appendBigEndian(source.port)
        tcp.appendBigEndian(destination.port)
        tcp.appendBigEndian(sequence)
        tcp.appendBigEndian(flags.contains(.ack) ? acknowledgement : 0)
        tcp.append(5 << 4)
        tcp.append(flags.rawValue)
        tcp.appendBigEndian(UInt16(65_535))  // window
        tcp.appendBigEndian(UInt16(0))  // checksum, filled below
        tcp.appendBigEndian(UInt16(0))  // urgent pointer
        tcp += payload

        var pseudo: [UInt8] = []
        if ipv4 {
            pseudo += bytes(of: source.address)
            pseudo += bytes(of: destination.address)
            pseudo.append(0)
            pseudo.append(6)
            pseudo.appendBigEndian(UInt16(truncatingIfNeeded: tcp.count))
        } else {
            pseudo += bytes(of: source.address)
            pseudo += bytes(of: destination.address)
            pseudo.appendBigEndian(UInt32(truncatingIfNeeded: tcp.count))
            pseudo += [0, 0, 0, 6]
        }
        let tcpChecksum = checksum(pseudo + tcp)
        tcp[16] = UInt8(tcpChecksum >> 8)
        tcp[17] = UInt8(tcpChecksum & 0xFF)

        if ipv4 {
            var ip: [UInt8] = [0x45, 0]
            ip.appendBigEndian(UInt16(truncatingIfNeeded: 20 + tcp.count))
            ip.appendBigEndian(UInt16(0))  // identification
            ip.appendBigEndian(UInt16(0x4000))  // don't fragment
            ip.append(64)
            ip.append(6)
            ip.appendBigEndian(UInt16(0))
            ip += bytes(of: source.address)
            ip += bytes(of: destination.address)
            let ipChecksum = checksum(ip)
            ip[10] = UInt8(ipChecksum >> 8)
            ip[11] = UInt8(ipChecksum & 0xFF)
            frame += ip
        } else {
            frame += [0x60, 0, 0, 0]
            frame.appendBigEndian(UInt16(truncatingIfNeeded: tcp.count))
            frame.append(6)
            frame.append(64)
            frame += bytes(of: source.address)
            frame += bytes(of: destination.address)
        }
        frame += tcp
        return frame
    }

    static func bytes(of address: IPAddress) -> [UInt8] {
        if address.isIPv4 {
            let value = UInt32(truncatingIfNeeded: address.low)
            return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        var out: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: address.high >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: address.low >> UInt64(shift)))
        }
        return out
    }

    /// The Internet checksum (RFC 1071).
    static func checksum(_ data: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < data.count {
            sum &+= UInt32(data[index]) << 8 | UInt32(data[index + 1])
            index += 2
        }
        if index < data.count { sum &+= UInt32(data[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) &+ (sum >> 16) }
        return ~UInt16(truncatingIfNeeded: sum)
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

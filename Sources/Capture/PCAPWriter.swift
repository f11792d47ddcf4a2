// Writes pcap files (nanosecond timestamps) of Ethernet frames, and builds the frames: Ethernet, IPv4 or IPv6, and
// TCP with correct checksums.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A packet to write: its time and its link-layer bytes.
public struct CapturedPacket: Sendable {
    public var timestamp: Timestamp
    public var bytes: [UInt8]

    public init(timestamp: Timestamp, bytes: [UInt8]) {
        self.timestamp = timestamp
        self.bytes = bytes
    }
}

/// Writes a pcap or pcapng file with nanosecond timestamps and Ethernet link type, to a path or `-` (standard
/// output).
public final class PCAPWriter {
    public enum Format: Sendable {
        case pcap
        case pcapng
    }

    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private let path: String
    public let format: Format
    private var closed = false
    /// Bytes written so far.
    public private(set) var size = 0

    public init(path: String, format: Format = .pcap) throws {
        self.format = format
        if path == "-" {
            guard let output = fdopen(STDOUT_FILENO, "wb") else {
                throw CaptureError("cannot write to standard output")
            }
            file = output
            ownsFile = false
        } else {
            guard let opened = fopen(path, "wb") else {
                let reason = String(cString: strerror(errno))
                throw CaptureError("cannot write \(path): \(reason)", hint: "check the folder exists and is writable")
            }
            file = opened
            ownsFile = true
        }
        self.path = path
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
        header.appendLittleEndian(LinkType.ethernet.rawValue)
        try put(header)
    }

    deinit {
        if !closed, ownsFile { fclose(file) }
    }

    public func write(_ packet: CapturedPacket) throws {
        if format == .pcapng {
            try put(Self.enhancedPacketBlock(packet))
            return
        }
        var record: [UInt8] = []
        record.reserveCapacity(16 + packet.bytes.count)
        let nanoseconds = packet.timestamp.nanoseconds
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        let fraction = nanoseconds - seconds * 1_000_000_000
        record.appendLittleEndian(UInt32(truncatingIfNeeded: seconds))
        record.appendLittleEndian(UInt32(truncatingIfNeeded: fraction))
        record.appendLittleEndian(UInt32(truncatingIfNeeded: packet.bytes.count))
        record.appendLittleEndian(UInt32(truncatingIfNeeded: packet.bytes.count))
        record.append(contentsOf: packet.bytes)
        try put(record)
    }

    /// Hands what is buffered to the system.
    public func flush() {
        if !closed { fflush(file) }
    }

    /// Flushes and closes the file; errors (a full disk) are reported here.
    public func close() throws {
        guard !closed else { return }
        closed = true
        let flushed = fflush(file) == 0
        let closedCleanly = ownsFile ? fclose(file) == 0 : true
        if !flushed || !closedCleanly {
            throw CaptureError("cannot finish writing \(path): \(String(cString: strerror(errno)))")
        }
    }

    private func put(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if written != bytes.count {
            throw CaptureError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        size += written
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
        // Interface description: Ethernet, if_tsresol = 9 (nanoseconds).
        bytes.appendLittleEndian(UInt32(1))
        bytes.appendLittleEndian(UInt32(32))
        bytes.appendLittleEndian(UInt16(truncatingIfNeeded: LinkType.ethernet.rawValue))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(UInt32(262_144))
        bytes.appendLittleEndian(UInt16(9))
        bytes.appendLittleEndian(UInt16(1))
        bytes += [9, 0, 0, 0]
        bytes.appendLittleEndian(UInt32(0))  // end of options
        bytes.appendLittleEndian(UInt32(32))
        return bytes
    }

    static func enhancedPacketBlock(_ packet: CapturedPacket) -> [UInt8] {
        let padded = (packet.bytes.count + 3) & ~3
        let length = UInt32(truncatingIfNeeded: 32 + padded)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(length))
        bytes.appendLittleEndian(UInt32(6))
        bytes.appendLittleEndian(length)
        bytes.appendLittleEndian(UInt32(0))
        let units = UInt64(bitPattern: packet.timestamp.nanoseconds)
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: units >> 32))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: units))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: packet.bytes.count))
        bytes.appendLittleEndian(UInt32(truncatingIfNeeded: packet.bytes.count))
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
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: address.high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: address.low >> UInt64(shift))) }
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

// Builds link, IP and TCP headers and whole capture files byte by byte, independently of the reader under test.

import Foundation

/// Big-endian byte helpers.
extension Array where Element == UInt8 {
    public mutating func be16(_ value: UInt16) { append(contentsOf: [UInt8(value >> 8), UInt8(value & 0xFF)]) }
    public mutating func be32(_ value: UInt32) {
        append(contentsOf: [
            UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF),
        ])
    }
    public mutating func le16(_ value: UInt16) { append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)]) }
    public mutating func le32(_ value: UInt32) {
        append(contentsOf: [
            UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24),
        ])
    }
    public mutating func le64(_ value: UInt64) {
        le32(UInt32(value & 0xFFFF_FFFF))
        le32(UInt32(value >> 32))
    }
}

/// TCP flag bits.
public enum Flag {
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
}

/// Builds packets.
public enum PacketBuilder {
    /// A TCP header (with a timestamps option when `options` is true) and payload.
    public static func tcp(
        sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32, acknowledgment: UInt32 = 0,
        flags: UInt8 = Flag.ack | Flag.psh, options: Bool = true, payload: [UInt8] = []
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.be16(sourcePort)
        bytes.be16(destinationPort)
        bytes.be32(sequence)
        bytes.be32(acknowledgment)
        let headerLength = options ? 32 : 20
        bytes.append(UInt8(headerLength / 4) << 4)
        bytes.append(flags)
        bytes.be16(65_535)
        bytes.be16(0)
        bytes.be16(0)
        if options {
            bytes += [1, 1, 8, 10]
            bytes.be32(12_345)
            bytes.be32(67_890)
        }
        return bytes + payload
    }

    /// An IPv4 header around a payload.
    public static func ipv4(
        source: UInt32, destination: UInt32, proto: UInt8 = 6, identification: UInt16 = 1, fragmentOffset: Int = 0,
        moreFragments: Bool = false, totalLength: Int? = nil, payload: [UInt8]
    ) -> [UInt8] {
        var bytes: [UInt8] = [0x45, 0]
        bytes.be16(UInt16(totalLength ?? (20 + payload.count)))
        bytes.be16(identification)
        bytes.be16(UInt16(fragmentOffset / 8) | (moreFragments ? 0x2000 : 0))
        bytes += [64, proto]
        bytes.be16(0)
        bytes.be32(source)
        bytes.be32(destination)
        return bytes + payload
    }

    /// An IPv6 header, with optional extension headers given as (type, bytes) in order.
    public static func ipv6(
        source: [UInt8], destination: [UInt8], extensions: [(type: UInt8, bytes: [UInt8])] = [], payload: [UInt8]
    ) -> [UInt8] {
        var chain: [UInt8] = []
        let types = extensions.map(\.type) + [6]
        for (index, ext) in extensions.enumerated() {
            var header = ext.bytes
            header[0] = types[index + 1]
            chain += header
        }
        var bytes: [UInt8] = [0x60, 0, 0, 0]
        bytes.be16(UInt16(chain.count + payload.count))
        bytes += [types[0], 64]
        return bytes + source + destination + chain + payload
    }

    public static func ethernet(etherType: UInt16 = 0x0800, vlans: [UInt16] = [], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]
        for (index, vlan) in vlans.enumerated() {
            bytes.be16(index == 0 && vlans.count > 1 ? 0x88A8 : 0x8100)
            bytes.be16(vlan)
        }
        bytes.be16(etherType)
        return bytes + payload
    }

    public static func linuxSLL(protocol etherType: UInt16 = 0x0800, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.be16(0)
        bytes.be16(772)
        bytes.be16(6)
        bytes += [0, 0, 0, 0, 0, 0, 0, 0]
        bytes.be16(etherType)
        return bytes + payload
    }

    public static func linuxSLL2(protocol etherType: UInt16 = 0x0800, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.be16(etherType)
        bytes.be16(0)
        bytes.be32(1)
        bytes.be16(772)
        bytes += [0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
        return bytes + payload
    }

    /// BSD loopback: address family in little-endian (the capturing host's order).
    public static func null(family: UInt32, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.le32(family)
        return bytes + payload
    }

    public static func loop(family: UInt32, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.be32(family)
        return bytes + payload
    }
}

/// One packet to write into a capture file.
public struct TestPacket {
    public var seconds: UInt32
    public var nanoseconds: UInt32
    public var data: [UInt8]
    public var originalLength: Int?
    public var interface: Int

    public init(seconds: UInt32, nanoseconds: UInt32 = 0, data: [UInt8], originalLength: Int? = nil, interface: Int = 0)
    {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.data = data
        self.originalLength = originalLength
        self.interface = interface
    }
}

/// Writes pcap and pcapng files.
public enum CaptureFileBuilder {
    public static func pcap(
        linkType: UInt32, packets: [TestPacket], nanosecond: Bool = false, bigEndian: Bool = false,
        snapLength: UInt32 = 262_144
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        func u32(_ value: UInt32) { bigEndian ? bytes.be32(value) : bytes.le32(value) }
        func u16(_ value: UInt16) { bigEndian ? bytes.be16(value) : bytes.le16(value) }
        u32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        u16(2)
        u16(4)
        u32(0)
        u32(0)
        u32(snapLength)
        u32(linkType)
        for packet in packets {
            u32(packet.seconds)
            u32(nanosecond ? packet.nanoseconds : packet.nanoseconds / 1_000)
            u32(UInt32(packet.data.count))
            u32(UInt32(packet.originalLength ?? packet.data.count))
            bytes += packet.data
        }
        return bytes
    }

    /// An interface of a pcapng section: link type and `if_tsresol` (nil for the default microseconds).
    public struct Interface {
        public var linkType: UInt16
        public var tsresol: UInt8?
        public init(linkType: UInt16, tsresol: UInt8? = nil) {
            self.linkType = linkType
            self.tsresol = tsresol
        }
    }

    /// A pcapng section (little-endian): header, interfaces, an unknown block, then enhanced packet blocks.
    /// Timestamps are written in each interface's resolution.
    public static func pcapngSection(interfaces: [Interface], packets: [TestPacket], simple: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        func block(_ type: UInt32, _ body: [UInt8]) {
            var padded = body
            while padded.count % 4 != 0 { padded.append(0) }
            bytes.le32(type)
            bytes.le32(UInt32(12 + padded.count))
            bytes += padded
            bytes.le32(UInt32(12 + padded.count))
        }
        var shb: [UInt8] = []
        shb.le32(0x1A2B_3C4D)
        shb.le16(1)
        shb.le16(0)
        shb.le64(UInt64.max)
        block(0x0A0D_0D0A, shb)
        for interface in interfaces {
            var idb: [UInt8] = []
            idb.le16(interface.linkType)
            idb.le16(0)
            idb.le32(262_144)
            if let tsresol = interface.tsresol {
                idb.le16(9)
                idb.le16(1)
                idb += [tsresol, 0, 0, 0]
                idb.le16(0)
                idb.le16(0)
            }
            block(1, idb)
        }
        // A name resolution block and a custom block, both to be skipped.
        block(4, [0, 0, 0, 0])
        block(0x0000_0BAD, [1, 2, 3, 4, 5, 6, 7, 8])
        for packet in packets {
            if simple {
                var spb: [UInt8] = []
                spb.le32(UInt32(packet.data.count))
                block(3, spb + packet.data)
                continue
            }
            let interface = interfaces[packet.interface]
            var units: UInt64
            switch interface.tsresol {
            case nil: units = UInt64(packet.seconds) * 1_000_000 + UInt64(packet.nanoseconds / 1_000)
            case 9?: units = UInt64(packet.seconds) * 1_000_000_000 + UInt64(packet.nanoseconds)
            case let value? where value & 0x80 != 0:
                let bits = UInt64(value & 0x7F)
                units = UInt64(packet.seconds) << bits + (UInt64(packet.nanoseconds) << bits) / 1_000_000_000
            case let value?:
                var scale: UInt64 = 1
                for _ in 0..<value { scale *= 10 }
                units = UInt64(packet.seconds) * scale + UInt64(packet.nanoseconds) * scale / 1_000_000_000
            }
            var epb: [UInt8] = []
            epb.le32(UInt32(packet.interface))
            epb.le32(UInt32(units >> 32))
            epb.le32(UInt32(units & 0xFFFF_FFFF))
            epb.le32(UInt32(packet.data.count))
            epb.le32(UInt32(packet.originalLength ?? packet.data.count))
            block(6, epb + packet.data)
        }
        return bytes
    }

    /// Writes bytes to a new temporary file and returns its path.
    public static func temporaryFile(_ bytes: [UInt8], name: String = "capture") throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("smppscope-test-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url.path
    }
}

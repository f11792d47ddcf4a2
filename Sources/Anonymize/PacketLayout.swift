// Where the link, IP and transport headers of a captured packet are, so that they can be rewritten in place: the
// same link types as the decoder reads (Ethernet with VLAN tags, Linux cooked v1/v2, BSD/OpenBSD loopback, raw IP).

import Capture

/// The headers of one packet, as offsets into its captured bytes.
struct PacketLayout {
    var ipOffset: Int
    var isIPv6: Bool
    /// The transport header's offset (after IPv6 extension headers).
    var transportOffset: Int
    var transportProtocol: UInt8
    /// Where the IP datagram ends by its own length on the wire (may lie past the captured bytes).
    var datagramEnd: Int
    /// A fragment of a larger datagram (its transport bytes cannot be read alone).
    var isFragment: Bool

    /// The layout of `data`; nil when it is not IP (or too short to say).
    static func parse(_ data: UnsafeRawBufferPointer, linkType: LinkType) -> PacketLayout? {
        func be16(_ at: Int) -> Int { Int(data[at]) << 8 | Int(data[at + 1]) }
        var offset = 0
        var version: UInt8 = 0
        switch linkType.rawValue {
        case 1:
            guard data.count >= 14 else { return nil }
            var etherType = be16(12)
            offset = 14
            while etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100 {
                guard data.count >= offset + 4 else { return nil }
                etherType = be16(offset + 2)
                offset += 4
            }
            switch etherType {
            case 0x0800: version = 4
            case 0x86DD: version = 6
            default: return nil
            }
        case 113:
            guard data.count >= 16 else { return nil }
            offset = 16
            switch be16(14) {
            case 0x0800: version = 4
            case 0x86DD: version = 6
            default: return nil
            }
        case 276:
            guard data.count >= 20 else { return nil }
            offset = 20
            switch be16(0) {
            case 0x0800: version = 4
            case 0x86DD: version = 6
            default: return nil
            }
        case 0, 108:
            guard data.count >= 4 else { return nil }
            var family = data.loadUnaligned(as: UInt32.self)
            family = linkType.rawValue == 108 ? UInt32(bigEndian: family) : family
            if family > 0xFFFF { family = family.byteSwapped }
            offset = 4
            switch family {
            case 2: version = 4
            case 10, 23, 24, 28, 30: version = 6
            default: return nil
            }
        case 12, 14, 101, 228, 229:
            guard data.count >= 1 else { return nil }
            version = data[0] >> 4
        default:
            return nil
        }
        if version == 4 {
            guard data.count >= offset + 20, data[offset] >> 4 == 4 else { return nil }
            let headerLength = Int(data[offset] & 0x0F) * 4
            guard headerLength >= 20, data.count >= offset + headerLength else { return nil }
            let total = be16(offset + 2)
            let flagsAndOffset = be16(offset + 6)
            let isFragment = flagsAndOffset & 0x3FFF != 0
            return PacketLayout(
                ipOffset: offset, isIPv6: false, transportOffset: offset + headerLength,
                transportProtocol: data[offset + 9], datagramEnd: offset + max(total, headerLength),
                isFragment: isFragment)
        }
        guard version == 6, data.count >= offset + 40, data[offset] >> 4 == 6 else { return nil }
        let payloadLength = be16(offset + 4)
        var next = data[offset + 6]
        var header = offset + 40
        var isFragment = false
        // Extension headers: hop-by-hop, routing, destination options, authentication, fragment.
        loop: while true {
            switch next {
            case 0, 43, 60:
                guard data.count >= header + 8 else { return nil }
                next = data[header]
                header += (Int(data[header + 1]) + 1) * 8
            case 51:
                guard data.count >= header + 8 else { return nil }
                next = data[header]
                header += (Int(data[header + 1]) + 2) * 4
            case 44:
                guard data.count >= header + 8 else { return nil }
                next = data[header]
                isFragment = true
                header += 8
            default:
                break loop
            }
        }
        return PacketLayout(
            ipOffset: offset, isIPv6: true, transportOffset: header, transportProtocol: next,
            datagramEnd: offset + 40 + payloadLength, isFragment: isFragment)
    }

    /// Source and destination addresses' bytes: where they are in the packet.
    var addressRanges: (source: Range<Int>, destination: Range<Int>) {
        isIPv6
            ? ((ipOffset + 8)..<(ipOffset + 24), (ipOffset + 24)..<(ipOffset + 40))
            : ((ipOffset + 12)..<(ipOffset + 16), (ipOffset + 16)..<(ipOffset + 20))
    }
}

/// The Internet checksum (RFC 1071) and the pieces packet rewriting needs.
enum InternetChecksum {
    /// The one's-complement sum of `bytes` (16-bit big-endian words, an odd last byte padded), added to `initial`:
    /// four bytes at a time into a 64-bit total, folded at the end (the sum does not depend on the word size).
    static func sum(_ bytes: ArraySlice<UInt8>, initial: UInt32 = 0) -> UInt32 {
        var total = UInt64(initial)
        bytes.withUnsafeBytes { raw in
            var index = 0
            let count = raw.count
            while index + 4 <= count {
                total &+= UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt32.self)))
                index += 4
            }
            if index + 2 <= count {
                total &+= UInt64(raw[index]) << 8 | UInt64(raw[index + 1])
                index += 2
            }
            if index < count { total &+= UInt64(raw[index]) << 8 }
        }
        while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
        return UInt32(total)
    }

    static func finish(_ sum: UInt32) -> UInt16 {
        var total = sum
        while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
        return ~UInt16(truncatingIfNeeded: total)
    }

    /// Recomputes an IPv4 header's checksum in place.
    static func fixIPv4Header(_ bytes: inout [UInt8], at offset: Int) {
        let length = Int(bytes[offset] & 0x0F) * 4
        bytes[offset + 10] = 0
        bytes[offset + 11] = 0
        let value = finish(sum(bytes[offset..<(offset + length)]))
        bytes[offset + 10] = UInt8(value >> 8)
        bytes[offset + 11] = UInt8(value & 0xFF)
    }

    /// Recomputes a TCP, UDP or ICMPv6 checksum in place (`checksumAt`: the field's offset within the transport
    /// header), over the pseudo-header and the transport bytes up to `end`.
    static func fixTransport(
        _ bytes: inout [UInt8], layout: PacketLayout, end: Int, checksumAt: Int, pseudoHeader: Bool = true
    ) {
        let start = layout.transportOffset
        guard end <= bytes.count, start + checksumAt + 2 <= end else { return }
        bytes[start + checksumAt] = 0
        bytes[start + checksumAt + 1] = 0
        var initial: UInt32 = 0
        if pseudoHeader {
            let (source, destination) = layout.addressRanges
            initial = sum(bytes[source])
            initial = sum(bytes[destination], initial: initial)
            let length = UInt32(end - start)
            initial += UInt32(layout.transportProtocol) + (length >> 16) + (length & 0xFFFF)
        }
        var value = finish(sum(bytes[start..<end], initial: initial))
        if value == 0, layout.transportProtocol == 17 { value = 0xFFFF }
        bytes[start + checksumAt] = UInt8(value >> 8)
        bytes[start + checksumAt + 1] = UInt8(value & 0xFF)
    }
}

// Link layer -> IPv4 / IPv6 -> TCP: every header bounds-checked, IP fragments put back together.

/// TCP header flags.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
}

/// Finds the TCP segment in a packet, whatever its link type.
public struct PacketDecoder {
    private var fragments = IPFragmentReassembler()
    private var reportedLinkTypes: Set<UInt32> = []

    public init() {}

    /// Decodes a packet and calls `onSegment` for its TCP segment, if it has one. Packets that are not TCP over
    /// IP are skipped silently; damaged ones are reported in `diagnostics`.
    public mutating func decode(
        _ packet: Packet, diagnostics: inout [CaptureDiagnostic], _ onSegment: (TCPSegment) throws -> Void
    ) rethrows {
        let data = packet.data
        var offset = 0
        var version: UInt8 = 0
        switch packet.linkType.rawValue {
        case 1:
            guard data.count >= 14 else { return }
            var etherType = be16(data, 12)
            offset = 14
            while etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100 {
                guard data.count >= offset + 4 else { return }
                etherType = be16(data, offset + 2)
                offset += 4
            }
            switch etherType {
            case 0x0800: version = 4
            case 0x86DD: version = 6
            default: return
            }
        case 113:
            guard data.count >= 16 else { return }
            offset = 16
            switch be16(data, 14) {
            case 0x0800: version = 4
            case 0x86DD: version = 6
            default: return
            }
        case 276:
            guard data.count >= 20 else { return }
            offset = 20
            switch be16(data, 0) {
            case 0x0800: version = 4
            case 0x86DD: version = 6
            default: return
            }
        case 0, 108:
            guard data.count >= 4 else { return }
            var family = data.loadUnaligned(as: UInt32.self)
            family = packet.linkType.rawValue == 108 ? UInt32(bigEndian: family) : family
            if family > 0xFFFF { family = family.byteSwapped }
            offset = 4
            switch family {
            case 2: version = 4
            case 10, 23, 24, 28, 30: version = 6
            default: return
            }
        case 12, 14, 101, 228, 229:
            guard data.count >= 1 else { return }
            version = data[0] >> 4
        default:
            if reportedLinkTypes.insert(packet.linkType.rawValue).inserted {
                diagnostics.append(
                    CaptureDiagnostic(
                        frame: packet.frame,
                        message: "\(packet.linkType) is not supported; its packets are skipped"))
            }
            return
        }
        let ip = UnsafeRawBufferPointer(rebasing: data[offset...])
        switch version {
        case 4: try decodeIPv4(ip, packet, &diagnostics, onSegment)
        case 6: try decodeIPv6(ip, packet, &diagnostics, onSegment)
        default: return
        }
    }

    private mutating func decodeIPv4(
        _ ip: UnsafeRawBufferPointer, _ packet: Packet, _ diagnostics: inout [CaptureDiagnostic],
        _ onSegment: (TCPSegment) throws -> Void
    ) rethrows {
        guard ip.count >= 20, ip[0] >> 4 == 4 else { return }
        let headerLength = Int(ip[0] & 0x0F) * 4
        guard headerLength >= 20, ip.count >= headerLength else {
            diagnostics.append(
                CaptureDiagnostic(frame: packet.frame, message: "IPv4 header length \(headerLength) is invalid"))
            return
        }
        var totalLength = Int(be16(ip, 2))
        if totalLength == 0 { totalLength = ip.count }  // segmentation offload: the header was never filled in
        guard totalLength >= headerLength else {
            diagnostics.append(
                CaptureDiagnostic(
                    frame: packet.frame, message: "IPv4 total length \(totalLength) is shorter than its header"))
            return
        }
        let source = IPAddress(ipv4: be32(ip, 12))
        let destination = IPAddress(ipv4: be32(ip, 16))
        let proto = ip[9]
        let fragmentField = be16(ip, 6)
        let moreFragments = fragmentField & 0x2000 != 0
        let fragmentOffset = Int(fragmentField & 0x1FFF) * 8
        let available = min(totalLength, ip.count)
        let payload = UnsafeRawBufferPointer(rebasing: ip[headerLength..<available])
        if moreFragments || fragmentOffset != 0 {
            guard proto == 6 else { return }
            guard available == totalLength else {
                diagnostics.append(
                    CaptureDiagnostic(frame: packet.frame, message: "IPv4 fragment cut by the capture; it is dropped"))
                return
            }
            let key = IPFragmentReassembler.Key(
                source: source, destination: destination, identification: UInt32(be16(ip, 4)), proto: proto)
            let whole = fragments.add(
                key: key, offset: fragmentOffset, last: !moreFragments, bytes: payload, at: packet.timestamp,
                frame: packet.frame, diagnostics: &diagnostics)
            if let whole {
                try whole.withUnsafeBytes { bytes in
                    try decodeTCP(
                        bytes, ipPayloadLength: bytes.count, source, destination, packet, &diagnostics, onSegment)
                }
            }
            return
        }
        guard proto == 6 else { return }
        try decodeTCP(
            payload, ipPayloadLength: totalLength - headerLength, source, destination, packet, &diagnostics, onSegment)
    }

    private mutating func decodeIPv6(
        _ ip: UnsafeRawBufferPointer, _ packet: Packet, _ diagnostics: inout [CaptureDiagnostic],
        _ onSegment: (TCPSegment) throws -> Void
    ) rethrows {
        guard ip.count >= 40, ip[0] >> 4 == 6 else { return }
        var payloadLength = Int(be16(ip, 4))
        if payloadLength == 0 { payloadLength = ip.count - 40 }  // jumbogram or offload
        let source = IPAddress(ipv6: be64(ip, 8), be64(ip, 16))
        let destination = IPAddress(ipv6: be64(ip, 24), be64(ip, 32))
        var next = ip[6]
        var offset = 40
        let end = min(ip.count, 40 + payloadLength)
        var fragment: (offset: Int, more: Bool, identification: UInt32)?
        while true {
            switch next {
            case 0, 43, 60:
                guard offset + 8 <= end else { return }
                let length = (Int(ip[offset + 1]) + 1) * 8
                next = ip[offset]
                offset += length
            case 51:
                guard offset + 8 <= end else { return }
                let length = (Int(ip[offset + 1]) + 2) * 4
                next = ip[offset]
                offset += length
            case 44:
                guard offset + 8 <= end else { return }
                let field = be16(ip, offset + 2)
                fragment = (Int(field & 0xFFF8), field & 1 != 0, be32(ip, offset + 4))
                next = ip[offset]
                offset += 8
            case 6:
                guard offset <= end else { return }
                let ipPayloadLength = 40 + payloadLength - offset
                let payload = UnsafeRawBufferPointer(rebasing: ip[offset..<end])
                if let fragment {
                    guard end == 40 + payloadLength else {
                        diagnostics.append(
                            CaptureDiagnostic(
                                frame: packet.frame, message: "IPv6 fragment cut by the capture; it is dropped"))
                        return
                    }
                    let key = IPFragmentReassembler.Key(
                        source: source, destination: destination, identification: fragment.identification, proto: 6)
                    let whole = fragments.add(
                        key: key, offset: fragment.offset, last: !fragment.more, bytes: payload, at: packet.timestamp,
                        frame: packet.frame, diagnostics: &diagnostics)
                    if let whole {
                        try whole.withUnsafeBytes { bytes in
                            try decodeTCP(
                                bytes, ipPayloadLength: bytes.count, source, destination, packet, &diagnostics,
                                onSegment)
                        }
                    }
                    return
                }
                try decodeTCP(
                    payload, ipPayloadLength: ipPayloadLength, source, destination, packet, &diagnostics, onSegment)
                return
            default:
                return
            }
            if offset > end { return }
        }
    }

    private func decodeTCP(
        _ tcp: UnsafeRawBufferPointer, ipPayloadLength: Int, _ source: IPAddress, _ destination: IPAddress,
        _ packet: Packet, _ diagnostics: inout [CaptureDiagnostic], _ onSegment: (TCPSegment) throws -> Void
    ) rethrows {
        guard tcp.count >= 20 else {
            diagnostics.append(
                CaptureDiagnostic(
                    frame: packet.frame, message: "TCP header cut short (\(tcp.count) of 20 bytes captured)"))
            return
        }
        let dataOffset = Int(tcp[12] >> 4) * 4
        guard dataOffset >= 20, dataOffset <= ipPayloadLength else {
            diagnostics.append(
                CaptureDiagnostic(frame: packet.frame, message: "TCP data offset \(dataOffset) is invalid"))
            return
        }
        guard dataOffset <= tcp.count else {
            diagnostics.append(
                CaptureDiagnostic(frame: packet.frame, message: "TCP options cut by the capture's snapshot length"))
            return
        }
        let segment = TCPSegment(
            frame: packet.frame, timestamp: packet.timestamp,
            source: Endpoint(address: source, port: be16(tcp, 0)),
            destination: Endpoint(address: destination, port: be16(tcp, 2)),
            sequence: be32(tcp, 4), acknowledgment: be32(tcp, 8), flags: TCPFlags(rawValue: tcp[13] & 0x3F),
            payload: UnsafeRawBufferPointer(rebasing: tcp[dataOffset...]), payloadLength: ipPayloadLength - dataOffset)
        try onSegment(segment)
    }

    /// Fragments still waiting at the end of the capture, reported.
    public mutating func finish(diagnostics: inout [CaptureDiagnostic]) {
        fragments.expireAll(diagnostics: &diagnostics)
    }
}

@inline(__always)
func be16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
    UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

@inline(__always)
func be32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

@inline(__always)
func be64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
}

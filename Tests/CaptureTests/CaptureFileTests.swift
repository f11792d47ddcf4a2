// pcap and pcapng files of every flavour, link types, IP and TCP headers, and damaged files.

@_spi(Lent) import Capture
import Foundation
import TestSupport
import Testing

/// Reads every packet of a capture and its TCP segments.
func readSegments(_ path: String) throws -> (
    segments: [(frame: Int, ns: Int64, payload: [UInt8], source: String, destination: String, flags: UInt8)],
    diagnostics: [CaptureDiagnostic]
) {
    let reader = try CaptureFileReader(path: path)
    var decoder = PacketDecoder()
    var diagnostics: [CaptureDiagnostic] = []
    var result: [(frame: Int, ns: Int64, payload: [UInt8], source: String, destination: String, flags: UInt8)] = []
    while let packet = try reader.next() {
        decoder.decode(packet, diagnostics: &diagnostics) { segment in
            result.append(
                (
                    segment.frame, segment.timestamp.nanoseconds, Array(segment.payload), segment.source.description,
                    segment.destination.description, segment.flags.rawValue
                ))
        }
        diagnostics += reader.takeDiagnostics()
    }
    diagnostics += reader.takeDiagnostics()
    decoder.finish(diagnostics: &diagnostics)
    return (result, diagnostics)
}

private func tcpPacket(_ payload: [UInt8], sequence: UInt32 = 100) -> [UInt8] {
    PacketBuilder.ipv4(
        source: 0x0A00_0001, destination: 0x0A00_0002,
        payload: PacketBuilder.tcp(sourcePort: 40_000, destinationPort: 3_700, sequence: sequence, payload: payload))
}

@Suite("pcap and pcapng files")
struct CaptureFileTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func pcapInBothResolutionsAndByteOrders(nanosecond: Bool, bigEndian: Bool) throws {
        let packets = [
            TestPacket(
                seconds: 1_795_682_046, nanoseconds: 272_603_000,
                data: PacketBuilder.ethernet(payload: tcpPacket([1, 2, 3]))),
            TestPacket(
                seconds: 1_795_682_047, nanoseconds: 123_456_789, data: PacketBuilder.ethernet(payload: tcpPacket([4]))),
        ]
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(linkType: 1, packets: packets, nanosecond: nanosecond, bigEndian: bigEndian))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try CaptureFileReader(path: path)
        #expect(reader.format == .pcap(nanosecond: nanosecond, bigEndian: bigEndian))
        let (segments, diagnostics) = try readSegments(path)
        #expect(diagnostics.isEmpty)
        #expect(segments.map(\.payload) == [[1, 2, 3], [4]])
        #expect(segments[0].ns == 1_795_682_046_272_603_000)
        #expect(segments[1].ns == (nanosecond ? 1_795_682_047_123_456_789 : 1_795_682_047_123_456_000))
        #expect(segments[0].source == "10.0.0.1:40000")
        #expect(segments[0].destination == "10.0.0.2:3700")
    }

    @Test func pcapngWithInterfacesOfDifferentLinkTypesAndResolutions() throws {
        let interfaces = [
            CaptureFileBuilder.Interface(linkType: 1),
            CaptureFileBuilder.Interface(linkType: 113, tsresol: 9),
            CaptureFileBuilder.Interface(linkType: 101, tsresol: 0x80 | 20),
        ]
        let packets = [
            TestPacket(
                seconds: 100, nanoseconds: 1_000, data: PacketBuilder.ethernet(payload: tcpPacket([1])), interface: 0),
            TestPacket(
                seconds: 100, nanoseconds: 123_456_789, data: PacketBuilder.linuxSLL(payload: tcpPacket([2])),
                interface: 1),
            TestPacket(seconds: 101, nanoseconds: 500_000_000, data: tcpPacket([3]), interface: 2),
        ]
        let section = CaptureFileBuilder.pcapngSection(interfaces: interfaces, packets: packets)
        let second = CaptureFileBuilder.pcapngSection(
            interfaces: [CaptureFileBuilder.Interface(linkType: 276)],
            packets: [TestPacket(seconds: 102, data: PacketBuilder.linuxSLL2(payload: tcpPacket([4])))])
        let path = try CaptureFileBuilder.temporaryFile(section + second)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(segments.map(\.payload) == [[1], [2], [3], [4]])
        #expect(segments.map(\.ns) == [100_000_001_000, 100_123_456_789, 101_500_000_000, 102_000_000_000])
        #expect(segments.map(\.frame) == [1, 2, 3, 4])
    }

    @Test func pcapngSimplePacketBlocks() throws {
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcapngSection(
                interfaces: [CaptureFileBuilder.Interface(linkType: 1)],
                packets: [TestPacket(seconds: 0, data: PacketBuilder.ethernet(payload: tcpPacket([9, 9])))],
                simple: true))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, _) = try readSegments(path)
        #expect(segments.map(\.payload) == [[9, 9]])
    }

    @Test func linkTypes() throws {
        let ip = tcpPacket([7])
        let cases: [(UInt32, [UInt8])] = [
            (1, PacketBuilder.ethernet(payload: ip)),
            (1, PacketBuilder.ethernet(vlans: [100], payload: ip)),
            (1, PacketBuilder.ethernet(vlans: [100, 200], payload: ip)),
            (113, PacketBuilder.linuxSLL(payload: ip)),
            (276, PacketBuilder.linuxSLL2(payload: ip)),
            (0, PacketBuilder.null(family: 2, payload: ip)),
            (108, PacketBuilder.loop(family: 2, payload: ip)),
            (101, ip),
            (228, ip),
        ]
        for (linkType, data) in cases {
            let path = try CaptureFileBuilder.temporaryFile(
                CaptureFileBuilder.pcap(linkType: linkType, packets: [TestPacket(seconds: 1, data: data)]))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (segments, diagnostics) = try readSegments(path)
            #expect(segments.map(\.payload) == [[7]], "link type \(linkType)")
            #expect(diagnostics.isEmpty)
        }
    }

    @Test func unsupportedLinkTypeIsReportedOnce() throws {
        let packets = (0..<3).map { _ in TestPacket(seconds: 1, data: [1, 2, 3, 4]) }
        let path = try CaptureFileBuilder.temporaryFile(CaptureFileBuilder.pcap(linkType: 147, packets: packets))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(segments.isEmpty)
        #expect(diagnostics.count == 1)
        #expect(diagnostics[0].message.contains("not supported"))
    }

    @Test func ipv6WithExtensionHeaders() throws {
        let client: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        let server: [UInt8] = [UInt8](repeating: 0, count: 15) + [1]
        let tcp = PacketBuilder.tcp(sourcePort: 50_000, destinationPort: 3_700, sequence: 1, payload: [5, 6])
        let hopByHop: [UInt8] = [0, 0, 1, 4, 0, 0, 0, 0]
        let destinationOptions: [UInt8] = [0, 1, 1, 12] + [UInt8](repeating: 0, count: 12)
        let ip = PacketBuilder.ipv6(
            source: client, destination: server, extensions: [(0, hopByHop), (60, destinationOptions)], payload: tcp)
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(
                linkType: 1,
                packets: [TestPacket(seconds: 1, data: PacketBuilder.ethernet(etherType: 0x86DD, payload: ip))]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(diagnostics.isEmpty)
        #expect(segments.map(\.payload) == [[5, 6]])
        #expect(segments.first?.source == "[2001:db8::1]:50000")
        #expect(segments.first?.destination == "[::1]:3700")
    }

    @Test func ipv4FragmentsAreReassembledInAnyOrder() throws {
        let tcp = PacketBuilder.tcp(
            sourcePort: 1, destinationPort: 2, sequence: 1, options: false, payload: Array(0..<100))
        let first = Array(tcp[0..<56])
        let second = Array(tcp[56..<104])
        let third = Array(tcp[104...])
        func fragment(_ bytes: [UInt8], offset: Int, more: Bool) -> TestPacket {
            TestPacket(
                seconds: 1,
                data: PacketBuilder.ethernet(
                    payload: PacketBuilder.ipv4(
                        source: 1, destination: 2, identification: 77, fragmentOffset: offset, moreFragments: more,
                        payload: bytes)))
        }
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(
                linkType: 1,
                packets: [
                    fragment(third, offset: 104, more: false), fragment(first, offset: 0, more: true),
                    fragment(second, offset: 56, more: true),
                ]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(diagnostics.isEmpty)
        #expect(segments.map(\.payload) == [Array(0..<100)])
    }

    /// A datagram cut into 8-byte pieces, sent backwards, every piece twice and some overlapping with other bytes:
    /// the first bytes seen for each offset win, and the datagram comes out whole once.
    @Test func aDatagramInManySmallRepeatedPiecesComesOutWholeOnce() throws {
        let tcp = PacketBuilder.tcp(
            sourcePort: 1, destinationPort: 2, sequence: 1, options: false, payload: (0..<1_000).map { UInt8($0 % 251) }
        )
        var packets: [TestPacket] = []
        func fragment(_ bytes: [UInt8], offset: Int, more: Bool) -> TestPacket {
            TestPacket(
                seconds: 1,
                data: PacketBuilder.ethernet(
                    payload: PacketBuilder.ipv4(
                        source: 1, destination: 2, identification: 9, fragmentOffset: offset, moreFragments: more,
                        payload: bytes)))
        }
        for offset in stride(from: 0, to: tcp.count, by: 8).reversed() {
            let piece = Array(tcp[offset..<min(tcp.count, offset + 8)])
            let last = offset + 8 >= tcp.count
            packets.append(fragment(piece, offset: offset, more: !last))
            if offset >= 16 {
                // An overlapping piece with other bytes, after the right ones: ignored where they were seen.
                packets.append(fragment([UInt8](repeating: 0xEE, count: 16), offset: offset, more: true))
            }
            // Repeated, but not the piece that completes it (a copy after that would begin a datagram of its own).
            if offset > 0 { packets.append(fragment(piece, offset: offset, more: !last)) }
        }
        let path = try CaptureFileBuilder.temporaryFile(CaptureFileBuilder.pcap(linkType: 1, packets: packets))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(diagnostics.isEmpty)
        #expect(segments.map(\.payload) == [(0..<1_000).map { UInt8($0 % 251) }])
    }

    @Test func incompleteFragmentsAreReported() throws {
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(
                linkType: 101,
                packets: [
                    TestPacket(
                        seconds: 1,
                        data: PacketBuilder.ipv4(
                            source: 1, destination: 2, identification: 5, moreFragments: true,
                            payload: [UInt8](repeating: 0, count: 32)))
                ]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(segments.isEmpty)
        #expect(diagnostics.count == 1)
        #expect(diagnostics[0].message.contains("fragments"))
    }

    @Test func snapLengthCutPacketsKeepTheirDeclaredLength() throws {
        let full = PacketBuilder.ethernet(payload: tcpPacket([UInt8](repeating: 0x41, count: 100)))
        let cut = Array(full.prefix(full.count - 40))
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(
                linkType: 1, packets: [TestPacket(seconds: 1, data: cut, originalLength: full.count)],
                snapLength: UInt32(cut.count)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try CaptureFileReader(path: path)
        var decoder = PacketDecoder()
        var diagnostics: [CaptureDiagnostic] = []
        var seen: (Int, Int)?
        while let packet = try reader.next() {
            #expect(packet.originalLength == full.count)
            decoder.decode(packet, diagnostics: &diagnostics) { segment in
                seen = (segment.payload.count, segment.payloadLength)
            }
        }
        #expect(seen?.0 == 60)
        #expect(seen?.1 == 100)
    }

    @Test func paddingAfterTheIPPacketIsNotPayload() throws {
        let data = PacketBuilder.ethernet(payload: tcpPacket([1, 2])) + [0, 0, 0, 0, 0, 0]
        let path = try CaptureFileBuilder.temporaryFile(
            CaptureFileBuilder.pcap(linkType: 1, packets: [TestPacket(seconds: 1, data: data)]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try readSegments(path).segments.map(\.payload) == [[1, 2]])
    }
}

@Suite("Damaged and foreign files")
struct DamagedCaptureTests {
    private static func sample(count: Int = 50) -> [UInt8] {
        let packets = (0..<count).map { index in
            TestPacket(
                seconds: 1_000 + UInt32(index),
                data: PacketBuilder.ethernet(payload: tcpPacket([UInt8(index & 0xFF)], sequence: UInt32(index))))
        }
        return CaptureFileBuilder.pcap(linkType: 1, packets: packets)
    }

    @Test func emptyAndForeignFilesAreClearErrors() throws {
        for (bytes, expected) in [
            ([UInt8](), "is empty"), (Array("GET / HTTP/1.1\r\n".utf8), "not a pcap or pcapng"),
            ([0xA1, 0xB2], "too short"),
        ] {
            let path = try CaptureFileBuilder.temporaryFile(bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: CaptureError.self) { try CaptureFileReader(path: path) }
            #expect(error?.reason.contains(expected) == true, "\(error?.reason ?? "")")
            #expect(error?.code == .notACapture)
            #expect(error?.location == path)
            #expect(error?.hint != nil)
        }
        let header = try CaptureFileBuilder.temporaryFile(Array(Self.sample().prefix(20)))
        defer { try? FileManager.default.removeItem(atPath: header) }
        let cut = #expect(throws: CaptureError.self) { try CaptureFileReader(path: header) }
        #expect(cut?.code == .truncatedHeader)
        let missing = #expect(throws: CaptureError.self) { try CaptureFileReader(path: "/nonexistent/capture.pcap") }
        #expect(missing?.reason.contains("cannot open") == true)
        #expect(missing?.code == .cannotOpen && missing?.location == "/nonexistent/capture.pcap")
        let directory = #expect(throws: CaptureError.self) { try CaptureFileReader(path: "/tmp") }
        #expect(directory?.reason.contains("directory") == true)
        #expect(directory?.code == .cannotOpen)
    }

    @Test func truncatedFileKeepsWhatPrecedes() throws {
        let bytes = Self.sample()
        let record = (bytes.count - 24) / 50
        for cut in stride(from: 24, to: bytes.count, by: 37) {
            let path = try CaptureFileBuilder.temporaryFile(Array(bytes.prefix(cut)))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (segments, diagnostics) = try readSegments(path)
            let whole = (cut - 24) / record
            #expect(segments.count == whole, "cut at \(cut)")
            #expect(diagnostics.count == ((cut - 24) % record == 0 ? 0 : 1))
        }
    }

    @Test func damagedRecordHeaderIsSkippedAndTheRestRead() throws {
        var bytes = Self.sample()
        // The 11th record's captured length becomes huge.
        let record = 24 + 10 * (bytes.count - 24) / 50
        bytes[record + 8] = 0xFF
        bytes[record + 9] = 0xFF
        bytes[record + 10] = 0xFF
        let path = try CaptureFileBuilder.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(segments.count == 49)
        #expect(segments.map(\.payload).contains([10]) == false)
        #expect(segments.last?.payload == [49])
        #expect(diagnostics.contains { $0.message.contains("damaged") })
        #expect(diagnostics.contains { $0.message.contains("resumed") })
    }

    @Test func lengthThatDisagreesWithTheWireIsNotBelieved() throws {
        var bytes = Self.sample()
        let record = 24 + 20 * (bytes.count - 24) / 50
        bytes[record + 9] ^= 0x01  // captured length + 256, more than on the wire
        let path = try CaptureFileBuilder.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, _) = try readSegments(path)
        #expect(segments.count == 49)
        #expect(segments.last?.payload == [49])
    }

    @Test func damagedPcapngBlockIsSkipped() throws {
        let packets = (0..<20).map {
            TestPacket(seconds: UInt32($0), data: PacketBuilder.ethernet(payload: tcpPacket([UInt8($0)])))
        }
        var bytes = CaptureFileBuilder.pcapngSection(
            interfaces: [CaptureFileBuilder.Interface(linkType: 1)], packets: packets)
        // Damage the length of the fifth packet block.
        let blockSize = 12 + 20 + (PacketBuilder.ethernet(payload: tcpPacket([0])).count + 3) / 4 * 4
        let firstPacketBlock = bytes.count - 20 * blockSize
        bytes[firstPacketBlock + 4 * blockSize + 5] = 0x7F
        let path = try CaptureFileBuilder.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (segments, diagnostics) = try readSegments(path)
        #expect(segments.count == 19)
        #expect(segments.last?.payload == [19])
        #expect(!diagnostics.isEmpty)
    }

    /// Random files and bit-flipped copies of a valid one (seeded, so a failure repeats): reading never fails once
    /// the file header is intact, a flipped bit can corrupt at most the one packet it lands in (no segment comes
    /// out that the original did not have, beyond one per flip), and random records are reported as damage.
    @Test func randomAndBitFlippedFilesAreReadWithoutError() throws {
        var random = SplitMix64(seed: 20_261_206)
        let base = Self.sample(count: 200)
        let clean = try CaptureFileBuilder.temporaryFile(base)
        defer { try? FileManager.default.removeItem(atPath: clean) }
        let (original, none) = try readSegments(clean)
        #expect(original.count == 200)
        #expect(none.isEmpty)
        let payloads = Set(original.map(\.payload))
        for round in 0..<60 {
            var bytes = base
            let flips = 1 + round
            if round % 3 == 0 {
                bytes = Array(base.prefix(24)) + (0..<4_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                for _ in 0..<flips {
                    // Past the 24-byte file header, which says what the file is.
                    let index = 24 + Int(random.next() % UInt64(bytes.count - 24))
                    bytes[index] ^= UInt8(1) << UInt8(random.next() % 8)
                }
            }
            let path = try CaptureFileBuilder.temporaryFile(bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (segments, diagnostics) = try readSegments(path)
            if round % 3 == 0 {
                #expect(!diagnostics.isEmpty, "round \(round): random records are reported")
            } else {
                let foreign = segments.filter { !payloads.contains($0.payload) }.count
                #expect(foreign <= flips, "round \(round): \(foreign) segments the original does not have")
                #expect(segments.count <= 200 + flips, "round \(round)")
            }
        }
    }
}

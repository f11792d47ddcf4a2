// Departures from SMPP in hand-built sessions: each kind found with its side, its clause and the frames that show
// it; a session that follows the specification shows none.

import Capture
import Foundation
import Ingest
import NIOCore
import Profile
import Reassembly
import SMPP
import TestSupport
import Testing
import Timeline

/// The profiler run over packets, as `smppscope profile` runs it over a capture.
func profiled(_ conversations: [TCPConversation], maximumSessions: Int = 65_536) throws -> (
    ProviderProfile, ConformanceReport
) {
    let packets = conversations.flatMap(\.packets).sorted {
        ($0.seconds, $0.nanoseconds) < ($1.seconds, $1.nanoseconds)
    }
    let path = try CaptureFileBuilder.temporaryFile(
        CaptureFileBuilder.pcap(linkType: 1, packets: packets, nanosecond: true))
    defer { try? FileManager.default.removeItem(atPath: path) }
    var profiler = ProviderProfiler(maximumSessions: maximumSessions)
    try CaptureIngest(source: try PacketSource.open(path: path), configuration: ReassemblyConfiguration()).run {
        profiler.consume($0)
    }
    return (profiler.profile(source: "test"), profiler.conformance(source: "test"))
}

func encoded(_ pdu: PDU) -> [UInt8] { Array(pdu.encoded.readableBytesView) }

@Suite("Conformance")
struct ConformanceTests {
    @Test func eachDepartureIsFoundWithItsSideClauseAndFrames() throws {
        var link = TCPConversation()
        link.handshake()
        link.send(Sample.bind(sequence: 1), from: .client)
        link.send(Sample.bindResponse(sequence: 1), from: .server)
        // sequence_number 0, answered ESME_RTHROTTLED with a body (SMPP 3.4 bind): two departures.
        link.send(Sample.submit(sequence: 0, text: "zero"), from: .client)
        link.send(encoded(PDU(.submitSMResp, status: .throttled, sequence: 0, body: .messageID(""))), from: .server)
        // A status SMPP reserves, and a vendor's (0x401: allowed, but not standard).
        link.send(Sample.submit(sequence: 2, text: "two"), from: .client)
        link.send(encoded(PDU(.submitSMResp, status: CommandStatus(0x123), sequence: 2)), from: .server)
        link.send(Sample.submit(sequence: 3, text: "three"), from: .client)
        link.send(encoded(PDU(.submitSMResp, status: CommandStatus(0x401), sequence: 3)), from: .server)
        // A reserved TLV tag and a vendor one in a deliver_sm.
        link.send(
            encoded(
                PDU(
                    .deliverSM, sequence: 7,
                    body: .shortMessage(
                        .init(
                            source: Address(address: "77011234567"), destination: Address(address: "SHOP"),
                            shortMessage: ByteBuffer(string: "hi"))),
                    tlvs: [TLV(tag: TLVTag(0x1234), octets: [1]), TLV(tag: TLVTag(0x1401), octets: [2])])),
            from: .server)
        link.send(encoded(PDU(.deliverSMResp, sequence: 7, body: .messageID(""))), from: .client)
        // generic_nack for a well-formed enquire_link.
        link.send(Sample.enquireLink(sequence: 5), from: .client)
        link.send(encoded(PDU(.genericNack, status: .invalidCommandID, sequence: 5)), from: .server)
        // A response nothing asked for.
        link.send(Sample.submitResponse(sequence: 99, id: "1"), from: .server)
        // enquire_link with four bytes it has no room for: a malformed field.
        var extra = encoded(PDU(.enquireLink, sequence: 9))
        extra += [0, 0, 0, 0]
        extra[3] = UInt8(extra.count)
        link.send(extra, from: .client)
        link.send(encoded(PDU(.enquireLinkResp, sequence: 9)), from: .server)
        // An enquire_link the SMSC never answers although it goes on sending for 12 s.
        link.send(Sample.enquireLink(sequence: 10), from: .client)
        link.wait(microseconds: 12_000_000)
        link.send(Sample.deliver(sequence: 11, text: "later"), from: .server)
        link.send(encoded(PDU(.deliverSMResp, sequence: 11, body: .messageID(""))), from: .client)
        // A command id SMPP reserves.
        link.send(
            encoded(
                PDU(
                    header: PDUHeader(commandID: CommandID(0x99), commandStatus: .ok, sequenceNumber: 8),
                    body: .opaque(ByteBuffer()))), from: .client)
        link.fin(from: .client)

        let (profile, report) = try profiled([link])
        func departure(_ code: ConformanceCode, _ side: String) -> ConformanceReport.Departure? {
            report.departures.first { $0.code == code.rawValue && $0.side == side }
        }
        #expect(departure(.sequenceNumberOutOfRange, "esme")?.count == 1)
        #expect(departure(.sequenceNumberOutOfRange, "esme")?.evidence.first?.detail == "sequence_number 0")
        #expect(departure(.errorResponseWithBody, "smsc")?.count == 1)
        #expect(departure(.errorResponseWithBody, "smsc")?.clause.contains("§4.4.2") == true)
        #expect(departure(.reservedCommandStatus, "smsc")?.count == 1, "0x401 is a vendor's, not reserved")
        #expect(departure(.reservedCommandStatus, "smsc")?.evidence.first?.detail == "command_status 0x00000123")
        #expect(departure(.reservedTLVTag, "smsc")?.count == 1)
        #expect(departure(.reservedTLVTag, "smsc")?.evidence.first?.detail == "TLV tag 0x1234")
        #expect(departure(.genericNackForValidRequest, "smsc")?.count == 1)
        #expect(
            departure(.responseWithoutRequest, "smsc")?.count == 1,
            "\(departure(.responseWithoutRequest, "smsc")?.evidence ?? [])")
        #expect(departure(.reservedCommandID, "esme")?.count == 1)
        #expect(departure(.malformedField, "esme")?.count == 1)
        #expect(departure(.requestNotAnswered, "smsc")?.count == 1, "\(report.departures.map(\.code))")
        #expect(departure(.requestNotAnswered, "smsc")?.evidence.first?.command == "enquire_link")
        #expect(
            departure(.malformedField, "esme")?.evidence.first?.sequence == 9, "\(report.departures.map(\.evidence))")
        #expect(report.departures.count == 9, "\(report.departures.map { "\($0.code) \($0.side)" })")
        // Evidence points at the frames: the first departure's PDU is the submit with sequence 0.
        let frame = try #require(departure(.sequenceNumberOutOfRange, "esme")?.evidence.first?.frame)
        #expect(frame == 6, "handshake 3, bind, bind_resp, then the submit: frame \(frame)")

        let smsc = try #require(profile.smscs.first)
        #expect(smsc.quirks.nonStandardStatuses == ["0x00000123": 1, "0x00000401": 1])
        #expect(smsc.quirks.vendorTLVs == ["0x1234": 1, "0x1401": 1])
        #expect(smsc.quirks.genericNacks == ["ESME_RINVCMDID": 1])
        #expect(smsc.responses["submit_sm"]?.errorsWithBody == 1)
        #expect(smsc.responses["submit_sm"]?.errorsWithoutBody == 2)
    }

    @Test func aSessionThatFollowsTheSpecificationShowsNone() throws {
        var link = TCPConversation()
        link.handshake()
        link.send(Sample.bind(sequence: 1), from: .client)
        link.send(Sample.bindResponse(sequence: 1), from: .server)
        for sequence in 2...6 {
            link.send(Sample.submit(sequence: UInt32(sequence), text: "m\(sequence)"), from: .client)
            link.send(Sample.submitResponse(sequence: UInt32(sequence), id: "\(100 + sequence)"), from: .server)
        }
        link.send(Sample.submit(sequence: 7, text: "m7"), from: .client)
        link.send(encoded(PDU(.submitSMResp, status: .throttled, sequence: 7)), from: .server)
        link.send(Sample.enquireLink(sequence: 8), from: .client)
        link.send(encoded(PDU(.enquireLinkResp, sequence: 8)), from: .server)
        link.send(Sample.unbind(sequence: 9), from: .client)
        link.send(Sample.unbindResponse(sequence: 9), from: .server)
        link.fin(from: .client)
        let (_, report) = try profiled([link])
        #expect(report.departures.isEmpty, "\(report.departures.map(\.code))")
    }

    /// A request the capture lost (a gap in the client's stream): its response answers nothing the input has, and
    /// that says nothing of the SMSC.
    @Test func aResponseWhoseRequestIsInAGapIsNoDeparture() throws {
        var link = TCPConversation()
        link.handshake()
        link.send(Sample.bind(sequence: 1), from: .client)
        link.send(Sample.bindResponse(sequence: 1), from: .server)
        link.send(Sample.submit(sequence: 2, text: "lost"), from: .client, record: false)
        link.send(Sample.submitResponse(sequence: 2, id: "100"), from: .server)
        link.send(Sample.submit(sequence: 3, text: "kept"), from: .client)
        link.send(Sample.submitResponse(sequence: 3, id: "101"), from: .server)
        link.fin(from: .client)
        let (profile, report) = try profiled([link])
        #expect(report.departures.isEmpty, "\(report.departures.map(\.code))")
        #expect(profile.smscs.first?.responses["submit_sm"]?.count == 1, "the answer to the request it has")
    }

    /// Past the bound on connections followed at once, the quietest are judged as if they had ended: what they show
    /// is still reported, and every connection is still counted.
    @Test func connectionsPastTheBoundAreJudgedAndLetGo() throws {
        var links: [TCPConversation] = []
        for index in 0..<10 {
            var link = TCPConversation(clientPort: UInt16(42_000 + index))
            // The others start after the first has gone quiet: it is among the quietest when the bound is reached.
            if index > 0 { link.wait(microseconds: 13_000_000 + UInt32(index) * 1_000) }
            link.handshake()
            link.send(Sample.bind(sequence: 1), from: .client)
            link.send(Sample.bindResponse(sequence: 1), from: .server)
            if index == 0 {
                // The first connection's enquire_link is never answered, though the SMSC goes on for 12 s.
                link.send(Sample.enquireLink(sequence: 2), from: .client)
                link.wait(microseconds: 12_000_000)
                link.send(Sample.deliver(sequence: 3, text: "later"), from: .server)
            }
            links.append(link)
        }
        let (profile, report) = try profiled(links, maximumSessions: 4)
        #expect(profile.smscs.first?.sessions == 10)
        #expect(report.departures.map(\.code) == ["request_not_answered"])
    }
}

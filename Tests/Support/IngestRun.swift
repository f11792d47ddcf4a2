// Runs packets through the whole ingest path and keeps what the tests look at; sample PDUs for scripted sessions.

import Capture
import Foundation
import Ingest
import NIOCore
import Reassembly
import SMPP
import Timeline

/// What one run produced.
public struct Run {
    public struct Item {
        public var session: Int
        public var command: String
        public var sequence: UInt32
        public var frame: Int
        public var nanoseconds: Int64
        public var source: String
        public var destination: String
        public var fromClient: Bool?
        public var streamOffset: UInt64
        public var bytes: [UInt8]
        public var pdu: PDU
    }

    public var pdus: [Item] = []
    public var opened: [Session] = []
    public var gaps: [StreamGap] = []
    public var ends: [ConnectionEnd] = []
    public var diagnostics: [String] = []
    /// The sessions as they stood at the end.
    public var sessions: [Int: Session] = [:]

    public var commands: [String] { pdus.map(\.command) }
}

public func run(path: String, configuration: ReassemblyConfiguration = ReassemblyConfiguration()) throws -> Run {
    let ingest = CaptureIngest(source: try PacketSource.open(path: path), configuration: configuration)
    var result = Run()
    try ingest.run { event in
        switch event {
        case .pdu(let item):
            result.pdus.append(
                Run.Item(
                    session: item.session, command: item.header.commandID.name, sequence: item.header.sequenceNumber,
                    frame: item.frame, nanoseconds: item.timestamp.nanoseconds, source: item.source.description,
                    destination: item.destination.description, fromClient: item.fromClient,
                    streamOffset: item.streamOffset, bytes: Array(item.raw.readableBytesView), pdu: item.decoded()))
        case .sessionOpened(let session): result.opened.append(session)
        case .gap(let gap): result.gaps.append(gap)
        case .sessionEnded(let end, _): result.ends.append(end)
        case .streamDiagnostic(let diagnostic): result.diagnostics.append(diagnostic.description)
        case .captureDiagnostic(let diagnostic): result.diagnostics.append(diagnostic.description)
        }
    }
    result.sessions = ingest.tracker.sessions
    return result
}

public func run(
    packets: [TestPacket], linkType: UInt32 = 1, configuration: ReassemblyConfiguration = ReassemblyConfiguration()
) throws -> Run {
    let path = try CaptureFileBuilder.temporaryFile(
        CaptureFileBuilder.pcap(linkType: linkType, packets: packets, nanosecond: true))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try run(path: path, configuration: configuration)
}

/// PDUs for scripted sessions, encoded by the codec.
public enum Sample {
    public static func bytes(_ pdu: PDU) -> [UInt8] { Array(pdu.encoded.readableBytesView) }

    public static func bind(sequence: UInt32 = 1, systemType: String = "") -> [UInt8] {
        bytes(
            PDU(
                .bindTransceiver, sequence: sequence,
                body: .bind(.init(systemID: "esme", password: "secret", systemType: systemType))))
    }

    public static func bindResponse(sequence: UInt32 = 1) -> [UInt8] {
        bytes(PDU(.bindTransceiverResp, sequence: sequence, body: .bindResponse(.init(systemID: "SMSC"))))
    }

    public static func submit(sequence: UInt32, text: String = "hello") -> [UInt8] {
        bytes(
            PDU(
                .submitSM, sequence: sequence,
                body: .shortMessage(
                    .init(
                        source: Address(ton: 5, address: "SHOP"),
                        destination: Address(ton: 1, npi: 1, address: "77011234567"),
                        registeredDelivery: 1, shortMessage: ByteBuffer(string: text)))))
    }

    public static func submitResponse(sequence: UInt32, id: String) -> [UInt8] {
        bytes(PDU(.submitSMResp, sequence: sequence, body: .messageID(id)))
    }

    /// A receipt by TLVs alone: receipted_message_id and message_state DELIVERED, no text.
    public static func deliveredByTLV(sequence: UInt32, id: String) -> [UInt8] {
        bytes(
            PDU(
                .deliverSM, sequence: sequence,
                body: .shortMessage(
                    .init(
                        source: Address(ton: 1, npi: 1, address: "77011234567"),
                        destination: Address(ton: 5, address: "SHOP"), esmClass: 0x04)),
                tlvs: [
                    TLV(tag: .receiptedMessageID, cString: id),
                    TLV(tag: .messageState, integer: 2, width: 1),
                ]))
    }

    public static func deliver(sequence: UInt32, text: String) -> [UInt8] {
        bytes(
            PDU(
                .deliverSM, sequence: sequence,
                body: .shortMessage(
                    .init(
                        source: Address(ton: 1, npi: 1, address: "77011234567"),
                        destination: Address(ton: 5, address: "SHOP"),
                        esmClass: 0x04, shortMessage: ByteBuffer(string: text)))))
    }

    public static func enquireLink(sequence: UInt32) -> [UInt8] { bytes(PDU(.enquireLink, sequence: sequence)) }
    public static func unbind(sequence: UInt32) -> [UInt8] { bytes(PDU(.unbind, sequence: sequence)) }
    public static func unbindResponse(sequence: UInt32) -> [UInt8] { bytes(PDU(.unbindResp, sequence: sequence)) }
}

// Decoding a whole PDU from its bytes and encoding it back, byte for byte.

import NIOCore

extension PDU {
    /// Decodes one whole PDU: the 16-byte header and `command_length - 16` body bytes, as the framer hands it out.
    ///
    /// Only a frame shorter than a header throws. Everything else decodes: problems go to ``diagnostics`` and the
    /// bytes that could not be decoded are kept (``Body/undecodable(_:)``, ``trailingBytes``).
    public static func decode(_ frame: ByteBuffer) throws(SMPPDecodingError) -> PDU {
        guard let header = PDUHeader.peek(in: frame) else {
            throw SMPPDecodingError(
                .shortHeader, offset: 0,
                reason: "a PDU needs a 16-byte header, only \(frame.readableBytes) bytes are there")
        }
        var diagnostics: [SMPPDecodingError] = []
        let available = frame.readableBytes
        var bodyLength = available - PDUHeader.size
        if Int(header.commandLength) != available {
            if header.commandLength < UInt32(PDUHeader.size) {
                diagnostics.append(
                    SMPPDecodingError(
                        .lengthTooSmall, field: "command_length", offset: 0,
                        reason: "command_length \(header.commandLength) is less than the 16-byte header"))
            } else if Int(header.commandLength) < available {
                bodyLength = Int(header.commandLength) - PDUHeader.size
                diagnostics.append(
                    SMPPDecodingError(
                        .trailingBytes, field: "command_length", offset: Int(header.commandLength),
                        reason: "\(available - Int(header.commandLength)) bytes follow the end given by command_length")
                )
            } else {
                diagnostics.append(
                    SMPPDecodingError(
                        .fieldPastEnd, field: "command_length", offset: available,
                        reason: "command_length \(header.commandLength) but only \(available) bytes are there"))
            }
        }
        let body = frame.getSlice(at: frame.readerIndex + PDUHeader.size, length: bodyLength) ?? ByteBuffer()
        var pdu = decodeBody(header: header, body: body)
        pdu.diagnostics.insert(contentsOf: diagnostics, at: 0)
        return pdu
    }

    /// Decodes a body for a header.
    static func decodeBody(header: PDUHeader, body: ByteBuffer) -> PDU {
        let id = header.commandID
        guard id.isKnown else {
            return PDU(header: header, body: .opaque(body))
        }
        if id.isResponse && body.readableBytes == 0 {
            var diagnostics: [SMPPDecodingError] = []
            if header.commandStatus == .ok && id.requiresBodyWhenOK {
                diagnostics.append(
                    SMPPDecodingError(
                        .missingBody, offset: PDUHeader.size,
                        reason: "\(id.name) with status ESME_ROK has no body (message_id or system_id expected)"))
            }
            return PDU(header: header, body: .empty, diagnostics: diagnostics)
        }
        var reader = BodyReader(body: body)
        let decoded: Body
        do {
            decoded = try decodeMandatory(id, &reader)
        } catch let error as SMPPDecodingError {
            return PDU(header: header, body: .undecodable(body), diagnostics: reader.warnings + [error])
        } catch {
            return PDU(header: header, body: .undecodable(body), diagnostics: reader.warnings)
        }
        var pdu = PDU(header: header, body: decoded)
        if reader.remaining > 0 {
            if id.hasNoOptionalPart {
                pdu.trailingBytes = reader.buffer
                reader.warn(
                    SMPPDecodingError(
                        .trailingBytes, offset: reader.offset,
                        reason:
                            "\(reader.remaining) bytes follow the last field of \(id.name), which has no optional part")
                )
            } else {
                (pdu.tlvs, pdu.trailingBytes) = decodeTLVs(&reader)
            }
        }
        pdu.diagnostics = reader.warnings
        return pdu
    }

    private static func decodeMandatory(_ id: CommandID, _ reader: inout BodyReader) throws -> Body {
        switch id {
        case .bindTransmitter, .bindReceiver, .bindTransceiver:
            return .bind(try Bind.decode(&reader))
        case .bindTransmitterResp, .bindReceiverResp, .bindTransceiverResp:
            return .bindResponse(try BindResponse.decode(&reader))
        case .outbind:
            return .outbind(try Outbind.decode(&reader))
        case .submitSM, .deliverSM:
            return .shortMessage(try ShortMessage.decode(&reader))
        case .submitSMResp, .deliverSMResp, .dataSMResp, .broadcastSMResp, .queryBroadcastSMResp:
            return .messageID(try reader.cString("message_id", max: 65))
        case .submitMulti:
            return .submitMulti(try SubmitMulti.decode(&reader))
        case .submitMultiResp:
            return .submitMultiResponse(try SubmitMultiResponse.decode(&reader))
        case .dataSM:
            return .dataSM(try DataSM.decode(&reader))
        case .querySM:
            return .querySM(try QuerySM.decode(&reader))
        case .querySMResp:
            return .querySMResponse(try QuerySMResponse.decode(&reader))
        case .cancelSM:
            return .cancelSM(try CancelSM.decode(&reader))
        case .replaceSM:
            return .replaceSM(try ReplaceSM.decode(&reader))
        case .alertNotification:
            return .alertNotification(try AlertNotification.decode(&reader))
        case .broadcastSM:
            return .broadcastSM(try BroadcastSM.decode(&reader))
        case .queryBroadcastSM:
            return .queryBroadcastSM(try QueryBroadcastSM.decode(&reader))
        case .cancelBroadcastSM:
            return .cancelBroadcastSM(try CancelBroadcastSM.decode(&reader))
        default:
            return .empty
        }
    }

    /// Reads TLVs to the end of the body. What does not form a whole TLV is returned as trailing bytes, with a
    /// diagnostic; TLVs whose length does not fit their type are kept, with a warning.
    private static func decodeTLVs(_ reader: inout BodyReader) -> ([TLV], ByteBuffer?) {
        var tlvs: [TLV] = []
        while reader.remaining > 0 {
            let start = reader.offset
            guard reader.remaining >= 4,
                let tag = reader.buffer.getInteger(at: reader.buffer.readerIndex, endianness: .big, as: UInt16.self),
                let length = reader.buffer.getInteger(
                    at: reader.buffer.readerIndex + 2, endianness: .big, as: UInt16.self)
            else {
                reader.warn(
                    SMPPDecodingError(
                        .trailingBytes, offset: start,
                        reason: "\(reader.remaining) trailing bytes after the last field, too few for a TLV"))
                return (tlvs, reader.buffer)
            }
            let tlvTag = TLVTag(tag)
            guard Int(length) <= reader.remaining - 4 else {
                reader.warn(
                    SMPPDecodingError(
                        .tlvLengthPastEnd, field: "tlv \(tlvTag) \(tlvTag.name)", offset: start,
                        reason: "TLV \(tlvTag) (\(tlvTag.name)) length \(length) runs past the end of the PDU, "
                            + "\(reader.remaining - 4) bytes left"))
                return (tlvs, reader.buffer)
            }
            reader.buffer.moveReaderIndex(forwardBy: 4)
            let value = reader.buffer.readSlice(length: Int(length)) ?? ByteBuffer()
            let tlv = TLV(tag: tlvTag, raw: value)
            if let problem = tlv.lengthProblem {
                reader.warn(
                    SMPPDecodingError(
                        .tlvBadLength, field: "tlv \(tlvTag) \(tlvTag.name)", offset: start, reason: problem))
            }
            tlvs.append(tlv)
        }
        return (tlvs, nil)
    }

    /// Encodes the PDU with `command_length` computed from what is written.
    public func encode(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        var header = self.header
        header.commandLength = 0
        header.write(to: &buffer)
        switch body {
        case .empty: break
        case .bind(let body): body.encode(into: &buffer)
        case .bindResponse(let body): body.encode(into: &buffer)
        case .outbind(let body): body.encode(into: &buffer)
        case .shortMessage(let body): body.encode(into: &buffer)
        case .messageID(let id): buffer.writeCString(id)
        case .submitMulti(let body): body.encode(into: &buffer)
        case .submitMultiResponse(let body): body.encode(into: &buffer)
        case .dataSM(let body): body.encode(into: &buffer)
        case .querySM(let body): body.encode(into: &buffer)
        case .querySMResponse(let body): body.encode(into: &buffer)
        case .cancelSM(let body): body.encode(into: &buffer)
        case .replaceSM(let body): body.encode(into: &buffer)
        case .alertNotification(let body): body.encode(into: &buffer)
        case .broadcastSM(let body): body.encode(into: &buffer)
        case .queryBroadcastSM(let body): body.encode(into: &buffer)
        case .cancelBroadcastSM(let body): body.encode(into: &buffer)
        case .opaque(let raw), .undecodable(let raw): buffer.writeImmutableBuffer(raw)
        }
        for tlv in tlvs { tlv.write(to: &buffer) }
        if let trailingBytes { buffer.writeImmutableBuffer(trailingBytes) }
        let length = UInt32(truncatingIfNeeded: buffer.writerIndex - start)
        buffer.setInteger(length, at: start, endianness: .big)
    }

    /// The PDU's bytes.
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return buffer
    }
}

extension CommandID {
    /// Responses that must carry a body when their status is ESME_ROK.
    static let responsesWithMandatoryBody: Set<CommandID> = [
        .bindTransmitterResp, .bindReceiverResp, .bindTransceiverResp, .submitSMResp, .dataSMResp,
        .submitMultiResp, .querySMResp, .broadcastSMResp, .queryBroadcastSMResp,
    ]

    /// True for responses that must carry a body when their status is ESME_ROK (an empty one is reported).
    public var requiresBodyWhenOK: Bool { Self.responsesWithMandatoryBody.contains(self) }

    /// True for operations that have no optional (TLV) part in SMPP 3.4 or 5.0.
    public var hasNoOptionalPart: Bool {
        switch self {
        case .genericNack, .bindTransmitter, .bindReceiver, .bindTransceiver, .outbind, .unbind, .unbindResp,
            .enquireLink, .enquireLinkResp, .querySM, .querySMResp, .cancelSM, .cancelSMResp, .replaceSMResp,
            .cancelBroadcastSMResp:
            return true
        default:
            return false
        }
    }
}

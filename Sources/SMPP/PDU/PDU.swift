// An SMPP PDU: header, body by operation, TLVs, and whatever could not be decoded, kept so nothing is lost.

import NIOCore

/// A decoded SMPP PDU.
///
/// Decoding never loses bytes: an unknown command id keeps its body as ``Body/opaque(_:)``, a body that cannot be
/// decoded is kept as ``Body/undecodable(_:)``, and bytes after the last field that do not form TLVs are kept in
/// ``trailingBytes``. What was wrong is in ``diagnostics``.
public struct PDU: Hashable, Sendable {
    public var header: PDUHeader
    public var body: Body
    public var tlvs: [TLV]
    /// Bytes after the mandatory fields that do not parse as TLVs.
    public var trailingBytes: ByteBuffer?
    /// Problems found while decoding; empty for a well-formed PDU.
    public var diagnostics: [SMPPDecodingError]

    public init(
        header: PDUHeader, body: Body, tlvs: [TLV] = [], trailingBytes: ByteBuffer? = nil,
        diagnostics: [SMPPDecodingError] = []
    ) {
        self.header = header
        self.body = body
        self.tlvs = tlvs
        self.trailingBytes = trailingBytes
        self.diagnostics = diagnostics
    }

    /// A PDU built from parts; `commandLength` is computed when it is encoded.
    public init(
        _ commandID: CommandID, status: CommandStatus = .ok, sequence: UInt32, body: Body = .empty, tlvs: [TLV] = []
    ) {
        self.init(
            header: PDUHeader(commandID: commandID, commandStatus: status, sequenceNumber: sequence), body: body,
            tlvs: tlvs)
    }

    public var commandID: CommandID { header.commandID }
    public var commandStatus: CommandStatus { header.commandStatus }
    public var sequenceNumber: UInt32 { header.sequenceNumber }
    public var isMalformed: Bool { !diagnostics.isEmpty }

    /// The body of a PDU, by operation family.
    public enum Body: Hashable, Sendable {
        /// No body: enquire_link, unbind, generic_nack, cancel_sm_resp, replace_sm_resp, cancel_broadcast_sm_resp,
        /// and error responses sent without a body.
        case empty
        indirect case bind(Bind)
        indirect case bindResponse(BindResponse)
        indirect case outbind(Outbind)
        /// submit_sm and deliver_sm.
        indirect case shortMessage(ShortMessage)
        /// submit_sm_resp, deliver_sm_resp, data_sm_resp, broadcast_sm_resp, query_broadcast_sm_resp.
        case messageID(String)
        indirect case submitMulti(SubmitMulti)
        indirect case submitMultiResponse(SubmitMultiResponse)
        indirect case dataSM(DataSM)
        indirect case querySM(QuerySM)
        indirect case querySMResponse(QuerySMResponse)
        indirect case cancelSM(CancelSM)
        indirect case replaceSM(ReplaceSM)
        indirect case alertNotification(AlertNotification)
        indirect case broadcastSM(BroadcastSM)
        indirect case queryBroadcastSM(QueryBroadcastSM)
        indirect case cancelBroadcastSM(CancelBroadcastSM)
        /// The body of a command id SMPP 3.4 and 5.0 do not define, kept as it was.
        case opaque(ByteBuffer)
        /// A body that could not be decoded (see the PDU's diagnostics), kept as it was.
        case undecodable(ByteBuffer)
    }

    /// The short message of submit_sm / deliver_sm / replace_sm / submit_multi, if the PDU has one.
    public var shortMessageOctets: ByteBuffer? {
        switch body {
        case .shortMessage(let body): return body.shortMessage
        case .submitMulti(let body): return body.shortMessage
        case .replaceSM(let body): return body.shortMessage
        default: return nil
        }
    }

    /// The message_id field of the body, if it has one.
    public var messageID: String? {
        switch body {
        case .messageID(let id): return id
        case .submitMultiResponse(let body): return body.messageID
        case .querySM(let body): return body.messageID
        case .querySMResponse(let body): return body.messageID
        case .cancelSM(let body): return body.messageID
        case .replaceSM(let body): return body.messageID
        case .broadcastSM(let body): return body.messageID
        case .queryBroadcastSM(let body): return body.messageID
        case .cancelBroadcastSM(let body): return body.messageID
        default: return nil
        }
    }
}

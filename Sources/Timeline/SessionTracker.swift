// Follows sessions: roles from the handshake or the PDUs, binds, unbinds, ends; decodes each PDU once.

import Capture
import NIOCore
@_spi(Lent) import Reassembly
import SMPP

/// Turns reassembly events into timeline events, keeping each session's state.
public struct SessionTracker {
    /// Sessions by id (ids count from 1, at index id - 1), updated in place by each PDU.
    private var list: [Session] = []

    /// Every session, by id.
    public var sessions: [Int: Session] {
        Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
    }

    /// The index of session `id` in the list, if there is one.
    private func index(_ id: Int) -> Int? {
        id >= 1 && id <= list.count ? id - 1 : nil
    }
    /// Decode every PDU (for rendering), or only what the tracker itself needs (binds).
    public let decodesEveryPDU: Bool

    public init(decodesEveryPDU: Bool = true) {
        self.decodesEveryPDU = decodesEveryPDU
    }

    /// Handles one reassembly event.
    public mutating func handle(_ event: StreamEvent, _ emit: (TimelineEvent) throws -> Void) rethrows {
        switch event {
        case .opened(let connection):
            let session = Session(connection: connection)
            // Connection ids are dense from 1; keep the array aligned even if one were skipped.
            while list.count < connection.id - 1 { list.append(Session(connection: connection)) }
            if let index = index(connection.id) { list[index] = session } else { list.append(session) }
            try emit(.sessionOpened(session))
        case .pdu(let framed):
            try handlePDU(framed, emit)
        case .gap(let gap):
            try emit(.gap(gap))
        case .ended(let end):
            guard let index = index(end.connection) else { return }
            list[index].end = end
            try emit(.sessionEnded(end, list[index]))
        case .diagnostic(let diagnostic):
            try emit(.streamDiagnostic(diagnostic))
        }
    }

    /// Handles one PDU (the same as ``handle(_:_:)-(StreamEvent,_)`` with `.pdu`).
    public mutating func handlePDU(_ framed: TimelinePDU, _ emit: (TimelineEvent) throws -> Void) rethrows {
        try handlePDU(framed, pdu: { try emit(.pdu($0)) })
    }

    /// Handles one PDU as reassembly framed it, handing it to `pdu` completed with what its session knows (not
    /// wrapped in an event: the value is large and PDUs are nearly every event). A PDU outside any session is
    /// dropped.
    public mutating func handlePDU(_ framed: TimelinePDU, pdu handle: (TimelinePDU) throws -> Void) rethrows {
        var pdu = framed
        guard follow(&pdu) else { return }
        try handle(pdu)
    }

    /// Completes a PDU as reassembly framed it with what its session knows (who sent it, how the session reads
    /// data_coding 0, the decoded PDU where the tracker decodes it), and follows the session through it. False for
    /// a PDU outside any session.
    public mutating func follow(_ pdu: inout TimelinePDU) -> Bool {
        guard let index = index(pdu.session) else { return false }
        // Boxed at once: nearly every PDU has none, and an empty optional PDU is costly to copy around.
        if pdu.decodedBox == nil, decodes(pdu.header), let decoded = try? PDU.decode(pdu.raw) {
            pdu.decodedBox = DecodedPDUBox(decoded)
        }
        (pdu.fromClient, pdu.isoDefault) = Self.follow(
            &list[index], pdu.header, pdu.decodedBox, source: pdu.source, destination: pdu.destination,
            at: pdu.timestamp)
        return true
    }

    /// What a session adds to a PDU whose bytes are lent (``follow(_:)-(LentPDU)``).
    @_spi(Lent) public struct Followed {
        /// The decoded PDU, if the tracker decodes this one.
        public var decoded: DecodedPDUBox?
        /// Who sent it, nil while the roles are unknown.
        public var fromClient: Bool?
        /// How its session reads data_coding 0.
        public var isoDefault: Bool
    }

    /// ``follow(_:)-(TimelinePDU)`` for a PDU whose bytes are lent, returning what its session adds rather than
    /// changing the PDU: for a consumer that keeps PDUs in a form of its own (the pipeline's batches), without
    /// copying the lent PDU to complete it. Nil for a PDU outside any session.
    @_spi(Lent) public mutating func follow(_ pdu: LentPDU) -> Followed? {
        guard let index = index(pdu.session) else { return nil }
        var decoded = pdu.decodedBox
        if decoded == nil, decodes(pdu.header), let decodedPDU = try? PDU.decode(pdu.copiedBytes()) {
            decoded = DecodedPDUBox(decodedPDU)
        }
        let (fromClient, isoDefault) = Self.follow(
            &list[index], pdu.header, decoded, source: pdu.source, destination: pdu.destination, at: pdu.timestamp)
        return Followed(decoded: decoded, fromClient: fromClient, isoDefault: isoDefault)
    }

    /// Whether the tracker decodes a PDU with this header: every one, or only binds (which it reads).
    private func decodes(_ header: PDUHeader) -> Bool {
        decodesEveryPDU || header.commandID.isBind
    }

    /// The session's part of ``follow(_:)-(TimelinePDU)``, in one access to the session (reading its fields through
    /// the list one by one copies the whole session each time).
    private static func follow(
        _ session: inout Session, _ header: PDUHeader, _ decoded: DecodedPDUBox?, source: Endpoint,
        destination: Endpoint,
        at time: Timestamp
    ) -> (fromClient: Bool?, isoDefault: Bool) {
        if session.client == nil {
            inferRoles(&session, header.commandID, source: source, destination: destination)
        }
        let fromClient = session.isClient(source)
        track(&session, header, decoded, fromClient: fromClient, at: time)
        return (fromClient, session.isoDefault)
    }

    /// Handles one event of a capture or a store: reassembly events go through the sessions, capture diagnostics
    /// straight on.
    public mutating func handle(_ event: PipelineEvent, _ emit: (TimelineEvent) throws -> Void) rethrows {
        switch event {
        case .stream(let stream): try handle(stream, emit)
        case .capture(let diagnostic): try emit(.captureDiagnostic(diagnostic))
        }
    }

    /// Who is the ESME, from a PDU only one side sends.
    private static func inferRoles(_ session: inout Session, _ id: CommandID, source: Endpoint, destination: Endpoint) {
        let request = id.request
        let sentByClient: Bool
        switch request {
        case .bindTransmitter, .bindReceiver, .bindTransceiver, .submitSM, .submitMulti, .querySM, .cancelSM,
            .replaceSM, .broadcastSM, .queryBroadcastSM, .cancelBroadcastSM:
            sentByClient = !id.isResponse
        case .deliverSM, .outbind, .alertNotification:
            sentByClient = id.isResponse
        default:
            return
        }
        session.client = sentByClient ? source : destination
        session.server = sentByClient ? destination : source
    }

    private static func track(
        _ session: inout Session, _ header: PDUHeader, _ decoded: DecodedPDUBox?, fromClient: Bool?, at time: Timestamp
    ) {
        session.pdus += 1
        if session.firstPDU == nil { session.firstPDU = time }
        session.lastPDU = time
        let id = header.commandID
        if let decoded, case .bind(let bind) = decoded.pdu.body {
            session.bind = BindInfo(
                command: id, systemID: bind.systemID, systemType: bind.systemType,
                interfaceVersion: bind.interfaceVersion, status: nil, requestedAt: time)
        }
        if id == .bindTransmitterResp || id == .bindReceiverResp || id == .bindTransceiverResp,
            session.bind?.status == nil
        {
            session.bind?.status = header.commandStatus
        }
        if id == .unbind, session.unbind == nil, session.end == nil {
            session.unbind = (time, fromClient)
        }
    }
}

// A session: one TCP connection carrying SMPP, with who is the client, how it bound, and how it ended.

import Capture
import Reassembly
import SMPP

/// What a bind asked for and what the server answered.
public struct BindInfo: Hashable, Sendable {
    /// bind_transmitter, bind_receiver or bind_transceiver.
    public var command: CommandID
    public var systemID: String
    public var systemType: String
    public var interfaceVersion: UInt8
    /// The bind response's status, nil until it is seen.
    public var status: CommandStatus?
    public var requestedAt: Timestamp

    /// The SMSC.kz flags of system_type.
    public var flags: SystemTypeFlags { SystemTypeFlags(systemType: systemType) }
    /// data_coding 0 reads as ISO-8859-1 (the `ISO` flag), worked out once.
    public var isoDefault: Bool

    public init(
        command: CommandID, systemID: String, systemType: String, interfaceVersion: UInt8, status: CommandStatus?,
        requestedAt: Timestamp
    ) {
        self.command = command
        self.systemID = systemID
        self.systemType = systemType
        self.interfaceVersion = interfaceVersion
        self.status = status
        self.requestedAt = requestedAt
        isoDefault = SystemTypeFlags(systemType: systemType).iso
    }
}

/// One TCP connection that carries SMPP.
public struct Session: Hashable, Sendable {
    public var id: Int
    /// The ESME side; nil until the handshake or the PDUs tell.
    public var client: Endpoint?
    /// The SMSC side.
    public var server: Endpoint?
    /// Both endpoints in the order first seen, for when the roles are unknown.
    public var endpoints: (Endpoint, Endpoint) { (connection.first, connection.second) }
    public var connection: Connection
    /// The last bind of the session.
    public var bind: BindInfo?
    public var firstPDU: Timestamp?
    public var lastPDU: Timestamp?
    public var pdus = 0
    /// The first FIN or RST.
    public var end: ConnectionEnd?
    /// When and from which side an unbind was sent.
    public var unbind: (at: Timestamp, fromClient: Bool?)?

    init(connection: Connection) {
        self.id = connection.id
        self.connection = connection
        if let initiator = connection.synSender {
            client = initiator
            server = initiator == connection.first ? connection.second : connection.first
        }
    }

    /// data_coding 0 reads as ISO-8859-1 in this session (SMSC.kz `ISO` flag of the bind's system_type).
    public var isoDefault: Bool { bind?.isoDefault ?? false }

    /// True when `endpoint` is the client; nil when the roles are not known.
    public func isClient(_ endpoint: Endpoint) -> Bool? {
        guard let client else { return nil }
        return endpoint == client
    }

    public static func == (lhs: Session, rhs: Session) -> Bool {
        lhs.id == rhs.id && lhs.client == rhs.client && lhs.bind == rhs.bind && lhs.pdus == rhs.pdus
            && lhs.end == rhs.end && lhs.firstPDU == rhs.firstPDU && lhs.lastPDU == rhs.lastPDU
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
    }
}

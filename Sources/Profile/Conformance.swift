// Departures from SMPP 3.4 / 5.0 seen in traffic, each with the clause it departs from and the PDUs that show it:
// the report `smppscope profile --conformance` gives a user to send to a vendor.

/// Every departure seen, by kind.
public struct ConformanceReport: Codable, Hashable, Sendable {
    public var source: String
    public var departures: [Departure]

    public init(source: String, departures: [Departure]) {
        self.source = source
        self.departures = departures
    }

    /// One kind of departure by one side of one SMSC's traffic.
    public struct Departure: Codable, Hashable, Sendable {
        /// A stable snake_case name (``ConformanceCode``).
        public var code: String
        /// The clause departed from.
        public var clause: String
        /// `smsc` or `esme`: which side sent the PDUs.
        public var side: String
        /// `address:port` of the SMSC whose traffic it is.
        public var server: String
        /// What is wrong, in plain words.
        public var description: String
        public var count: Int
        /// The first PDUs that show it (at most ``ConformanceReport/evidenceLimit``).
        public var evidence: [Evidence]
    }

    /// A PDU that shows a departure.
    public struct Evidence: Codable, Hashable, Sendable {
        public var session: Int
        /// Packet number in the capture (0 when read from a store without one).
        public var frame: Int
        /// Seconds since the epoch.
        public var time: Double
        public var command: String
        public var sequence: UInt32
        /// The value at fault.
        public var detail: String
    }

    /// Examples kept per departure.
    public static let evidenceLimit = 5
}

/// The departures the profile recognises. A closed set; the raw values are the JSON codes.
public enum ConformanceCode: String, CaseIterable, Sendable {
    case errorResponseWithBody = "error_response_with_body"
    case sequenceNumberOutOfRange = "sequence_number_out_of_range"
    case responseWithoutRequest = "response_without_request"
    case genericNackForValidRequest = "generic_nack_for_valid_request"
    case reservedCommandStatus = "reserved_command_status"
    case reservedTLVTag = "reserved_tlv_tag"
    case reservedCommandID = "reserved_command_id"
    case requestNotAnswered = "request_not_answered"
    case malformedField = "malformed_field"

    /// The clause of the specification.
    public var clause: String {
        switch self {
        case .errorResponseWithBody:
            "SMPP 3.4 §4.1.2, §4.1.4, §4.1.6 (bind_*_resp), §4.4.2 (submit_sm_resp): the body is not returned when "
                + "command_status is not zero"
        case .sequenceNumberOutOfRange:
            "SMPP 3.4 / 5.0 §3.2, PDU header: sequence_number runs from 0x00000001 to 0x7FFFFFFF"
        case .responseWithoutRequest:
            "SMPP 3.4 / 5.0 §3.2, PDU header: a response carries the sequence_number of the request it answers"
        case .genericNackForValidRequest:
            "SMPP 3.4 §4.3 (generic_nack): the answer to a PDU whose header is invalid, not to a valid request"
        case .reservedCommandStatus:
            "SMPP 3.4 §5.1.3 (command_status): values not listed are reserved, 0x00000400-0x000004FF are for vendors"
        case .reservedTLVTag:
            "SMPP 3.4 §5.3.2 (TLV tags): tags not listed are reserved, 0x1400-0x3FFF are for vendors"
        case .reservedCommandID:
            "SMPP 3.4 §5.1.2.1 (command_id): values not listed are reserved"
        case .requestNotAnswered:
            "SMPP 3.4 §4: each request is answered by its response (enquire_link §4.11, unbind §4.2, the rest alike)"
        case .malformedField:
            "SMPP 3.4 §3.1 and §4: field types and sizes of the PDU definitions"
        }
    }

    /// What is wrong, in plain words.
    public var summary: String {
        switch self {
        case .errorResponseWithBody: "error responses carry a body"
        case .sequenceNumberOutOfRange: "requests with a sequence_number outside 1-0x7FFFFFFF"
        case .responseWithoutRequest: "responses that answer no request outstanding on the connection"
        case .genericNackForValidRequest: "generic_nack sent for well-formed requests of known commands"
        case .reservedCommandStatus: "command_status values the specification reserves"
        case .reservedTLVTag: "TLV tags the specification reserves"
        case .reservedCommandID: "command_id values the specification reserves"
        case .requestNotAnswered: "requests left unanswered while the connection went on"
        case .malformedField: "fields that do not follow their definition"
        }
    }
}

/// Departures of one kind, collected while reading: a count and the first PDUs.
struct DepartureCollector {
    var count = 0
    var evidence: [ConformanceReport.Evidence] = []

    mutating func add(_ evidence: ConformanceReport.Evidence) {
        count += 1
        if self.evidence.count < ConformanceReport.evidenceLimit { self.evidence.append(evidence) }
    }
}

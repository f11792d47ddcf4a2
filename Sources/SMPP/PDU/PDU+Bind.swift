// bind_transmitter / bind_receiver / bind_transceiver, their responses, and outbind.

import NIOCore

extension PDU {
    /// The body of bind_transmitter, bind_receiver and bind_transceiver.
    public struct Bind: Hashable, Sendable {
        public var systemID: String
        /// The bind password. Renderers redact it unless asked not to.
        public var password: String
        public var systemType: String
        /// 0x34 for SMPP 3.4, 0x50 for 5.0 (0x33 and lower for 3.3).
        public var interfaceVersion: UInt8
        public var addrTON: UInt8
        public var addrNPI: UInt8
        public var addressRange: String

        public init(
            systemID: String, password: String, systemType: String = "", interfaceVersion: UInt8 = 0x34,
            addrTON: UInt8 = 0, addrNPI: UInt8 = 0, addressRange: String = ""
        ) {
            self.systemID = systemID
            self.password = password
            self.systemType = systemType
            self.interfaceVersion = interfaceVersion
            self.addrTON = addrTON
            self.addrNPI = addrNPI
            self.addressRange = addressRange
        }

        static func decode(_ reader: inout BodyReader) throws -> Bind {
            Bind(
                systemID: try reader.cString("system_id", max: 16),
                password: try reader.cString("password", max: 9),
                systemType: try reader.cString("system_type", max: 13),
                interfaceVersion: try reader.u8("interface_version"),
                addrTON: try reader.u8("addr_ton"),
                addrNPI: try reader.u8("addr_npi"),
                addressRange: try reader.cString("address_range", max: 41))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(systemID)
            buffer.writeCString(password)
            buffer.writeCString(systemType)
            buffer.writeMultipleIntegers(interfaceVersion, addrTON, addrNPI)
            buffer.writeCString(addressRange)
        }
    }

    /// The body of a bind response: the SMSC's system_id (its TLVs, sc_interface_version, are the PDU's).
    public struct BindResponse: Hashable, Sendable {
        public var systemID: String

        public init(systemID: String) { self.systemID = systemID }

        static func decode(_ reader: inout BodyReader) throws -> BindResponse {
            BindResponse(systemID: try reader.cString("system_id", max: 16))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(systemID)
        }
    }

    /// The body of outbind: the SMSC asks the ESME to bind.
    public struct Outbind: Hashable, Sendable {
        public var systemID: String
        public var password: String

        public init(systemID: String, password: String) {
            self.systemID = systemID
            self.password = password
        }

        static func decode(_ reader: inout BodyReader) throws -> Outbind {
            Outbind(
                systemID: try reader.cString("system_id", max: 16),
                password: try reader.cString("password", max: 9))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(systemID)
            buffer.writeCString(password)
        }
    }
}

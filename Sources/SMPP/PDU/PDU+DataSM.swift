// data_sm and alert_notification: the two operations whose addresses may be 65 bytes long.

import NIOCore

extension PDU {
    /// The body of data_sm (SMPP 3.4 §4.7.1). The payload travels in the message_payload TLV.
    public struct DataSM: Hashable, Sendable {
        public var serviceType: String
        public var source: Address
        public var destination: Address
        public var esmClass: UInt8
        public var registeredDelivery: UInt8
        public var dataCoding: UInt8

        public init(
            serviceType: String = "", source: Address, destination: Address, esmClass: UInt8 = 0,
            registeredDelivery: UInt8 = 0, dataCoding: UInt8 = 0
        ) {
            self.serviceType = serviceType
            self.source = source
            self.destination = destination
            self.esmClass = esmClass
            self.registeredDelivery = registeredDelivery
            self.dataCoding = dataCoding
        }

        static func decode(_ reader: inout BodyReader) throws -> DataSM {
            DataSM(
                serviceType: try reader.cString("service_type", max: 6),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 65),
                destination: try reader.address("dest_addr_ton", "dest_addr_npi", "destination_addr", max: 65),
                esmClass: try reader.u8("esm_class"),
                registeredDelivery: try reader.u8("registered_delivery"),
                dataCoding: try reader.u8("data_coding"))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(serviceType)
            buffer.writeAddress(source)
            buffer.writeAddress(destination)
            buffer.writeMultipleIntegers(esmClass, registeredDelivery, dataCoding)
        }
    }

    /// The body of alert_notification (SMPP 3.4 §4.12.1): a mobile became available.
    public struct AlertNotification: Hashable, Sendable {
        public var source: Address
        public var esme: Address

        public init(source: Address, esme: Address) {
            self.source = source
            self.esme = esme
        }

        static func decode(_ reader: inout BodyReader) throws -> AlertNotification {
            AlertNotification(
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 65),
                esme: try reader.address("esme_addr_ton", "esme_addr_npi", "esme_addr", max: 65))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeAddress(source)
            buffer.writeAddress(esme)
        }
    }
}

// query_sm, query_sm_resp, cancel_sm and replace_sm: operations on a message already submitted.

import NIOCore

extension PDU {
    /// The body of query_sm (SMPP 3.4 §4.8.1).
    public struct QuerySM: Hashable, Sendable {
        public var messageID: String
        public var source: Address

        public init(messageID: String, source: Address) {
            self.messageID = messageID
            self.source = source
        }

        static func decode(_ reader: inout BodyReader) throws -> QuerySM {
            QuerySM(
                messageID: try reader.cString("message_id", max: 65),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(messageID)
            buffer.writeAddress(source)
        }
    }

    /// The body of query_sm_resp (SMPP 3.4 §4.8.2).
    public struct QuerySMResponse: Hashable, Sendable {
        public var messageID: String
        public var finalDate: String
        public var messageState: UInt8
        public var errorCode: UInt8

        public init(messageID: String, finalDate: String = "", messageState: UInt8, errorCode: UInt8 = 0) {
            self.messageID = messageID
            self.finalDate = finalDate
            self.messageState = messageState
            self.errorCode = errorCode
        }

        static func decode(_ reader: inout BodyReader) throws -> QuerySMResponse {
            QuerySMResponse(
                messageID: try reader.cString("message_id", max: 65),
                finalDate: try reader.time("final_date"),
                messageState: try reader.u8("message_state"),
                errorCode: try reader.u8("error_code"))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(messageID)
            buffer.writeCString(finalDate)
            buffer.writeMultipleIntegers(messageState, errorCode)
        }
    }

    /// The body of cancel_sm (SMPP 3.4 §4.9.1).
    public struct CancelSM: Hashable, Sendable {
        public var serviceType: String
        public var messageID: String
        public var source: Address
        public var destination: Address

        public init(serviceType: String = "", messageID: String, source: Address, destination: Address) {
            self.serviceType = serviceType
            self.messageID = messageID
            self.source = source
            self.destination = destination
        }

        static func decode(_ reader: inout BodyReader) throws -> CancelSM {
            CancelSM(
                serviceType: try reader.cString("service_type", max: 6),
                messageID: try reader.cString("message_id", max: 65),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21),
                destination: try reader.address("dest_addr_ton", "dest_addr_npi", "destination_addr", max: 21))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(serviceType)
            buffer.writeCString(messageID)
            buffer.writeAddress(source)
            buffer.writeAddress(destination)
        }
    }

    /// The body of replace_sm (SMPP 3.4 §4.10.1).
    public struct ReplaceSM: Hashable, Sendable {
        public var messageID: String
        public var source: Address
        public var scheduleDeliveryTime: String
        public var validityPeriod: String
        public var registeredDelivery: UInt8
        public var smDefaultMsgID: UInt8
        public var shortMessage: ByteBuffer

        public init(
            messageID: String, source: Address, scheduleDeliveryTime: String = "", validityPeriod: String = "",
            registeredDelivery: UInt8 = 0, smDefaultMsgID: UInt8 = 0, shortMessage: ByteBuffer = ByteBuffer()
        ) {
            self.messageID = messageID
            self.source = source
            self.scheduleDeliveryTime = scheduleDeliveryTime
            self.validityPeriod = validityPeriod
            self.registeredDelivery = registeredDelivery
            self.smDefaultMsgID = smDefaultMsgID
            self.shortMessage = shortMessage
        }

        static func decode(_ reader: inout BodyReader) throws -> ReplaceSM {
            ReplaceSM(
                messageID: try reader.cString("message_id", max: 65),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21),
                scheduleDeliveryTime: try reader.time("schedule_delivery_time"),
                validityPeriod: try reader.time("validity_period"),
                registeredDelivery: try reader.u8("registered_delivery"),
                smDefaultMsgID: try reader.u8("sm_default_msg_id"),
                shortMessage: try reader.shortMessage())
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(messageID)
            buffer.writeAddress(source)
            buffer.writeCString(scheduleDeliveryTime)
            buffer.writeCString(validityPeriod)
            buffer.writeMultipleIntegers(registeredDelivery, smDefaultMsgID)
            buffer.writeShortMessage(shortMessage)
        }
    }
}

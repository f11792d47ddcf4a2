// The cell broadcast operations of SMPP 5.0: broadcast_sm, query_broadcast_sm, cancel_broadcast_sm.

import NIOCore

extension PDU {
    /// The body of broadcast_sm (SMPP 5.0 §4.4.1.1). Area, content type, repetitions and frequency are TLVs.
    public struct BroadcastSM: Hashable, Sendable {
        public var serviceType: String
        public var source: Address
        public var messageID: String
        public var priorityFlag: UInt8
        public var scheduleDeliveryTime: String
        public var validityPeriod: String
        public var replaceIfPresentFlag: UInt8
        public var dataCoding: UInt8
        public var smDefaultMsgID: UInt8

        public init(
            serviceType: String = "", source: Address, messageID: String = "", priorityFlag: UInt8 = 0,
            scheduleDeliveryTime: String = "", validityPeriod: String = "", replaceIfPresentFlag: UInt8 = 0,
            dataCoding: UInt8 = 0, smDefaultMsgID: UInt8 = 0
        ) {
            self.serviceType = serviceType
            self.source = source
            self.messageID = messageID
            self.priorityFlag = priorityFlag
            self.scheduleDeliveryTime = scheduleDeliveryTime
            self.validityPeriod = validityPeriod
            self.replaceIfPresentFlag = replaceIfPresentFlag
            self.dataCoding = dataCoding
            self.smDefaultMsgID = smDefaultMsgID
        }

        static func decode(_ reader: inout BodyReader) throws -> BroadcastSM {
            BroadcastSM(
                serviceType: try reader.cString("service_type", max: 6),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21),
                messageID: try reader.cString("message_id", max: 65),
                priorityFlag: try reader.u8("priority_flag"),
                scheduleDeliveryTime: try reader.time("schedule_delivery_time"),
                validityPeriod: try reader.time("validity_period"),
                replaceIfPresentFlag: try reader.u8("replace_if_present_flag"),
                dataCoding: try reader.u8("data_coding"),
                smDefaultMsgID: try reader.u8("sm_default_msg_id"))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(serviceType)
            buffer.writeAddress(source)
            buffer.writeCString(messageID)
            buffer.writeInteger(priorityFlag)
            buffer.writeCString(scheduleDeliveryTime)
            buffer.writeCString(validityPeriod)
            buffer.writeMultipleIntegers(replaceIfPresentFlag, dataCoding, smDefaultMsgID)
        }
    }

    /// The body of query_broadcast_sm (SMPP 5.0 §4.6.2.1).
    public struct QueryBroadcastSM: Hashable, Sendable {
        public var messageID: String
        public var source: Address

        public init(messageID: String, source: Address) {
            self.messageID = messageID
            self.source = source
        }

        static func decode(_ reader: inout BodyReader) throws -> QueryBroadcastSM {
            QueryBroadcastSM(
                messageID: try reader.cString("message_id", max: 65),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(messageID)
            buffer.writeAddress(source)
        }
    }

    /// The body of cancel_broadcast_sm (SMPP 5.0 §4.6.3.1).
    public struct CancelBroadcastSM: Hashable, Sendable {
        public var serviceType: String
        public var messageID: String
        public var source: Address

        public init(serviceType: String = "", messageID: String, source: Address) {
            self.serviceType = serviceType
            self.messageID = messageID
            self.source = source
        }

        static func decode(_ reader: inout BodyReader) throws -> CancelBroadcastSM {
            CancelBroadcastSM(
                serviceType: try reader.cString("service_type", max: 6),
                messageID: try reader.cString("message_id", max: 65),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21))
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(serviceType)
            buffer.writeCString(messageID)
            buffer.writeAddress(source)
        }
    }
}

// submit_sm and deliver_sm: the two operations that carry one short message to one address.

import NIOCore

extension PDU {
    /// The body of submit_sm and deliver_sm (SMPP 3.4 §4.4.1 and §4.6.1). deliver_sm leaves
    /// schedule_delivery_time, validity_period, replace_if_present_flag and sm_default_msg_id empty.
    public struct ShortMessage: Hashable, Sendable {
        public var serviceType: String
        public var source: Address
        public var destination: Address
        public var esmClass: UInt8
        public var protocolID: UInt8
        public var priorityFlag: UInt8
        public var scheduleDeliveryTime: String
        public var validityPeriod: String
        public var registeredDelivery: UInt8
        public var replaceIfPresentFlag: UInt8
        public var dataCoding: UInt8
        public var smDefaultMsgID: UInt8
        /// The short_message octets (sm_length is their count).
        public var shortMessage: ByteBuffer

        public init(
            serviceType: String = "", source: Address, destination: Address, esmClass: UInt8 = 0,
            protocolID: UInt8 = 0, priorityFlag: UInt8 = 0, scheduleDeliveryTime: String = "",
            validityPeriod: String = "", registeredDelivery: UInt8 = 0, replaceIfPresentFlag: UInt8 = 0,
            dataCoding: UInt8 = 0, smDefaultMsgID: UInt8 = 0, shortMessage: ByteBuffer = ByteBuffer()
        ) {
            self.serviceType = serviceType
            self.source = source
            self.destination = destination
            self.esmClass = esmClass
            self.protocolID = protocolID
            self.priorityFlag = priorityFlag
            self.scheduleDeliveryTime = scheduleDeliveryTime
            self.validityPeriod = validityPeriod
            self.registeredDelivery = registeredDelivery
            self.replaceIfPresentFlag = replaceIfPresentFlag
            self.dataCoding = dataCoding
            self.smDefaultMsgID = smDefaultMsgID
            self.shortMessage = shortMessage
        }

        /// True when esm_class says short_message starts with a user data header (UDHI, bit 6).
        public var hasUDH: Bool { esmClass & 0x40 != 0 }

        /// The message type bits of esm_class (2-5): 0 default, 0x04 SMSC delivery receipt, 0x08 SME delivery
        /// acknowledgement, 0x10 SME manual/user acknowledgement, 0x18 conversation abort, 0x20 intermediate
        /// delivery notification.
        public var messageType: UInt8 { esmClass & 0x3C }

        static func decode(_ reader: inout BodyReader) throws -> ShortMessage {
            ShortMessage(
                serviceType: try reader.cString("service_type", max: 6),
                source: try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21),
                destination: try reader.address("dest_addr_ton", "dest_addr_npi", "destination_addr", max: 21),
                esmClass: try reader.u8("esm_class"),
                protocolID: try reader.u8("protocol_id"),
                priorityFlag: try reader.u8("priority_flag"),
                scheduleDeliveryTime: try reader.time("schedule_delivery_time"),
                validityPeriod: try reader.time("validity_period"),
                registeredDelivery: try reader.u8("registered_delivery"),
                replaceIfPresentFlag: try reader.u8("replace_if_present_flag"),
                dataCoding: try reader.u8("data_coding"),
                smDefaultMsgID: try reader.u8("sm_default_msg_id"),
                shortMessage: try reader.shortMessage())
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(serviceType)
            buffer.writeAddress(source)
            buffer.writeAddress(destination)
            buffer.writeMultipleIntegers(esmClass, protocolID, priorityFlag)
            buffer.writeCString(scheduleDeliveryTime)
            buffer.writeCString(validityPeriod)
            buffer.writeMultipleIntegers(registeredDelivery, replaceIfPresentFlag, dataCoding, smDefaultMsgID)
            buffer.writeShortMessage(shortMessage)
        }
    }
}

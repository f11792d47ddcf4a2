// submit_multi and submit_multi_resp: one message to a list of SME addresses and distribution lists.

import NIOCore

extension PDU {
    /// One entry of submit_multi's dest_address list.
    public enum MultiDestination: Hashable, Sendable {
        /// dest_flag 1: an SME address.
        case sme(Address)
        /// dest_flag 2: a distribution list name.
        case distributionList(String)
    }

    /// One entry of submit_multi_resp's unsuccess_sme list.
    public struct UnsuccessSME: Hashable, Sendable {
        public var address: Address
        public var errorStatusCode: CommandStatus

        public init(address: Address, errorStatusCode: CommandStatus) {
            self.address = address
            self.errorStatusCode = errorStatusCode
        }
    }

    /// The body of submit_multi (SMPP 3.4 §4.5.1).
    public struct SubmitMulti: Hashable, Sendable {
        public var serviceType: String
        public var source: Address
        public var destinations: [MultiDestination]
        public var esmClass: UInt8
        public var protocolID: UInt8
        public var priorityFlag: UInt8
        public var scheduleDeliveryTime: String
        public var validityPeriod: String
        public var registeredDelivery: UInt8
        public var replaceIfPresentFlag: UInt8
        public var dataCoding: UInt8
        public var smDefaultMsgID: UInt8
        public var shortMessage: ByteBuffer

        public init(
            serviceType: String = "", source: Address, destinations: [MultiDestination], esmClass: UInt8 = 0,
            protocolID: UInt8 = 0, priorityFlag: UInt8 = 0, scheduleDeliveryTime: String = "",
            validityPeriod: String = "", registeredDelivery: UInt8 = 0, replaceIfPresentFlag: UInt8 = 0,
            dataCoding: UInt8 = 0, smDefaultMsgID: UInt8 = 0, shortMessage: ByteBuffer = ByteBuffer()
        ) {
            self.serviceType = serviceType
            self.source = source
            self.destinations = destinations
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

        static func decode(_ reader: inout BodyReader) throws -> SubmitMulti {
            let serviceType = try reader.cString("service_type", max: 6)
            let source = try reader.address("source_addr_ton", "source_addr_npi", "source_addr", max: 21)
            let count = try reader.u8("number_of_dests")
            var destinations: [MultiDestination] = []
            destinations.reserveCapacity(Int(count))
            for _ in 0..<count {
                let flagOffset = reader.offset
                let flag = try reader.u8("dest_flag")
                switch flag {
                case 1:
                    destinations.append(
                        .sme(try reader.address("dest_addr_ton", "dest_addr_npi", "destination_addr", max: 21)))
                case 2:
                    destinations.append(.distributionList(try reader.cString("dl_name", max: 21)))
                default:
                    throw SMPPDecodingError(
                        .invalidValue, field: "dest_flag", offset: flagOffset,
                        reason: "dest_flag \(flag) is neither 1 (SME address) nor 2 (distribution list)")
                }
            }
            return SubmitMulti(
                serviceType: serviceType, source: source, destinations: destinations,
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
            buffer.writeInteger(UInt8(truncatingIfNeeded: destinations.count))
            for destination in destinations.prefix(255) {
                switch destination {
                case .sme(let address):
                    buffer.writeInteger(UInt8(1))
                    buffer.writeAddress(address)
                case .distributionList(let name):
                    buffer.writeInteger(UInt8(2))
                    buffer.writeCString(name)
                }
            }
            buffer.writeMultipleIntegers(esmClass, protocolID, priorityFlag)
            buffer.writeCString(scheduleDeliveryTime)
            buffer.writeCString(validityPeriod)
            buffer.writeMultipleIntegers(registeredDelivery, replaceIfPresentFlag, dataCoding, smDefaultMsgID)
            buffer.writeShortMessage(shortMessage)
        }
    }

    /// The body of submit_multi_resp (SMPP 3.4 §4.5.2).
    public struct SubmitMultiResponse: Hashable, Sendable {
        public var messageID: String
        public var unsuccessful: [UnsuccessSME]

        public init(messageID: String, unsuccessful: [UnsuccessSME] = []) {
            self.messageID = messageID
            self.unsuccessful = unsuccessful
        }

        static func decode(_ reader: inout BodyReader) throws -> SubmitMultiResponse {
            let messageID = try reader.cString("message_id", max: 65)
            let count = try reader.u8("no_unsuccess")
            var unsuccessful: [UnsuccessSME] = []
            unsuccessful.reserveCapacity(Int(count))
            for _ in 0..<count {
                let address = try reader.address("dest_addr_ton", "dest_addr_npi", "destination_addr", max: 21)
                let status = try reader.u32("error_status_code")
                unsuccessful.append(UnsuccessSME(address: address, errorStatusCode: CommandStatus(status)))
            }
            return SubmitMultiResponse(messageID: messageID, unsuccessful: unsuccessful)
        }

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeCString(messageID)
            buffer.writeInteger(UInt8(truncatingIfNeeded: unsuccessful.count))
            for entry in unsuccessful.prefix(255) {
                buffer.writeAddress(entry.address)
                buffer.writeInteger(entry.errorStatusCode.rawValue, endianness: .big)
            }
        }
    }
}

// The mandatory fields of a body, named and ordered as in the specification, for renderers and stores.

import NIOCore

extension PDU {
    /// A field's value, as renderers show it.
    public enum FieldValue: Hashable, Sendable {
        case integer(UInt64)
        case string(String)
        /// A password: renderers redact it unless the user asks for secrets.
        case secret(String)
        /// Octets (short_message), shown as hex.
        case octets(ByteBuffer)
        /// submit_multi's dest_address list.
        case destinations([MultiDestination])
        /// submit_multi_resp's unsuccess_sme list.
        case unsuccessful([UnsuccessSME])
    }

    /// One named field.
    public struct Field: Hashable, Sendable {
        public var name: String
        public var value: FieldValue

        public init(_ name: String, _ value: FieldValue) {
            self.name = name
            self.value = value
        }
    }

    /// The body's mandatory fields in wire order; short_message appears as `sm_length` and `short_message`.
    public var fields: [Field] {
        var out: [Field] = []
        func int(_ name: String, _ value: UInt8) { out.append(Field(name, .integer(UInt64(value)))) }
        func str(_ name: String, _ value: String) { out.append(Field(name, .string(value))) }
        func addr(_ prefix: String, _ addressName: String, _ address: Address) {
            int(prefix + "_ton", address.ton)
            int(prefix + "_npi", address.npi)
            str(addressName, address.address)
        }
        func message(_ octets: ByteBuffer) {
            out.append(Field("sm_length", .integer(UInt64(octets.readableBytes))))
            out.append(Field("short_message", .octets(octets)))
        }
        switch body {
        case .empty, .opaque, .undecodable:
            break
        case .bind(let b):
            str("system_id", b.systemID)
            out.append(Field("password", .secret(b.password)))
            str("system_type", b.systemType)
            int("interface_version", b.interfaceVersion)
            int("addr_ton", b.addrTON)
            int("addr_npi", b.addrNPI)
            str("address_range", b.addressRange)
        case .bindResponse(let b):
            str("system_id", b.systemID)
        case .outbind(let b):
            str("system_id", b.systemID)
            out.append(Field("password", .secret(b.password)))
        case .shortMessage(let m):
            str("service_type", m.serviceType)
            addr("source_addr", "source_addr", m.source)
            addr("dest_addr", "destination_addr", m.destination)
            int("esm_class", m.esmClass)
            int("protocol_id", m.protocolID)
            int("priority_flag", m.priorityFlag)
            str("schedule_delivery_time", m.scheduleDeliveryTime)
            str("validity_period", m.validityPeriod)
            int("registered_delivery", m.registeredDelivery)
            int("replace_if_present_flag", m.replaceIfPresentFlag)
            int("data_coding", m.dataCoding)
            int("sm_default_msg_id", m.smDefaultMsgID)
            message(m.shortMessage)
        case .messageID(let id):
            str("message_id", id)
        case .submitMulti(let m):
            str("service_type", m.serviceType)
            addr("source_addr", "source_addr", m.source)
            int("number_of_dests", UInt8(truncatingIfNeeded: m.destinations.count))
            out.append(Field("dest_address", .destinations(m.destinations)))
            int("esm_class", m.esmClass)
            int("protocol_id", m.protocolID)
            int("priority_flag", m.priorityFlag)
            str("schedule_delivery_time", m.scheduleDeliveryTime)
            str("validity_period", m.validityPeriod)
            int("registered_delivery", m.registeredDelivery)
            int("replace_if_present_flag", m.replaceIfPresentFlag)
            int("data_coding", m.dataCoding)
            int("sm_default_msg_id", m.smDefaultMsgID)
            message(m.shortMessage)
        case .submitMultiResponse(let r):
            str("message_id", r.messageID)
            int("no_unsuccess", UInt8(truncatingIfNeeded: r.unsuccessful.count))
            out.append(Field("unsuccess_sme", .unsuccessful(r.unsuccessful)))
        case .dataSM(let d):
            str("service_type", d.serviceType)
            addr("source_addr", "source_addr", d.source)
            addr("dest_addr", "destination_addr", d.destination)
            int("esm_class", d.esmClass)
            int("registered_delivery", d.registeredDelivery)
            int("data_coding", d.dataCoding)
        case .querySM(let q):
            str("message_id", q.messageID)
            addr("source_addr", "source_addr", q.source)
        case .querySMResponse(let q):
            str("message_id", q.messageID)
            str("final_date", q.finalDate)
            int("message_state", q.messageState)
            int("error_code", q.errorCode)
        case .cancelSM(let c):
            str("service_type", c.serviceType)
            str("message_id", c.messageID)
            addr("source_addr", "source_addr", c.source)
            addr("dest_addr", "destination_addr", c.destination)
        case .replaceSM(let r):
            str("message_id", r.messageID)
            addr("source_addr", "source_addr", r.source)
            str("schedule_delivery_time", r.scheduleDeliveryTime)
            str("validity_period", r.validityPeriod)
            int("registered_delivery", r.registeredDelivery)
            int("sm_default_msg_id", r.smDefaultMsgID)
            message(r.shortMessage)
        case .alertNotification(let a):
            addr("source_addr", "source_addr", a.source)
            addr("esme_addr", "esme_addr", a.esme)
        case .broadcastSM(let b):
            str("service_type", b.serviceType)
            addr("source_addr", "source_addr", b.source)
            str("message_id", b.messageID)
            int("priority_flag", b.priorityFlag)
            str("schedule_delivery_time", b.scheduleDeliveryTime)
            str("validity_period", b.validityPeriod)
            int("replace_if_present_flag", b.replaceIfPresentFlag)
            int("data_coding", b.dataCoding)
            int("sm_default_msg_id", b.smDefaultMsgID)
        case .queryBroadcastSM(let q):
            str("message_id", q.messageID)
            addr("source_addr", "source_addr", q.source)
        case .cancelBroadcastSM(let c):
            str("service_type", c.serviceType)
            str("message_id", c.messageID)
            addr("source_addr", "source_addr", c.source)
        }
        return out
    }
}

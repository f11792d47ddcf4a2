// The fields of a PDU that a store is searched by, read the same way when importing (to index them) and when
// reading (to check a candidate PDU against a filter).

import Crypto
import Foundation
import NIOCore
@_spi(Lent) import SMPP

/// The searchable fields of one PDU.
struct PDUKeys {
    var sourceAddress: String?
    var destinationAddress: String?
    /// The message id the PDU carries: a response's, a query's, or the receipted id of a receipt.
    var messageID: String?
    var receipt: DeliveryReceipt?
    var bind: (systemID: String, systemType: String, password: String)?
    var outbind: (systemID: String, password: String)?

    /// Reads the keys of a whole frame. The fast paths read located fields; other requests are decoded.
    init(frame: ByteBuffer, header: PDUHeader, digest: PDUDigest) {
        let command = header.commandID
        if let location = digest.shortMessage {
            frame.withUnsafeReadableBytes { bytes in
                sourceAddress = fieldString(UnsafeRawBufferPointer(rebasing: bytes[location.source]))
                destinationAddress = fieldString(UnsafeRawBufferPointer(rebasing: bytes[location.destination]))
            }
            if command == .deliverSM, let receipt = Self.receipt(frame: frame, location: location) {
                self.receipt = receipt
                messageID = receipt.messageID
            }
        } else if command.isResponse {
            if header.commandStatus == .ok || command == .querySMResp,
                let range = PDULayout.leadingCString(in: frame), !range.isEmpty
            {
                messageID = frame.withUnsafeReadableBytes { fieldString(UnsafeRawBufferPointer(rebasing: $0[range])) }
            }
        } else if command != .enquireLink, command != .unbind, digest.isWellFormed, let pdu = try? PDU.decode(frame) {
            sourceAddress = pdu.source?.address
            destinationAddress = pdu.destination?.address
            messageID = pdu.messageID
            if command == .dataSM, let receipt = pdu.deliveryReceipt() {
                self.receipt = receipt
                messageID = receipt.messageID ?? messageID
            }
            switch pdu.body {
            case .bind(let bind): self.bind = (bind.systemID, bind.systemType, bind.password)
            case .outbind(let outbind): self.outbind = (outbind.systemID, outbind.password)
            default: break
            }
        }
        if messageID?.isEmpty == true { messageID = nil }
        if sourceAddress?.isEmpty == true { sourceAddress = nil }
        if destinationAddress?.isEmpty == true { destinationAddress = nil }
    }

    /// The receipt of a deliver_sm, read from its bytes. An unmarked message whose text is plain ASCII and does not
    /// start with "id:" is mobile-originated and not read further.
    private static func receipt(frame: ByteBuffer, location: ShortMessageLocation) -> DeliveryReceipt? {
        guard PDULayout.mayCarryReceipt(in: frame, at: location, isoDefault: false) else { return nil }
        let text = PDULayout.message(in: frame, at: location, isoDefault: false).decoded.text
        return PDULayout.deliveryReceipt(in: frame, at: location, text: text)
    }

    /// The lookup keys, by kind.
    var lookupKeys: [(StoreSchema.Key, String)] {
        var keys: [(StoreSchema.Key, String)] = []
        if let messageID { keys.append((.messageID, StoreSchema.messageIDKey(messageID))) }
        if let sourceAddress { keys.append((.address, sourceAddress)) }
        if let destinationAddress, destinationAddress != sourceAddress { keys.append((.address, destinationAddress)) }
        if let state = receipt?.state { keys.append((.receiptState, state)) }
        return keys
    }
}

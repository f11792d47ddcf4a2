// The fields of a PDU that a store is searched by, read the same way when importing (to index them) and when
// reading (to check a candidate PDU against a filter).

import Crypto
import Foundation
import NIOCore
import SMPP

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

    /// The receipt of a deliver_sm. A plain-ASCII text reads the same in the encodings receipts use, so it is
    /// parsed from the bytes; anything else goes through the full decoder.
    private static func receipt(frame: ByteBuffer, location: ShortMessageLocation) -> DeliveryReceipt? {
        let type = location.esmClass & 0x3C
        let marked = type == 0x04 || type == 0x08 || type == 0x10 || type == 0x20
        let hasReceiptTLV = PDULayout.findTLV(.receiptedMessageID, in: frame, region: location.tlvs) != nil
        // Text that reads the same in GSM 03.38, IA5/ASCII and Latin-1: printable ASCII without the characters
        // GSM 03.38 places elsewhere.
        let plainText: String? = frame.withUnsafeReadableBytes { bytes in
            let text = UnsafeRawBufferPointer(rebasing: bytes[location.shortMessage])
            guard location.dataCoding == 0 || location.dataCoding == 1 || location.dataCoding == 3,
                text.allSatisfy({ (0x20...0x7A).contains($0) && $0 != 0x24 && $0 != 0x40 && !(0x5B...0x60).contains($0) })
            else { return nil }
            return String(decoding: text, as: UTF8.self)
        }
        if !marked, !hasReceiptTLV {
            // An unmarked receipt must start with "id:"; anything else is a mobile-originated message.
            guard let plainText, plainText.lowercased().hasPrefix("id:") else {
                if plainText != nil { return nil }
                return (try? PDU.decode(frame))?.deliveryReceipt()
            }
        }
        guard let pdu = try? PDU.decode(frame) else { return nil }
        return pdu.deliveryReceipt(text: plainText)
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

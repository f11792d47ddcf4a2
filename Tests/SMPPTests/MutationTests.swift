// Real PDUs, mutated: bit flips, truncation, random lengths, random splices. Nothing may crash or hang.

import NIOCore
@_spi(Lent) import SMPP
import TestSupport
import Testing

@Suite("Mutated PDUs")
struct MutationTests {
    /// Real PDUs from the reference captures and the operation table.
    static func seeds() throws -> [[UInt8]] {
        var seeds = operationCases.map(\.wire)
        for capture in Fixtures.referenceCaptures {
            for row in try Fixtures.referencePDUs(capture) {
                if let text = row["pdu_hex"] as? String { seeds.append(bytes(hex: text)) }
            }
        }
        return seeds
    }

    /// Decodes, renders and re-encodes whatever comes out; the framer runs over the same bytes as a stream.
    static func exercise(_ input: [UInt8], framer: SMPPFramer) {
        if let pdu = try? PDU.decode(ByteBuffer(bytes: input)) {
            _ = pdu.fields
            _ = pdu.tlvs.map(\.value)
            let message = pdu.message()
            _ = pdu.deliveryReceipt(text: message?.decoded.text)
            _ = message?.decoded.text.map { SMSCKZMessage(text: $0) }
            // The structural walk agrees with decoding on whether the body fits its header.
            if Int(pdu.header.commandLength) == input.count {
                let structural: Set<SMPPDecodingError.Code> = [
                    .unterminatedCString, .smLengthPastEnd, .tlvLengthPastEnd, .fieldPastEnd, .trailingBytes,
                    .invalidValue,
                ]
                var clean = !pdu.diagnostics.contains { structural.contains($0.code) }
                if case .undecodable = pdu.body { clean = false }
                #expect(PDULayout.isWellFormed(ByteBuffer(bytes: input)) == clean, "\(hex(input)): \(pdu.diagnostics)")
                // The digest (one walk for submit_sm and deliver_sm) agrees with the walk and the location.
                let digest = input.withUnsafeBytes { PDUDigest(bytes: $0) }
                #expect(digest.isWellFormed == clean, "\(hex(input))")
                #expect(
                    digest.shortMessage == (clean ? PDULayout.locateShortMessage(in: ByteBuffer(bytes: input)) : nil))
                // The fields located without decoding are the decoded ones.
                if clean, case .shortMessage(let body) = pdu.body {
                    let location = PDULayout.locateShortMessage(in: ByteBuffer(bytes: input))
                    #expect(location != nil, "\(hex(input))")
                    if let location {
                        func text(_ range: Range<Int>) -> String { input[range].withUnsafeBytes { fieldString($0) } }
                        #expect(text(location.serviceType) == body.serviceType)
                        #expect(location.sourceTON == body.source.ton && text(location.source) == body.source.address)
                        #expect(
                            location.destinationTON == body.destination.ton
                                && text(location.destination) == body.destination.address)
                        #expect(location.esmClass == body.esmClass && location.dataCoding == body.dataCoding)
                        #expect(location.registeredDelivery == body.registeredDelivery)
                        #expect(Array(input[location.shortMessage]) == Array(body.shortMessage.readableBytesView))
                        #expect(location.tlvs.upperBound == input.count)
                    }
                }
            }
            // Decoding what was encoded gives the same values again.
            let again = try? PDU.decode(pdu.encoded)
            #expect(again?.header.commandID == pdu.header.commandID)
            #expect(again?.header.sequenceNumber == pdu.header.sequenceNumber)
            #expect(again?.body == pdu.body)
            #expect(again?.tlvs == pdu.tlvs)
            #expect(again?.trailingBytes == pdu.trailingBytes)
        }
        var stream = ByteBuffer(bytes: input)
        var steps = 0
        loop: while steps < input.count + 2 {
            steps += 1
            switch framer.step(&stream) {
            case .frame: continue
            case .needMoreData: break loop
            case .invalid: stream.moveReaderIndex(forwardBy: 1)
            }
        }
    }

    @Test func hundredThousandMutations() throws {
        let seeds = try Self.seeds()
        var random = SplitMix64(seed: 0x5EED)
        let framer = SMPPFramer(maximumLength: 4_096)
        for _ in 0..<100_000 {
            var input = seeds[Int(random.next() % UInt64(seeds.count))]
            switch random.next() % 6 {
            case 0:
                for _ in 0..<(1 + random.next() % 4) where !input.isEmpty {
                    let bit = Int(random.next() % UInt64(input.count * 8))
                    input[bit / 8] ^= UInt8(1 << (bit % 8))
                }
            case 1:
                input = Array(input.prefix(Int(random.next() % UInt64(input.count + 1))))
            case 2:
                if input.count >= 4 {
                    let length = UInt32(truncatingIfNeeded: random.next() % 512)
                    input[0] = UInt8(length >> 24); input[1] = UInt8((length >> 16) & 0xFF)
                    input[2] = UInt8((length >> 8) & 0xFF); input[3] = UInt8(length & 0xFF)
                }
            case 3:
                if input.count > 17 {
                    let at = 16 + Int(random.next() % UInt64(input.count - 16))
                    input[at] = UInt8(truncatingIfNeeded: random.next())
                }
            case 4:
                let other = seeds[Int(random.next() % UInt64(seeds.count))]
                let cut = Int(random.next() % UInt64(input.count + 1))
                input = Array(input.prefix(cut)) + Array(other.dropFirst(Int(random.next() % UInt64(other.count + 1))))
            default:
                input = (0..<Int(random.next() % 80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            Self.exercise(input, framer: framer)
        }
    }
}

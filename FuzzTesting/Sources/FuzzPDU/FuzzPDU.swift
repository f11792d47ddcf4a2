// libFuzzer target: arbitrary bytes as one PDU and as a stream of PDUs. Decoding, rendering the fields, the
// message, the receipt and the dialect, re-encoding, the structural walk and the framer must never crash, and
// decoding what was encoded must give the same values.

import NIOCore
import SMPP

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    if let pdu = try? PDU.decode(bytes) {
        _ = pdu.fields
        _ = pdu.tlvs.map(\.value)
        let message = pdu.message(isoDefault: size % 2 == 0)
        _ = pdu.deliveryReceipt(text: message?.decoded.text)
        if let text = message?.decoded.text { _ = SMSCKZMessage(text: text) }
        _ = PDULayout.isWellFormed(bytes)
        let encoded = pdu.encoded
        if let again = try? PDU.decode(encoded) {
            precondition(again.body == pdu.body && again.tlvs == pdu.tlvs, "decode(encode(decode(x))) differs")
        }
    }
    var stream = bytes
    let framer = SMPPFramer(maximumLength: 4_096)
    var steps = 0
    loop: while steps <= size {
        steps += 1
        switch framer.step(&stream) {
        case .frame: continue
        case .needMoreData: break loop
        case .invalid: stream.moveReaderIndex(forwardBy: 1)
        }
    }
    return 0
}

@_cdecl("FuzzPDU_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

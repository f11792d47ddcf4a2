// Decodes a submit_sm with the SMPP codec, as a project depending on it by version would; and, given a capture,
// follows it with the capture, reassembly and timeline libraries.

import Capture
import NIOCore
import Reassembly
import SMPP
import Timeline

#if canImport(Glibc)
    import Glibc
#endif

let bytes: [UInt8] = [
    0x00, 0x00, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x05, 0x00, 0x53, 0x48, 0x4F, 0x50, 0x00, 0x01, 0x01, 0x37, 0x37, 0x30, 0x31, 0x31, 0x32,
    0x33, 0x34, 0x35, 0x36, 0x37, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0C,
    0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x20, 0x77, 0x6F, 0x72, 0x6C, 0x64, 0x21,
]
let pdu = try PDU.decode(ByteBuffer(bytes: bytes))
guard pdu.commandID == .submitSM, pdu.destination?.address == "77011234567",
    pdu.message()?.decoded.text == "hello world!"
else {
    print("decoded something else: \(pdu)")
    exit(1)
}
print("\(pdu.commandID.name) to \(pdu.destination?.address ?? "?"): \(pdu.message()?.decoded.text ?? "")")

// A capture, when one is named: read, reassembled and followed into sessions with the owned forms of the public API
// (no `@_spi`), counting the submit_sm each client sent.
if CommandLine.arguments.count > 1 {
    let reader = try CaptureFileReader(path: CommandLine.arguments[1])
    var decoder = PacketDecoder()
    let reassembler = SMPPStreamReassembler()
    var tracker = SessionTracker(decodesEveryPDU: false)
    var diagnostics: [CaptureDiagnostic] = []
    var submits = 0
    var firstSize = 0
    func take(_ event: StreamEvent) {
        tracker.handle(event) { event in
            guard case .pdu(let pdu) = event else { return }
            if pdu.header.commandID == .submitSM, pdu.fromClient == true { submits += 1 }
            if firstSize == 0 { firstSize = pdu.raw.readableBytes }
        }
    }
    while let packet = try reader.next() {
        let size = packet.withData { $0.byteCount }
        guard size == packet.bytes.count else {
            print("packet \(packet.frame): a span of \(size) bytes, a copy of \(packet.bytes.count)")
            exit(1)
        }
        decoder.decode(packet, diagnostics: &diagnostics) { reassembler.add($0, take) }
    }
    reassembler.finish(take)
    print("submit_sm sent by clients: \(submits) (first PDU \(firstSize) bytes)")
}

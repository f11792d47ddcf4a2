// libFuzzer target: arbitrary bytes as a capture file, through the reader, the packet decoder and reassembly.
// Nothing may crash or hang.

import Capture
import Reassembly
import SMPP

#if canImport(Glibc)
    import Glibc
#endif

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The input goes to a file the reader opens, as it would a capture.
let scratchPath = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/smppscope-fuzz-capture-\(getpid()).pcap"

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    guard let reader = try? CaptureFileReader(path: scratchPath) else { return 0 }
    var decoder = PacketDecoder()
    var diagnostics: [CaptureDiagnostic] = []
    let reassembler = SMPPStreamReassembler(
        configuration: ReassemblyConfiguration(maximumPDULength: 4_096, bufferLimit: 1 << 16))
    var events = 0
    while let packet = try? reader.next() {
        decoder.decode(packet, diagnostics: &diagnostics) { segment in
            reassembler.add(segment) { event in
                events += 1
                if case .pdu(let framed) = event { _ = try? PDU.decode(framed.raw) }
            }
        }
        diagnostics.removeAll(keepingCapacity: true)
    }
    reassembler.finish { _ in events += 1 }
    return 0
}

@_cdecl("FuzzCapture_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

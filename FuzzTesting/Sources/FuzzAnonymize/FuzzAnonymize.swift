// libFuzzer target: arbitrary bytes as a capture file, through the anonymizer with small bounds. Nothing may crash
// or hang, every packet read is written once, and every packet written holds as much as it did (or less, where a
// PDU shrank), never more.

import Anonymize
import Capture

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
let scratchPath = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/smppscope-fuzz-anonymize-\(getpid()).pcap"
let key = AnonymizationKey(secret: Array("fuzzing key".utf8))

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    guard let reader = try? CaptureFileReader(path: scratchPath) else { return 0 }
    var limits = AnonymizeLimits()
    limits.maximumPDULength = 4_096
    limits.heldBytesPerDirection = 1 << 14
    limits.keptBytesPerDirection = 1 << 12
    limits.pendingPackets = 64
    limits.pendingBytes = 1 << 16
    limits.connections = 8
    let anonymizer = CaptureAnonymizer(
        key: key, options: AnonymizeOptions(unknownTLVs: size % 2 == 0 ? .drop : .keep), mapIPAddresses: size % 3 == 0,
        limits: limits)
    var read: [Int] = []
    var written = 0
    func emit(_ packet: AnonymizedPacket) {
        precondition(written < read.count, "a packet written that was not read")
        precondition(packet.bytes.count <= read[written], "packet \(written + 1) grew")
        written += 1
    }
    while let packet = try? reader.next() {
        read.append(packet.withData { $0.byteCount })
        anonymizer.add(packet, emit: emit)
    }
    anonymizer.finish(emit: emit)
    precondition(written == read.count, "\(read.count) packets read, \(written) written")
    return 0
}

@_cdecl("FuzzAnonymize_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

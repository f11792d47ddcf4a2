// libFuzzer target: arbitrary bytes as a capture file, through the whole of `analyze`: reading, decoding,
// reassembly, sessions, the analysis (on the same two threads as the command) and the JSON and text reports.
// Nothing may crash or hang; the report must count what it was handed.

@_spi(Lent) import Analysis
import Capture
@_spi(Lent) import Ingest
import Report

#if canImport(Glibc)
    import Glibc
#endif

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

let scratchPath = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/smppscope-fuzz-analyze-\(getpid()).pcap"

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    guard let source = try? PacketSource.open(path: scratchPath) else { return 0 }
    let ingest = CaptureIngest(source: source, decodesEveryPDU: false)
    let analyzer = Analyzer()
    var handed = 0
    // The pipelined path (a second thread) for one input in sixteen, the single-threaded one for the rest.
    try? ingest.run(
        parallel: size > 0 && data[0] & 0x0F == 0,
        lent: { pdu in
            handed += 1
            analyzer.handle(lent: pdu)
        }, other: { analyzer.handle($0) }, prepare: Analyzer.prepare, upcoming: { analyzer.prefetch($0) })
    let report = analyzer.finish()
    precondition(report.pdusTotal == handed, "the report counts \(report.pdusTotal) PDUs of \(handed)")
    _ = AnalyzeJSON.render(report)
    _ = AnalyzeText.render(report)
    return 0
}

@_cdecl("FuzzAnalyze_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

// libFuzzer target: arbitrary bytes as a capture file, through the whole of `profile`: reading, decoding,
// reassembly, sessions, the profiler, the conformance report, their text and JSON. Nothing may crash or hang; every
// departure must carry its evidence, within the bound.

import Capture
import Foundation
import Ingest
import Profile
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

let scratchPath = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/smppscope-fuzz-profile-\(getpid()).pcap"

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    guard let source = try? PacketSource.open(path: scratchPath) else { return 0 }
    var profiler = ProviderProfiler()
    try? CaptureIngest(source: source, decodesEveryPDU: true).run { profiler.consume($0) }
    let profile = profiler.profile(source: "fuzz")
    let report = profiler.conformance(source: "fuzz")
    for departure in report.departures {
        precondition(departure.count >= departure.evidence.count && !departure.evidence.isEmpty)
        precondition(departure.evidence.count <= ConformanceReport.evidenceLimit)
    }
    for smsc in profile.smscs {
        for histogram in smsc.responses.values.map(\.latency) + [smsc.receipts.delay] {
            precondition(histogram.buckets.reduce(0) { $0 + $1.count } == histogram.count)
        }
    }
    _ = ProfileText.render(profile)
    _ = ProfileText.render(report)
    _ = try? JSONEncoder().encode(profile)
    _ = try? JSONEncoder().encode(report)
    return 0
}

@_cdecl("FuzzProfile_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

// libFuzzer target: arbitrary bytes as a capture file through the whole of `trace`: reading, decoding, reassembly,
// sessions, the collector, the joiner (the capture alone, then with itself: a copy of one link), the text, JSON and
// HTML. Nothing may crash or hang; a capture with itself must be recognised as its copy, with no clock offset.

import Capture
import Foundation
import Ingest
import Report
import Trace

#if canImport(Glibc)
    import Glibc
#endif

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

let scratchPath = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/smppscope-fuzz-trace-\(getpid()).pcap"

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    var inputs: [TraceJoiner.Input] = []
    for index in 0..<2 {
        guard let source = try? PacketSource.open(path: scratchPath) else { return 0 }
        var collector = TraceCollector(input: index)
        try? CaptureIngest(source: source, decodesEveryPDU: false).run { collector.consume($0) }
        let (messages, fingerprints) = collector.finish()
        inputs.append(
            TraceJoiner.Input(
                name: "input \(index)", messages: messages, fingerprints: fingerprints, first: collector.first,
                last: collector.last))
    }
    let alone = TraceJoiner().join([inputs[0]])
    let both = TraceJoiner().join(inputs)
    if inputs[0].fingerprints.count >= 3 {
        precondition(both.mirrors[1] == 0 && both.clockOffsets.first.map { abs($0.offset) < 1e-9 } == true)
        precondition(both.journeys.count == alone.journeys.count, "a copy adds no message")
    }
    _ = TraceRender.text(both)
    _ = TraceRender.json(both)
    _ = TraceRender.html(both, title: "fuzz")
    return 0
}

@_cdecl("FuzzTrace_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

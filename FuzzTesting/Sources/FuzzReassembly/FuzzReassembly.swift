// libFuzzer target: arbitrary sequences of TCP segments (flags, sequence jumps, lengths, payloads, times, a few
// connections) into reassembly with small budgets, so that every limit is reached: held segments, flows, idle
// eviction, resynchronisation. Nothing may crash or hang, and every PDU handed out must be whole.

@_spi(Lent) import Capture
import Reassembly
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
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var configuration = ReassemblyConfiguration(
        maximumPDULength: 1_024, bufferLimit: 2_048, totalBufferLimit: 4_096, scanBudget: 512)
    configuration.maximumFlows = 3
    configuration.flowIdleTimeout = 5_000_000_000
    let reassembler = SMPPStreamReassembler(configuration: configuration)
    // Per connection and direction, the next sequence number the input builds on.
    var sequences = [UInt32](repeating: 1_000, count: 16)
    var time: Int64 = 1_800_000_000_000_000_000
    var frame = 0
    var offset = 0
    func check(_ event: StreamEvent) {
        if case .pdu(let framed) = event {
            let length = framed.raw.getInteger(at: framed.raw.readerIndex, as: UInt32.self)
            precondition(length.map { Int($0) == framed.raw.readableBytes } ?? false, "a PDU handed out is not whole")
            _ = try? PDU.decode(framed.raw)
        }
    }
    // Each segment: [connection+direction][flags][sequence jump][time step][length], then the payload.
    while offset + 5 <= input.count {
        let which = Int(input[offset]) & 0x0F
        let flags = TCPFlags(rawValue: input[offset + 1])
        let jump = Int32(Int8(bitPattern: input[offset + 2])) * 37
        let step = Int64(input[offset + 3]) * 100_000_000
        let length = min(Int(input[offset + 4]), input.count - offset - 5)
        offset += 5
        let payload = UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)])
        offset += length
        let connection = UInt16(which >> 1)
        let fromClient = which & 1 == 0
        let client = Endpoint(address: IPAddress(ipv4: 0x0A00_0001), port: 40_000 + connection)
        let server = Endpoint(address: IPAddress(ipv4: 0x0A00_0002), port: 2_775)
        let sequence = sequences[which] &+ UInt32(bitPattern: jump)
        sequences[which] = sequence &+ UInt32(length)
        time += step
        frame += 1
        let segment = TCPSegment(
            frame: frame, timestamp: Timestamp(nanoseconds: time), source: fromClient ? client : server,
            destination: fromClient ? server : client, sequence: sequence, acknowledgment: sequences[which ^ 1],
            flags: flags, payload: payload, payloadLength: length)
        reassembler.add(segment, check)
    }
    reassembler.finish(check)
    return 0
}

@_cdecl("FuzzReassembly_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

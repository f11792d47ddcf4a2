// A copy of each direction's bytes framed into PDUs for the recording, with the time they reached the proxy.
// Forwarding never waits for it.

import Capture
import NIOCore
import Reassembly
import SMPP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Timestamp {
    /// The wall-clock time now.
    public static var now: Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }
}

/// Frames one direction of a proxied connection.
struct DirectionTap {
    private let framer: SMPPFramer
    private var pending: ByteBuffer?
    /// Stream offset of the first byte of `pending`.
    private var offset: UInt64 = 0
    /// Set once the stream stops looking like SMPP: later bytes are forwarded but not framed.
    private(set) var lost = false

    init(maximumPDULength: Int) {
        framer = SMPPFramer(maximumLength: maximumPDULength)
    }

    /// Feeds bytes that arrived; calls `frame` for every PDU completed (a compact copy, with its stream offset),
    /// `problem` once if framing is lost.
    mutating func feed(_ bytes: ByteBuffer, frame: (ByteBuffer, UInt64) -> Void, problem: (String, UInt64) -> Void) {
        guard !lost else { return }
        if var buffer = pending {
            var copy = bytes
            buffer.writeBuffer(&copy)
            pending = buffer
        } else {
            pending = bytes
        }
        guard var buffer = pending else { return }
        framing: while true {
            let start = offset
            switch framer.step(&buffer) {
            case .frame(let slice):
                offset += UInt64(slice.readableBytes)
                frame(ByteBuffer(bytes: slice.readableBytesView), start)
            case .needMoreData:
                break framing
            case .invalid(let error):
                lost = true
                problem("\(error.reason); the rest of this direction is forwarded but not recorded", start)
                pending = nil
                return
            }
        }
        if buffer.readableBytes == 0 {
            pending = nil
        } else {
            // Keep only what is left, not the whole read buffer.
            pending = ByteBuffer(bytes: buffer.readableBytesView)
        }
    }

    /// Bytes of an unfinished PDU left at the end.
    var leftover: Int { pending?.readableBytes ?? 0 }
    var position: UInt64 { offset }
}

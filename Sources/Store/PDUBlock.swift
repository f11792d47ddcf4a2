// PDUs are stored in blocks: the PDUs of one session within one imported batch, packed in one row. A row per PDU
// would cost SQLite more than everything else an import does; a block costs one row for hundreds of PDUs, and
// a session or a time range still reads only the blocks it needs.
//
// Each PDU in a block: ordinal (varint, from the block's first), time (zigzag varint, from the previous PDU's),
// frame (zigzag varint, from the previous PDU's), stream offset (varint), flags (bit 0: sent by the connection's
// first endpoint), length (varint), then the PDU's bytes. Times count from the block's first PDU.

import Capture

/// One PDU read back from a block.
struct BlockEntry {
    var ordinal: Int
    var timestamp: Timestamp
    var frame: Int
    var streamOffset: UInt64
    var fromFirst: Bool
    var bytes: ArraySlice<UInt8>
}

/// Builds a block.
struct PDUBlockBuilder {
    let firstOrdinal: Int
    /// The first PDU's time, from which the times in the block count.
    let baseTime: Int64
    private(set) var lastOrdinal: Int
    private(set) var firstTime: Int64
    private(set) var lastTime: Int64
    private(set) var count = 0
    private(set) var data: [UInt8] = []
    private var previousTime: Int64
    private var previousFrame: Int64 = 0

    init(firstOrdinal: Int, time: Int64) {
        self.firstOrdinal = firstOrdinal
        lastOrdinal = firstOrdinal
        baseTime = time
        firstTime = time
        lastTime = time
        previousTime = time
        data.reserveCapacity(16 << 10)
    }

    mutating func append(
        ordinal: Int, time: Int64, frame: Int, streamOffset: UInt64, fromFirst: Bool, bytes: UnsafeRawBufferPointer
    ) {
        appendVarint(UInt64(ordinal &- firstOrdinal))
        appendVarint(zigzag(time &- previousTime))
        appendVarint(zigzag(Int64(frame) &- previousFrame))
        appendVarint(streamOffset)
        data.append(fromFirst ? 1 : 0)
        appendVarint(UInt64(bytes.count))
        data.append(contentsOf: bytes)
        previousTime = time
        previousFrame = Int64(frame)
        lastOrdinal = ordinal
        firstTime = min(firstTime, time)
        lastTime = max(lastTime, time)
        count += 1
    }

    private mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            data.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        data.append(UInt8(value))
    }

    private func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }
}

/// Reads the entries of a block; stops (returning what it has) at the first damaged entry.
enum PDUBlockReader {
    static func entries(of data: [UInt8], firstOrdinal: Int, baseTime: Int64) -> [BlockEntry] {
        var entries: [BlockEntry] = []
        var offset = 0
        var time = baseTime
        var frame: Int64 = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < data.count, shift < 64 {
                let byte = data[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }
        while offset < data.count {
            guard let ordinal = varint(), let timeDelta = varint(), let frameDelta = varint(),
                let streamOffset = varint(),
                offset < data.count
            else { break }
            let flags = data[offset]
            offset += 1
            guard let length = varint(), length <= UInt64(data.count - offset), ordinal < 1 << 40 else { break }
            time &+= unzigzag(timeDelta)
            frame &+= unzigzag(frameDelta)
            let end = offset + Int(length)
            entries.append(
                BlockEntry(
                    ordinal: firstOrdinal + Int(ordinal), timestamp: Timestamp(nanoseconds: time),
                    frame: Int(truncatingIfNeeded: frame), streamOffset: streamOffset, fromFirst: flags & 1 != 0,
                    bytes: data[offset..<end]))
            offset = end
        }
        return entries
    }
}

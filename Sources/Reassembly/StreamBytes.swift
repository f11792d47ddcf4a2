// The bytes of one direction waiting to be framed, in memory of the stream's own: frames are lent as pointers
// into it, with no reference counting and no copy.
//
// Unsafe code, and its invariants: the memory belongs to one `StreamBytes`, which cannot be copied and frees it
// when its owner goes; a frame lent from it is valid until the next write that does not keep indices, which
// happens only after the callback that got the frame returned; every read and write is checked against
// `readerIndex..<writerIndex` and the capacity.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A growable run of bytes: readable from `readerIndex` to `writerIndex`. Indices stay valid across writes that
/// keep them (``write(_:keepingIndices:)``), so a frame found earlier can still be read after more bytes came.
/// Not copyable: one owner (a stream), and the memory is freed when that owner goes (`deinit`).
///
/// Invariants: `0 <= readerIndex <= writerIndex <= capacity`; `base` holds `capacity` bytes (nil when 0); the
/// pointers handed out (``readable``, ``bytes(at:count:)``) are never kept past the next write that does not keep
/// indices, nor past the owner.
struct StreamBytes: ~Copyable {
    private var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    private(set) var readerIndex = 0
    private(set) var writerIndex = 0

    /// Compacting moves the readable bytes to the front once this many were read: rarely, and cheaply.
    static let compactionThreshold = 1 << 16
    static let minimumCapacity = 4_096

    var readableBytes: Int { writerIndex - readerIndex }

    /// The readable bytes, valid until the next write.
    var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + readerIndex }, count: readableBytes)
    }

    /// `count` bytes from `index` (an index as `readerIndex`), valid until the next write that does not keep
    /// indices. The range must lie within what was written.
    func bytes(at index: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && count >= 0 && index <= writerIndex - count, "stream bytes out of range")
        return UnsafeRawBufferPointer(start: base.map { $0 + index }, count: count)
    }

    /// The big-endian 32-bit word at the reader index, when four bytes are readable.
    var firstWord: UInt32? {
        guard readableBytes >= 4, let base else { return nil }
        return UInt32(bigEndian: (base + readerIndex).loadUnaligned(as: UInt32.self))
    }

    mutating func moveReaderIndex(forwardBy count: Int) {
        precondition(count >= 0 && count <= readableBytes, "reading past the stream bytes")
        readerIndex += count
    }

    /// Appends `bytes`. Unless `keepingIndices` (frames found earlier are still to be read), what was read is
    /// dropped first when that is cheap or needed, and indices change.
    mutating func write(_ bytes: UnsafeRawBufferPointer, keepingIndices: Bool) {
        guard !bytes.isEmpty else { return }
        if !keepingIndices {
            if readerIndex == writerIndex {
                readerIndex = 0
                writerIndex = 0
            } else if readerIndex >= Self.compactionThreshold
                || (readerIndex > 0 && writerIndex + bytes.count > capacity && readableBytes + bytes.count <= capacity)
            {
                // The readable bytes may overlap where they go.
                if let base { memmove(base, base + readerIndex, readableBytes) }
                writerIndex = readableBytes
                readerIndex = 0
            }
        }
        if writerIndex + bytes.count > capacity { grow(to: writerIndex + bytes.count) }
        if let base, let source = bytes.baseAddress {
            (base + writerIndex).copyMemory(from: source, byteCount: bytes.count)
        }
        writerIndex += bytes.count
    }

    /// At least `needed` bytes of capacity; everything written so far is kept at the same indices.
    private mutating func grow(to needed: Int) {
        var newCapacity = Swift.max(capacity, Self.minimumCapacity)
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        if let base {
            grown.copyMemory(from: base, byteCount: writerIndex)
            base.deallocate()
        }
        base = grown
        capacity = newCapacity
    }

    init() {}

    deinit {
        base?.deallocate()
    }
}

// A streaming window over a file or standard input: read(2) into one reusable buffer, so memory stays flat
// whatever the size of the capture.
//
// Unsafe code, and its invariants: `storage` belongs to the source alone (freed in `deinit`); what it lends
// (`Packet.data`) is valid until the next read, which comes only after the callback that got it returned; every
// read is checked against the bytes the buffer holds.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file descriptor through a buffer that is reused and grows only to twice the largest record asked for
/// (at most 2 × `CaptureFileReader.maximumBlock`).
final class ByteSource {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private(set) var reachedEOF = false
    /// File offset of the first available byte.
    private(set) var offset = 0
    /// Total size when known (regular files), for progress.
    let size: Int?

    /// The most one read asks for, unless more is needed at once.
    static let readSize = 256 << 10

    /// Opens a path, or standard input for "-".
    init(path: String, chunkSize: Int = 4 << 20) throws {
        if path == "-" {
            fd = 0
            ownsDescriptor = false
            size = nil
        } else {
            let opened = open(path, O_RDONLY)
            guard opened >= 0 else {
                let reason = String(cString: strerror(errno))
                throw CaptureError(
                    .cannotOpen, "cannot open \(path): \(reason)", location: path,
                    hint: "check the path, or pass - to read a capture from standard input")
            }
            var info = stat()
            if fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(opened)
                throw CaptureError(.cannotOpen, "\(path) is a directory, not a capture file", location: path)
            }
            fd = opened
            ownsDescriptor = true
            size = (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
        }
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunkSize, 1 << 16), alignment: 16)
    }

    deinit {
        storage.deallocate()
        if ownsDescriptor { close(fd) }
    }

    /// The bytes available now, from the current position.
    var available: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[start..<end])
    }

    var availableCount: Int { end - start }

    /// Makes at least `count` bytes available if the input has them; false when it ends first.
    func ensure(_ count: Int) throws -> Bool {
        if end - start >= count { return true }
        if reachedEOF { return false }
        if storage.count - start < count {
            let kept = end - start
            // Room for twice what is asked: a search that asks for `count` bytes at every next offset then moves
            // the kept bytes once per `count` bytes consumed, not once per offset.
            if storage.count < 2 * count {
                let grown = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: max(2 * count, storage.count * 2), alignment: 16)
                if kept > 0, let base = storage.baseAddress, let target = grown.baseAddress {
                    target.copyMemory(from: base + start, byteCount: kept)
                }
                storage.deallocate()
                storage = grown
            } else if kept > 0, let base = storage.baseAddress {
                memmove(base, base + start, kept)
            }
            start = 0
            end = kept
        }
        while end - start < count {
            guard let base = storage.baseAddress else { return false }
            // A read at a time fills at most `readSize` (or what is asked for): the first one, made where the file is
            // opened, does not hold up the start with megabytes; later ones cost no more.
            let room = min(storage.count - end, max(Self.readSize, count - (end - start)))
            let got = read(fd, base + end, room)
            if got < 0 {
                if errno == EINTR { continue }
                throw CaptureError(.readFailed, "read error: \(String(cString: strerror(errno)))")
            }
            if got == 0 {
                reachedEOF = true
                return end - start >= count
            }
            end += got
        }
        return true
    }

    /// Moves past `count` available bytes.
    func consume(_ count: Int) {
        let step = min(count, end - start)
        start += step
        offset += step
    }

    /// Skips `count` bytes, available or not.
    func skip(_ count: Int) throws {
        var left = count
        while left > 0 {
            if end == start {
                guard try ensure(1) else { return }
            }
            let step = min(left, end - start)
            consume(step)
            left -= step
        }
    }
}

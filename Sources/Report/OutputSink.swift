// Buffered output to a file descriptor (standard output by default): renderers append bytes, the sink writes
// them in large blocks.

import Capture

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Collects output bytes and writes them in blocks of about 1 MiB.
public final class OutputSink {
    private let fd: Int32
    public var bytes: [UInt8] = []
    private let flushThreshold: Int
    /// Why writing stopped (an errno), or nil while it works; further output is dropped. EPIPE means the reader
    /// went away (`| head`), which ends a run quietly; anything else (a full disk) is an error.
    public private(set) var errorNumber: Int32?
    /// True when writing stopped, for whatever reason.
    public var closed: Bool { errorNumber != nil }

    public init(fd: Int32 = 1, flushThreshold: Int = 1 << 20) {
        self.fd = fd
        self.flushThreshold = flushThreshold
        bytes.reserveCapacity(flushThreshold + 4096)
    }

    /// Writes when enough is collected.
    @inline(__always)
    public func flushIfNeeded() {
        if bytes.count >= flushThreshold { flush() }
    }

    /// Writes a block of bytes: straight through when it is large, else through the buffer.
    @_spi(Lent) public func write(block: UnsafeRawBufferPointer) {
        guard block.count >= flushThreshold / 8 else {
            bytes.append(contentsOf: block)
            flushIfNeeded()
            return
        }
        flush()
        writeAll(block)
    }

    public func write(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        flushIfNeeded()
    }

    public func flush() {
        guard !bytes.isEmpty else { return }
        defer { bytes.removeAll(keepingCapacity: true) }
        bytes.withUnsafeBytes { writeAll($0) }
    }

    /// Writes every byte unless the reader has gone away.
    private func writeAll(_ raw: UnsafeRawBufferPointer) {
        guard !closed, let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count {
            let written = Glibc.write(fd, base + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                errorNumber = errno
                return
            }
            offset += written
        }
    }

    /// Writes what is left; throws when output failed for any reason but its reader going away.
    public func finish(name: String = "standard output") throws {
        flush()
        if let errorNumber, errorNumber != EPIPE {
            throw CaptureError(
                .cannotWrite, "cannot write to \(name): \(String(cString: strerror(errorNumber)))", location: name,
                hint: "the output is incomplete; check the disk or the device it goes to")
        }
    }

    deinit {
        flush()
    }
}

/// Writes text to standard error, unbuffered.
public func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { raw in
            Glibc.write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
        }
        if written <= 0 { return }
        offset += written
    }
}

/// Writing to an output sink stopped: its reader went away (e.g. `| head`), or it failed (``OutputSink/errorNumber``
/// says which).
public struct OutputClosed: Error {
    public init() {}
}

extension OrderedRenderer {
    /// Adds an item; the chunks already rendered go to `sink`, in order. Throws ``OutputClosed`` once the sink
    /// stopped writing. Inlined into the caller (``add(_:emit:)``), hence part of the lent fast path.
    @_spi(Lent) @inlinable
    public func add(_ item: Item, writingTo sink: OutputSink) throws {
        chunk.append(item)
        guard chunk.count >= chunkSize else { return }
        try submit(emit: sink.emitOrStop)
    }

    /// Renders what is left and writes everything to `sink`, in order (``add(_:writingTo:)``).
    public func finish(writingTo sink: OutputSink) throws {
        try finish(emit: sink.emitOrStop)
    }
}

extension OutputSink {
    /// Writes a rendered block; throws ``OutputClosed`` once writing stopped.
    @usableFromInline
    func emitOrStop(_ block: UnsafeRawBufferPointer) throws {
        write(block: block)
        if closed { throw OutputClosed() }
    }
}

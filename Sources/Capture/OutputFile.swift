// Files smppscope writes: created readable by their owner only (0600, less if the umask says so), and, for finished
// outputs (an exported capture, an HTML report), written under a temporary name in the same folder and renamed
// into place only once complete, so that a failure (a full disk) never leaves a truncated file under the name asked
// for. Every write error names the path and the reason.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One file being written.
public final class OutputFile {
    /// The name the file has once written.
    public let path: String
    /// Where the bytes go until then (the same as `path` for a file written in place).
    private let writingPath: String
    private var fd: Int32
    private var failed = false

    /// Creates the file: in place (`atomic` false: a journal, readable while it grows) or under a temporary name
    /// renamed to `path` by `close()`. "-" is standard output.
    public init(path: String, atomic: Bool = true) throws {
        self.path = path
        if path == "-" {
            writingPath = path
            fd = STDOUT_FILENO
            return
        }
        if atomic {
            let slash = path.lastIndex(of: "/")
            let folder = slash.map { String(path[...$0]) } ?? ""
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            writingPath = "\(folder).\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).partial"
            fd = open(writingPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        } else {
            writingPath = path
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else {
            throw CaptureError(
                .cannotWrite, "cannot write \(path): \(String(cString: strerror(errno)))", location: path,
                hint: "check that the folder exists and is writable")
        }
    }

    /// Writes every byte; throws with the path and the reason when the system refuses (a full disk).
    @_spi(Lent) public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Glibc.write(fd, base, left)
            if written < 0 {
                if errno == EINTR { continue }
                failed = true
                throw CaptureError(
                    .cannotWrite, "cannot write \(path): \(String(cString: strerror(errno)))", location: path)
            }
            base += written
            left -= written
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Finishes the file: on disk, then under its name. A failure removes what was written under a temporary name.
    public func close() throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        if fd == STDOUT_FILENO { return }
        let synced = writingPath == path || fsync(fd) == 0
        let reason = synced ? nil : errno
        let closed = Glibc.close(fd) == 0
        if !synced || !closed || failed {
            let why = reason ?? errno
            if writingPath != path { unlink(writingPath) }
            throw CaptureError(
                .cannotWrite, "cannot finish writing \(path): \(String(cString: strerror(why)))", location: path)
        }
        if writingPath != path, rename(writingPath, path) != 0 {
            let why = errno
            unlink(writingPath)
            throw CaptureError(.cannotWrite, "cannot write \(path): \(String(cString: strerror(why)))", location: path)
        }
    }

    /// Gives the file up: a temporary one is removed, nothing is renamed.
    public func abandon() {
        guard fd >= 0 else { return }
        if fd != STDOUT_FILENO { Glibc.close(fd) }
        fd = -1
        if writingPath != path { unlink(writingPath) }
    }

    deinit { abandon() }

    /// Writes `bytes` as the whole of `path`, atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try OutputFile(path: path)
        do {
            try file.write(bytes)
            try file.close()
        } catch {
            file.abandon()
            throw error
        }
    }
}

// Errors that stop reading a capture, and diagnostics that do not.

/// A problem that stops a capture from being read or an output from being written: a file cannot be opened, it is
/// not a capture, an interface cannot be captured on, a disk is full. It has the shape of SMPP's `LocatedError` (a
/// code, a reason, where, a hint); Capture depends on nothing of SMPP's, so the conformance is declared where both
/// meet.
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem. A closed set.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The file cannot be opened (missing, unreadable, a directory).
        case cannotOpen = "cannot_open"
        /// The file is empty, or is neither pcap nor pcapng.
        case notACapture = "not_a_capture"
        /// The file ends inside its file header.
        case truncatedHeader = "truncated_header"
        /// Reading failed (an I/O error).
        case readFailed = "read_failed"
        /// An output file or stream cannot be written or finished (a full disk, a missing folder).
        case cannotWrite = "cannot_write"
        /// A live interface cannot be opened or captured on.
        case interfaceUnavailable = "interface_unavailable"
        /// A capture filter that libpcap refuses.
        case invalidFilter = "invalid_filter"
        /// A live capture stopped on an error.
        case captureFailed = "capture_failed"
    }

    public var code: Code
    /// What is wrong, in plain words (it names the file or interface).
    public var reason: String
    /// The file, stream or interface concerned.
    public var location: String?
    /// What the user can do about it.
    public var hint: String?

    public init(_ code: Code, _ reason: String, location: String? = nil, hint: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
        self.hint = hint
    }

    public var description: String {
        if let hint { return reason + "\n  hint: " + hint }
        return reason
    }
}

/// Something wrong in a capture that was reported and stepped over: where it is and what it is.
public struct CaptureDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// The packet number (1-based) it concerns, when it concerns one.
    public var frame: Int?
    /// The byte offset in the capture file.
    public var fileOffset: Int?
    public var message: String

    public init(frame: Int? = nil, fileOffset: Int? = nil, message: String) {
        self.frame = frame
        self.fileOffset = fileOffset
        self.message = message
    }

    public var description: String {
        var location: [String] = []
        if let frame { location.append("frame \(frame)") }
        if let fileOffset { location.append("file offset \(fileOffset)") }
        return location.isEmpty ? message : location.joined(separator: ", ") + ": " + message
    }
}

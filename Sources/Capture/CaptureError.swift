// Errors that stop reading a capture, and diagnostics that do not.

/// A problem that stops a capture from being read at all: it cannot be opened, or it is not a capture.
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// What the user can do about it.
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String {
        if let hint { return message + "\n  hint: " + hint }
        return message
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

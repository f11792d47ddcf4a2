// A stored timeline read back as timeline events, and the fingerprint that makes imports idempotent.

import Crypto
import Foundation
import Reassembly
import Timeline

extension TimelineStore {
    /// Reads stored events back through session tracking, as `decode` and `analyze` read a capture.
    public func timeline(
        _ filter: StoreFilter, decodesEveryPDU: Bool = true, _ handle: (TimelineEvent) throws -> Void
    ) throws {
        var tracker = SessionTracker(decodesEveryPDU: decodesEveryPDU)
        try read(filter) { event in
            try tracker.handle(event, handle)
        }
    }
}

/// Identifies a capture file by its content: its size and SHA-256 digests of its first and last MiB.
public enum SourceFingerprint {
    public static func file(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError(.unreadableFile, "cannot open \(path)", location: path)
        }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let head = try handle.read(upToCount: 1 << 20) ?? Data()
        var tail = Data()
        if size > 1 << 20 {
            try handle.seek(toOffset: max(0, size - (1 << 20)))
            tail = try handle.readToEnd() ?? Data()
        }
        var hasher = SHA256()
        hasher.update(data: head)
        hasher.update(data: tail)
        let digest = hasher.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return "file:\(size):\(digest)"
    }
}

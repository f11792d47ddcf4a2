// Where unsafe code may be, held to (docs/architecture.md, "Unsafe code"): code that owns raw memory, keeps a
// pointer or an unretained reference, or starts raw threads only in the named files, each stating its invariants;
// borrowed reads of bytes (`withUnsafeBytes`, a function taking a buffer pointer) only in the byte-crunching
// modules; and no pointer in the public API outside `@_spi(Lent)`.

import Foundation
import Testing

@Suite("Unsafe code")
struct UnsafeCodeTests {
    /// The files that own raw memory, keep pointers or unretained references, or run raw threads.
    static let owningFiles: Set<String> = [
        "Analysis/Analyzer.swift",
        "Analysis/IntegerTable.swift",
        "Analysis/SessionState.swift",
        "Capture/ByteSource.swift",
        "Capture/LentPacket.swift",
        "Capture/WriteBehind.swift",
        "Ingest/ConditionLock.swift",
        "Ingest/ProducerThread.swift",
        "LiveCapture/LiveCapture.swift",
        "Reassembly/FlowCache.swift",
        "Reassembly/StreamBytes.swift",
        "Reassembly/TimelinePDU.swift",
        "Report/DecodeJSON+Wire.swift",
        "Report/JSONWriter.swift",
        "SMPP/PDU/PDULayout.swift",
        "Store/BulkStatement.swift",
    ]

    /// The modules that read bytes through borrowed pointers, on their fast paths.
    static let borrowingModules: Set<String> = [
        "SMPP", "Capture", "LiveCapture", "Reassembly", "Analysis", "Anonymize", "Ingest", "Report", "Store",
    ]

    static var owning: Regex<AnyRegexOutput> {
        try! Regex(
            #"Unmanaged|\.allocate\(|deallocate\(|bindMemory|assumingMemoryBound|unsafeBitCast|_withUnsafeGuaranteedRef|unsafeAddress|(var|let) [A-Za-z]+: Unsafe|^    (private |fileprivate |public |internal |@usableFromInline )*(var|let) [A-Za-z]+ = Unsafe[A-Za-z]*Pointer"#
        )
    }
    static var borrowing: Regex<AnyRegexOutput> {
        try! Regex(#"Unsafe[A-Za-z]*Pointer|withUnsafe|unsafeLoad|_unsafeBytes|Unmanaged"#)
    }

    /// Every Swift file under Sources/, as `Module/path` and its text.
    static func files() -> [(path: String, text: String)] {
        let sources = Paths.root.appendingPathComponent("Sources")
        let all =
            FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.allObjects.compactMap {
                $0 as? URL
            } ?? []
        return all.filter { $0.pathExtension == "swift" }.map { url in
            let path = String(url.standardizedFileURL.path.dropFirst(sources.standardizedFileURL.path.count + 1))
            return (path, (try? String(contentsOf: url, encoding: .utf8)) ?? "")
        }.sorted { $0.path < $1.path }
    }

    /// Lines of code, without comments.
    static func code(_ text: String) -> [(number: Int, line: Substring)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            let trimmed = line.drop { $0 == " " }
            return trimmed.hasPrefix("//") ? nil : (index + 1, line)
        }
    }

    @Test func memoryIsOwnedOnlyInTheNamedFiles() {
        let files = Self.files()
        let owning = Self.owning
        #expect(files.count > 100)
        for (path, text) in files {
            for (number, line) in Self.code(text) where line.contains(owning) {
                #expect(Self.owningFiles.contains(path), "\(path):\(number) owns memory or keeps a pointer: \(line)")
            }
        }
        for path in Self.owningFiles {
            let text = files.first { $0.path == path }?.text
            #expect(text != nil, "\(path) is gone: take it off the list")
            // The header says what keeps the unsafe code right.
            let header = text?.split(separator: "\n").prefix(30).joined(separator: "\n") ?? ""
            #expect(header.contains("Unsafe code") && header.contains("nvariant"), "\(path) states no invariants")
        }
    }

    @Test func onlyTheByteCrunchingModulesBorrowPointers() {
        let borrowing = Self.borrowing
        for (path, text) in Self.files() {
            let module = String(path.prefix { $0 != "/" })
            guard !Self.borrowingModules.contains(module) else { continue }
            for (number, line) in Self.code(text) where line.contains(borrowing) {
                Issue.record("\(path):\(number) uses a pointer in \(module): \(line)")
            }
        }
    }

    /// A `public` declaration that mentions a pointer is `@_spi(Lent)`, or inside a declaration that is.
    @Test func thePublicAPIHasNoPointers() {
        let borrowing = Self.borrowing
        var checked = 0
        for (path, text) in Self.files() {
            // Depths of the braces opened by `@_spi` declarations.
            var depth = 0
            var spiDepths: [Int] = []
            var attributeLine = false
            for (number, line) in Self.code(text) {
                let trimmed = line.drop { $0 == " " }
                let spi = line.contains("@_spi(") || attributeLine
                attributeLine = trimmed.hasPrefix("@_spi(") && !trimmed.contains(" public ")
                let opens = line.filter { $0 == "{" }.count
                let closes = line.filter { $0 == "}" }.count
                // The declaration, not its body.
                let declaration = line.prefix { $0 != "{" }
                if declaration.contains("public "), declaration.contains(borrowing) {
                    checked += 1
                    #expect(spi || !spiDepths.isEmpty, "\(path):\(number) puts a pointer in the public API: \(line)")
                }
                if spi, opens > closes,
                    trimmed.contains("struct ") || trimmed.contains("class ") || trimmed.contains("extension ")
                        || trimmed.contains("enum ")
                {
                    spiDepths.append(depth)
                }
                depth += opens - closes
                while let last = spiDepths.last, depth <= last { spiDepths.removeLast() }
            }
        }
        #expect(checked > 20)
    }
}

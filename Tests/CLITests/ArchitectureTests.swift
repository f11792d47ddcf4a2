// The module graph docs/architecture.md draws, held to: every import in Sources/ points to a module of a lower
// level, and the libraries that do I/O are imported only where the document says.

import Foundation
import Testing

@Suite("Architecture")
struct ArchitectureTests {
    /// docs/architecture.md's levels.
    static let levels: [String: Int] = [
        "SMPP": 0, "Capture": 0, "CHints": 0, "CPcap": 0,
        "Reassembly": 1,
        "Timeline": 2, "Anonymize": 2,
        "Analysis": 3, "ReplayCore": 3, "Store": 3, "Transport": 3, "Ingest": 3, "LiveCapture": 3, "Profile": 3,
        "Trace": 3,
        "Report": 4, "Recording": 4, "Proxy": 4, "Replay": 4, "Simulator": 4,
        "Serve": 5,
        "smppscope": 6,
    ]

    /// Outside libraries that only some modules may import.
    static let confined: [String: Set<String>] = [
        "CPcap": ["LiveCapture"],
        "GRDB": ["Store"], "PostgresNIO": ["Store"],
        "NIOPosix": ["Proxy", "Replay", "Simulator", "Store", "Recording", "Serve", "smppscope"],
        "ServiceLifecycle": ["Serve", "smppscope"],
        "Hummingbird": ["Serve"],
        "NIOSSL": ["Proxy", "Replay", "Simulator", "Store", "Transport"],
        "NIOHTTP1": ["Proxy"],
        "ArgumentParser": ["smppscope"],
        "Prometheus": ["smppscope"],
    ]

    /// Each module's imports, from its sources.
    static func imports() -> [String: Set<String>] {
        let sources = Paths.root.appendingPathComponent("Sources")
        var result: [String: Set<String>] = [:]
        for module in (try? FileManager.default.contentsOfDirectory(atPath: sources.path)) ?? [] {
            let folder = sources.appendingPathComponent(module)
            let files =
                FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects.compactMap {
                    $0 as? URL
                } ?? []
            var imported: Set<String> = []
            for file in files where file.pathExtension == "swift" {
                let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
                // `import X`, `@testable import X`, `@_spi(Lent) import X`.
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ")
                    guard words.count >= 2, words[words.count - 2] == "import",
                        words.dropLast(2).allSatisfy({ $0.hasPrefix("@") })
                    else { continue }
                    imported.insert(String(words[words.count - 1]))
                }
            }
            result[module] = imported
        }
        return result
    }

    @Test func everyImportPointsDownhill() {
        let all = Self.imports()
        #expect(
            Set(all.keys) == Set(Self.levels.keys),
            "docs/architecture.md names every module: \(Set(all.keys).symmetricDifference(Self.levels.keys))")
        for (module, imported) in all {
            guard let level = Self.levels[module] else { continue }
            for name in imported {
                guard let other = Self.levels[name] else { continue }
                #expect(other < level, "\(module) (level \(level)) imports \(name) (level \(other))")
            }
        }
    }

    @Test func librariesThatDoIOAreImportedOnlyAtTheEdges() {
        for (module, imported) in Self.imports() {
            for (library, allowed) in Self.confined where imported.contains(library) {
                #expect(allowed.contains(module), "\(module) imports \(library)")
            }
        }
    }

    /// Each module's own error type, and the modules that may build it: a failure is told in the words of the module
    /// that knows it, not dressed as another's.
    static let errorOwners: [String: Set<String>] = [
        "SMPPDecodingError": ["SMPP"],
        "CaptureError": ["Capture", "LiveCapture", "Report"],
        "StoreError": ["Store", "Recording"],
        "CommandError": ["smppscope"],
        "ServeError": ["Serve"],
    ]

    static func sources(of module: String) -> [String] {
        let folder = Paths.root.appendingPathComponent("Sources").appendingPathComponent(module)
        let files =
            FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects.compactMap {
                $0 as? URL
            } ?? []
        return files.filter { $0.pathExtension == "swift" }.map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }
    }

    @Test func errorsAreBuiltByTheModuleThatKnowsThem() {
        for module in Self.levels.keys {
            let text = Self.sources(of: module).joined(separator: "\n")
            for (type, owners) in Self.errorOwners where !owners.contains(module) {
                #expect(!text.contains("\(type)("), "\(module) builds a \(type)")
            }
        }
    }

    @Test func everyErrorTypeHasACodeAReasonAndAPlace() {
        // The shape is a protocol (SMPP's LocatedError); each error type declares it.
        let all = Self.levels.keys.flatMap { Self.sources(of: $0) }.joined(separator: "\n")
        for type in Self.errorOwners.keys.sorted() {
            let declared =
                all.contains("struct \(type): LocatedError") || all.contains("extension \(type): LocatedError")
            #expect(declared, "\(type) is a LocatedError")
        }
        #expect(all.contains("struct ParseError: LocatedError"))
    }
}

// Inputs the fuzzers once failed on (FuzzTesting/FailCases), replayed through the codec on every run.

import Foundation
import NIOCore
import SMPP
import Testing

@Suite("Fuzzer fail cases")
struct FuzzFailCaseTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzTesting/FailCases")

    static var cases: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.lastPathComponent.hasPrefix("pdu-") }
    }

    @Test func replayEveryFailCase() throws {
        for file in Self.cases {
            let bytes = try [UInt8](Data(contentsOf: file))
            MutationTests.exercise(bytes, framer: SMPPFramer(maximumLength: 4_096))
        }
    }
}

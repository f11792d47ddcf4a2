// The scan that decides whether a submitted text may hold an SMSC.kz channel marker or comment reads eight bytes at
// a time; it must answer exactly as the byte-by-byte rule does, wherever the line feed falls.

import TestSupport
import Testing

@testable import Analysis

@Suite("Special text scan")
struct SpecialTextScanTests {
    /// The rule byte by byte: "__" at the start (GSM 03.38, ASCII or UCS-2), or a line feed followed by "~" (or the
    /// GSM escape, or a UCS-2 "~") with at least four bytes from the line feed to the end.
    static func byteRule(_ text: [UInt8]) -> Bool {
        if text.count >= 2, (text[0] == 0x11 && text[1] == 0x11) || (text[0] == 0x5F && text[1] == 0x5F) { return true }
        if text.count >= 4, text[0] == 0, text[1] == 0x5F, text[2] == 0, text[3] == 0x5F { return true }
        guard text.count >= 5 else { return false }
        for index in 0..<(text.count - 4) where text[index] == 0x0A {
            let next = text[index + 1]
            if next == 0x7E || next == 0x1B { return true }
            if next == 0, index + 2 < text.count, text[index + 2] == 0x7E { return true }
        }
        return false
    }

    static func scan(_ text: [UInt8]) -> Bool {
        text.withUnsafeBytes { Analyzer.mayBeSpecial($0) }
    }

    @Test func aCommentSeparatorIsFoundAtEveryOffsetAndLength() {
        for length in 0...40 {
            for offset in 0..<max(length, 1) {
                for follower: [UInt8] in [[0x7E], [0x1B], [0x00, 0x7E], [0x41], [0x00, 0x41], [0x0A]] {
                    var text = [UInt8](repeating: 0x61, count: length)
                    for (step, byte) in ([0x0A] + follower).enumerated() where offset + step < length {
                        text[offset + step] = byte
                    }
                    #expect(
                        Self.scan(text) == Self.byteRule(text),
                        "length \(length), line feed at \(offset), then \(follower)")
                }
            }
        }
        // Found only where the rule finds it: one case of each.
        #expect(Self.scan(Array("hello\n~~~\nnote".utf8)))
        #expect(!Self.scan(Array("hello\nworld, no comment here".utf8)))
        #expect(!Self.scan(Array("ab\n~".utf8)))
    }

    @Test func randomTextsRichInLineFeedsAgree() {
        var random = SplitMix64(seed: 0x5EC1A1)
        let alphabet: [UInt8] = [0x0A, 0x7E, 0x1B, 0x00, 0x5F, 0x11, 0x61, 0x20]
        var found = 0
        for _ in 0..<20_000 {
            let length = Int(random.next() % 64)
            let text = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let expected = Self.byteRule(text)
            if expected { found += 1 }
            #expect(Self.scan(text) == expected, "\(text)")
        }
        // Both answers were exercised.
        #expect(found > 1_000 && found < 19_000)
    }
}

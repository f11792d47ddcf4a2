// Pseudonyms: shapes kept, keyed, injective.

import Anonymize
import Testing

@Suite("Pseudonyms")
struct PseudonymTests {
    @Test func placeholder() {}
}

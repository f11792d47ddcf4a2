// The integer-keyed table behind pending requests, accepted messages and waiting receipts, against a Dictionary:
// random inserts, updates, removals and sweeps, with key 0 (which marks empty slots inside) among the keys.

import Analysis
import TestSupport
import Testing

@Suite("Integer table")
struct IntegerTableTests {
    @Test func behavesAsADictionaryUnderRandomOperations() {
        var random = SplitMix64(seed: 0x7AB1E)
        var table = IntegerTable<Int64>()
        var reference: [UInt64: Int64] = [:]
        var zeroSeen = 0
        // Few distinct keys, so that updates and removals hit; 0 and the largest key among them.
        let keys: [UInt64] = [0, UInt64.max] + (0..<3_000).map { _ in random.next() }
        for step in 0..<200_000 {
            let key = keys[Int(random.next() % UInt64(keys.count))]
            switch random.next() % 8 {
            case 0, 1, 2:
                let value = Int64(bitPattern: random.next())
                #expect(table.updateValue(value, forKey: key) == reference.updateValue(value, forKey: key))
            case 3, 4:
                #expect(table.removeValue(forKey: key) == reference.removeValue(forKey: key))
            case 5:
                table[key] = nil
                reference[key] = nil
            default:
                #expect(table[key] == reference[key], "step \(step), key \(key)")
            }
            if step % 5_000 == 4_999 {
                // Sweeps remove a quarter to a half of the entries, asking about each entry once.
                let cut = Int64.min / 2 + Int64(bitPattern: random.next() % (UInt64(1) << 62))
                var asked: [UInt64] = []
                table.removeAll { key, value in
                    asked.append(key)
                    return value < cut
                }
                #expect(asked.count == reference.count && Set(asked) == Set(reference.keys), "step \(step)")
                reference = reference.filter { $0.value >= cut }
            }
            if table.count != reference.count { Issue.record("count differs at step \(step)"); return }
            if reference[0] != nil { zeroSeen += 1 }
        }
        // Key 0 was in the table for much of the run.
        #expect(zeroSeen > 10_000)
        let entries = table.entries
        #expect(entries.count == reference.count)
        #expect(Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) }) == reference)
    }

    @Test func sweepsFullTablesInPlace() {
        // Tables filled up to the load that makes them grow, so that long probe runs cross the end of the slots
        // and wrap around; a sweep must move entries back along them and look at each entry once.
        var random = SplitMix64(seed: 0x5EE9)
        for round in 0..<200 {
            var table = IntegerTable<UInt64>()
            var reference: [UInt64: UInt64] = [:]
            let size = 16 << (round % 8)
            for _ in 0..<(size / 2) {
                let key = random.next()
                table[key] = key
                reference[key] = key
            }
            let inserted = reference.count
            let modulus = UInt64(2 + round % 5)
            var asked = 0
            table.removeAll { key, value in
                asked += 1
                return key == value && value % modulus == 0
            }
            reference = reference.filter { $0.value % modulus != 0 }
            #expect(asked == inserted)
            #expect(table.count == reference.count)
            for (key, value) in reference where table[key] != value {
                Issue.record("round \(round): key \(key) lost")
                return
            }
            #expect(Dictionary(uniqueKeysWithValues: table.entries.map { ($0.key, $0.value) }) == reference)
        }
    }

    @Test func keyZeroIsAnOrdinaryKey() {
        var table = IntegerTable<Int>()
        #expect(table[0] == nil)
        #expect(table.isEmpty)
        table[0] = 7
        table[1] = 8
        #expect(table[0] == 7 && table[1] == 8 && table.count == 2)
        #expect(table.updateValue(9, forKey: 0) == 7)
        #expect(table.count == 2)
        #expect(table.removeValue(forKey: 0) == 9)
        #expect(table[0] == nil && table.count == 1)
        #expect(table.entries.map(\.key) == [1])
    }
}

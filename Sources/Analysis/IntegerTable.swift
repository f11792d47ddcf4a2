// A hash table for integer keys (sequence numbers, message id keys): open addressing with linear probing and
// backward-shift deletion, keys mixed with a fixed finalizer. Much cheaper per operation than Dictionary's
// seeded SipHash, which matters at millions of PDUs.

/// A map from UInt64 keys to values.
public struct IntegerTable<Value> {
    /// A slot: a key and its value; empty when `value` is nil. Key and value share a cache line.
    private struct Slot {
        var key: UInt64
        var value: Value?
    }

    private var slots: [Slot]
    public private(set) var count = 0
    private var mask: Int

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(key: 0, value: nil), count: size)
        mask = size - 1
    }

    public var isEmpty: Bool { count == 0 }

    /// MurmurHash3's 64-bit finalizer: every key bit affects every slot bit.
    @inline(__always)
    static func mix(_ key: UInt64) -> UInt64 {
        var h = key
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    @inline(__always)
    private func slot(of key: UInt64) -> (index: Int, found: Bool) {
        var index = Int(truncatingIfNeeded: Self.mix(key)) & mask
        while slots[index].value != nil {
            if slots[index].key == key { return (index, true) }
            index = (index + 1) & mask
        }
        return (index, false)
    }

    public subscript(key: UInt64) -> Value? {
        get {
            let (index, found) = slot(of: key)
            return found ? slots[index].value : nil
        }
        set {
            if let newValue {
                _ = updateValue(newValue, forKey: key)
            } else {
                _ = removeValue(forKey: key)
            }
        }
    }

    /// Sets a value; returns the one it replaced.
    @discardableResult
    public mutating func updateValue(_ value: Value, forKey key: UInt64) -> Value? {
        let (index, found) = slot(of: key)
        if found {
            let old = slots[index].value
            slots[index].value = value
            return old
        }
        slots[index] = Slot(key: key, value: value)
        count += 1
        if count * 4 > slots.count * 3 { grow() }
        return nil
    }

    /// Removes a key; returns its value.
    @discardableResult
    public mutating func removeValue(forKey key: UInt64) -> Value? {
        let (found, present) = slot(of: key)
        guard present else { return nil }
        let old = slots[found].value
        var hole = found
        var index = (found + 1) & mask
        // Backward-shift: move later entries of the probe run into the hole, so lookups need no tombstones.
        while slots[index].value != nil {
            let home = Int(truncatingIfNeeded: Self.mix(slots[index].key)) & mask
            if (index - home) & mask >= (index - hole) & mask {
                slots[hole] = slots[index]
                hole = index
            }
            index = (index + 1) & mask
        }
        slots[hole].value = nil
        count -= 1
        return old
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(key: 0, value: nil), count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for slot in old {
            if let value = slot.value { updateValue(value, forKey: slot.key) }
        }
    }

    /// Every entry, in no particular order.
    public var entries: [(key: UInt64, value: Value)] {
        var result: [(key: UInt64, value: Value)] = []
        result.reserveCapacity(count)
        for slot in slots {
            if let value = slot.value { result.append((slot.key, value)) }
        }
        return result
    }

    /// Keeps the entries for which `keep` is true.
    public mutating func filter(_ keep: (UInt64, Value) -> Bool) {
        let kept = entries.filter { keep($0.key, $0.value) }
        self = IntegerTable(capacity: max(16, kept.count))
        for entry in kept { updateValue(entry.value, forKey: entry.key) }
    }
}

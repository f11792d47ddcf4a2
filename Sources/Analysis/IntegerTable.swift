// A hash table for integer keys (sequence numbers, message id keys): open addressing with linear probing and
// backward-shift deletion, keys mixed with a fixed finalizer. Much cheaper per operation than Dictionary's
// seeded SipHash, which matters at millions of PDUs.
//
// Unsafe code, and its invariants: a table's slots are an array made with `unsafeUninitializedCapacity`, every
// slot initialised before the array is returned, and every index is masked to the capacity (a power of two). The
// per-session and per-run counters kept with `UnsafeMutableBufferPointer.values(_:count:)` belong to the class that
// made them (`Analyzer`, `SessionState`): made in its initialisation, freed in its deinit (`freeValues()`), never
// handed out, indexed by a command's dense number (below `CommandID.knownCount`) or a direction (0 or 1).

import CHints

/// A map from UInt64 keys to values.
///
/// A slot is empty when its key is 0 (the entry of key 0, if any, is kept apart): no optional tag beside each
/// value, so a slot is a key and a value and nothing more. The tables of accepted messages hold hundreds of
/// thousands of entries and each lookup is a cache miss; smaller slots keep more of them in the cache.
public struct IntegerTable<Value> {
    private struct Slot {
        var key: UInt64
        var value: Value
    }

    private var slots: [Slot]
    /// The value of key 0, which marks empty slots.
    private var zeroValue: Value?
    /// What empty slots hold.
    private let placeholder: Value
    public private(set) var count = 0
    private var mask: Int

    /// `placeholder` fills the empty slots; it is never returned.
    public init(capacity: Int = 16, placeholder: Value) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        self.placeholder = placeholder
        slots = Self.makeSlots(count: size, placeholder: placeholder)
        mask = size - 1
    }

    /// Empty slots; large tables on huge pages where the system allows, since their lookups land anywhere.
    private static func makeSlots(count: Int, placeholder: Value) -> [Slot] {
        [Slot](unsafeUninitializedCapacity: count) { buffer, initialized in
            let bytes = count * MemoryLayout<Slot>.stride
            if bytes >= 4 << 20, let base = buffer.baseAddress {
                chints_advise_huge_pages(UnsafeMutableRawPointer(base), bytes)
            }
            buffer.initialize(repeating: Slot(key: 0, value: placeholder))
            initialized = count
        }
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

    /// The slot holding `key` (not 0), or the empty slot where it would go.
    @inline(__always)
    private func slot(of key: UInt64) -> (index: Int, found: Bool) {
        var index = Int(truncatingIfNeeded: Self.mix(key)) & mask
        while true {
            let stored = slots[index].key
            if stored == key { return (index, true) }
            if stored == 0 { return (index, false) }
            index = (index + 1) & mask
        }
    }

    /// Starts loading the slot where `key` is or would go, for a lookup of it soon (the first slot of its probe
    /// run, where nearly every lookup ends). Changes nothing; `mutating` only so that a table kept in a class is
    /// reached in place rather than copied out for the call.
    @inline(__always)
    public mutating func prefetch(_ key: UInt64) {
        let index = Int(truncatingIfNeeded: Self.mix(key)) & mask
        slots.withUnsafeBufferPointer { slots in
            if let base = slots.baseAddress { chints_prefetch(base + index) }
        }
    }

    public subscript(key: UInt64) -> Value? {
        get {
            guard key != 0 else { return zeroValue }
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
        guard key != 0 else {
            let old = zeroValue
            zeroValue = value
            if old == nil { count += 1 }
            return old
        }
        let (index, found) = slot(of: key)
        if found {
            let old = slots[index].value
            slots[index].value = value
            return old
        }
        slots[index] = Slot(key: key, value: value)
        count += 1
        // At most half full: probe runs stay short, so a lookup of an absent key (most lookups in the table of
        // accepted messages) reads one or two slots, and a removal moves few entries back.
        if count * 2 > slots.count { grow() }
        return nil
    }

    /// Removes a key; returns its value.
    @discardableResult
    public mutating func removeValue(forKey key: UInt64) -> Value? {
        guard key != 0 else {
            let old = zeroValue
            if old != nil { count -= 1 }
            zeroValue = nil
            return old
        }
        let (found, present) = slot(of: key)
        guard present else { return nil }
        let old = slots[found].value
        removeSlot(at: found)
        return old
    }

    /// Empties a full slot, moving later entries of its probe run back so that lookups need no tombstones.
    private mutating func removeSlot(at found: Int) {
        var hole = found
        var index = (found + 1) & mask
        while slots[index].key != 0 {
            let home = Int(truncatingIfNeeded: Self.mix(slots[index].key)) & mask
            if (index - home) & mask >= (index - hole) & mask {
                slots[hole] = slots[index]
                hole = index
            }
            index = (index + 1) & mask
        }
        slots[hole] = Slot(key: 0, value: placeholder)
        count -= 1
    }

    private mutating func grow() {
        let old = slots
        slots = Self.makeSlots(count: old.count * 2, placeholder: placeholder)
        mask = slots.count - 1
        count = zeroValue == nil ? 0 : 1
        for slot in old where slot.key != 0 {
            updateValue(slot.value, forKey: slot.key)
        }
    }

    /// Every entry, in no particular order.
    public var entries: [(key: UInt64, value: Value)] {
        var result: [(key: UInt64, value: Value)] = []
        result.reserveCapacity(count)
        if let zeroValue { result.append((0, zeroValue)) }
        for slot in slots where slot.key != 0 {
            result.append((slot.key, slot.value))
        }
        return result
    }

    /// Removes the entries for which `shouldRemove` is true, asking once per entry. In place, in one pass over the
    /// slots in memory order: no second table, and no random access but along the probe runs of removed entries.
    public mutating func removeAll(where shouldRemove: (UInt64, Value) -> Bool) {
        if let value = zeroValue, shouldRemove(0, value) {
            zeroValue = nil
            count -= 1
        }
        // Start after an empty slot (there is one: the table is never full), so that no probe run crosses the
        // start and a removal only moves entries not yet visited.
        guard let empty = slots.firstIndex(where: { $0.key == 0 }) else { return }
        var index = (empty + 1) & mask
        var remaining = slots.count - 1
        while remaining > 0 {
            let key = slots[index].key
            if key != 0, shouldRemove(key, slots[index].value) {
                removeSlot(at: index)
                // The slot may now hold an entry moved back from later in its run: look at it again.
                continue
            }
            index = (index + 1) & mask
            remaining -= 1
        }
    }
}

extension IntegerTable where Value: FixedWidthInteger {
    public init(capacity: Int = 16) {
        self.init(capacity: capacity, placeholder: 0)
    }
}

extension Array {
    /// Appends `filler` until `index` is a valid index.
    mutating func grow(toInclude index: Int, with filler: @autoclosure () -> Element) {
        if index >= count { append(contentsOf: repeatElement(filler(), count: index + 1 - count)) }
    }
}

extension UnsafeMutableBufferPointer {
    /// `count` copies of `value` in memory of their own, for a class that changes them for every PDU: an array kept
    /// in a class is checked for uniqueness on every change made through it. The class frees them in its deinit
    /// (``freeValues()``) and never hands the buffer out.
    static func values(_ value: Element, count: Int) -> Self {
        let values = allocate(capacity: count)
        values.initialize(repeating: value)
        return values
    }

    /// Destroys the values and frees their memory.
    func freeValues() {
        _ = deinitialize()
        deallocate()
    }
}

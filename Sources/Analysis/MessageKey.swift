// The identity of a submitted message (account, addresses, octets) as a 64-bit key, for the duplicate rule and for
// matching resubmissions after throttling. Computed for every submit_sm, so it reads eight bytes at a time.

/// A running 64-bit hash of byte fields; fields are separated so that ("ab", "c") and ("a", "bc") differ.
struct MessageKey {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed ^ 0x9E37_79B9_7F4A_7C15
    }

    @inline(__always)
    private mutating func mixWord(_ word: UInt64) {
        state = (state ^ word) &* 0xFF51_AFD7_ED55_8CCD
        state ^= state >> 29
    }

    /// Adds one field: its bytes, then its length (which also separates it from the next).
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            mixWord(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            index += 8
        }
        var tail: UInt64 = 0
        if index < count, count >= 8 {
            // The last 1-7 bytes as the low bytes of a word: the field's last eight bytes, read at once and
            // shifted past those already mixed in.
            let last = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
            tail = last >> (UInt64(8 - (count - index)) * 8)
        } else {
            var shift: UInt64 = 0
            while index < count {
                tail |= UInt64(bytes[index]) << shift
                shift += 8
                index += 1
            }
        }
        mixWord(tail)
        mixWord(UInt64(count) | 0xA5 << 56)
    }

    /// The key: every input bit reaches every output bit (MurmurHash3's finalizer).
    var value: UInt64 {
        IntegerTable<Int>.mix(state)
    }

    /// A message's key in an account: the account's key (`seed`) and the key of the message's content, itself a
    /// key made with seed 0.
    static func forAccount(_ seed: UInt64, content: UInt64) -> UInt64 {
        var key = MessageKey(seed: seed)
        key.mixWord(content)
        return key.value
    }
}

// The keyed functions behind every pseudonym: SipHash-2-4 as the pseudo-random function, and a format-preserving
// permutation (a Feistel network over a mixed-radix number) that maps a string to another of the same shape.

/// A 128-bit SipHash key.
public struct SipKey: Hashable, Sendable {
    public var k0: UInt64
    public var k1: UInt64

    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// The key from 16 bytes (little-endian words); fewer bytes are zero-padded.
    public init(bytes: some Collection<UInt8>) {
        var words: [UInt64] = [0, 0]
        for (index, byte) in bytes.prefix(16).enumerated() {
            words[index / 8] |= UInt64(byte) << (8 * UInt64(index % 8))
        }
        self.init(k0: words[0], k1: words[1])
    }

    /// SipHash-2-4 of two 64-bit words.
    @inline(__always)
    public func hash(_ m0: UInt64, _ m1: UInt64) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
        @inline(__always) func round() {
            v0 &+= v1
            v1 = (v1 << 13) | (v1 >> 51)
            v1 ^= v0
            v0 = (v0 << 32) | (v0 >> 32)
            v2 &+= v3
            v3 = (v3 << 16) | (v3 >> 48)
            v3 ^= v2
            v0 &+= v3
            v3 = (v3 << 21) | (v3 >> 43)
            v3 ^= v0
            v2 &+= v1
            v1 = (v1 << 17) | (v1 >> 47)
            v1 ^= v2
            v2 = (v2 << 32) | (v2 >> 32)
        }
        @inline(__always) func compress(_ m: UInt64) {
            v3 ^= m
            round()
            round()
            v0 ^= m
        }
        compress(m0)
        compress(m1)
        compress(UInt64(16) << 56)
        v2 ^= 0xff
        round()
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// SipHash-1-3 of one 64-bit word (fixed-length, without SipHash's length block): the cheaper function a text's
    /// running state advances by, one character at a time.
    @inline(__always)
    public func step(_ m: UInt64) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
        @inline(__always) func round() {
            v0 &+= v1
            v1 = (v1 << 13) | (v1 >> 51)
            v1 ^= v0
            v0 = (v0 << 32) | (v0 >> 32)
            v2 &+= v3
            v3 = (v3 << 16) | (v3 >> 48)
            v3 ^= v2
            v0 &+= v3
            v3 = (v3 << 21) | (v3 >> 43)
            v3 ^= v0
            v2 &+= v1
            v1 = (v1 << 17) | (v1 >> 47)
            v1 ^= v2
            v2 = (v2 << 32) | (v2 >> 32)
        }
        // One word, always: no length block is needed to tell inputs apart.
        v3 ^= m
        round()
        v0 ^= m
        v2 ^= 0xff
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// SipHash-1-3 of two 64-bit words (fixed-length, without SipHash's length block): the Feistel round function.
    @inline(__always)
    public func round(_ m0: UInt64, _ m1: UInt64) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
        @inline(__always) func sipRound() {
            v0 &+= v1
            v1 = (v1 << 13) | (v1 >> 51)
            v1 ^= v0
            v0 = (v0 << 32) | (v0 >> 32)
            v2 &+= v3
            v3 = (v3 << 16) | (v3 >> 48)
            v3 ^= v2
            v0 &+= v3
            v3 = (v3 << 21) | (v3 >> 43)
            v3 ^= v0
            v2 &+= v1
            v1 = (v1 << 17) | (v1 >> 47)
            v1 ^= v2
            v2 = (v2 << 32) | (v2 >> 32)
        }
        @inline(__always) func compress(_ m: UInt64) {
            v3 ^= m
            sipRound()
            v0 ^= m
        }
        // Two words, always: no length block is needed to tell inputs apart.
        compress(m0)
        compress(m1)
        v2 ^= 0xff
        sipRound()
        sipRound()
        sipRound()
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// SipHash-2-4 of bytes, for tweaks made of strings.
    public func hash(bytes: some Sequence<UInt8>, seed: UInt64) -> UInt64 {
        var state = hash(seed, 0x5eed)
        var word: UInt64 = 0
        var count = 0
        for byte in bytes {
            word |= UInt64(byte) << (8 * UInt64(count % 8))
            count += 1
            if count % 8 == 0 {
                state = hash(state, word)
                word = 0
            }
        }
        return hash(state, word ^ (UInt64(count) << 56))
    }
}

/// A keyed permutation of vectors whose every position has its own radix (a digit 0-9, a letter 0-25, a byte
/// 0-255): each position keeps its radix, so a phone number stays digits and a name stays letters of the same case,
/// and two different inputs never give the same output (a Feistel network is a bijection whatever its round function).
public struct ShapePreservingPermutation: Sendable {
    public let key: SipKey
    /// Feistel rounds per block.
    static let rounds: UInt64 = 8
    /// The largest product of radices on one side of a block.
    static let sideLimit: UInt64 = 1 << 60

    public init(key: SipKey) {
        self.key = key
    }

    /// Permutes `values` (each below its radix) in place under `tweak`.
    public func permute(_ values: inout [UInt16], radices: [UInt16], tweak: UInt64) {
        precondition(values.count == radices.count)
        radices.withUnsafeBufferPointer { r in
            values.withUnsafeMutableBufferPointer { run($0, radices: r, tweak: tweak, inverse: false) }
        }
    }

    /// Undoes ``permute(_:radices:tweak:)``.
    public func invert(_ values: inout [UInt16], radices: [UInt16], tweak: UInt64) {
        precondition(values.count == radices.count)
        radices.withUnsafeBufferPointer { r in
            values.withUnsafeMutableBufferPointer { run($0, radices: r, tweak: tweak, inverse: true) }
        }
    }

    /// Maps `values` to another vector of the same shape, never to itself (when the shape has more than one
    /// value): the permutation's order of all vectors of the shape, each sent to the next one (a single cycle).
    public func derange(_ values: inout [UInt16], radices: [UInt16], tweak: UInt64) {
        precondition(values.count == radices.count)
        radices.withUnsafeBufferPointer { r in
            values.withUnsafeMutableBufferPointer { derange($0, radices: r, tweak: tweak) }
        }
    }

    /// ``derange(_:radices:tweak:)`` in buffers (`values.count == radices.count`).
    func derange(_ values: UnsafeMutableBufferPointer<UInt16>, radices: UnsafeBufferPointer<UInt16>, tweak: UInt64) {
        run(values, radices: radices, tweak: tweak, inverse: false)
        var index = values.count - 1
        while index >= 0 {
            values[index] += 1
            if values[index] < max(radices[index], 1) { break }
            values[index] = 0
            index -= 1
        }
        run(values, radices: radices, tweak: tweak, inverse: true)
    }

    private func run(
        _ values: UnsafeMutableBufferPointer<UInt16>, radices: UnsafeBufferPointer<UInt16>, tweak: UInt64,
        inverse: Bool
    ) {
        var start = 0
        var chain = tweak
        while start < values.count {
            // A block: as many positions as keep both halves below `sideLimit`.
            var end = start
            var left: UInt64 = 1
            var right: UInt64 = 1
            var leftCount = 0
            while end < values.count {
                let radix = UInt64(max(radices[end], 1))
                // Alternate filling so that both halves grow.
                if leftCount <= (end - start) - leftCount {
                    if left.multipliedReportingOverflow(by: radix).overflow || left * radix > Self.sideLimit { break }
                    left *= radix
                    leftCount += 1
                } else {
                    if right.multipliedReportingOverflow(by: radix).overflow || right * radix > Self.sideLimit { break }
                    right *= radix
                }
                end += 1
            }
            if end == start { end = start + 1 }  // a radix above the limit cannot happen (radices are 16-bit)
            chain = block(values, radices: radices, range: start..<end, tweak: chain, inverse: inverse)
            start = end
        }
    }

    private func block(
        _ values: UnsafeMutableBufferPointer<UInt16>, radices: UnsafeBufferPointer<UInt16>, range: Range<Int>,
        tweak: UInt64, inverse: Bool
    ) -> UInt64 {
        // Even positions of the block make the left number, odd ones the right.
        var leftModulus: UInt64 = 1
        var rightModulus: UInt64 = 1
        var a: UInt64 = 0
        var b: UInt64 = 0
        for index in range {
            let radix = UInt64(max(radices[index], 1))
            if (index - range.lowerBound) & 1 == 0 {
                a = a * radix + UInt64(values[index])
                leftModulus *= radix
            } else {
                b = b * radix + UInt64(values[index])
                rightModulus *= radix
            }
        }
        let blockTweak = key.hash(tweak, UInt64(range.lowerBound) << 32 | UInt64(range.count))
        var next: UInt64 = 0
        if inverse {
            next = key.hash(blockTweak, a ^ (b << 1))
            for round in (0..<Self.rounds).reversed() {
                if round % 2 == 0 {
                    a = (a + leftModulus - key.round(blockTweak ^ round, b) % leftModulus) % leftModulus
                } else {
                    b = (b + rightModulus - key.round(blockTweak ^ round, a) % rightModulus) % rightModulus
                }
            }
        } else {
            for round in 0..<Self.rounds {
                if round % 2 == 0 {
                    a = (a + key.round(blockTweak ^ round, b) % leftModulus) % leftModulus
                } else {
                    b = (b + key.round(blockTweak ^ round, a) % rightModulus) % rightModulus
                }
            }
            next = key.hash(blockTweak, a ^ (b << 1))
        }
        for index in range.reversed() {
            let radix = UInt64(max(radices[index], 1))
            if (index - range.lowerBound) & 1 == 0 {
                values[index] = UInt16(a % radix)
                a /= radix
            } else {
                values[index] = UInt16(b % radix)
                b /= radix
            }
        }
        return next
    }
}

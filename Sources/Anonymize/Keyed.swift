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
        run(&values, radices: radices, tweak: tweak, inverse: false)
    }

    /// Undoes ``permute(_:radices:tweak:)``.
    public func invert(_ values: inout [UInt16], radices: [UInt16], tweak: UInt64) {
        run(&values, radices: radices, tweak: tweak, inverse: true)
    }

    /// Maps `values` to another vector of the same shape, never to itself (when the shape has more than one
    /// value): the permutation's order of all vectors of the shape, each sent to the next one (a single cycle).
    public func derange(_ values: inout [UInt16], radices: [UInt16], tweak: UInt64) {
        permute(&values, radices: radices, tweak: tweak)
        var index = values.count - 1
        while index >= 0 {
            values[index] += 1
            if values[index] < max(radices[index], 1) { break }
            values[index] = 0
            index -= 1
        }
        invert(&values, radices: radices, tweak: tweak)
    }

    private func run(_ values: inout [UInt16], radices: [UInt16], tweak: UInt64, inverse: Bool) {
        precondition(values.count == radices.count)
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
            chain = block(&values, radices: radices, range: start..<end, tweak: chain, inverse: inverse)
            start = end
        }
    }

    /// One block: the positions split alternately into two numbers, mixed by the rounds. Returns a tweak for the
    /// next block that depends on this block's output (the permuted values), so that every block depends on the
    /// ones before it and the inverse can follow the same chain.
    private func block(
        _ values: inout [UInt16], radices: [UInt16], range: Range<Int>, tweak: UInt64, inverse: Bool
    ) -> UInt64 {
        var leftIndices: [Int] = []
        var rightIndices: [Int] = []
        var leftModulus: UInt64 = 1
        var rightModulus: UInt64 = 1
        for (n, index) in range.enumerated() {
            let radix = UInt64(max(radices[index], 1))
            if n % 2 == 0 {
                leftIndices.append(index)
                leftModulus *= radix
            } else {
                rightIndices.append(index)
                rightModulus *= radix
            }
        }
        func number(_ indices: [Int]) -> UInt64 {
            var value: UInt64 = 0
            for index in indices { value = value * UInt64(max(radices[index], 1)) + UInt64(values[index]) }
            return value
        }
        func store(_ number: UInt64, _ indices: [Int]) {
            var rest = number
            for index in indices.reversed() {
                let radix = UInt64(max(radices[index], 1))
                values[index] = UInt16(rest % radix)
                rest /= radix
            }
        }
        var a = number(leftIndices)
        var b = number(rightIndices)
        let blockTweak = key.hash(tweak, UInt64(range.lowerBound) << 32 | UInt64(range.count))
        if inverse {
            let next = key.hash(blockTweak, a ^ (b << 1))
            for round in (0..<Self.rounds).reversed() {
                if round % 2 == 0 {
                    a = (a + leftModulus - key.hash(blockTweak ^ round, b) % leftModulus) % leftModulus
                } else {
                    b = (b + rightModulus - key.hash(blockTweak ^ round, a) % rightModulus) % rightModulus
                }
            }
            store(a, leftIndices)
            store(b, rightIndices)
            return next
        }
        for round in 0..<Self.rounds {
            if round % 2 == 0 {
                a = (a + key.hash(blockTweak ^ round, b) % leftModulus) % leftModulus
            } else {
                b = (b + key.hash(blockTweak ^ round, a) % rightModulus) % rightModulus
            }
        }
        store(a, leftIndices)
        store(b, rightIndices)
        return key.hash(blockTweak, a ^ (b << 1))
    }
}

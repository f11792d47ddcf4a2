// The user data header at the start of short_message when esm_class has UDHI: concatenation, ports, and the rest.

/// A user data header (3GPP TS 23.040 §9.2.3.24): information elements, of which concatenation (0x00, 0x08) and
/// application ports (0x04, 0x05) are read; the others are kept as they are.
public struct UserDataHeader: Hashable, Sendable {
    /// One information element.
    public struct Element: Hashable, Sendable {
        public var identifier: UInt8
        public var data: [UInt8]

        public init(identifier: UInt8, data: [UInt8]) {
            self.identifier = identifier
            self.data = data
        }
    }

    public var elements: [Element]
    /// The header's length in octets, its length octet included.
    public var length: Int

    public init(elements: [Element]) {
        self.elements = elements
        self.length = 1 + elements.reduce(0) { $0 + 2 + $1.data.count }
    }

    /// Parses a header at the start of `octets`. Returns the header and, when it is damaged, why.
    /// A header whose length runs past the message is nil.
    public static func parse(_ octets: [UInt8]) -> (header: UserDataHeader?, problem: String?) {
        guard let udhl = octets.first else {
            return (nil, "esm_class announces a user data header but short_message is empty")
        }
        let end = 1 + Int(udhl)
        guard end <= octets.count else {
            return (nil, "the user data header length \(udhl) runs past the \(octets.count)-octet short message")
        }
        var elements: [Element] = []
        var index = 1
        while index < end {
            guard index + 1 < end else {
                return (
                    UserDataHeader(elements: elements, length: end), "a truncated information element at octet \(index)"
                )
            }
            let identifier = octets[index]
            let length = Int(octets[index + 1])
            guard index + 2 + length <= end else {
                return (
                    UserDataHeader(elements: elements, length: end),
                    "information element 0x\(String(identifier, radix: 16)) length \(length) runs past the header"
                )
            }
            elements.append(Element(identifier: identifier, data: Array(octets[(index + 2)..<(index + 2 + length)])))
            index += 2 + length
        }
        return (UserDataHeader(elements: elements, length: end), nil)
    }

    init(elements: [Element], length: Int) {
        self.elements = elements
        self.length = length
    }

    /// The concatenation element (0x00 with an 8-bit reference, or 0x08 with a 16-bit one).
    public var concatenation: Concatenation? {
        for element in elements {
            if element.identifier == 0x00, element.data.count == 3 {
                return Concatenation(
                    reference: UInt16(element.data[0]), total: element.data[1], sequence: element.data[2],
                    referenceBits: 8)
            }
            if element.identifier == 0x08, element.data.count == 4 {
                return Concatenation(
                    reference: UInt16(element.data[0]) << 8 | UInt16(element.data[1]), total: element.data[2],
                    sequence: element.data[3], referenceBits: 16)
            }
        }
        return nil
    }

    /// Application ports (0x04 with 8-bit ports, 0x05 with 16-bit ones).
    public var ports: (destination: UInt16, origin: UInt16)? {
        for element in elements {
            if element.identifier == 0x04, element.data.count == 2 {
                return (UInt16(element.data[0]), UInt16(element.data[1]))
            }
            if element.identifier == 0x05, element.data.count == 4 {
                return (
                    UInt16(element.data[0]) << 8 | UInt16(element.data[1]),
                    UInt16(element.data[2]) << 8 | UInt16(element.data[3])
                )
            }
        }
        return nil
    }

    /// The header's octets.
    public var encoded: [UInt8] {
        var octets: [UInt8] = [UInt8(truncatingIfNeeded: length - 1)]
        for element in elements {
            octets.append(element.identifier)
            octets.append(UInt8(truncatingIfNeeded: element.data.count))
            octets.append(contentsOf: element.data)
        }
        return octets
    }
}

/// Where one part of a concatenated message belongs.
public struct Concatenation: Hashable, Sendable {
    public var reference: UInt16
    public var total: UInt8
    public var sequence: UInt8
    /// 8 for IE 0x00, 16 for IE 0x08 and the sar_* TLVs.
    public var referenceBits: Int

    public init(reference: UInt16, total: UInt8, sequence: UInt8, referenceBits: Int) {
        self.reference = reference
        self.total = total
        self.sequence = sequence
        self.referenceBits = referenceBits
    }
}

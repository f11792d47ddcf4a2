// An SMPP address: type of number, numbering plan and the address digits or name.

/// An SMPP address triple (`*_addr_ton`, `*_addr_npi`, `*_addr`).
public struct Address: Hashable, Sendable, CustomStringConvertible {
    /// Type of number: 0 unknown, 1 international, 2 national, 3 network specific, 4 subscriber, 5 alphanumeric,
    /// 6 abbreviated.
    public var ton: UInt8
    /// Numbering plan indicator: 0 unknown, 1 ISDN (E.163/E.164), 3 data, 4 telex, 6 land mobile, 8 national,
    /// 9 private, 10 ERMES, 14 internet (IP), 18 WAP client id.
    public var npi: UInt8
    public var address: String

    public init(ton: UInt8 = 0, npi: UInt8 = 0, address: String = "") {
        self.ton = ton
        self.npi = npi
        self.address = address
    }

    public var description: String { address }
}

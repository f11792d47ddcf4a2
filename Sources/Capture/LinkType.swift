// Link-layer header types (tcpdump.org LINKTYPE_ values) that smppscope reads.

/// A capture's link-layer header type. An open set; ``isSupported`` says whether packets of it are read.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(0)
    public static let ethernet = LinkType(1)
    /// Raw IPv4 or IPv6 (also 12 and 14 on some systems).
    public static let raw = LinkType(101)
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    public static let loop = LinkType(108)
    public static let linuxSLL = LinkType(113)
    public static let ipv4 = LinkType(228)
    public static let ipv6 = LinkType(229)
    public static let linuxSLL2 = LinkType(276)

    public var isSupported: Bool {
        switch rawValue {
        case 0, 1, 12, 14, 101, 108, 113, 228, 229, 276: return true
        default: return false
        }
    }

    public var description: String {
        switch rawValue {
        case 0: return "NULL (BSD loopback)"
        case 1: return "Ethernet"
        case 12, 14, 101: return "raw IP"
        case 108: return "LOOP (OpenBSD loopback)"
        case 113: return "Linux cooked v1 (SLL)"
        case 228: return "raw IPv4"
        case 229: return "raw IPv6"
        case 276: return "Linux cooked v2 (SLL2)"
        default: return "link type \(rawValue)"
        }
    }
}

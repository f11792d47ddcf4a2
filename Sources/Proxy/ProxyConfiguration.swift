// What `smppscope record` is told: where to listen, where the SMSC is, TLS on either side, who may connect.

import Capture
import NIOCore
import SMPP
import Transport

/// The proxy's settings.
public struct ProxyConfiguration: Sendable {
    /// TLS towards the SMSC.
    public enum UpstreamTLS: Sendable {
        case none
        /// Verified against the system's trust roots, or these PEM certificates.
        case verified(trustRoots: String?, serverName: String?)
        /// Encrypted but not verified (a test SMSC with a self-signed certificate).
        case unverified
    }

    public var listenHost = "127.0.0.1"
    public var listenPort = 2775
    public var upstreamHost: String
    public var upstreamPort: Int
    /// Terminate the clients' TLS with this PEM certificate (chain) and key.
    public var clientCertificate: String?
    public var clientPrivateKey: String?
    public var upstreamTLS = UpstreamTLS.none
    /// Clients allowed to connect; empty allows everyone who can reach the listener.
    public var allow: [CIDR] = []
    /// The SMSC connection must be made within this (`--connect-timeout`).
    public var connectTimeout = TimeAmount.seconds(10)
    /// Largest command_length the recorder frames (bytes are forwarded whatever they are).
    public var maximumPDULength = SMPPFramer.defaultMaximumLength
    /// Bytes held before the SMSC connection is up, the idle and half-close timers.
    public var limits = ProxySessionLimits()
    /// Sessions open at once (`--max-sessions`); more clients are refused.
    public var maximumSessions = 10_000
    /// Sessions open at once from one client address (`--max-sessions-per-client`).
    public var maximumSessionsPerClient = 1_000
    /// The oldest TLS version accepted on either side.
    public var minimumTLSVersion = TLSMinimumVersion.tls12

    public init(upstreamHost: String, upstreamPort: Int) {
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
    }

    /// True when the listener is reachable from other hosts and nothing limits who connects.
    public var isOpenToTheNetwork: Bool {
        guard allow.isEmpty else { return false }
        if let address = IPAddress(listenHost) { return !address.isLoopback }
        return listenHost != "localhost"
    }
}

/// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or ::1/128; a bare address is a network of one.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...maximum).contains(given) else { return nil }
            length = given
        }
        self.address = address
        prefixLength = length
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.isIPv4 == address.isIPv4 else { return false }
        if address.isIPv4 {
            let mask: UInt64 = prefixLength == 0 ? 0 : (0xFFFF_FFFF << UInt64(32 - prefixLength)) & 0xFFFF_FFFF
            return candidate.low & mask == address.low & mask
        }
        func masked(_ value: UInt64, bits: Int) -> UInt64 {
            bits <= 0 ? 0 : bits >= 64 ? value : value & (UInt64.max << UInt64(64 - bits))
        }
        return masked(candidate.high, bits: prefixLength) == masked(address.high, bits: prefixLength)
            && masked(candidate.low, bits: prefixLength - 64) == masked(address.low, bits: prefixLength - 64)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

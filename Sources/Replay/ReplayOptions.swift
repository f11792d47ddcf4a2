// How a replay runs: where to, as whom, at what pace, what to change on the way.

import Capture
import NIOCore
import SMPP
import Transport

public struct ReplayOptions: Sendable {
    public enum Pace: Sendable, Equatable {
        /// The recorded gaps, divided by `speed` (2 is twice as fast).
        case recorded(speed: Double)
        /// Each session's requests at this many per second.
        case rate(Double)
        /// As fast as the window allows.
        case asFastAsPossible
    }

    public enum OnThrottle: String, Sendable, CaseIterable {
        /// Send nothing more than the recording did (its own resubmissions are in the plan).
        case asRecorded = "as-recorded"
        /// Send the request again after a back-off (1 s, 2 s, 4 s; three times at most).
        case resend
        /// Leave it throttled.
        case giveUp = "give-up"
    }

    public enum TLS: Sendable {
        case none
        case verified(trustRoots: String?, serverName: String?)
        case unverified
    }

    public var targetHost: String
    public var targetPort: Int
    public var tls = TLS.none
    /// The oldest TLS version accepted from the target.
    public var minimumTLSVersion = TLSMinimumVersion.tls12
    /// Bind as this system_id (the recorded one when nil) with this password.
    public var systemID: String?
    public var password: String
    public var pace = Pace.recorded(speed: 1)
    /// Requests a session may have unanswered; more wait.
    public var window: Int?
    public var onThrottle = OnThrottle.asRecorded
    public var destinationRewrites: [AddressRewrite] = []
    public var sourceRewrites: [AddressRewrite] = []
    /// Seconds to wait for a response before counting it missing.
    public var responseTimeout = 10.0
    /// Seconds to wait, after the last response, for receipts the recording had.
    public var receiptWait = 5.0
    /// Repeat the plan this many times (each pass after the previous one ends).
    public var loops = 1
    public var connectTimeout = TimeAmount.seconds(10)

    public init(targetHost: String, targetPort: Int, password: String) {
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.password = password
    }

    /// True when the target is this machine (127.0.0.0/8, ::1, localhost).
    public var targetIsLoopback: Bool {
        if let address = IPAddress(targetHost) { return address.isLoopback }
        return targetHost == "localhost"
    }
}

/// Rewrites an address: `FROM=TO`, exact, or with a trailing `*` on both sides to keep the rest
/// (`7701*=7999*` turns 77011234567 into 79991234567).
public struct AddressRewrite: Sendable, Hashable, CustomStringConvertible {
    public var from: String
    public var to: String

    public init?(_ specification: String) {
        let parts = specification.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { return nil }
        // `*=TO` sends everything to one address; otherwise a prefix rule has a star on both sides.
        if parts[0] != "*", parts[0].hasSuffix("*") != parts[1].hasSuffix("*") { return nil }
        from = parts[0]
        to = parts[1]
    }

    public func apply(_ address: String) -> String? {
        if from == "*", !to.hasSuffix("*") { return to }
        if from.hasSuffix("*") {
            let prefix = from.dropLast()
            guard address.hasPrefix(prefix) else { return nil }
            return String(to.dropLast()) + address.dropFirst(prefix.count)
        }
        return address == from ? to : nil
    }

    public var description: String { "\(from)=\(to)" }
}

extension Array where Element == AddressRewrite {
    /// The first rule that matches, or the address unchanged.
    public func apply(_ address: String) -> String {
        for rule in self {
            if let rewritten = rule.apply(address) { return rewritten }
        }
        return address
    }
}

// How a replay runs: where to, as whom, at what pace, what to change on the way.

import Capture
import NIOCore
import ReplayCore
import SMPP
import Transport

public struct ReplayOptions: Sendable {
    public typealias Pace = ReplayPace
    public typealias OnThrottle = ReplayOnThrottle

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

    /// What the session state machine needs of these options.
    public var sessionSettings: ReplaySessionSettings {
        var settings = ReplaySessionSettings()
        settings.pace = pace
        settings.window = window
        settings.onThrottle = onThrottle
        settings.destinationRewrites = destinationRewrites
        settings.sourceRewrites = sourceRewrites
        settings.responseTimeout = responseTimeout
        settings.receiptWait = receiptWait
        settings.systemID = systemID
        settings.password = password
        return settings
    }

    /// True when the target is this machine (127.0.0.0/8, ::1, localhost).
    public var targetIsLoopback: Bool {
        if let address = IPAddress(targetHost) { return address.isLoopback }
        return targetHost == "localhost"
    }
}

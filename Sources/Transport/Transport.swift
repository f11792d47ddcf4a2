// What the network edges (the proxy, the replayer, the simulator) share: where a recording goes, the wall clock,
// endpoints of sockets, and the TLS versions accepted.

import Capture
import NIOCore
import NIOSSL
import Reassembly

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Takes a recording: stream events in order, from an event loop. Must not block.
public protocol RecordingSink: AnyObject, Sendable {
    func record(_ event: StreamEvent)
}

extension Timestamp {
    /// The wall-clock time now.
    public static var now: Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }
}

extension Endpoint {
    /// The endpoint of a socket address (nil for Unix sockets).
    public init?(_ address: SocketAddress?) {
        guard let address, let ip = address.ipAddress, let port = address.port, let parsed = IPAddress(ip) else {
            return nil
        }
        self.init(address: parsed, port: UInt16(truncatingIfNeeded: port))
    }
}

/// The oldest TLS version an endpoint accepts (`--tls-minimum-version`); TLS 1.2 unless told otherwise.
public enum TLSMinimumVersion: String, Sendable, CaseIterable {
    case tls12 = "1.2"
    case tls13 = "1.3"

    /// The version as NIOSSL names it.
    public var version: TLSVersion {
        switch self {
        case .tls12: return .tlsv12
        case .tls13: return .tlsv13
        }
    }
}

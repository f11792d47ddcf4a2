// Plain blocking sockets on loopback, for peers whose every byte the tests control.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public struct SocketError: Error, CustomStringConvertible {
    public var description: String
    public init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
}

/// A listening socket on 127.0.0.1 and a free port.
public final class Listener: @unchecked Sendable {
    public let fd: Int32
    public let port: Int

    /// Listens with room for `backlog` connections not yet accepted (0 keeps one; further SYNs wait).
    public init(backlog: Int32 = 2_048) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, backlog) == 0 else { throw SocketError("bind/listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    public func accept(timeout: Double = 10) throws -> SocketConnection {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1_000)) == 1 else { throw SocketError("accept timed out") }
        let client = Glibc.accept(fd, nil, nil)
        guard client >= 0 else { throw SocketError("accept") }
        return SocketConnection(fd: client)
    }

    deinit { close(fd) }
}

/// One connected socket.
public final class SocketConnection: @unchecked Sendable {
    public let fd: Int32
    private var closed = false

    public init(fd: Int32) { self.fd = fd }

    public static func connect(port: Int) throws -> SocketConnection {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw SocketError("connect")
        }
        return SocketConnection(fd: fd)
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw SocketError("send") }
            offset += sent
        }
    }

    /// Reads until `count` bytes came, the peer closed, or the time is up.
    public func receive(atLeast count: Int = .max, timeout: Double = 10) -> (bytes: [UInt8], closed: Bool, reset: Bool)
    {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < count {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1_000) + 1) == 1 else { break }
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got == 0 { return (bytes, true, false) }
            if got < 0 { return (bytes, true, errno == ECONNRESET) }
            bytes += buffer[0..<got]
        }
        return (bytes, false, false)
    }

    /// Sends a FIN: no more bytes from this side.
    public func shutdownOutput() { shutdown(fd, Int32(SHUT_WR)) }

    /// Closes with a RST.
    public func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        closeNow()
    }

    public func closeNow() {
        guard !closed else { return }
        closed = true
        close(fd)
    }

    deinit { closeNow() }
}

// A plain HTTP/1.1 request over a loopback socket, for the metrics endpoint.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What an HTTP request got back.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: String
    public var body: String
    /// The body as it came (a pcap file, say).
    public var bodyBytes: [UInt8] = []
}

/// Sends one request to 127.0.0.1:`port` (Connection: close) and reads the reply to its end.
public func httpRequest(
    port: Int, method: String = "GET", path: String, headers extra: [String] = [], timeout: Double = 5
) throws -> HTTPReply {
    struct Failure: Error, CustomStringConvertible { var description: String }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        throw Failure(description: "connect to port \(port): \(String(cString: strerror(errno)))")
    }
    let lines = extra.map { $0 + "\r\n" }.joined()
    let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(lines)\r\n".utf8)
    var offset = 0
    while offset < request.count {
        let sent = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
        offset += sent
    }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { throw Failure(description: "no complete reply within \(timeout) s") }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(left * 1_000) + 1)
        if ready < 0, errno == EINTR { continue }
        guard ready == 1 else { continue }
        let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got < 0, errno == EINTR { continue }
        if got <= 0 { break }
        bytes += buffer[0..<got]
    }
    guard let end = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) })
    else {
        throw Failure(description: "not an HTTP reply: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
    }
    let headers = String(decoding: bytes[..<end], as: UTF8.self)
    let status = Int(headers.split(separator: " ").dropFirst().first ?? "") ?? 0
    let body = Array(bytes[(end + 4)...])
    return HTTPReply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self), bodyBytes: body)
}

/// Samples of a Prometheus text exposition: "name{labels}" -> value.
public func prometheusSamples(_ text: String) -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            continue
        }
        samples[String(line[..<space])] = value
    }
    return samples
}

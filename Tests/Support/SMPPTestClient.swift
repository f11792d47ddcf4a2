// A small blocking ESME over plain sockets, for tests against servers: send PDUs, read PDUs with a timeout.

import NIOCore
import SMPP

#if canImport(Glibc)
    import Glibc
#endif

/// Errors of the test client.
public struct TestClientError: Error, CustomStringConvertible {
    public var description: String
}

/// A blocking SMPP client over one TCP connection.
public final class SMPPTestClient {
    private let fd: Int32
    private var buffer = ByteBuffer()
    private var nextSequence: UInt32 = 1
    public private(set) var closed = false

    /// Connects to 127.0.0.1 (or another IPv4 address) and a port.
    public init(host: String = "127.0.0.1", port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw TestClientError(description: "cannot connect to \(host):\(port)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit {
        if !closed { close(fd) }
    }

    public func disconnect() {
        guard !closed else { return }
        closed = true
        close(fd)
    }

    /// Sends a PDU; a zero sequence number is replaced by the next one. Returns the sequence number used.
    @discardableResult
    public func send(_ pdu: PDU) throws -> UInt32 {
        var pdu = pdu
        if pdu.header.sequenceNumber == 0 {
            pdu.header.sequenceNumber = nextSequence
            nextSequence += 1
        }
        let bytes = Array(pdu.encoded.readableBytesView)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw TestClientError(description: "send failed") }
            offset += written
        }
        return pdu.header.sequenceNumber
    }

    /// The next PDU, or nil when the connection closed or `timeout` seconds passed.
    public func receive(timeout: Double = 5) throws -> PDU? {
        let framer = SMPPFramer()
        var deadline = timeout
        while true {
            if case .frame(let frame) = framer.step(&buffer) { return try PDU.decode(frame) }
            guard !closed, deadline > 0 else { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let started = monotonic()
            let ready = poll(&descriptor, 1, Int32(deadline * 1_000))
            deadline -= monotonic() - started
            if ready < 0, errno == EINTR { continue }
            if ready < 0 { throw TestClientError(description: "poll: \(String(cString: strerror(errno)))") }
            guard ready > 0 else { return nil }
            if descriptor.revents & Int16(POLLNVAL) != 0 {
                // Someone else closed this descriptor: nothing more can be read, and it is not ours to close again.
                closed = true
                throw TestClientError(description: "the connection's descriptor \(fd) was closed elsewhere")
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            guard count > 0 else {
                closed = true
                close(fd)
                return nil
            }
            buffer.writeBytes(chunk[0..<count])
        }
    }

    /// Sends raw text (for line protocols).
    @discardableResult
    public func sendRaw(_ text: String) throws -> Int {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads whatever text arrives within `timeout` seconds, up to a newline.
    public func receiveRaw(timeout: Double) throws -> String? {
        var text = ""
        let start = monotonic()
        while monotonic() - start < timeout, !text.hasSuffix("\n") {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4_096)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            text += String(decoding: chunk[0..<count], as: UTF8.self)
        }
        return text.isEmpty ? nil : text
    }

    /// Reads PDUs until one matches, answering deliver_sm and enquire_link on the way (and keeping them).
    public func receive(
        timeout: Double = 5, answering: Bool = true, seen: inout [PDU], until match: (PDU) -> Bool
    ) throws -> PDU? {
        let start = monotonic()
        while monotonic() - start < timeout {
            guard let pdu = try receive(timeout: timeout - (monotonic() - start)) else { return nil }
            if answering, pdu.commandID == .deliverSM {
                try send(PDU(.deliverSMResp, sequence: pdu.sequenceNumber, body: .messageID("")))
            }
            if answering, pdu.commandID == .enquireLink {
                try send(PDU(.enquireLinkResp, sequence: pdu.sequenceNumber))
            }
            if match(pdu) { return pdu }
            seen.append(pdu)
        }
        return nil
    }

    /// Sends a request and waits for its response.
    public func request(_ pdu: PDU, timeout: Double = 5) throws -> PDU? {
        let sequence = try send(pdu)
        var seen: [PDU] = []
        return try receive(timeout: timeout, seen: &seen) { $0.commandID.isResponse && $0.sequenceNumber == sequence }
    }

    /// Binds as a transceiver (or another kind).
    public func bind(
        _ command: CommandID = .bindTransceiver, systemID: String, password: String, systemType: String = ""
    ) throws -> PDU? {
        try request(
            PDU(
                command, sequence: 0, body: .bind(.init(systemID: systemID, password: password, systemType: systemType))
            ))
    }
}

/// Seconds from a monotonic clock.
public func monotonic() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// A submit_sm of a text (GSM 03.38 when it can be, else UCS-2).
public func submitPDU(
    _ text: String, to destination: String = "77011234567", from source: String = "SHOP", registeredDelivery: UInt8 = 1,
    esmClass: UInt8 = 0, octets: [UInt8]? = nil
) -> PDU {
    let gsm = GSM0338.encode(text)
    let bytes = octets ?? gsm ?? MessageText.encode(text, dataCoding: 8) ?? []
    return PDU(
        .submitSM, sequence: 0,
        body: .shortMessage(
            .init(
                source: Address(ton: 5, address: source), destination: Address(ton: 1, npi: 1, address: destination),
                esmClass: esmClass, registeredDelivery: registeredDelivery,
                dataCoding: gsm == nil && octets == nil ? 8 : 0,
                shortMessage: ByteBuffer(bytes: bytes))))
}

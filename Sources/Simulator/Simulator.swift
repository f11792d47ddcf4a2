// The simulated SMSC on SwiftNIO: a plain listener, a TLS listener, a control port for injecting MO messages,
// all on one event loop so that the shared state needs no locks.

import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SMPP
import SwiftASN1
import Transport
import X509

/// Hands whole PDUs to the core, which runs the SMSC's state machine.
final class SMPPServerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let core: SimulatorCore
    let tls: Bool
    private var connection: Int?

    init(core: SimulatorCore, tls: Bool) {
        self.core = core
        self.tls = tls
    }

    func channelActive(context: ChannelHandlerContext) {
        connection = core.opened(context.channel, tls: tls)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection { core.closed(connection) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let connection { core.received(unwrapInboundIn(data), on: connection) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let connection {
            let remote = core.connections[connection]?.remote ?? "?"
            core.emit(.notice("connection \(connection) (\(remote)): \(error); closing"))
        }
        context.close(promise: nil)
    }
}

/// Answers "mo SYSTEM_ID SOURCE DESTINATION TEXT" lines with "ok" or "error: …". A line longer than
/// `maximumLine` bytes is answered with an error and the connection closed.
final class ControlHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The longest control line accepted (an MO text is at most a few hundred bytes).
    static let maximumLine = 4_096

    let core: SimulatorCore
    private var pending = ""

    init(core: SimulatorCore) { self.core = core }

    func channelActive(context: ChannelHandlerContext) {
        core.controlConnections[ObjectIdentifier(context.channel)] = context.channel
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.controlConnections[ObjectIdentifier(context.channel)] = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        if pending.utf8.count > Self.maximumLine,
            !pending.utf8.prefix(Self.maximumLine + 1).contains(UInt8(ascii: "\n"))
        {
            pending = ""
            var out = context.channel.allocator.buffer(capacity: 64)
            out.writeString("error: a line is longer than \(Self.maximumLine) bytes; closing\n")
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline]).trimmingCharacters(in: "\r ")
            pending = String(pending[pending.index(after: newline)...])
            let answer = execute(line)
            var out = context.channel.allocator.buffer(capacity: answer.utf8.count + 1)
            out.writeString(answer + "\n")
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }

    private func execute(_ line: String) -> String {
        let parts = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true).map(String.init)
        guard parts.first == "mo", parts.count == 5 else {
            return "error: expected \"mo SYSTEM_ID SOURCE DESTINATION TEXT\""
        }
        switch core.machine.mobileOriginated(account: parts[1], source: parts[2], destination: parts[3], text: parts[4])
        {
        case .success(let actions):
            core.run(actions)
            return "ok"
        case .failure(.noAccount(let account)):
            return "error: no account \(account)"
        case .failure(.noReceiver(let account)):
            return "error: \(account) has no receiver or transceiver bound"
        }
    }
}

/// A running simulator.
public final class Simulator: @unchecked Sendable {
    public let configuration: SimulatorConfiguration
    let core: SimulatorCore
    private var channels: [Channel] = []
    private var mobileOriginatedTask: RepeatedTask?
    /// The addresses actually bound (port 0 picks a free one).
    public private(set) var plainAddress: SocketAddress?
    public private(set) var tlsAddress: SocketAddress?
    public private(set) var controlAddress: SocketAddress?

    /// Starts listening, on one event loop of `group` (the process's shared group unless another is passed in).
    /// `emit` is called on that event loop for every event.
    public init(
        configuration: SimulatorConfiguration, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        emit: @escaping @Sendable (SimulatorEvent) -> Void
    ) throws {
        self.configuration = configuration
        let loop = group.next()
        core = SimulatorCore(configuration: configuration, eventLoop: loop, emit: emit)
        do {
            try start(loop: loop)
        } catch {
            for channel in channels { try? channel.close().wait() }
            throw error
        }
    }

    private func start(loop: EventLoop) throws {
        let core = self.core
        let plain = try serverBootstrap(loop: loop, tls: nil)
            .bind(host: configuration.listenHost, port: configuration.listenPort).wait()
        channels.append(plain)
        plainAddress = plain.localAddress
        if let host = configuration.tlsHost, let port = configuration.tlsPort {
            let context = try NIOSSLContext(configuration: try tlsConfiguration())
            let secure = try serverBootstrap(loop: loop, tls: context).bind(host: host, port: port).wait()
            channels.append(secure)
            tlsAddress = secure.localAddress
        }
        if let host = configuration.controlHost, let port = configuration.controlPort {
            let control = try ServerBootstrap(group: loop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ControlHandler(core: core))
                    }
                }
                .bind(host: host, port: port).wait()
            channels.append(control)
            controlAddress = control.localAddress
        }
        if let every = configuration.mobileOriginatedEvery, every > 0 {
            mobileOriginatedTask = loop.scheduleRepeatedTask(
                initialDelay: .milliseconds(Int64(every * 1_000)), delay: .milliseconds(Int64(every * 1_000))
            ) { _ in
                core.run(core.machine.mobileOriginatedTick())
            }
        }
    }

    private func serverBootstrap(loop: EventLoop, tls: NIOSSLContext?) -> ServerBootstrap {
        let core = self.core
        return ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1_024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    try pipeline.addHandler(ByteToMessageHandler(SMPPFrameDecoder()))
                    try pipeline.addHandler(SMPPServerHandler(core: core, tls: tls != nil))
                }
            }
    }

    private func tlsConfiguration() throws -> TLSConfiguration {
        if let certificatePath = configuration.certificatePath, let keyPath = configuration.privateKeyPath {
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = configuration.minimumTLSVersion.version
            return tls
        }
        let (certificate, key) = try Self.selfSignedCertificate(commonName: configuration.tlsHost ?? "localhost")
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        tls.minimumTLSVersion = configuration.minimumTLSVersion.version
        return tls
    }

    /// A self-signed certificate for `commonName` (and 127.0.0.1, ::1, localhost), valid for a year.
    public static func selfSignedCertificate(commonName: String) throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let (certificate, key) = try selfSigned(commonName: commonName)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return (
            try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der),
            try NIOSSLPrivateKey(bytes: Array(key.derRepresentation), format: .der)
        )
    }

    /// The same as PEM text: the certificate and its private key.
    public static func selfSignedPEM(commonName: String) throws -> (certificate: String, privateKey: String) {
        let (certificate, key) = try selfSigned(commonName: commonName)
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }

    private static func selfSigned(commonName: String) throws -> (Certificate, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName(commonName)
            OrganizationName("smppscope simulator")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([
                    .dnsName("localhost"), .dnsName(commonName),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
                ])
            },
            issuerPrivateKey: .init(key))
        return (certificate, key)
    }

    /// The counts so far.
    public var summary: SimulatorSummary {
        (try? core.eventLoop.submit { self.core.machine.summary }.wait()) ?? core.machine.summary
    }

    /// Stops listening and closes every connection; timers still pending do nothing after this.
    public func shutdown() {
        let core = self.core
        let channels = self.channels
        let task = mobileOriginatedTask
        let closed = try? core.eventLoop.submit { () -> [EventLoopFuture<Void>] in
            task?.cancel()
            core.stopped = true
            return channels.map { $0.close() } + core.closeAll()
        }.wait()
        for future in closed ?? [] { try? future.wait() }
    }
}

extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var result = Substring(self)
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return String(result)
    }
}

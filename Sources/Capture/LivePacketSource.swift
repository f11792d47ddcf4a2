// What reads packets needs of a live source: the next packet as it passes, and a way to stop. The libpcap-backed
// one is in the LiveCapture module, so that nothing else here needs libpcap to build.

/// Packets from a live source (a network interface), as they pass.
public protocol LivePacketSource: AnyObject, Sendable {
    /// The interface's name.
    var interface: String { get }
    /// The next packet, or nil once stopped. Its data is valid until the next call.
    func next() throws -> Packet?
    /// Makes ``next()`` return nil; safe to call from any thread.
    func stop()
}

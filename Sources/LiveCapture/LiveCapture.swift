// Live capture through libpcap: an interface, a BPF filter, nanosecond timestamps where the system has them.
//
// Unsafe code, and its invariants: the packet header and bytes libpcap returns are valid until the next
// `pcap_next_ex`; they are lent to the caller's callback as a `Packet` and never kept. The handle is closed once.

import CPcap
@_spi(Lent) import Capture
import Synchronization

/// Packets from a network interface, as they pass. ``next()`` is called from one thread; ``stop()`` may be
/// called from any. The only user of libpcap: the modules that read packets know it as a `LivePacketSource`.
public final class LiveCapture: LivePacketSource, @unchecked Sendable {
    private let handle: OpaquePointer
    private let stopped = Atomic<Bool>(false)
    private let nanosecond: Bool
    private var frame = 0
    /// The interface's link type.
    public let linkType: LinkType
    public let interface: String

    /// Opens `interface` ("any" for all) with an optional BPF filter ("tcp port 3700").
    public init(interface: String, filter: String?, snapLength: Int32 = 262_144) throws {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let handle = pcap_create(interface, &errorBuffer) else {
            let reason = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CaptureError(
                .interfaceUnavailable, "cannot open interface \(interface): \(reason)", location: interface)
        }
        pcap_set_snaplen(handle, snapLength)
        pcap_set_timeout(handle, 100)
        pcap_set_immediate_mode(handle, 1)
        let wantsNano = pcap_set_tstamp_precision(handle, Int32(PCAP_TSTAMP_PRECISION_NANO)) == 0
        let status = pcap_activate(handle)
        if status < 0 {
            let reason = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw CaptureError(
                .interfaceUnavailable, "cannot capture on \(interface): \(reason)", location: interface,
                hint: "live capture needs root or CAP_NET_RAW; list interfaces with: ip link")
        }
        if let filter, !filter.isEmpty {
            var program = bpf_program()
            guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
                let reason = String(cString: pcap_geterr(handle))
                pcap_close(handle)
                throw CaptureError(
                    .invalidFilter, "invalid capture filter \"\(filter)\": \(reason)", location: interface,
                    hint: "e.g. --filter \"tcp port 3700\"")
            }
            defer { pcap_freecode(&program) }
            guard pcap_setfilter(handle, &program) == 0 else {
                let reason = String(cString: pcap_geterr(handle))
                pcap_close(handle)
                throw CaptureError(.invalidFilter, "cannot set filter \"\(filter)\": \(reason)", location: interface)
            }
        }
        self.handle = handle
        self.interface = interface
        nanosecond = wantsNano && pcap_get_tstamp_precision(handle) == Int32(PCAP_TSTAMP_PRECISION_NANO)
        linkType = LinkType(UInt32(bitPattern: pcap_datalink(handle)))
    }

    deinit {
        pcap_close(handle)
    }

    /// Asks ``next()`` to return nil; safe to call from another thread (a signal handler's queue).
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        pcap_breakloop(handle)
    }

    /// The next packet, or nil once stopped. The data is valid until the next call.
    public func next() throws -> Packet? {
        while !stopped.load(ordering: .relaxed) {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let result = pcap_next_ex(handle, &header, &data)
            switch result {
            case 1:
                guard let header, let data else { continue }
                frame += 1
                let seconds = Int64(header.pointee.ts.tv_sec)
                let fraction = Int64(header.pointee.ts.tv_usec)
                let captured = Int(header.pointee.caplen)
                return Packet(
                    frame: frame,
                    timestamp: Timestamp(seconds: seconds, nanoseconds: nanosecond ? fraction : fraction * 1_000)
                        .clamped,
                    linkType: linkType, originalLength: Int(header.pointee.len),
                    data: UnsafeRawBufferPointer(start: data, count: captured))
            case 0:
                continue
            case -2:
                return nil
            default:
                throw CaptureError(
                    .captureFailed, "capture on \(interface) failed: \(String(cString: pcap_geterr(handle)))",
                    location: interface)
            }
        }
        return nil
    }
}

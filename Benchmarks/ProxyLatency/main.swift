// The latency the recording proxy adds: enquire_link round trips to an answering peer on loopback, directly and
// through the proxy (recording into a store and a journal), at a fixed rate and as fast as a window allows.
//
//   swift run -c release proxy-latency [--rate 10000] [--seconds 5] [--window 64] [--no-record | --no-store | --no-journal] [--metrics]

import Foundation
import Prometheus
import Proxy
import Recording
import Store

#if canImport(Glibc)
    import Glibc
#endif

func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func listener() -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    listen(fd, 16)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

func connectTo(_ port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

func readExactly(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Bool {
    var got = 0
    while got < count {
        let n = recv(fd, buffer + got, count - got, 0)
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return false }
        got += n
    }
    return true
}

/// Writes all of `count` bytes (a signal may cut a send short).
func sendAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) {
    var sent = 0
    while sent < count {
        let n = send(fd, buffer + sent, count - sent, Int32(MSG_NOSIGNAL))
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return }
        sent += n
    }
}

/// Answers every enquire_link on every accepted connection with enquire_link_resp.
func answer(_ listening: Int32) {
    while true {
        let fd = accept(listening, nil, nil)
        if fd < 0 { return }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let thread = Thread {
            var pdu = [UInt8](repeating: 0, count: 16)
            while pdu.withUnsafeMutableBytes({ $0.baseAddress.map { readExactly(fd, $0, 16) } ?? false }) {
                pdu[4] = 0x80
                pdu.withUnsafeBytes { if let base = $0.baseAddress { sendAll(fd, base, 16) } }
            }
            close(fd)
        }
        thread.start()
    }
}

struct Result {
    var sent = 0
    var seconds = 0.0
    var roundTrips: [Double] = []

    func percentile(_ p: Double) -> Double {
        guard !roundTrips.isEmpty else { return 0 }
        let sorted = roundTrips.sorted()
        return sorted[min(sorted.count - 1, Int(p / 100 * Double(sorted.count)))]
    }
}

/// What the sending and the reading thread share, under `lock`.
final class Run: @unchecked Sendable {
    let lock = NSCondition()
    var sentAt = [UInt64](repeating: 0, count: 1 << 22)
    var outstanding = 0
    var received = 0
    var readerDone = false
    var roundTrips: [Double] = []
}

/// Sends enquire_links at `rate` per second (or as fast as `window` outstanding allow when rate is 0).
func measure(port: Int, rate: Double, seconds: Double, window: Int) -> Result {
    let fd = connectTo(port)
    let total = rate > 0 ? Int(rate * seconds) : Int.max
    let run = Run()
    let start = now()
    let end = start + UInt64(seconds * 1e9)
    let reader = Thread {
        var pdu = [UInt8](repeating: 0, count: 16)
        while pdu.withUnsafeMutableBytes({ $0.baseAddress.map { readExactly(fd, $0, 16) } ?? false }) {
            let arrived = now()
            let sequence = Int(UInt32(pdu[12]) << 24 | UInt32(pdu[13]) << 16 | UInt32(pdu[14]) << 8 | UInt32(pdu[15]))
            run.lock.lock()
            run.roundTrips.append(Double(arrived - run.sentAt[sequence & ((1 << 22) - 1)]) / 1_000)
            run.outstanding -= 1
            run.received += 1
            run.lock.broadcast()
            run.lock.unlock()
        }
        run.lock.lock()
        run.readerDone = true
        run.lock.broadcast()
        run.lock.unlock()
    }
    reader.start()
    var sequence = 0
    var pdu: [UInt8] = [0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 0]
    while sequence < total {
        let due = rate > 0 ? start + UInt64(Double(sequence) / rate * 1e9) : now()
        if rate > 0 {
            // Sleep most of the wait, spin the last few microseconds: a spinning sender would take a core from
            // the proxy on a two-core machine.
            let current = now()
            if due > current + 30_000 {
                var pause = timespec(tv_sec: 0, tv_nsec: Int((due - current - 20_000)))
                nanosleep(&pause, nil)
            }
            while now() < due {}
        }
        if now() >= end { break }
        run.lock.lock()
        if rate == 0 {
            while run.outstanding >= window { run.lock.wait() }
        }
        sequence += 1
        run.sentAt[sequence & ((1 << 22) - 1)] = now()
        run.outstanding += 1
        run.lock.unlock()
        pdu[12] = UInt8(truncatingIfNeeded: sequence >> 24)
        pdu[13] = UInt8(truncatingIfNeeded: sequence >> 16)
        pdu[14] = UInt8(truncatingIfNeeded: sequence >> 8)
        pdu[15] = UInt8(truncatingIfNeeded: sequence)
        pdu.withUnsafeBytes { if let base = $0.baseAddress { sendAll(fd, base, 16) } }
    }
    let sentAll = sequence
    var result = Result()
    run.lock.lock()
    let waitUntil = Date().addingTimeInterval(5)
    while run.received < sentAll, run.lock.wait(until: waitUntil) {}
    result.sent = sentAll
    result.seconds = Double(now() - start) / 1e9
    result.roundTrips = run.roundTrips
    run.lock.unlock()
    // The reader ends before the descriptor is closed: a closed number is reused by the next connection, and a
    // reader still in recv on it would take that connection's responses.
    shutdown(fd, Int32(SHUT_RDWR))
    run.lock.lock()
    while !run.readerDone { run.lock.wait() }
    run.lock.unlock()
    close(fd)
    return result
}

var rate = 10_000.0
var seconds = 5.0
var window = 64
var recording = true
var withStore = true
var withJournal = true
/// Also count the traffic into Prometheus metrics, as `record --metrics-listen` does.
var withMetrics = false
/// Measure through socat instead of the recording proxy: a baseline for the proxy, and a check of this harness.
var viaSocat = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--rate": rate = Double(arguments.next() ?? "") ?? rate
    case "--seconds": seconds = Double(arguments.next() ?? "") ?? seconds
    case "--window": window = Int(arguments.next() ?? "") ?? window
    case "--no-record": recording = false
    case "--no-store": withStore = false
    case "--no-journal": withJournal = false
    case "--socat": viaSocat = true
    case "--metrics": withMetrics = true
    default:
        print(
            "usage: proxy-latency [--rate N] [--seconds S] [--window W] [--no-record] [--no-store] [--no-journal] [--metrics] [--socat]"
        ); exit(2)
    }
}

let (listening, upstreamPort) = listener()
Thread { answer(listening) }.start()

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-latency-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
var options = RecorderOptions()
if withStore { options.store = try SQLiteStore(path: folder.appendingPathComponent("bench.sqlite").path) }
if withJournal { options.pcapPath = folder.appendingPathComponent("bench.pcapng").path }
let registry = PrometheusCollectorRegistry()
if withMetrics { options.metrics = ProxyMetrics(factory: PrometheusMetricsFactory(registry: registry)).handle }
let recorder = try Recorder(options: options)
var configuration = ProxyConfiguration(upstreamHost: "127.0.0.1", upstreamPort: upstreamPort)
configuration.listenPort = 0
let proxy = try RecordProxy(configuration: configuration, sink: recording ? recorder : nil) { notice in
    FileHandle.standardError.write(Data("\(notice)\n".utf8))
}
var proxyPort = proxy.address?.port ?? 0
var socat: Process?
if viaSocat {
    let (probe, port) = listener()
    close(probe)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
    process.arguments = [
        "TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork,nodelay", "TCP:127.0.0.1:\(upstreamPort),nodelay",
    ]
    try process.run()
    usleep(300_000)
    socat = process
    proxyPort = port
}

func row(_ label: String, _ result: Result) -> String {
    let pdusPerSecond = Double(result.roundTrips.count * 2) / result.seconds
    let lost = result.sent - result.roundTrips.count
    return "| \(label) | \(Int(pdusPerSecond))\(lost > 0 ? " (\(lost) unanswered)" : "") | "
        + [50.0, 99, 99.9].map { String(format: "%.0f", result.percentile($0)) }.joined(separator: " | ") + " |"
}

_ = measure(port: proxyPort, rate: 2_000, seconds: 1, window: window)  // warm-up
let direct = measure(port: upstreamPort, rate: rate, seconds: seconds, window: window)
let proxied = measure(port: proxyPort, rate: rate, seconds: seconds, window: window)
let directMax = measure(port: upstreamPort, rate: 0, seconds: seconds, window: window)
let proxiedMax = measure(port: proxyPort, rate: 0, seconds: seconds, window: window)
proxy.shutdown()
try recorder.finish()
if let socat { kill(socat.processIdentifier, SIGKILL) }

print("| path | PDUs/s forwarded (requests + responses) | round trip p50 (µs) | p99 (µs) | p99.9 (µs) |")
print("|---|---|---|---|---|")
print(row("direct, \(Int(rate)) requests/s", direct))
print(row("through the proxy, \(Int(rate)) requests/s", proxied))
print(row("direct, window \(window)", directMax))
print(row("through the proxy, window \(window)", proxiedMax))
print("")
print(
    String(
        format: "added at %.0f requests/s: p50 %.0f µs, p99 %.0f µs", rate,
        proxied.percentile(50) - direct.percentile(50), proxied.percentile(99) - direct.percentile(99)))
print(
    String(
        format: "added at the maximum (window %d): p50 %.0f µs, p99 %.0f µs", window,
        proxiedMax.percentile(50) - directMax.percentile(50), proxiedMax.percentile(99) - directMax.percentile(99)))
print("recorded \(recorder.status.storedEvents) events into the store")

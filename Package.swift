// swift-tools-version:6.2
import PackageDescription

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")

/// The hot loops touch class state per packet; dynamic exclusivity checks cost ~15% there. Release builds of the
/// pipeline's modules skip them (debug builds and the tests keep them).
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "smppscope",
    products: [
        .executable(name: "smppscope", targets: ["smppscope"]),
        .library(name: "SMPP", targets: ["SMPP"]),
        .library(name: "Capture", targets: ["Capture"]),
        .library(name: "Reassembly", targets: ["Reassembly"]),
        .library(name: "Timeline", targets: ["Timeline"]),
        .library(name: "Analysis", targets: ["Analysis"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Report", targets: ["Report"]),
        .library(name: "Anonymize", targets: ["Anonymize"]),
        .library(name: "Profile", targets: ["Profile"]),
        .library(name: "Trace", targets: ["Trace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // libpcap, for live capture and BPF filters.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // Processor hints (prefetch) for the hash tables of the analysis.
        .target(name: "CHints"),
        // The SMPP codec: PDUs, TLVs, statuses, text, UDH, receipts, dialect. Pure: no I/O.
        .target(name: "SMPP", dependencies: [nioCore], swiftSettings: hotPath),
        // pcap / pcapng files, live capture, link / IP / TCP headers.
        .target(
            name: "Capture", dependencies: [.product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: hotPath),
        // Live capture through libpcap: the one module that needs it.
        .target(name: "LiveCapture", dependencies: ["Capture", "CPcap"]),
        // TCP segments -> ordered byte streams -> SMPP frames. Pure.
        .target(
            name: "Reassembly",
            dependencies: ["SMPP", "Capture", nioCore, .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: hotPath),
        // Sessions and the event model every input path produces. Pure.
        .target(name: "Timeline", dependencies: ["SMPP", "Capture", "Reassembly", nioCore], swiftSettings: hotPath),
        // Metrics over a timeline: latency, throttling, window, receipts, session health -> a report value. Pure.
        .target(
            name: "Analysis",
            dependencies: [
                "SMPP", "Capture", "Reassembly", "Timeline", "CHints", nioCore,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: hotPath
        ),
        // What the network edges share: the recording sink, the wall clock, socket endpoints, TLS versions.
        .target(
            name: "Transport",
            dependencies: [
                "Capture", "Reassembly", nioCore, .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The recording proxy, on SwiftNIO, with TLS; its metrics through swift-metrics.
        .target(
            name: "Proxy",
            dependencies: [
                "SMPP", "Capture", "Reassembly", "Transport", nioCore,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Where a recording goes, off the forwarding path: a store, a pcapng journal, a live view, metrics.
        .target(name: "Recording", dependencies: ["SMPP", "Capture", "Reassembly", "Store", "Transport", nioCore]),
        // What a replay will send and how what came back compares with the recording: pure.
        .target(name: "ReplayCore", dependencies: ["SMPP", "Capture", "Reassembly", "Timeline", nioCore]),
        // Runs a replay against an SMSC, on SwiftNIO, with TLS.
        .target(
            name: "Replay",
            dependencies: [
                "SMPP", "Capture", "Reassembly", "Timeline", "ReplayCore", "Transport", nioCore,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // An SMSC that follows the SMSC.kz rules, on SwiftNIO, with TLS.
        .target(
            name: "Simulator",
            dependencies: [
                "SMPP", "Profile", "Transport", nioCore,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Keeps timelines: SQLite (GRDB) or PostgreSQL (postgres-nio) behind a protocol; import, query, replay them as events.
        .target(
            name: "Store",
            dependencies: [
                "SMPP", "Capture", "Reassembly", "Timeline", nioCore,
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: hotPath
        ),
        // Captures and PDUs rewritten for sharing: pseudonyms, fillers, consistent TCP. Pure: packets in, packets out.
        .target(
            name: "Anonymize",
            dependencies: [
                "SMPP", "Capture", "Reassembly", nioCore, .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: hotPath
        ),
        // Messages followed across hops and captures: journeys, clock offsets, what went wrong between hops. Pure.
        .target(name: "Trace", dependencies: ["SMPP", "Capture", "Timeline", nioCore]),
        // What an SMSC does, learned from its traffic, and the departures from SMPP seen in it. Pure.
        .target(name: "Profile", dependencies: ["SMPP", "Capture", "Reassembly", "Timeline", nioCore]),
        // Runs a capture through decoding, reassembly and session tracking.
        .target(name: "Ingest", dependencies: ["Capture", "Reassembly", "Timeline", "CHints"], swiftSettings: hotPath),
        // Renderers: text and JSON Lines of decoded PDUs, progress.
        .target(
            name: "Report",
            dependencies: [
                "SMPP", "Capture", "Timeline", "Reassembly", "Analysis", "ReplayCore", "Profile", "Trace", nioCore,
            ],
            swiftSettings: hotPath),
        // The web UI and JSON API over a store, on Hummingbird.
        .target(
            name: "Serve",
            dependencies: [
                "SMPP", "Capture", "Reassembly", "Timeline", "Analysis", "Report", "Store", "Trace", nioCore,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "smppscope",
            dependencies: [
                "SMPP", "Capture", "LiveCapture", "Reassembly", "Timeline", "Ingest", "Analysis", "Report", "Simulator", "Store",
                "Profile", "Trace",
                "Anonymize",
                "Proxy", "Recording", "Replay", "ReplayCore", "Serve", "Transport", nioCore,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The latency the recording proxy adds (Benchmarks/ProxyLatency).
        .executableTarget(
            name: "proxy-latency",
            dependencies: ["Proxy", "Recording", "Store", "Transport", .product(name: "Prometheus", package: "swift-prometheus")],
            path: "Benchmarks/ProxyLatency"),
        // Builders of packets, captures and TCP conversations for the tests.
        .target(
            name: "TestSupport", dependencies: ["SMPP", "Capture", "Reassembly", "Timeline", "Ingest", nioCore],
            path: "Tests/Support"),
        .testTarget(name: "SMPPTests", dependencies: ["SMPP", "TestSupport", nioCore]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "TestSupport"]),
        .testTarget(name: "AnonymizeTests", dependencies: ["Anonymize", "SMPP", "Capture", "TestSupport", nioCore]),
        .testTarget(
            name: "ReassemblyTests",
            dependencies: ["Reassembly", "Capture", "SMPP", "Timeline", "Ingest", "Report", "TestSupport", nioCore]
        ),
        .testTarget(
            name: "ProfileTests",
            dependencies: [
                "Profile", "Simulator", "Ingest", "Timeline", "Reassembly", "Capture", "SMPP", "TestSupport", nioCore,
            ]),
        .testTarget(name: "CLITests", dependencies: ["SMPP", "TestSupport", nioCore]),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "Analysis", "Ingest", "Report", "Timeline", "Reassembly", "Capture", "SMPP", "TestSupport", nioCore,
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "ProxyTests",
            dependencies: [
                "Proxy", "Recording", "Simulator", "Store", "Ingest", "Reassembly", "Capture", "SMPP", "TestSupport", "Transport", nioCore,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: [
                "Replay", "ReplayCore", "Recording", "Simulator", "Ingest", "Reassembly", "Capture", "Timeline", "SMPP", "TestSupport",
                "Transport", nioCore,
            ]
        ),
        .testTarget(
            name: "SimulatorTests",
            dependencies: [
                "Simulator", "Profile", "SMPP", "TestSupport", nioCore, .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "AnalysisTests",
            dependencies: ["Analysis", "Ingest", "Report", "Timeline", "Capture", "SMPP", "TestSupport", nioCore]
        ),
    ],
    swiftLanguageModes: [.v6]
)

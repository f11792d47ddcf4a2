// swift-tools-version:6.1
// Micro-benchmarks of smppscope's hot loops, with ordo-one/benchmark. A package of its own so that building and
// testing smppscope does not build the benchmark framework.
//
//   cd Benchmarks/Micro && swift package benchmark
//   Benchmarks/micro.sh            (the same, on a generated capture; see docs/benchmarks.md)
import PackageDescription

let package = Package(
    name: "smppscope-micro-benchmarks",
    dependencies: [
        .package(name: "smppscope", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "HotLoops",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SMPP", package: "smppscope"),
                .product(name: "Capture", package: "smppscope"),
                .product(name: "Reassembly", package: "smppscope"),
                .product(name: "Timeline", package: "smppscope"),
                .product(name: "Analysis", package: "smppscope"),
                .product(name: "Ingest", package: "smppscope"),
                .product(name: "Report", package: "smppscope"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HotLoops",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)

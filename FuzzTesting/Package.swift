// swift-tools-version:6.1
// libFuzzer targets for the codec, the capture path, reassembly, the whole of `analyze`, `profile`, `trace` and `anonymize`. Build and run with
// FuzzTesting/run.sh.
import PackageDescription

let package = Package(
    name: "FuzzTesting",
    dependencies: [.package(name: "smppscope", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzPDU",
            dependencies: [.product(name: "SMPP", package: "smppscope")]
        ),
        .executableTarget(
            name: "FuzzCapture",
            dependencies: [
                .product(name: "Capture", package: "smppscope"),
                .product(name: "Reassembly", package: "smppscope"),
                .product(name: "SMPP", package: "smppscope"),
            ]
        ),
        .executableTarget(
            name: "FuzzReassembly",
            dependencies: [
                .product(name: "Capture", package: "smppscope"),
                .product(name: "Reassembly", package: "smppscope"),
                .product(name: "SMPP", package: "smppscope"),
            ]
        ),
        .executableTarget(
            name: "FuzzAnalyze",
            dependencies: [
                .product(name: "Analysis", package: "smppscope"),
                .product(name: "Capture", package: "smppscope"),
                .product(name: "Ingest", package: "smppscope"),
                .product(name: "Report", package: "smppscope"),
            ]
        ),
        .executableTarget(
            name: "FuzzProfile",
            dependencies: [
                .product(name: "Profile", package: "smppscope"),
                .product(name: "Capture", package: "smppscope"),
                .product(name: "Ingest", package: "smppscope"),
                .product(name: "Report", package: "smppscope"),
            ]
        ),
        .executableTarget(
            name: "FuzzTrace",
            dependencies: [
                .product(name: "Trace", package: "smppscope"),
                .product(name: "Capture", package: "smppscope"),
                .product(name: "Ingest", package: "smppscope"),
                .product(name: "Report", package: "smppscope"),
            ]
        ),
        .executableTarget(
            name: "FuzzAnonymize",
            dependencies: [
                .product(name: "Anonymize", package: "smppscope"),
                .product(name: "Capture", package: "smppscope"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

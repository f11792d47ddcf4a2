// swift-tools-version:6.1
import PackageDescription

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")

let package = Package(
    name: "smppscope",
    products: [
        .library(name: "SMPP", targets: ["SMPP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "SMPP", dependencies: [nioCore]),
        .testTarget(name: "SMPPTests", dependencies: ["SMPP", nioCore]),
    ],
    swiftLanguageModes: [.v6]
)

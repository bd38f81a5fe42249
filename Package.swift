// swift-tools-version: 6.1
import PackageDescription

// Swift emits no SIMD FMA unless it may assume the host's instruction set; the
// numeric modules are only fast with this (measured: 1.2 vs 230 GFLOP/s).
// Every build path (swift build/test/run, make, the Benchmarks package) goes
// through this manifest, so the flag lives here and nowhere else.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"]),
]

let package = Package(
    name: "TicketBench",
    // macOS 15 for the Synchronization module (atomics of the GEMM worker pool).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ticket", targets: ["ticket"]),
        .library(name: "Randomness", targets: ["Randomness"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "MatrixKernels", targets: ["MatrixKernels"]),
        .library(name: "Networks", targets: ["Networks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // Header only: the instruction set the numeric modules are compiled for.
        .systemLibrary(name: "CTargetFeatures"),
        .target(name: "Randomness", exclude: ["README.md"], swiftSettings: numericSettings),
        .target(name: "Datasets", dependencies: ["CZlib", "Randomness"], exclude: ["README.md"], swiftSettings: numericSettings),
        .target(name: "MatrixKernels", dependencies: ["CTargetFeatures"], exclude: ["README.md"], swiftSettings: numericSettings),
        .target(name: "Networks", dependencies: ["MatrixKernels", "Datasets", "Randomness"],
                exclude: ["README.md"], swiftSettings: numericSettings),
        .target(name: "Pruning", dependencies: ["Networks", "Datasets", "Randomness"], exclude: ["README.md"], swiftSettings: numericSettings),
        // Generic report formats (the xlsx workbook); knows nothing of the harness.
        .target(name: "Reports", dependencies: ["CZlib", "Pruning"], exclude: ["README.md"]),
        .target(name: "Harness", dependencies: ["Pruning", "Networks", "Datasets", "Randomness", "Reports"], exclude: ["README.md"],
                swiftSettings: numericSettings),
        .executableTarget(
            name: "ticket",
            dependencies: [
                "Datasets",
                "Randomness",
                "MatrixKernels",
                "Networks",
                "Pruning",
                "Harness",
                "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: numericSettings
        ),
        // Shared by the test targets that run the built CLI.
        .target(name: "TicketTestSupport", dependencies: ["CZlib"], path: "Tests/TicketTestSupport"),
        .testTarget(name: "RandomnessTests", dependencies: ["Randomness"], swiftSettings: numericSettings),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib", "TicketTestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Networks", "Datasets"], swiftSettings: numericSettings),
        .testTarget(name: "MatrixKernelsTests", dependencies: ["MatrixKernels"], swiftSettings: numericSettings),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "Datasets", "MatrixKernels"], swiftSettings: numericSettings),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "TicketTestSupport"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Pruning", "Datasets", "Reports", "TicketTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)

// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so the library never links OpenBLAS:
// only this package depends on the system library, and it takes TicketBench
// by path (its `-target-cpu native` unsafe flags are accepted for a local
// path dependency).
let package = Package(
    name: "TicketBenchBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TicketBench", path: ".."),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),
        .executableTarget(
            name: "gemm-bench",
            dependencies: [
                "COpenBLAS",
                .product(name: "MatrixKernels", package: "TicketBench"),
            ],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"])]
        ),
        // Dense against sparse execution of single layers (make bench-sparse).
        .executableTarget(
            name: "sparse-bench",
            dependencies: [.product(name: "Networks", package: "TicketBench")],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"])]
        ),
    ],
    swiftLanguageModes: [.v5]
)

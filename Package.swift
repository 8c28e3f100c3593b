// swift-tools-version: 6.0
import PackageDescription

// Release builds target the x86-64-v3 feature level (AVX2, FMA, F16C) on x86_64: the hot loops
// (dequantisation, reductions, bf16/f16 widening) are written for 256-bit SIMD. Debug builds keep the
// default CPU so that tests run anywhere. swiftc's `-target-cpu` takes an LLVM CPU name, and LLVM has
// no CPU called "x86-64-v3" (that is a clang -march alias), so the flag names haswell, the first CPU
// with exactly that feature set.
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .release))]
let cpuCFlags: [CSetting] = [.unsafeFlags(["-mavx2", "-mfma", "-mf16c"], .when(configuration: .release))]
#else
let cpuFlags: [SwiftSetting] = []
let cpuCFlags: [CSetting] = []
#endif

// Swift 5 language mode: the kernels hand unsafe buffers to `concurrentPerform` closures, which the
// Swift 6 mode's Sendable checking rejects without adding any safety (each closure owns disjoint rows).
let swiftSettings: [SwiftSetting] = cpuFlags + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

// The library is optimised in debug builds too: its kernels run real models in the tests (SmolLM2's
// greedy answers), which unoptimised Swift makes ~50× slower. Tests and tools stay unoptimised.
let librarySettings: [SwiftSetting] = swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let tools = ["lf-extract", "lf-format", "lf-tokenize", "lf-train", "lf-merge", "lf-gguf", "lf-eval"]

let package = Package(
    name: "lf",
    platforms: [.macOS(.v14)],
    products: tools.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // lf-train's --config files (YAML, as LLaMA-Factory's).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CPoppler", path: "Sources/CPoppler", pkgConfig: "poppler-glib",
            providers: [.apt(["libpoppler-glib-dev"])]),
        .systemLibrary(
            name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(
            name: "CLibZip", path: "Sources/CLibZip", pkgConfig: "libzip",
            providers: [.apt(["libzip-dev"])]),
        // Kernels in C, for instruction sets chosen at run time (AVX-512 where the machine has it).
        // Optimised in debug builds too, for the reason the library is (below).
        .target(
            name: "CKernels", path: "Sources/CKernels",
            cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        .target(
            name: "Shared",
            dependencies: [
                "CBLAS", "CZstd", "CKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Shared",
            cSettings: cpuCFlags,
            swiftSettings: librarySettings),
        // Document readers for lf-extract (poppler, libxml2, libzip); kept apart so that no other tool links them.
        .target(
            name: "Extraction",
            dependencies: ["Shared", "CPoppler", "CLibXML2", "CLibZip"],
            path: "Sources/Extraction",
            swiftSettings: librarySettings),
    ]
    + tools.map { tool in
        .executableTarget(
            name: tool,
            dependencies: [
                "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ] + (tool == "lf-extract" ? ["Extraction"] : []),
            path: "Sources/\(tool)",
            swiftSettings: swiftSettings)
    }
    + [
        "CLITests", "TensorTests", "SafetensorsTests", "GGUFTests", "ModelTests", "InteropTests", "TokenizerTests",
        "ChatTemplateTests", "ShardTests", "DatasetTests", "TrainingTests",
    ].map { name in
        .testTarget(name: name, dependencies: ["Shared", "TestSupport"], path: "Tests/\(name)")
    }
    + [
        .testTarget(
            name: "ExtractionTests", dependencies: ["Extraction", "CLibZip", "Shared", "TestSupport", "lf-extract"],
            path: "Tests/ExtractionTests"),
    ]
    // End-to-end tests run the built binaries, so they depend on every tool.
    + [
        .testTarget(
            name: "ToolTests",
            dependencies: ["Shared", "TestSupport", "lf-bench"] + tools.map { .target(name: $0) },
            path: "Tests/ToolTests"),
    ]
    + [
        .target(name: "TestSupport", dependencies: ["Shared"], path: "Tests/TestSupport"),
        // Kernel micro-benchmarks for scripts/bench (not a product: `swift run -c release lf-bench`).
        .executableTarget(name: "lf-bench", dependencies: ["Shared"], path: "Sources/lf-bench", swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v5]
)

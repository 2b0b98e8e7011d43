// swift-tools-version:6.0
// portmanager: conflict-free host ports for side-by-side service instances.
//
// Targets, by concern:
//   CYaml           system library: libyaml (libyaml-dev), found through pkg-config.
//   CSQLite         system library: SQLite (libsqlite3-dev), found through pkg-config;
//                   the reservation store.
//   CPortManagerHeader  include/portmanager.h for Swift (header only): its version
//                   macros, read by PortManager, its pm_status enum, read by
//                   PortManagerCore's Status (the one place each is written), and
//                   its function declarations, implemented by PortManagerC.
//   CDockerHTTP     C: one HTTP GET over a unix socket through libcurl, loaded
//                   with dlopen at first use (curl/curl.h from libcurl4-openssl-dev
//                   gives its constants; nothing is linked). The Docker client.
//   PortManagerCore pure core: registry model, validation, allocation arithmetic,
//                   naming, log formatting. No I/O, no libyaml, no Foundation.
//   PortManagerAnalysis  the whole-lattice analysis (collisions, flags, fixes,
//                   their text and JSON), on the core only. No I/O.
//   PortManager     the edges Swift programs import: libyaml reading, files,
//                   default registry resolution, the port probe, the reservation
//                   store, the Docker Engine client, the stderr log sink. Re-exports PortManagerCore and
//                   PortManagerAnalysis.
//   PortManagerC    the C ABI (shims that only marshal, each `@c @implementation`
//                   of its declaration in include/portmanager.h, so the compiler
//                   checks it against the header), built as libportmanager.so.
//   PortManagerCLI  the `portmanager` command-line tool.
//
// The self-contained release library (static Swift stdlib, version script,
// soname) is linked by `scripts/build.sh`, not by flags in this manifest.
import PackageDescription

let package = Package(
    name: "portmanager",
    products: [
        .library(name: "portmanager", type: .dynamic, targets: ["PortManagerC"]),
        .library(name: "PortManager", targets: ["PortManager"]),
        .executable(name: "portmanager-cli", targets: ["PortManagerCLI"]),
    ],
    dependencies: [
        // Pinned: the CLI and its man page are built and tested with this version.
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CYaml",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // include/portmanager.h for Swift: version macros, pm_status, the declarations (header only, nothing linked).
        .systemLibrary(name: "CPortManagerHeader"),
        // libcurl through dlopen (-ldl is part of glibc's libc since 2.34): no NEEDED entry.
        .target(name: "CDockerHTTP"),
        .target(name: "PortManagerCore", dependencies: ["CPortManagerHeader"]),
        .target(name: "PortManagerAnalysis", dependencies: ["PortManagerCore"]),
        .target(name: "PortManager",
                dependencies: ["PortManagerCore", "PortManagerAnalysis", "CYaml", "CSQLite", "CPortManagerHeader", "CDockerHTTP"]),
        .target(name: "PortManagerC", dependencies: ["PortManager", "CPortManagerHeader"]),
        .executableTarget(
            name: "PortManagerCLI",
            dependencies: [
                "PortManager",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PortManagerCoreTests", dependencies: ["PortManagerCore"]),
        .testTarget(name: "PortManagerAnalysisTests", dependencies: ["PortManagerCore", "PortManagerAnalysis"]),
        .testTarget(name: "PortManagerTests", dependencies: ["PortManager", "PortManagerAnalysis"]),
    ]
)

// swift-tools-version:6.0
// Benchmark of the many-port probe (not a test): run ./run.sh.
import PackageDescription

let package = Package(
    name: "probe-bench",
    dependencies: [.package(name: "portmanager", path: "../..")],
    targets: [
        .executableTarget(
            name: "ProbeBench",
            dependencies: [.product(name: "PortManager", package: "portmanager")]
        ),
    ]
)

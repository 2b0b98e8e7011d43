// swift-tools-version:6.0
// Benchmark of the whole-lattice analysis (not a test): run ./run.sh.
import PackageDescription

let package = Package(
    name: "analysis-bench",
    dependencies: [.package(name: "portmanager", path: "../..")],
    targets: [
        .executableTarget(
            name: "AnalysisBench",
            dependencies: [.product(name: "PortManager", package: "portmanager")]
        ),
    ]
)

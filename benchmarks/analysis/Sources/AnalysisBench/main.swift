// Times Analysis(registry:options:) on synthetic registries of N services x 10
// instances x 3 ports (N = 1k, 10k, 100k), against a baseline measured in the
// same run: sorting as many random UInt64 as the lattice has points. The ratio
// shows the analysis costs a small constant times one sort, i.e. O(n log n).
#if canImport(Glibc)
import Glibc
#endif
import PortManager

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The best and the median of `runs` timings of `body`, in milliseconds.
func timings(_ runs: Int, _ body: () -> Void) -> (best: Double, median: Double) {
    var all: [Double] = []
    for _ in 0..<runs {
        let start = now()
        body()
        all.append((now() - start) * 1000)
    }
    all.sort()
    return (all[0], all[all.count / 2])
}

struct LCG {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
}

/// N services, 3 ports each, 10 instances, increment 100, bases spread over
/// 1024..64535 by a fixed LCG: at 10k services and more the 300k+ points
/// cannot all be distinct in 64k ports, so collisions are many, as they must be.
func synthetic(_ services: Int) -> Registry {
    var rng = LCG(state: 42)
    var definitions: [ServiceDefinition] = []
    definitions.reserveCapacity(services)
    for s in 0..<services {
        let location = SourceLocation(file: "synthetic.yaml", line: s * 5 + 1, column: 1)
        let ports = (0..<3).map { p in
            PortDefinition(name: "p\(p)_port", base: 1024 + rng.next(63_500 - 1024),
                           location: SourceLocation(file: "synthetic.yaml", line: s * 5 + 2 + p, column: 3))
        }
        definitions.append(ServiceDefinition(name: "svc\(s)", ports: ports, increment: 100, maxInstances: 10, location: location))
    }
    return Registry(source: "synthetic.yaml", services: definitions)
}

/// FNV-1a over the UTF-8 of `text`.
func fnv(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}

/// A random registry with ranges, increments of any size and environments
/// (some aliases, some colliding), for the digest mode.
func randomRegistry(_ seed: UInt64) -> Registry {
    var rng = LCG(state: seed)
    var definitions: [ServiceDefinition] = []
    var line = 1
    for s in 0..<(1 + rng.next(60)) {
        let max = 1 + rng.next(8)
        let increment = rng.next(4) == 0 ? rng.next(3) : rng.next(200)
        let location = SourceLocation(file: "r.yaml", line: line, column: 1)
        line += 1
        var ports: [PortDefinition] = []
        for p in 0..<(1 + rng.next(3)) {
            let width = rng.next(4) == 0 ? 2 + rng.next(5) : 1
            ports.append(PortDefinition(name: "p\(p)_port", base: 500 + rng.next(3000), count: width,
                                        location: SourceLocation(file: "r.yaml", line: line, column: 3)))
            line += 1
        }
        definitions.append(ServiceDefinition(name: "s\(s)", ports: ports, increment: increment, maxInstances: max, location: location))
    }
    var environments: [EnvironmentDefinition] = []
    for e in 0..<rng.next(4) {
        let offset = rng.next(5) == 0 ? 0 : rng.next(3) == 0 ? 100 * (1 + rng.next(3)) : rng.next(40_000) - 5_000
        environments.append(EnvironmentDefinition(name: "e\(e)", offset: offset, location: SourceLocation(file: "r.yaml", line: line, column: 3)))
        line += 1
    }
    return Registry(source: "r.yaml", services: definitions, environments: environments)
}

/// The chained family: N services, each one range 10 ports wide at
/// base 1024 + i, increment 10, 6,000 instances: a point overlaps 1 or 2
/// instances of every other service, so the overlapping pairs are about
/// N^2 x 6,000 (56,668,200 at N = 100).
func chained(_ services: Int) -> Registry {
    var definitions: [ServiceDefinition] = []
    for s in 0..<services {
        let location = SourceLocation(file: "chained.yaml", line: s * 4 + 1, column: 1)
        let port = PortDefinition(name: "r_port", base: 1024 + s, count: 10,
                                  location: SourceLocation(file: "chained.yaml", line: s * 4 + 2, column: 3))
        definitions.append(ServiceDefinition(name: "s\(s)", ports: [port], increment: 10, maxInstances: 6000, location: location))
    }
    return Registry(source: "chained.yaml", services: definitions)
}

/// Peak resident set size of this process so far, in MB (getrusage's maxrss).
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

// `AnalysisBench chained N`: one size of the chained family per process (so
// the peak RSS is that size's): analysis plus every suggestion and message and
// the JSON, as `check --json` does (no ephemeral check); best of 3 runs, and
// the process's peak RSS. pairs: overlapping pairs, counted or listed.
if CommandLine.arguments.dropFirst().first == "chained" {
    let options = AnalysisOptions()  // no ephemeral check: collisions only
    for services in CommandLine.arguments.dropFirst(2).map({ Int($0)! }) {
        let registry = chained(services)
        var points = 0, findings = 0, pairs = 0, bytes = 0
        var failure: String?
        let time = timings(3) {
            do {
                let analysis = try Analysis(registry: registry, options: options)
                points = analysis.latticePoints
                findings = analysis.findings.count
                pairs = analysis.collisions.reduce(0) { $0 + ($1.chain?.pairs ?? $1.pairs.count) }
                bytes = analysis.json().utf8.count
            } catch {
                failure = "\(error)"
            }
        }
        let line = [String(services).padding(8), String(points).padding(9), String(findings).padding(8),
                    String(pairs).padding(12), String(bytes).padding(10), format(time.best).padding(11),
                    format(peakRSSMegabytes())]
        print(line.joined(separator: "  ") + (failure.map { "  refused: \($0)" } ?? ""))
    }
    exit(0)
}

// `AnalysisBench digest`: one FNV-1a hash of the JSON (messages, suggestions,
// occurrences) per registry, synthetic and random, to check that a faster
// analysis gives the same results as a slower one. Not timed.
if CommandLine.arguments.dropFirst().first == "digest" {
    let options = AnalysisOptions(ephemeralRange: 32768...60999, reservedPorts: PortSet([40000...40100]))
    for services in [1_000, 10_000] where CommandLine.arguments.count < 3 {
        let json = try! Analysis(registry: synthetic(services), options: options).json()
        print("synthetic \(services): \(String(fnv(json), radix: 16)) (\(json.utf8.count) bytes)")
    }
    var all: UInt64 = 0
    var kinds: [FindingKind: Int] = [:]
    var chains = 0, selfOverlapping = 0
    for seed in 1...500 {
        let r = randomRegistry(UInt64(seed))
        let low = 1000 + seed % 2000
        let o = AnalysisOptions(ephemeralRange: low...(low + 400), reservedPorts: PortSet([(low + 10)...(low + 30)]))
        let analysis = try! Analysis(registry: r, options: o)
        for finding in analysis.findings {
            kinds[finding.kind, default: 0] += 1
            // Summarised chains, and those with a port whose own instances overlap
            // (increment below its width: a registry the loader refuses).
            guard let chain = finding.chain else { continue }
            chains += 1
            if chain.ports.contains(where: { r.services[$0.service].increment < r.services[$0.service].ports[$0.port].count }) {
                selfOverlapping += 1
            }
        }
        all = (all ^ fnv(analysis.json())) &* 0x100_0000_01b3
    }
    print("random 1...500: \(String(all, radix: 16)) (findings: \(FindingKind.allCases.map { "\($0.rawValue) \(kinds[$0] ?? 0)" }.joined(separator: ", ")))")
    print("random 1...500: \(chains) collision findings are summarised dense chains, \(selfOverlapping) of them with a port whose own instances overlap")
    exit(0)
}

let options = AnalysisOptions(ephemeralRange: 32768...60999)
print("whole-lattice analysis, release build; best (and median) of 11 runs, 5 at 100k; times include")
print("freeing the result. analysis_ms: Analysis(registry:) — every collision and flag found and grouped,")
print("which proves the registry conflict-free or not. +fixes_ms: the same plus choosing every suggested fix")
print("(done once, on first use of a suggestion, as `check` does). sort_ms: sorting as many random UInt64")
print("as there are points, same runs; ratio = analysis_ms / sort_ms.")
print("services  points     findings  analysis_ms  median_ms  +fixes_ms  sort_ms  ratio  ns/point")
var tenK = 0.0
for services in (CommandLine.arguments.count > 1 ? CommandLine.arguments.dropFirst().map { Int($0)! } : [1_000, 10_000, 100_000]) {
    let registry = synthetic(services)
    let runs = services >= 100_000 ? 5 : 11
    var findings = 0
    var points = 0
    let analysis = timings(runs) {
        let result = try! Analysis(registry: registry, options: options)
        findings = result.findings.count
        points = result.latticePoints
    }
    var suggested = 0
    let withFixes = timings(runs) {
        let result = try! Analysis(registry: registry, options: options)
        suggested += result.findings.first?.suggestion == nil ? 0 : 1
    }
    if suggested == -1 { print("") }
    var rng = LCG(state: 7)
    let values = (0..<points).map { _ in UInt64(rng.next(Int.max)) }
    var sink: UInt64 = 0
    let sort = timings(runs) {
        var copy = values
        copy.sort()
        sink &+= copy[copy.count / 2]
    }.best
    if sink == 1 { print("") }
    if services == 10_000 { tenK = analysis.best }
    let line = [String(services).padding(8), String(points).padding(9), String(findings).padding(8),
                format(analysis.best).padding(11), format(analysis.median).padding(9),
                format(withFixes.best).padding(9), format(sort).padding(7),
                format(analysis.best / sort).padding(5), format(analysis.best * 1e6 / Double(points))]
    print(line.joined(separator: "  "))
}
if tenK > 0 { print("target: at most 100 ms at 10k services: \(tenK <= 100 ? "met" : "NOT met") (best \(format(tenK)) ms)") }

func format(_ value: Double) -> String {
    let scaled = Int((value * 10).rounded())
    return "\(scaled / 10).\(scaled % 10)"
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

import Testing
@testable import PortManagerCore
@testable import PortManagerAnalysis

// Dense chains of overlapping ranges: summarised as one finding per
// group of ports, with exact counts, instead of one occurrence per pair; and
// the lattice-size limit. Helpers (registry, points, bruteForcePairs,
// SplitMix) are those of AnalysisTests.swift.

/// The chained family: `services` ranges 10 wide at 1024 + i, increment 10.
private func chained(_ services: Int, instances: Int) -> Registry {
    registry((0..<services).map { ("s\($0)", 10, instances, [("r_port", 1024 + $0, 10)]) })
}

/// Every host port where two points the analysis must report overlap.
private func bruteForcePorts(_ r: Registry) -> Set<Int> {
    let all = points(r)
    var ports = Set<Int>()
    for i in 0..<all.count {
        for j in (i + 1)..<all.count where all[i].start <= all[j].end && all[j].start <= all[i].end {
            let (a, b) = (all[i].member.environment, all[j].member.environment)
            guard (a == nil && b == nil) || a != b else { continue }
            for port in max(all[i].start, all[j].start)...min(all[i].end, all[j].end) { ports.insert(port) }
        }
    }
    return ports
}

@Suite("Analysis: dense chains")
struct AnalysisChainTests {
    @Test("12 chained ranges are one finding with exact counts and a few examples")
    func chainedFamily() throws {
        let r = chained(12, instances: 40)
        let analysis = try Analysis(registry: r, options: AnalysisOptions())
        #expect(analysis.findings.count == 1)
        let finding = try #require(analysis.findings.first)
        let chain = try #require(finding.chain)
        #expect(finding.kind == .collision && finding.severity == .error)
        #expect(chain.ports.map(\.service) == Array(0..<12))
        #expect(chain.ports.allSatisfy { $0.instances == 40 && $0.firstInstance == 0 && $0.lastInstance == 39 && $0.environment == nil })
        let required = bruteForcePairs(r)
        #expect(chain.pairs == required.count)
        #expect(chain.points == 480 && chain.runs == 1)
        let ports = bruteForcePorts(r)
        #expect(Set(finding.hostPorts) == ports)
        let span = try #require(ports.min())...(try #require(ports.max()))
        #expect(chain.hostPorts == [span] && span.count == ports.count)
        #expect(finding.occurrences.count == AnalysisLimits.chainExamples)
        #expect(finding.pairs.isSubset(of: required) && finding.pairs.count == AnalysisLimits.chainExamples)
        #expect(finding.message.hasPrefix("ranges of 12 ports overlap in a chain: s0 port 'r_port' instances 0-39, s1 port 'r_port' instances 0-39, s2 port 'r_port' instances 0-39, s3 port 'r_port' instances 0-39 and 8 more share host ports \(span.lowerBound)-\(span.upperBound) (\(required.count) overlapping pairs of 480 lattice points); for example s0 port 'r_port' instance 0 and s1 port 'r_port' instance 0 share host ports 1025-1033"), "\(finding.message)")
        // Located at the port defined last.
        #expect(finding.location == r.services[11].ports[0].location)
        let json = analysis.json()
        #expect(json.contains("\"chain\":{\"pairs\":\(required.count),\"points\":480,\"runs\":1,\"port_ranges\":[[\(span.lowerBound),\(span.upperBound)]],\"ports\":[{\"service\":\"s0\",\"port\":\"r_port\",\"environment\":null,\"instances\":40,\"first_instance\":0,\"last_instance\":39}"), "\(json.prefix(600))")
    }

    @Test("a chain's suggested moves, applied together, remove every pair of it")
    func chainFix() throws {
        let r = chained(6, instances: 20)
        let analysis = try Analysis(registry: r, options: AnalysisOptions())
        let finding = try #require(analysis.findings.first)
        #expect(finding.chain != nil)
        #expect(finding.suggestedMoves.count == 5 && finding.suggestedMaxInstances == nil, "\(finding.line)")
        var services = r.services
        for move in finding.suggestedMoves {
            let s = services.firstIndex { $0.name == move.service }!
            let o = services[s], old = o.ports[0]
            services[s] = ServiceDefinition(name: o.name, ports: [PortDefinition(name: old.name, base: move.base, count: old.count, location: old.location)],
                                            increment: o.increment, maxInstances: o.maxInstances, location: o.location)
        }
        #expect(bruteForcePairs(Registry(source: r.source, services: services, environments: r.environments)).isEmpty)
    }

    @Test("a chain of 100 services: one finding, pairs counted, not listed")
    func hundredServices() throws {
        let analysis = try Analysis(registry: chained(100, instances: 600), options: AnalysisOptions())
        #expect(analysis.findings.count == 1)
        let chain = try #require(analysis.findings.first?.chain)
        // Services i < j overlap at instance offsets t with |10t + (j - i)| <= 9, 600 - |t| times each.
        var pairs = 0
        for i in 0..<100 { for j in (i + 1)..<100 { for t in -11...1 where abs(10 * t + j - i) <= 9 { pairs += 600 - abs(t) } } }
        #expect(chain.pairs == pairs && chain.points == 60_000 && chain.ports.count == 100)
        #expect(analysis.findings[0].occurrences.count == AnalysisLimits.chainExamples)
    }

    @Test("on random dense registries with environments, listed and counted pairs and ports match brute force")
    func matchesBruteForce() throws {
        var rng = SplitMix(state: 0xC4A1_0008)
        var chains = 0
        for round in 0..<150 {
            var services: [(name: String, inc: Int, max: Int, ports: [(String, Int, Int)])] = []
            for s in 0..<Int.random(in: 2...9, using: &rng) {
                let width = Int.random(in: 3...12, using: &rng)
                let inc = Int.random(in: width...(width + 6), using: &rng)
                services.append(("s\(s)", inc, Int.random(in: 1...12, using: &rng), [("r_port", Int.random(in: 2000...2030, using: &rng), width)]))
            }
            var environments: [(String, Int)] = []
            for e in 0..<Int.random(in: 0...2, using: &rng) { environments.append(("e\(e)", Int.random(in: -40...40, using: &rng))) }
            let r = registry(services, environments: environments)
            let analysis = try Analysis(registry: r, options: AnalysisOptions())
            let required = bruteForcePairs(r)
            var counted = 0
            var listed = Set<CollisionPair>()
            for finding in analysis.collisions {
                if let chain = finding.chain {
                    chains += 1
                    counted += chain.pairs
                    #expect(finding.pairs.isSubset(of: required), "round \(round): an example pair does not collide")
                    #expect(!finding.occurrences.isEmpty && finding.occurrences.count <= AnalysisLimits.chainExamples)
                    // A whole-lattice chain: its ports are exactly those of the brute force.
                    if analysis.collisions.count == 1 {
                        #expect(Set(finding.hostPorts) == bruteForcePorts(r), "round \(round)")
                    }
                } else {
                    // Points sharing a port imply every pair of them, same-environment pairs included.
                    let reported = finding.pairs.filter { ($0.a.environment == nil && $0.b.environment == nil) || $0.a.environment != $0.b.environment }
                    #expect(listed.isDisjoint(with: reported), "round \(round): a pair listed twice")
                    listed.formUnion(reported)
                }
            }
            #expect(listed.isSubset(of: required), "round \(round)")
            #expect(counted + listed.count == required.count, "round \(round): \(counted) counted + \(listed.count) listed, \(required.count) required")
            // (Points that all share a port give those shared by all: a subset.)
            #expect(Set(analysis.collidingHostPorts).isSubset(of: bruteForcePorts(r)), "round \(round)")
        }
        #expect(chains > 30, "the generator should make dense chains, made \(chains)")
    }
}

@Suite("Analysis: size limit")
struct AnalysisLimitTests {
    @Test("a lattice past the limit is refused before allocation, naming the numbers and the largest service")
    func tooLarge() throws {
        // 3 services x 2,000,000 instances x 2 offsets = 12 million points (each scenario alone: 6 million).
        let r = registry([("a", 0, 2_000_000, [("port", 5000, 1)]), ("big", 0, 2_000_000, [("port", 6000, 1)]),
                          ("c", 0, 2_000_000, [("port", 7000, 1)])], environments: [("dev", 0), ("ci", 100)])
        #expect(throws: PortManagerError.tooLarge("the registry's lattice has 12000000 points (ports x instances x 2 environment offsets), more than the analysis limit of 10000000; the largest service is 'a' with 2000000 (lower its max_instances)")) {
            try Analysis(registry: r, options: AnalysisOptions())
        }
        #expect(PortManagerError.tooLarge("x").status == .tooLarge)
        // Past Int: refused, not trapped.
        let absurd = registry([("z", 0, Int.max, [("port", 5000, 1), ("b_port", 5001, 1)])])
        #expect(throws: PortManagerError.self) { try Analysis(registry: absurd, options: AnalysisOptions()) }
        // At the limit's scale but under it, analysed.
        let under = registry([("a", 0, 1_000_000, [("port", 5000, 1)])])
        #expect(try Analysis(registry: under, options: AnalysisOptions()).latticePoints == 1_000_000)
        #expect(Analysis.maximumLatticePoints == 10_000_000)
    }
}

import Testing
@testable import PortManagerCore
@testable import PortManagerAnalysis

// Whole-lattice analysis on registries built in memory: known answers,
// grouping, fixes, flags, environments, and a property test against brute force.

/// A registry from compact service specs; each port gets its own source line.
func registry(_ services: [(name: String, inc: Int, max: Int, ports: [(String, Int, Int)])],
                      environments: [(String, Int)] = []) -> Registry {
    var line = 1
    var defs: [ServiceDefinition] = []
    for spec in services {
        let serviceLine = line
        line += 1
        var ports: [PortDefinition] = []
        for (name, base, count) in spec.ports {
            ports.append(PortDefinition(name: name, base: base, count: count,
                                        location: SourceLocation(file: "t.yaml", line: line, column: 3)))
            line += 1
        }
        defs.append(ServiceDefinition(name: spec.name, ports: ports, increment: spec.inc, maxInstances: spec.max,
                                      location: SourceLocation(file: "t.yaml", line: serviceLine, column: 1)))
    }
    line += 1
    let envs = environments.map { name, offset -> EnvironmentDefinition in
        line += 1
        return EnvironmentDefinition(name: name, offset: offset, location: SourceLocation(file: "t.yaml", line: line, column: 3))
    }
    return Registry(source: "t.yaml", services: defs, environments: envs)
}

private let noKernel = AnalysisOptions()

@Suite("Analysis: known answers")
struct AnalysisKnownAnswerTests {
    @Test("a registry without shared ports has no findings")
    func clean() throws {
        let r = registry([("a", 100, 10, [("port", 5000, 1)]), ("b", 100, 10, [("port", 5050, 1)])])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.findings.isEmpty, "\(analysis.findings.map(\.line))")
        #expect(analysis.latticePoints == 20)
        #expect(analysis.errorCount == 0)
    }

    @Test("Grafana 1-4 against Loki 0-3 is one finding listing both instance runs")
    func grafanaLoki() throws {
        let r = registry([("grafana", 100, 5, [("port", 3000, 1)]), ("loki", 100, 5, [("port", 3100, 1)])])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.findings.count == 1)
        let finding = try #require(analysis.findings.first)
        #expect(finding.kind == .collision && finding.severity == .error)
        #expect(finding.hostPorts == [3100, 3200, 3300, 3400])
        #expect(finding.occurrences.map { $0.members.map(\.instance) } == [[1, 0], [2, 1], [3, 2], [4, 3]])
        #expect(finding.message == "grafana port 'port' instances 1-4 and loki port 'port' instances 0-3 share host ports 3100, 3200, 3300, 3400, in that order")
        // Located at loki's port, defined after grafana's.
        #expect(finding.location == SourceLocation(file: "t.yaml", line: 4, column: 3))
        #expect(finding.line.hasPrefix("t.yaml:4:3: error: grafana port 'port'"))
        let suggestion = try #require(finding.suggestion)
        #expect(suggestion.contains("move the base of loki port 'port' to 3110"), "\(suggestion)")
        #expect(suggestion.contains("lower max_instances of grafana to 1"), "\(suggestion)")
        #expect(finding.pairs.count == 4)
    }

    @Test("three services on one port: one finding, every pair implied")
    func threeWay() throws {
        let r = registry([("a", 100, 1, [("port", 5000, 1)]), ("b", 100, 1, [("port", 5000, 1)]),
                          ("c", 100, 1, [("port", 5000, 1)])])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.findings.count == 1)
        let finding = try #require(analysis.findings.first)
        #expect(finding.occurrences.count == 1 && finding.occurrences[0].members.count == 3)
        #expect(finding.pairs.count == 3)
        #expect(finding.message == "a port 'port' instance 0, b port 'port' instance 0 and c port 'port' instance 0 share host port 5000")
        // Two moves: c then b, each to a distinct free base.
        let suggestion = try #require(finding.suggestion)
        #expect(suggestion.contains("move the base of c port 'port' to 5010 and move the base of b port 'port' to 5020"), "\(suggestion)")
    }

    @Test("a range meets another instance's port: the shared port only")
    func rangeAgainstPort() throws {
        let r = registry([("traefik", 100, 3, [("entrypoint_port", 31001, 3)]), ("x", 100, 1, [("port", 31102, 1)])])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.collisions.count == 1)
        #expect(analysis.collisions[0].hostPorts == [31102])
        #expect(analysis.collisions[0].occurrences[0].members.map(\.instance) == [1, 0])
    }

    @Test("a chain of ranges gives only the pairs that overlap")
    func chain() throws {
        let r = registry([("a", 100, 1, [("port", 2000, 6)]), ("b", 100, 1, [("port", 2004, 7)]),
                          ("c", 100, 1, [("port", 2009, 4)])])
        let analysis = try Analysis(registry: r, options: noKernel)
        let pairs = analysis.collisions.reduce(into: Set<CollisionPair>()) { $0.formUnion($1.pairs) }
        #expect(pairs == [CollisionPair(.init(service: 0, port: 0, instance: 0, environment: nil), .init(service: 1, port: 0, instance: 0, environment: nil)),
                          CollisionPair(.init(service: 1, port: 0, instance: 0, environment: nil), .init(service: 2, port: 0, instance: 0, environment: nil))])
        #expect(analysis.collidingHostPorts == [2004, 2005, 2009, 2010])
    }

    @Test("collisions within one service are found too")
    func withinService() throws {
        // Only a registry built in memory can hold this; the loader refuses it.
        let r = registry([("a", 10, 3, [("x_port", 5000, 1), ("y_port", 5010, 1)])])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.collisions.count == 1)
        #expect(analysis.collidingHostPorts == [5010, 5020])
    }

    @Test("ports below 1024 are one warning per port, listing instances")
    func privileged() throws {
        let r = registry([("traefik", 100, 3, [("web_port", 80, 1), ("entrypoint_port", 31001, 3)])])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.findings.count == 1)
        let finding = try #require(analysis.findings.first)
        #expect(finding.kind == .privileged && finding.severity == .warning)
        #expect(finding.hostPorts == [80, 180, 280])
        #expect(finding.message.contains("traefik port 'web_port' instances 0-2 use host ports 80, 180, 280, below 1024"), "\(finding.message)")
        #expect(analysis.errorCount == 0 && analysis.warningCount == 1)
    }

    @Test("ephemeral ports are warnings unless reserved")
    func ephemeral() throws {
        let r = registry([("a", 100, 2, [("port", 40000, 1)]), ("b", 100, 1, [("port", 20000, 1)])])
        let range = AnalysisOptions(ephemeralRange: 32768...60999)
        let flagged = try Analysis(registry: r, options: range)
        #expect(flagged.findings.map(\.kind) == [.ephemeral])
        #expect(flagged.findings[0].hostPorts == [40000, 40100])
        #expect(flagged.findings[0].message.contains("inside the ephemeral range 32768-60999"))
        #expect(flagged.findings[0].suggestion?.contains("ip_local_reserved_ports=40000,40100") == true)
        let oneReserved = try Analysis(registry: r, options: AnalysisOptions(ephemeralRange: 32768...60999,
                                                                             reservedPorts: try PortSet(kernelList: "40000")))
        #expect(oneReserved.findings.count == 1 && oneReserved.findings[0].hostPorts == [40100])
        let allReserved = try Analysis(registry: r, options: AnalysisOptions(ephemeralRange: 32768...60999,
                                                                             reservedPorts: try PortSet(kernelList: "39000-40999\n")))
        #expect(allReserved.findings.isEmpty)
        // A range is flagged when any unreserved port of it is ephemeral.
        let ranged = registry([("r", 100, 1, [("port", 32760, 10)])])
        #expect(try Analysis(registry: ranged, options: range).findings.map(\.kind) == [.ephemeral])
        #expect(try Analysis(registry: ranged, options: AnalysisOptions(ephemeralRange: 32768...60999, reservedPorts: PortSet([32768...32769]))).findings.isEmpty)
    }

    @Test("a bad registry built in memory is refused with a message naming it")
    func refusesBadNumbers() {
        let bad = registry([("a", 100, 0, [("port", 5000, 1)])])
        #expect(throws: PortManagerError.self) { try Analysis(registry: bad, options: noKernel) }
        do { _ = try Analysis(registry: bad, options: noKernel) } catch {
            #expect("\(error)".contains("'a'") && "\(error)".contains("max_instances 0"))
        }
        let far = registry([("b", 100, 10, [("port", 65000, 1)])])
        do { _ = try Analysis(registry: far, options: noKernel); Issue.record("expected a refusal") } catch {
            #expect("\(error)".contains("'port' of service 'b'"))
        }
    }
}

@Suite("Analysis: environments")
struct AnalysisEnvironmentTests {
    @Test("an offset equal to the increment makes environments collide; located at the environment")
    func crossEnvironment() throws {
        let r = registry([("kafka", 100, 2, [("broker_port", 9092, 1)])], environments: [("ci", 100)])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.collisions.count == 1)
        let finding = analysis.collisions[0]
        #expect(finding.hostPorts == [9192])
        #expect(finding.location.line == r.environments[0].location.line)
        #expect(finding.message == "kafka port 'broker_port' instance 1 and kafka port 'broker_port' in environment 'ci' instance 0 share host port 9192")
        // Moving the base cannot help (the environment moves with it); fewer instances can.
        #expect(finding.suggestion == "lower max_instances of kafka to 1")
    }

    @Test("an environment with offset 0, or the offset of another, is an alias, not a collision")
    func aliases() throws {
        let r = registry([("kafka", 100, 2, [("broker_port", 9092, 1)])], environments: [("dev", 0), ("ci", 20000), ("ci2", 20000)])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.findings.isEmpty, "\(analysis.findings.map(\.line))")
        #expect(analysis.latticePoints == 4)
    }

    @Test("collisions inside one environment are reported once, without environment")
    func sameEnvironmentOnce() throws {
        let r = registry([("grafana", 100, 5, [("port", 3000, 1)]), ("loki", 100, 5, [("port", 3100, 1)])],
                         environments: [("ci", 20000), ("qa", 30000)])
        let analysis = try Analysis(registry: r, options: noKernel)
        #expect(analysis.collisions.count == 1)
        #expect(analysis.collisions[0].occurrences.allSatisfy { $0.members.allSatisfy { $0.environment == nil } })
        #expect(analysis.latticePoints == 30)
    }

    @Test("an offset past 65535 is an error at the environment, with the offsets that fit")
    func outOfRange() throws {
        let r = registry([("kafka", 100, 10, [("broker_port", 9092, 1), ("controller_port", 19093, 1)])],
                         environments: [("far", 46000)])
        let analysis = try Analysis(registry: r, options: noKernel)
        let env = analysis.findings.filter { $0.kind == .environment }
        #expect(env.count == 1)
        #expect(env[0].severity == .error)
        #expect(env[0].location == r.environments[0].location)
        #expect(env[0].hostPorts.first == 65593)
        #expect(env[0].message.hasPrefix("environment 'far' (offset +46000) moves kafka port 'controller_port' instances 5-9 to host ports 65593"), "\(env[0].message)")
        #expect(env[0].suggestion == "use an offset between -9091 and 45542, which keeps every port of every instance inside 1..65535")
    }

    @Test("an offset into the ephemeral range is flagged at the environment, once")
    func intoEphemeral() throws {
        let r = registry([("mongodb", 100, 10, [("port", 27017, 1)]), ("redis", 100, 10, [("port", 6379, 1)])],
                         environments: [("ci", 20000)])
        let analysis = try Analysis(registry: r, options: AnalysisOptions(ephemeralRange: 32768...60999))
        #expect(analysis.findings.count == 1)
        let finding = try #require(analysis.findings.first)
        #expect(finding.kind == .ephemeral && finding.location == r.environments[0].location)
        #expect(finding.message.hasPrefix("environment 'ci' (offset +20000) moves mongodb port 'port' instances 0-9 to host ports 47017, 47117"), "\(finding.message)")
    }

    @Test("a port already ephemeral without environment is not blamed on the offset")
    func notBlamed() throws {
        let r = registry([("a", 100, 1, [("port", 40000, 1)])], environments: [("ci", 1000)])
        let analysis = try Analysis(registry: r, options: AnalysisOptions(ephemeralRange: 32768...60999))
        #expect(analysis.findings.count == 1)
        #expect(analysis.findings[0].occurrences[0].members[0].environment == nil)
    }
}

@Suite("Analysis: options")
struct AnalysisOptionTests {
    @Test("reserved port lists in the kernel's syntax")
    func portSet() throws {
        #expect(try PortSet(kernelList: "").isEmpty)
        #expect(try PortSet(kernelList: "\n").isEmpty)
        let set = try PortSet(kernelList: "9000-9100,8080, 9101\n")
        #expect(set.ranges == [8080...8080, 9000...9101])
        #expect(set.description == "8080,9000-9101")
        #expect(set.contains(9050) && set.contains(8080) && !set.contains(8081) && !set.contains(9102))
        for bad in ["abc", "0", "65536", "10-5", "1,,2", "1-2-3", "-5"] {
            do {
                _ = try PortSet(kernelList: bad)
                Issue.record("'\(bad)' was accepted")
            } catch let PortManagerError.invalidArgument(message) {
                #expect(message.contains("reserved port list"), "\(message)")
            }
        }
        do { _ = try PortSet(kernelList: "8080,80x") } catch let PortManagerError.invalidArgument(message) {
            #expect(message.contains("'80x' is not a port"), "\(message)")
        }
    }

    @Test("ephemeral ranges as users and the kernel write them")
    func ranges() throws {
        #expect(try AnalysisOptions.parseEphemeralRange("32768\t60999\n") == 32768...60999)
        #expect(try AnalysisOptions.parseEphemeralRange("1024-2047") == 1024...2047)
        for bad in ["", "32768", "60999-32768", "0-10", "1-70000", "a-b", "1-2-3"] {
            #expect(throws: PortManagerError.self, "\(bad)") { try AnalysisOptions.parseEphemeralRange(bad) }
        }
        do { _ = try AnalysisOptions.ephemeralRange(low: 9, high: 3) } catch {
            #expect("\(error)" == "ephemeral range 9-3 is invalid; it needs 1 <= LOW <= HIGH <= 65535")
        }
    }
}

// MARK: Property test

/// SplitMix64: a small deterministic generator, so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func randomRegistry(_ rng: inout SplitMix) -> Registry {
    var services: [(name: String, inc: Int, max: Int, ports: [(String, Int, Int)])] = []
    for s in 0..<Int.random(in: 1...5, using: &rng) {
        let max = Int.random(in: 1...5, using: &rng)
        let inc = max == 1 ? Int.random(in: 0...50, using: &rng) : Int.random(in: 1...50, using: &rng)
        var ports: [(String, Int, Int)] = []
        for p in 0..<Int.random(in: 1...3, using: &rng) {
            let width = Int.random(in: 0...3, using: &rng) == 0 ? Int.random(in: 2...4, using: &rng) : 1
            ports.append(("p\(p)_port", Int.random(in: 900...1300, using: &rng), width))
        }
        services.append(("s\(s)", inc, max, ports))
    }
    var environments: [(String, Int)] = []
    for e in 0..<Int.random(in: 0...2, using: &rng) {
        // Sometimes 0 or a repeat, which alias another scenario.
        let offset = Int.random(in: 0...5, using: &rng) == 0 ? (environments.last?.1 ?? 0) : Int.random(in: -1200...300, using: &rng)
        environments.append(("e\(e)", offset))
    }
    return registry(services, environments: environments)
}

/// Every lattice point with its interval, by plain enumeration.
func points(_ r: Registry) -> [(member: LatticeMember, start: Int, end: Int, start0: Int, end0: Int)] {
    var result: [(LatticeMember, Int, Int, Int, Int)] = []
    for scenario in 0...r.environments.count {
        let offset = scenario == 0 ? 0 : r.environments[scenario - 1].offset
        // Environments with the offset of an earlier one (or 0) are that one's aliases.
        if scenario > 0 && (offset == 0 || r.environments[..<(scenario - 1)].contains { $0.offset == offset }) { continue }
        for (s, service) in r.services.enumerated() {
            for instance in 0..<service.maxInstances {
                for (p, port) in service.ports.enumerated() {
                    let start0 = port.base + instance * service.increment, end0 = start0 + port.count - 1
                    result.append((LatticeMember(service: s, port: p, instance: instance, environment: scenario == 0 ? nil : scenario - 1),
                                   start0 + offset, end0 + offset, start0, end0))
                }
            }
        }
    }
    return result
}

/// The pairs the analysis must report: same port, and both without environment
/// or in different scenarios. O(n^2).
func bruteForcePairs(_ r: Registry) -> Set<CollisionPair> {
    let all = points(r)
    var pairs = Set<CollisionPair>()
    for i in 0..<all.count {
        for j in (i + 1)..<all.count where all[i].start <= all[j].end && all[j].start <= all[i].end {
            let (a, b) = (all[i].member.environment, all[j].member.environment)
            if (a == nil && b == nil) || a != b { pairs.insert(CollisionPair(all[i].member, all[j].member)) }
        }
    }
    return pairs
}

private struct Flag: Hashable { let kind: FindingKind; let member: LatticeMember }

private func bruteForceFlags(_ r: Registry, _ ephemeral: ClosedRange<Int>, _ reserved: PortSet) -> Set<Flag> {
    func isEphemeral(_ a: Int, _ b: Int) -> Bool { (a...b).contains { ephemeral.contains($0) && !reserved.contains($0) } }
    var flags = Set<Flag>()
    for p in points(r) {
        let inEnvironment = p.member.environment != nil
        if p.start < 1 || p.end > 65535 { flags.insert(Flag(kind: .environment, member: p.member)); continue }
        if p.start < 1024 && !(inEnvironment && p.start0 < 1024) { flags.insert(Flag(kind: .privileged, member: p.member)) }
        if isEphemeral(p.start, p.end) && !(inEnvironment && isEphemeral(p.start0, p.end0)) {
            flags.insert(Flag(kind: .ephemeral, member: p.member))
        }
    }
    return flags
}

@Suite("Analysis: property")
struct AnalysisPropertyTests {
    @Test("the sweep finds exactly the brute-force pairs and flags on 400 random registries")
    func matchesBruteForce() throws {
        var rng = SplitMix(state: 0x5EED_0005)
        var collisionsSeen = 0
        for round in 0..<400 {
            let r = randomRegistry(&rng)
            let low = Int.random(in: 1000...1200, using: &rng)
            let options = AnalysisOptions(ephemeralRange: low...(low + 100),
                                          reservedPorts: PortSet([low + 10...low + 20]))
            let analysis = try Analysis(registry: r, options: options)
            var reported = Set<CollisionPair>()
            var flags = Set<Flag>()
            for finding in analysis.findings {
                if finding.kind == .collision {
                    reported.formUnion(finding.pairs)
                } else {
                    for occurrence in finding.occurrences { flags.insert(Flag(kind: finding.kind, member: occurrence.members[0])) }
                }
            }
            // Every implied pair really shares a port; the required ones are all there.
            let intervals = Dictionary(uniqueKeysWithValues: points(r).map { ($0.member, ($0.start, $0.end)) })
            for pair in reported {
                let (a, b) = (intervals[pair.a]!, intervals[pair.b]!)
                #expect(a.0 <= b.1 && b.0 <= a.1, "round \(round): \(pair) do not overlap")
            }
            let required = bruteForcePairs(r)
            let reportedRequired = reported.filter { ($0.a.environment == nil && $0.b.environment == nil) || $0.a.environment != $0.b.environment }
            #expect(reportedRequired == required, "round \(round): missing \(required.subtracting(reportedRequired)), extra \(reportedRequired.subtracting(required))")
            #expect(flags == bruteForceFlags(r, options.ephemeralRange!, options.reservedPorts), "round \(round)")
            collisionsSeen += required.count
        }
        #expect(collisionsSeen > 500, "the generator should produce plenty of collisions, made \(collisionsSeen)")
    }

    @Test("all suggested moves applied together remove every collision they touch and create none")
    func fixesAreVerified() throws {
        var rng = SplitMix(state: 0xF1C5)
        var moved = 0, lowered = 0
        for round in 0..<300 {
            let r = randomRegistry(&rng)
            let analysis = try Analysis(registry: r, options: noKernel)
            let before = bruteForcePairs(r)
            var services = r.services
            var movedSlots = Set<[Int]>()
            for finding in analysis.findings {
                for move in finding.suggestedMoves {
                    let s = r.services.firstIndex { $0.name == move.service }!
                    let p = services[s].ports.firstIndex { $0.name == move.port }!
                    if let base = movedSlots.contains([s, p]) ? services[s].ports[p].base : nil {
                        #expect(base == move.base, "round \(round): two different moves for one port")
                    }
                    var ports = services[s].ports
                    let old = ports[p]
                    ports[p] = PortDefinition(name: old.name, base: move.base, count: old.count, location: old.location)
                    let o = services[s]
                    services[s] = ServiceDefinition(name: o.name, ports: ports, increment: o.increment, maxInstances: o.maxInstances, location: o.location)
                    movedSlots.insert([s, p])
                    moved += 1
                }
                if finding.kind == .collision, let lower = finding.suggestedMaxInstances {
                    var lowerServices = r.services
                    let s = r.services.firstIndex { $0.name == lower.service }!
                    let o = lowerServices[s]
                    lowerServices[s] = ServiceDefinition(name: o.name, ports: o.ports, increment: o.increment, maxInstances: lower.maxInstances, location: o.location)
                    let after = bruteForcePairs(Registry(source: r.source, services: lowerServices, environments: r.environments))
                    #expect(after.isDisjoint(with: finding.pairs), "round \(round): lowering max_instances left the finding")
                    lowered += 1
                }
            }
            let fixed = Registry(source: r.source, services: services, environments: r.environments)
            let after = bruteForcePairs(fixed)
            let touching = after.filter { movedSlots.contains([$0.a.service, $0.a.port]) || movedSlots.contains([$0.b.service, $0.b.port]) }
            #expect(touching.isEmpty, "round \(round): moved ports still collide: \(touching)")
            #expect(after.isSubset(of: before), "round \(round): the moves created new collisions")
            // Findings whose every slot but one moved are gone.
            for finding in analysis.collisions where !finding.suggestedMoves.isEmpty {
                #expect(after.isDisjoint(with: finding.pairs), "round \(round): \(finding.line)")
            }
        }
        #expect(moved > 50 && lowered > 50, "moved \(moved), lowered \(lowered)")
    }
}

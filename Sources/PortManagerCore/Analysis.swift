/// One point of the lattice: one named port (or range) of one instance of one
/// service, in one environment.
public struct LatticeMember: Sendable, Hashable, Comparable {
    /// Index of the service in ``Registry/services``.
    public let service: Int
    /// Index of the port in ``ServiceDefinition/ports``.
    public let port: Int
    /// The instance ID.
    public let instance: Int
    /// Index of the environment in ``Registry/environments``; `nil` for none.
    public let environment: Int?

    /// Creates a member.
    public init(service: Int, port: Int, instance: Int, environment: Int?) {
        self.service = service
        self.port = port
        self.instance = instance
        self.environment = environment
    }

    /// Ordered by environment (none first), service, port, instance.
    public static func < (a: LatticeMember, b: LatticeMember) -> Bool {
        (a.environment ?? -1, a.service, a.port, a.instance) < (b.environment ?? -1, b.service, b.port, b.instance)
    }
}

/// Where a finding happens: the host ports `first...last` and the lattice
/// points there. For a collision, every member uses every port of `first...last`
/// (every pair of members collides); for a flag, the one member is flagged there.
public struct Occurrence: Sendable, Hashable {
    /// The first host port concerned.
    public let first: Int
    /// The last host port concerned (equal to ``first`` unless ranges are involved).
    public let last: Int
    /// The lattice points, sorted.
    public let members: [LatticeMember]

    /// Creates an occurrence.
    public init(first: Int, last: Int, members: [LatticeMember]) {
        self.first = first
        self.last = last
        self.members = members
    }
}

/// What a finding is about.
public enum FindingKind: String, Sendable, Hashable, CaseIterable {
    /// Lattice points share a host port (error).
    case collision
    /// An environment offset moves a port outside 1..65535 (error).
    case environment
    /// A port below 1024, which needs root or a capability to bind (warning).
    case privileged
    /// A port inside the kernel's ephemeral range and not reserved (warning).
    case ephemeral
}

/// One finding of an ``Analysis``: a collision pattern or a flagged port,
/// with its severity, source location and suggested fix.
public struct Finding: Sendable {
    /// What the finding is about.
    public let kind: FindingKind
    /// Error for collisions and bad offsets; warning for privileged and ephemeral ports.
    public let severity: Severity
    /// Where the culprit is defined: a port, or an environment when its offset is to blame.
    public let location: SourceLocation
    /// Every place the pattern happens, by host port.
    public let occurrences: [Occurrence]
    let context: AnalysisContext
    /// The fix chosen for this finding (see ``AnalysisContext/fix(for:taken:)``).
    var fix = Fix()

    /// A sentence naming the culprits, their instances and the host ports.
    public var message: String { context.message(for: self) }

    /// A fix, verified against the whole lattice where it names a port; `nil` when none applies.
    public var suggestion: String? { context.suggestion(for: self) }

    /// The base-port moves the suggestion names: each (service, port name, new base).
    /// Verified against the whole lattice and the moves of earlier findings, so all
    /// of an analysis's moves can be applied together.
    public var suggestedMoves: [(service: String, port: String, base: Int)] {
        fix.moves.map { move in
            let service = context.registry.services[context.lattice.service[move.slot]]
            return (service.name, service.ports[context.lattice.port[move.slot]].name, move.base)
        }
    }

    /// The max_instances change the suggestion names, if any: (service, new max_instances).
    public var suggestedMaxInstances: (service: String, maxInstances: Int)? {
        fix.lowerMaxInstances.map { (context.registry.services[$0.member.service].name, $0.limit) }
    }

    /// `FILE:LINE:COLUMN: severity: message; fix: suggestion`, as compilers print.
    public var line: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let suggestion { text += "; fix: \(suggestion)" }
        return text
    }

    /// Every host port concerned, sorted, without repeats.
    public var hostPorts: [Int] {
        var ports = Set<Int>()
        for occurrence in occurrences { for port in occurrence.first...occurrence.last { ports.insert(port) } }
        return ports.sorted()
    }

    /// Every pair of lattice points the finding says collide (collisions only), each with `a < b`.
    public var pairs: Set<CollisionPair> {
        guard kind == .collision else { return [] }
        var result = Set<CollisionPair>()
        for occurrence in occurrences {
            let m = occurrence.members
            for i in 0..<m.count { for j in (i + 1)..<m.count { result.insert(CollisionPair(m[i], m[j])) } }
        }
        return result
    }
}

/// Two lattice points that share a host port, in order.
public struct CollisionPair: Sendable, Hashable, CustomStringConvertible {
    /// The smaller point.
    public let a: LatticeMember
    /// The larger point.
    public let b: LatticeMember

    /// Orders the two points.
    public init(_ x: LatticeMember, _ y: LatticeMember) {
        (a, b) = x < y ? (x, y) : (y, x)
    }

    /// A short form for test failures.
    public var description: String {
        "(\(a.service).\(a.port)#\(a.instance)@\(a.environment ?? -1), \(b.service).\(b.port)#\(b.instance)@\(b.environment ?? -1))"
    }
}

/// The whole-lattice analysis of a registry: collisions across and within
/// services and environments, bad environment offsets, privileged ports and
/// ports in the ephemeral range.
///
/// The lattice holds every named port and range of every service, for every
/// instance `0..<max_instances`, with no environment and with each environment
/// of the registry (environments with equal offsets, such as `dev: 0` and none,
/// are one scenario). Points of different scenarios must not collide
/// (environments exist to share one host); points of one environment collide
/// exactly as they do with none, so those are reported once, for none.
///
/// Cost: O(n log n) in the number n of lattice points (one sort, one sweep),
/// plus the size of the findings. Pure: no I/O.
public struct Analysis: Sendable {
    /// The registry analyzed. Its selected environment does not matter.
    public var registry: Registry { context.registry }
    /// The host assumptions used.
    public var options: AnalysisOptions { context.options }
    /// Every finding, ordered by source location, then severity (errors first), then kind.
    public let findings: [Finding]
    /// How many lattice points were analyzed (environments included).
    public let latticePoints: Int
    let context: AnalysisContext

    /// Analyzes `registry` under `options`.
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` for a registry built
    ///   without ``RegistryBuilder`` whose numbers are out of bounds (ports
    ///   outside 1...65535, offsets outside -65535...65535, max_instances < 1,
    ///   negative increments); a loaded registry always passes.
    public init(registry: Registry, options: AnalysisOptions = AnalysisOptions()) throws {
        let lattice = try Lattice(registry)
        let context = AnalysisContext(registry: registry, options: options, lattice: lattice)
        var findings = Analysis.collisions(lattice, context)
        findings += Analysis.flags(lattice, context)
        findings.sort { a, b in
            (a.location.line, a.location.column, -a.severity.order, a.kind.order, a.occurrences.first?.first ?? 0)
                < (b.location.line, b.location.column, -b.severity.order, b.kind.order, b.occurrences.first?.first ?? 0)
        }
        var taken = AnalysisContext.FixState(occupancy: context.coverage)
        for index in findings.indices {
            findings[index].fix = context.fix(for: findings[index], taken: &taken)
        }
        self.findings = findings
        self.latticePoints = lattice.pointCount
        self.context = context
    }

    /// How many findings are errors.
    public var errorCount: Int { findings.count(where: { $0.severity == .error }) }
    /// How many findings are warnings.
    public var warningCount: Int { findings.count(where: { $0.severity == .warning }) }
    /// The collision findings.
    public var collisions: [Finding] { findings.filter { $0.kind == .collision } }
    /// Every host port where lattice points collide, sorted.
    public var collidingHostPorts: [Int] {
        Array(Set(collisions.flatMap(\.hostPorts))).sorted()
    }

    // MARK: Collisions

    /// Sorts the lattice by start port and sweeps it: runs of overlapping
    /// intervals are the only places collisions can be. A run whose intervals
    /// all share a port (always so for single ports) is one occurrence; other
    /// runs (chains of ranges) give one occurrence per overlapping pair.
    /// Occurrences are grouped by the set of (environment, service, port) they
    /// involve, so a pattern repeated over instances is one finding.
    static func collisions(_ lattice: Lattice, _ context: AnalysisContext) -> [Finding] {
        let keys = lattice.sortedKeys()
        var groups: [[Int]: Int] = [:]
        var grouped: [[Occurrence]] = []
        var groupSlots: [[Int]] = []
        func add(_ points: [Int], first: Int, last: Int) {
            var slots = points.map { lattice.scenarioSlot(of: $0) }
            slots.sort()
            let members = points.map { lattice.member(of: $0) }.sorted()
            let occurrence = Occurrence(first: first, last: last, members: members)
            if let index = groups[slots] {
                grouped[index].append(occurrence)
            } else {
                groups[slots] = grouped.count
                grouped.append([occurrence])
                groupSlots.append(slots)
            }
        }
        var run: [Int] = []
        var i = 0
        let n = keys.count
        while i < n {
            let firstStart = Lattice.start(ofKey: keys[i])
            var reach = lattice.end(point: Lattice.point(ofKey: keys[i]), start: firstStart)
            var j = i + 1
            while j < n {
                let start = Lattice.start(ofKey: keys[j])
                if start > reach { break }
                reach = max(reach, lattice.end(point: Lattice.point(ofKey: keys[j]), start: start))
                j += 1
            }
            if j - i >= 2 {
                run.removeAll(keepingCapacity: true)
                var minEnd = Int.max
                for k in i..<j {
                    let point = Lattice.point(ofKey: keys[k])
                    run.append(point)
                    minEnd = min(minEnd, lattice.end(point: point, start: Lattice.start(ofKey: keys[k])))
                }
                let maxStart = Lattice.start(ofKey: keys[j - 1])
                if maxStart <= minEnd {
                    if lattice.reportable(run) { add(run, first: maxStart, last: minEnd) }
                } else {
                    // A chain of ranges: every overlapping pair, by an active list.
                    var active: [(end: Int, point: Int)] = []
                    for k in i..<j {
                        let point = Lattice.point(ofKey: keys[k]), start = Lattice.start(ofKey: keys[k])
                        let end = lattice.end(point: point, start: start)
                        active.removeAll { $0.end < start }
                        for other in active where lattice.reportable([other.point, point]) {
                            add([other.point, point], first: start, last: min(end, other.end))
                        }
                        active.append((end, point))
                    }
                }
            }
            i = j
        }
        var findings: [Finding] = []
        findings.reserveCapacity(grouped.count)
        for (index, occurrences) in grouped.enumerated() {
            let slots = groupSlots[index]
            findings.append(Finding(kind: .collision, severity: .error,
                                    location: context.collisionLocation(slots),
                                    occurrences: occurrences.sorted { $0.first < $1.first }, context: context))
        }
        return findings
    }

    // MARK: Flags

    /// Privileged and ephemeral ports, and environments that push ports outside
    /// 1..65535, one finding per (environment, service, port). Under an
    /// environment, only points not already flagged without one are reported:
    /// those are the offset's doing.
    static func flags(_ lattice: Lattice, _ context: AnalysisContext) -> [Finding] {
        var findings: [Finding] = []
        let unsafe = context.unsafeEphemeral
        func ephemeral(_ start: Int, _ end: Int) -> Bool {
            guard let unsafe, end >= 1, start <= 65535 else { return false }
            let a = max(start, 1), b = min(end, 65535)
            return unsafe[b] - unsafe[a - 1] > 0
        }
        for scenario in 0..<lattice.offsets.count {
            let offset = lattice.offsets[scenario]
            let environment = lattice.scenarioEnvironment[scenario]
            for slot in 0..<lattice.slotCount {
                var outside: [Occurrence] = [], privileged: [Occurrence] = [], inEphemeral: [Occurrence] = []
                for instance in 0..<lattice.maxInstances[slot] {
                    let start0 = lattice.base[slot] + instance * lattice.increment[slot]
                    let end0 = start0 + lattice.width[slot] - 1
                    let start = start0 + offset, end = end0 + offset
                    let member = LatticeMember(service: lattice.service[slot], port: lattice.port[slot],
                                               instance: instance, environment: environment)
                    if start < 1 || end > 65535 {
                        outside.append(Occurrence(first: start, last: end, members: [member]))
                        continue
                    }
                    if start < 1024 && !(scenario > 0 && start0 < 1024) {
                        privileged.append(Occurrence(first: start, last: min(end, 1023), members: [member]))
                    }
                    if ephemeral(start, end) && !(scenario > 0 && ephemeral(start0, end0)) {
                        inEphemeral.append(Occurrence(first: start, last: end, members: [member]))
                    }
                }
                let service = context.registry.services[lattice.service[slot]]
                let at = environment.map { context.registry.environments[$0].location }
                    ?? service.ports[lattice.port[slot]].location
                if !outside.isEmpty {
                    findings.append(Finding(kind: .environment, severity: .error, location: at, occurrences: outside, context: context))
                }
                if !privileged.isEmpty {
                    findings.append(Finding(kind: .privileged, severity: .warning, location: at, occurrences: privileged, context: context))
                }
                if !inEphemeral.isEmpty {
                    findings.append(Finding(kind: .ephemeral, severity: .warning, location: at, occurrences: inEphemeral, context: context))
                }
            }
        }
        return findings
    }
}

/// A finding's fix: base moves (slot, new base) and/or a lower max_instances.
struct Fix: Sendable {
    var moves: [(slot: Int, base: Int)] = []
    var lowerMaxInstances: (member: LatticeMember, limit: Int)?
}

extension Severity {
    var order: Int {
        switch self {
        case .note: return 0
        case .warning: return 1
        case .error: return 2
        }
    }
}

extension FindingKind {
    var order: Int {
        switch self {
        case .collision: return 0
        case .environment: return 1
        case .privileged: return 2
        case .ephemeral: return 3
        }
    }
}

/// The lattice in flat arrays. A "slot" is one (service, port); a "scenario" is
/// no environment (0) or environment k-1 (k >= 1). Points are numbered
/// `scenario * perScenario + slotStart[slot] + instance`.
struct Lattice: Sendable {
    let service: [Int], port: [Int], base: [Int], width: [Int], increment: [Int], maxInstances: [Int]
    /// Where each slot's port is defined, as one comparable number: line << 32 | column.
    let position: [Int]
    /// First local point of each slot.
    let slotStart: [Int]
    /// The slot of each local point.
    let slotOfLocal: [Int32]
    /// Scenario offsets: 0, then each distinct offset of the environments.
    let offsets: [Int]
    /// The environment each scenario stands for; nil for none.
    let scenarioEnvironment: [Int?]
    let perScenario: Int

    var slotCount: Int { base.count }
    var pointCount: Int { perScenario * offsets.count }

    /// Ports plus this fit in a key's 18 high bits (ports may reach -65534...131070).
    static let shift = 131_072
    static let pointBits: UInt64 = 40

    init(_ registry: Registry) throws {
        var service: [Int] = [], port: [Int] = [], base: [Int] = [], width: [Int] = [], increment: [Int] = []
        var maxInstances: [Int] = [], slotStart: [Int] = [], position: [Int] = []
        var total = 0
        for (s, definition) in registry.services.enumerated() {
            guard definition.maxInstances >= 1, definition.increment >= 0 else {
                throw PortManagerError.invalidArgument(
                    "service \(RegistryBuilder.quote(definition.name)) has max_instances \(definition.maxInstances) and instance_increment \(definition.increment); the analysis needs max_instances >= 1 and a non-negative increment")
            }
            for (p, definition2) in definition.ports.enumerated() {
                let (span, o1) = (definition.maxInstances - 1).multipliedReportingOverflow(by: definition.increment)
                guard definition2.base >= 1, definition2.count >= 1, !o1, definition2.baseLast <= 65535,
                      definition2.baseLast + span <= 65535 else {
                    throw PortManagerError.invalidArgument(
                        "port \(RegistryBuilder.quote(definition2.name)) of service \(RegistryBuilder.quote(definition.name)) leaves 1..65535 within its \(definition.maxInstances) instances; the analysis needs a valid registry")
                }
                service.append(s); port.append(p); base.append(definition2.base); width.append(definition2.count)
                increment.append(definition.increment); maxInstances.append(definition.maxInstances)
                slotStart.append(total)
                position.append(definition2.location.line << 32 | definition2.location.column)
                total += definition.maxInstances
            }
        }
        for environment in registry.environments where !(-65535...65535).contains(environment.offset) {
            throw PortManagerError.invalidArgument(
                "environment \(RegistryBuilder.quote(environment.name)) has offset \(environment.offset), outside -65535..65535")
        }
        var slotOfLocal = [Int32](repeating: 0, count: total)
        for slot in 0..<slotStart.count {
            for local in slotStart[slot]..<(slotStart[slot] + maxInstances[slot]) { slotOfLocal[local] = Int32(slot) }
        }
        self.service = service; self.port = port; self.base = base; self.width = width
        self.increment = increment; self.maxInstances = maxInstances; self.slotStart = slotStart
        self.slotOfLocal = slotOfLocal
        self.position = position
        // Environments with one offset are aliases of one scenario (`dev: 0` is
        // the same ports as no environment), named by the first of them.
        var offsets = [0]
        var scenarioEnvironment: [Int?] = [nil]
        for (index, environment) in registry.environments.enumerated() where !offsets.contains(environment.offset) {
            offsets.append(environment.offset)
            scenarioEnvironment.append(index)
        }
        self.offsets = offsets
        self.scenarioEnvironment = scenarioEnvironment
        self.perScenario = total
    }

    /// One key per point: `(start + shift) << 40 | point`, sorted.
    func sortedKeys() -> [UInt64] {
        var keys = [UInt64](repeating: 0, count: pointCount)
        keys.withUnsafeMutableBufferPointer { out in
            var index = 0
            for scenario in 0..<offsets.count {
                let offset = offsets[scenario] + Lattice.shift
                for slot in 0..<slotCount {
                    let b = base[slot] + offset, inc = increment[slot]
                    for instance in 0..<maxInstances[slot] {
                        out[index] = UInt64(b + instance * inc) << Lattice.pointBits | UInt64(index)
                        index += 1
                    }
                }
            }
        }
        keys.sort()
        return keys
    }

    @inline(__always) static func start(ofKey key: UInt64) -> Int { Int(key >> pointBits) - shift }
    @inline(__always) static func point(ofKey key: UInt64) -> Int { Int(key & ((1 << pointBits) - 1)) }

    @inline(__always) func slot(of point: Int) -> Int { Int(slotOfLocal[point % perScenario]) }
    @inline(__always) func scenario(of point: Int) -> Int { point / perScenario }
    @inline(__always) func end(point: Int, start: Int) -> Int { start + width[slot(of: point)] - 1 }
    /// A number naming (scenario, slot), for grouping.
    @inline(__always) func scenarioSlot(of point: Int) -> Int { scenario(of: point) * slotCount + slot(of: point) }

    func member(of point: Int) -> LatticeMember {
        let scenario = self.scenario(of: point), local = point % perScenario, slot = Int(slotOfLocal[local])
        return LatticeMember(service: service[slot], port: port[slot], instance: local - slotStart[slot],
                             environment: scenarioEnvironment[scenario])
    }

    /// Points that share ports are reported when at least two are without an
    /// environment, or they span two scenarios. Two points of one environment
    /// repeat a collision already found without one.
    func reportable(_ points: [Int]) -> Bool {
        var none = 0
        let firstScenario = scenario(of: points[0])
        var mixed = false
        for point in points {
            let s = scenario(of: point)
            if s == 0 { none += 1 }
            if s != firstScenario { mixed = true }
        }
        return none >= 2 || mixed
    }

    /// How many points cover each port, indexed by `port + shift` (ports of
    /// every scenario, out-of-range ones included).
    func coverage() -> [Int32] {
        var diff = [Int32](repeating: 0, count: 2 * Lattice.shift + 2)
        diff.withUnsafeMutableBufferPointer { d in
            for scenario in 0..<offsets.count {
                let offset = offsets[scenario] + Lattice.shift
                for slot in 0..<slotCount {
                    let b = base[slot] + offset, inc = increment[slot], w = width[slot]
                    for instance in 0..<maxInstances[slot] {
                        let start = b + instance * inc
                        d[start] += 1
                        d[start + w] -= 1
                    }
                }
            }
            var running: Int32 = 0
            for i in 0..<d.count {
                running += d[i]
                d[i] = running
            }
        }
        return diff
    }
}

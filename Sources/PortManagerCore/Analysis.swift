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
    /// The members, inline when one or two (nearly always), so an analysis
    /// with many findings does not allocate an array per occurrence.
    let storage: Storage

    /// The lattice points, sorted.
    public var members: [LatticeMember] {
        switch storage.count {
        case 1: return [storage.a]
        case 2: return [storage.a, storage.b]
        default: return Array(storage.rest)
        }
    }

    /// Creates an occurrence.
    public init(first: Int, last: Int, members: [LatticeMember]) {
        let storage: Storage
        switch members.count {
        case 1: storage = .one(members[0])
        case 2: storage = .two(members[0], members[1])
        default: storage = .many(members[...])
        }
        self.init(first: first, last: last, storage: storage)
    }

    init(first: Int, last: Int, storage: Storage) {
        self.first = first
        self.last = last
        self.storage = storage
    }

    /// One or two members inline, more (or none) as a slice of an array shared
    /// by the analysis; built only through `one`, `two` and `many`, so equal
    /// member lists are equal storage.
    ///
    /// A struct rather than an enum with payloads on purpose: copying a
    /// multi-payload enum whose cases differ in reference counting reads spare
    /// bits that valgrind's memcheck reports as uninitialised on every copy.
    struct Storage: Sendable, Hashable {
        /// How many members.
        var count: Int { Int(stored) }
        private let stored: Int32
        /// The first member when `count` is 1 or 2.
        private let first: Packed
        /// The second member when `count` is 2 (a copy of the first when 1).
        private let second: Packed
        /// Every member when `count` is 0 or above 2; empty otherwise.
        let rest: ArraySlice<LatticeMember>

        /// A member in 16 bytes, so an occurrence stays small.
        private struct Packed: Sendable, Hashable {
            let service: Int32, port: Int32, instance: Int32, environment: Int32  // -1: none
            init(_ m: LatticeMember) {
                service = Int32(truncatingIfNeeded: m.service)
                port = Int32(truncatingIfNeeded: m.port)
                instance = Int32(truncatingIfNeeded: m.instance)
                environment = Int32(truncatingIfNeeded: m.environment ?? -1)
            }
            var member: LatticeMember {
                LatticeMember(service: Int(service), port: Int(port), instance: Int(instance),
                              environment: environment < 0 ? nil : Int(environment))
            }
        }

        private static let none = Packed(LatticeMember(service: -1, port: -1, instance: -1, environment: nil))

        static func one(_ a: LatticeMember) -> Storage {
            let packed = Packed(a)
            return Storage(stored: 1, first: packed, second: packed, rest: [])
        }
        static func two(_ a: LatticeMember, _ b: LatticeMember) -> Storage {
            Storage(stored: 2, first: Packed(a), second: Packed(b), rest: [])
        }
        static func many(_ all: ArraySlice<LatticeMember>) -> Storage {
            Storage(stored: Int32(all.count), first: none, second: none, rest: all)
        }

        /// The first member (count 1 or 2).
        var a: LatticeMember { first.member }
        /// The second member (count 2).
        var b: LatticeMember { second.member }

        subscript(index: Int) -> LatticeMember {
            switch count {
            case 1: return first.member
            case 2: return index == 0 ? first.member : second.member
            default: return rest[rest.startIndex + index]
            }
        }
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
    /// Every place the pattern happens, by host port. For a summarised chain
    /// (``chain`` not nil), only its first few example pairs.
    public let occurrences: [Occurrence]
    /// For a dense chain of overlapping ranges, too many pairs to list: the
    /// summary (ports, counts, host port ranges). Nil for every other finding.
    public let chain: CollisionChain?
    let context: AnalysisContext
    /// This finding's place in the analysis, for its fix.
    let index: Int
    /// The fixes of the whole analysis, chosen together on first use.
    let fixes: FixTable

    /// The fix chosen for this finding (see ``AnalysisContext/fix(kind:_:taken:)``).
    var fix: Fix { fixes.fix(at: index) }

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

    /// Every host port concerned, sorted, without repeats (for a chain, every
    /// port where two of its points overlap).
    public var hostPorts: [Int] {
        if let chain { return chain.hostPorts.flatMap { Array($0) } }
        var ports = Set<Int>()
        for occurrence in occurrences { for port in occurrence.first...occurrence.last { ports.insert(port) } }
        return ports.sorted()
    }

    /// Every pair of lattice points the finding says collide (collisions only), each with `a < b`;
    /// for a summarised chain, its example pairs only (``CollisionChain/pairs`` counts them all).
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
/// Cost: O(n log n) in the number n of lattice points (a counting sort by
/// port, one sweep, hashing of occurrence groups, one sort of the findings),
/// plus the size of the findings. Memory is O(n + findings): dense chains of
/// overlapping ranges are summarised (``CollisionChain``), not listed pair by
/// pair, and a lattice past ``maximumLatticePoints`` is refused. Pure: no I/O.
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
    ///   ``PortManagerError/tooLarge(_:)`` for a lattice of more than
    ///   ``maximumLatticePoints`` points, before allocating for them.
    public init(registry: Registry, options: AnalysisOptions = AnalysisOptions()) throws {
        let lattice = try Lattice(registry)
        let context = AnalysisContext(registry: registry, options: options, lattice: lattice)
        var parts = FindingParts()
        // Protocols: a TCP and a UDP port of one number do not collide; a
        // tcp+udp port takes part in both sweeps.
        Analysis.collisions(lattice, context, protocol: PortProtocols.tcp.rawValue, into: &parts)
        if lattice.protocols.contains(where: { $0 & PortProtocols.udp.rawValue != 0 }) {
            Analysis.collisions(lattice, context, protocol: PortProtocols.udp.rawValue, into: &parts)
        }
        Analysis.flags(lattice, context, into: &parts)
        // Sorted through an index (stable, as a sort of the findings themselves
        // would be); each finding is then built once, in order, with its fix.
        var order = Array(0..<parts.count)
        parts.keys.withUnsafeBufferPointer { keys in
            order.sort { keys[$0] < keys[$1] }
        }
        var findings: [Finding] = []
        findings.reserveCapacity(parts.count)
        var kinds: [FindingKind] = []
        kinds.reserveCapacity(parts.count)
        var allOccurrences: [[Occurrence]] = []
        allOccurrences.reserveCapacity(parts.count)
        var chains: [CollisionChain?] = []
        chains.reserveCapacity(parts.count)
        for index in order {
            kinds.append(parts.kind[index])
            chains.append(parts.chain[index])
            var occurrences: [Occurrence] = []
            swap(&occurrences, &parts.occurrences[index])
            allOccurrences.append(occurrences)
        }
        let fixes = FixTable(context: context, kinds: kinds, occurrences: allOccurrences, chains: chains)
        for (position, index) in order.enumerated() {
            findings.append(Finding(kind: parts.kind[index], severity: parts.severity[index],
                                    location: parts.location[index], occurrences: allOccurrences[position],
                                    chain: chains[position], context: context, index: position, fixes: fixes))
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
    /// runs (chains of ranges) give one occurrence per overlapping pair, unless
    /// they have more than ``AnalysisLimits/listedPairsPerPoint`` pairs per
    /// point: those are summarised by ``ChainGroups`` (AnalysisChains.swift).
    /// Occurrences are grouped by the set of (environment, service, port) they
    /// involve, so a pattern repeated over instances is one finding.
    ///
    /// Without per-occurrence allocations: occurrences are kept in flat arrays
    /// (their points in `pointStore`), grouped by a packed integer for the
    /// common two-point case, and turned into ``Occurrence`` values once, per
    /// finding. The sweep emits occurrences by non-decreasing first port, so
    /// each finding's occurrences come out in port order without a sort.
    ///
    /// One sweep per protocol (`PortProtocols` raw value): only slots published
    /// for it take part.
    static func collisions(_ lattice: Lattice, _ context: AnalysisContext, protocol proto: Int32,
                           into parts: inout FindingParts) {
        let sorted = lattice.sortedByStart(protocol: proto)
        let starts = sorted.start, ends = sorted.end, points = sorted.point
        let n = starts.count
        var table = OccurrenceTable(lattice, protocol: proto)
        var chains = ChainGroups(lattice)
        var active: [(end: Int, point: Int)] = []
        var pair = [0, 0]
        var i = 0
        while i < n {
            var reach = ends[i]
            var minEnd = ends[i]
            var j = i + 1
            while j < n && starts[j] <= reach {
                reach = max(reach, ends[j])
                minEnd = min(minEnd, ends[j])
                j += 1
            }
            if j - i >= 2 {
                let maxStart = Int(starts[j - 1]), minEnd = Int(minEnd)
                if maxStart <= minEnd {
                    table.addIfReportable(points, i..<j, first: maxStart, last: minEnd)
                } else if ChainGroups.overlappingPairs(starts, ends, i..<j) > AnalysisLimits.listedPairsPerPoint * (j - i) {
                    // Too dense to list pair by pair: summarised (AnalysisChains.swift);
                    // like occurrences, a chain of tcp+udp ports only is the TCP sweep's.
                    if proto == PortProtocols.tcp.rawValue || !(i..<j).allSatisfy({
                        lattice.protocols[lattice.slot(of: points[$0])] & PortProtocols.tcp.rawValue != 0
                    }) {
                        chains.add(starts, ends, points, i..<j)
                    }
                } else {
                    // A chain of ranges: every overlapping pair, by an active list.
                    active.removeAll(keepingCapacity: true)
                    for index in i..<j {
                        let point = points[index], start = Int(starts[index]), end = Int(ends[index])
                        active.removeAll { $0.end < start }
                        for other in active {
                            pair[0] = other.point
                            pair[1] = point
                            table.addIfReportable(pair, 0..<2, first: start, last: min(end, other.end))
                        }
                        active.append((end, point))
                    }
                }
            }
            i = j
        }
        let occFirst = table.occFirst, occLast = table.occLast, occGroup = table.occGroup
        let occEnd = table.occEnd, pointStore = table.pointStore
        // Occurrences by group (a stable counting sort keeps port order), then findings.
        let groups = table.groupCount
        var groupStart = [Int](repeating: 0, count: groups + 1)
        for group in occGroup { groupStart[Int(group) + 1] += 1 }
        for index in 0..<groups { groupStart[index + 1] += groupStart[index] }
        var byGroup = [Int](repeating: 0, count: occGroup.count)
        var next = groupStart
        for (occurrence, group) in occGroup.enumerated() {
            byGroup[next[Int(group)]] = occurrence
            next[Int(group)] += 1
        }
        // Members of occurrences of three or more points, all in one array that
        // their occurrences slice: no array per occurrence.
        var shared: [LatticeMember] = []
        var sharedCount = 0
        for o in occEnd.indices where occEnd[o] - (o == 0 ? 0 : occEnd[o - 1]) > 2 {
            sharedCount += occEnd[o] - (o == 0 ? 0 : occEnd[o - 1])
        }
        shared.reserveCapacity(sharedCount)
        for (o, end) in occEnd.enumerated() where end - (o == 0 ? 0 : occEnd[o - 1]) > 2 {
            for index in (o == 0 ? 0 : occEnd[o - 1])..<end { shared.append(lattice.member(of: pointStore[index])) }
        }
        var sharedStart = [Int](repeating: -1, count: occEnd.count)
        var at = 0
        for (o, end) in occEnd.enumerated() where end - (o == 0 ? 0 : occEnd[o - 1]) > 2 {
            sharedStart[o] = at
            at += end - (o == 0 ? 0 : occEnd[o - 1])
        }
        pointStore.withUnsafeBufferPointer { store in
            for group in 0..<groups {
                let first = groupStart[group], count = groupStart[group + 1] - first
                let occurrences = [Occurrence](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for k in 0..<count {
                        let o = byGroup[first + k]
                        let start = o == 0 ? 0 : occEnd[o - 1], end = occEnd[o]
                        let storage: Occurrence.Storage
                        switch end - start {
                        case 2: storage = .two(lattice.member(of: store[start]), lattice.member(of: store[start + 1]))
                        default: storage = .many(shared[sharedStart[o]..<(sharedStart[o] + end - start)])
                        }
                        (buffer.baseAddress! + k).initialize(to: Occurrence(first: occFirst[o], last: occLast[o], storage: storage))
                    }
                    initialized = count
                }
                let o = byGroup[groupStart[group]]
                let points = UnsafeBufferPointer(rebasing: store[(o == 0 ? 0 : occEnd[o - 1])..<occEnd[o]])
                parts.append(kind: .collision, severity: .error, location: context.collisionLocation(points),
                             occurrences: occurrences)
            }
        }
        chains.append(context, into: &parts)
    }

/// The occurrences of collisions found by the sweep, grouped by the sorted
/// scenario-slots of their points, in flat arrays: no allocation per
/// occurrence or group. Occurrence o covers ports `occFirst[o]...occLast[o]`;
/// its points, in member order (which is point order: scenario, slot,
/// instance), are `pointStore[occEnd[o - 1]..<occEnd[o]]`; its group is
/// `occGroup[o]`, numbered by first appearance. Group g's key is
/// `keyStore[keyEnd[g - 1]..<keyEnd[g]]`, found by open addressing in `table`.
struct OccurrenceTable {
    let lattice: Lattice
    var occFirst: [Int] = [], occLast: [Int] = [], occGroup: [Int32] = [], occEnd: [Int] = []
    var pointStore: [Int] = []
    var keyStore: [Int] = [], keyEnd: [Int] = [], keyHash: [Int] = []
    var table = [Int32](repeating: -1, count: 1 << 12)
    var groupCount = 0
    /// The protocol of the sweep.
    let proto: Int32

    init(_ lattice: Lattice, protocol proto: Int32) {
        self.lattice = lattice
        self.proto = proto
    }

    /// Adds the points sharing `first...last` as one occurrence, unless
    /// ``Lattice/reportable(_:_:)`` says they repeat a collision found without environment.
    mutating func addIfReportable(_ points: [Int], _ range: Range<Int>, first: Int, last: Int) {
        guard lattice.reportable(points, range) else { return }
        // The UDP sweep skips occurrences of tcp+udp ports only: the TCP sweep has them.
        if proto != PortProtocols.tcp.rawValue,
           range.allSatisfy({ lattice.protocols[lattice.slot(of: points[$0])] & PortProtocols.tcp.rawValue != 0 }) {
            return
        }
        // The points go straight to the store, sorted there.
        let start = pointStore.count
        for index in range { pointStore.append(points[index]) }
        pointStore.withUnsafeMutableBufferPointer { buffer in
            var tail = UnsafeMutableBufferPointer(rebasing: buffer[start...])
            if tail.count == 2 {
                if tail[0] > tail[1] { tail.swapAt(0, 1) }
            } else {
                tail.sort()
            }
        }
        occFirst.append(first)
        occLast.append(last)
        occGroup.append(group(ofPointsFrom: start))
        occEnd.append(pointStore.count)
    }

    /// The group of the sorted points `pointStore[start...]`, created when new.
    private mutating func group(ofPointsFrom start: Int) -> Int32 {
        let end = pointStore.count
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for index in start..<end {
            h = (h ^ UInt64(lattice.scenarioSlot(of: pointStore[index]))) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        let hash = Int(bitPattern: UInt(h >> 1))
        let mask = table.count - 1
        var slot = hash & mask
        while true {
            let g = Int(table[slot])
            if g < 0 { break }
            if keyHash[g] == hash {
                let keyStart = g == 0 ? 0 : keyEnd[g - 1]
                if keyEnd[g] - keyStart == end - start,
                   (0..<(end - start)).allSatisfy({ keyStore[keyStart + $0] == lattice.scenarioSlot(of: pointStore[start + $0]) }) {
                    return Int32(g)
                }
            }
            slot = (slot + 1) & mask
        }
        let g = groupCount
        groupCount += 1
        for index in start..<end { keyStore.append(lattice.scenarioSlot(of: pointStore[index])) }
        keyEnd.append(keyStore.count)
        keyHash.append(hash)
        table[slot] = Int32(g)
        if 2 * groupCount > table.count {
            table = [Int32](repeating: -1, count: 2 * table.count)
            let mask = table.count - 1
            for other in 0..<groupCount {
                var at = keyHash[other] & mask
                while table[at] >= 0 { at = (at + 1) & mask }
                table[at] = Int32(other)
            }
        }
        return Int32(g)
    }
}

    // MARK: Flags

    /// Privileged and ephemeral ports, and environments that push ports outside
    /// 1..65535, one finding per (environment, service, port). Under an
    /// environment, only points not already flagged without one are reported:
    /// those are the offset's doing.
    static func flags(_ lattice: Lattice, _ context: AnalysisContext, into parts: inout FindingParts) {
        let unsafe = context.unsafeEphemeral
        func ephemeral(_ start: Int, _ end: Int) -> Bool {
            guard let unsafe, end >= 1, start <= 65535 else { return false }
            let a = max(start, 1), b = min(end, 65535)
            return unsafe[b] - unsafe[a - 1] > 0
        }
        for scenario in 0..<lattice.offsets.count {
            let offset = lattice.offsets[scenario]
            let environment = lattice.scenarioEnvironment[scenario]
            // Reused for every slot; each finding gets its own copy.
            var outside: [Occurrence] = [], privileged: [Occurrence] = [], inEphemeral: [Occurrence] = []
            for slot in 0..<lattice.slotCount {
                outside.removeAll(keepingCapacity: true)
                privileged.removeAll(keepingCapacity: true)
                inEphemeral.removeAll(keepingCapacity: true)
                for instance in 0..<lattice.maxInstances[slot] {
                    let start0 = lattice.base[slot] + instance * lattice.increment[slot]
                    let end0 = start0 + lattice.width[slot] - 1
                    let start = start0 + offset, end = end0 + offset
                    let member = LatticeMember(service: lattice.service[slot], port: lattice.port[slot],
                                               instance: instance, environment: environment)
                    if start < 1 || end > 65535 {
                        outside.append(Occurrence(first: start, last: end, storage: .one(member)))
                        continue
                    }
                    if start < 1024 && !(scenario > 0 && start0 < 1024) {
                        privileged.append(Occurrence(first: start, last: min(end, 1023), storage: .one(member)))
                    }
                    if ephemeral(start, end) && !(scenario > 0 && ephemeral(start0, end0)) {
                        inEphemeral.append(Occurrence(first: start, last: end, storage: .one(member)))
                    }
                }
                if outside.isEmpty && privileged.isEmpty && inEphemeral.isEmpty { continue }
                let at = environment.map { context.registry.environments[$0].location }
                    ?? context.registry.services[lattice.service[slot]].ports[lattice.port[slot]].location
                if !outside.isEmpty {
                    parts.append(kind: .environment, severity: .error, location: at, occurrences: Array(outside))
                }
                if !privileged.isEmpty {
                    parts.append(kind: .privileged, severity: .warning, location: at, occurrences: Array(privileged))
                }
                if !inEphemeral.isEmpty {
                    parts.append(kind: .ephemeral, severity: .warning, location: at, occurrences: Array(inEphemeral))
                }
            }
        }
    }
}

/// Findings before they are ordered and get their fixes, as parallel arrays.
struct FindingParts {
    var kind: [FindingKind] = [], severity: [Severity] = [], location: [SourceLocation] = []
    var occurrences: [[Occurrence]] = [], keys: [SortKey] = []
    /// The summary of each finding that is a dense chain; nil for the others.
    var chain: [CollisionChain?] = []

    var count: Int { kind.count }

    mutating func append(kind: FindingKind, severity: Severity, location: SourceLocation, occurrences: [Occurrence],
                         chain: CollisionChain? = nil) {
        self.chain.append(chain)
        self.kind.append(kind)
        self.severity.append(severity)
        self.location.append(location)
        self.occurrences.append(occurrences)
        keys.append(SortKey(line: location.line, column: location.column,
                            rank: (2 - severity.order) << 8 | kind.order, port: occurrences.first?.first ?? 0))
    }
}

/// The order of findings: source location, then severity (errors first), then
/// kind, then first port.
struct SortKey: Comparable {
    let line: Int, column: Int, rank: Int, port: Int

    static func < (a: SortKey, b: SortKey) -> Bool {
        (a.line, a.column, a.rank, a.port) < (b.line, b.column, b.rank, b.port)
    }
}

/// The fixes of one analysis. They are chosen together, in finding order, so
/// that all of them can be applied at once (each avoids the ports the earlier
/// ones take). Finding collisions proves a registry conflict-free or not;
/// choosing fixes is extra work that only callers who read a suggestion pay
/// for, once, on first use. Thread-safe: an analysis is shared across threads.
final class FixTable: @unchecked Sendable {
    private let context: AnalysisContext
    private let kinds: [FindingKind]
    private let occurrences: [[Occurrence]]
    private let chains: [CollisionChain?]
    private let fixes = Locked<[Fix]?>(nil)

    init(context: AnalysisContext, kinds: [FindingKind], occurrences: [[Occurrence]], chains: [CollisionChain?]) {
        self.context = context
        self.kinds = kinds
        self.occurrences = occurrences
        self.chains = chains
    }

    func fix(at index: Int) -> Fix {
        fixes.withLock { table in
            if table == nil {
                var taken = AnalysisContext.FixState(occupancy: context.coverage, slotCount: context.lattice.slotCount)
                table = kinds.indices.map { index in
                    if let chain = chains[index] { return context.fix(chain, taken: &taken) }
                    return context.fix(kind: kinds[index], occurrences[index], taken: &taken)
                }
            }
            return table![index]
        }
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
    /// Each slot's protocols (`PortProtocols` raw values).
    let protocols: [Int32]
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

    /// Ports plus this are in 0..<2 * shift (ports may reach -65534...131070).
    static let shift = 131_072

    init(_ registry: Registry) throws {
        var service: [Int] = [], port: [Int] = [], base: [Int] = [], width: [Int] = [], increment: [Int] = []
        var maxInstances: [Int] = [], slotStart: [Int] = [], position: [Int] = [], protocols: [Int32] = []
        var total = 0
        // Checked before anything is allocated for the points (AnalysisLimits.swift).
        try AnalysisLimits.checkLatticeSize(registry)
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
                protocols.append(definition2.protocols.rawValue)
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
        self.protocols = protocols
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

    /// Every point's interval, sorted by start port, then point number: a
    /// stable counting sort over the port space, O(n + ports). Only points of
    /// slots published for `proto` (a `PortProtocols` raw value).
    func sortedByStart(protocol proto: Int32) -> (start: [Int32], end: [Int32], point: [Int]) {
        var n = 0
        for slot in 0..<slotCount where protocols[slot] & proto != 0 { n += maxInstances[slot] }
        n *= offsets.count
        var count = [Int](repeating: 0, count: 2 * Lattice.shift + 1)
        var start = [Int32](repeating: 0, count: n), end = [Int32](repeating: 0, count: n), point = [Int](repeating: 0, count: n)
        count.withUnsafeMutableBufferPointer { next in
            for scenario in 0..<offsets.count {
                let offset = offsets[scenario] + Lattice.shift
                for slot in 0..<slotCount where protocols[slot] & proto != 0 {
                    let b = base[slot] + offset, inc = increment[slot]
                    for instance in 0..<maxInstances[slot] { next[b + instance * inc + 1] += 1 }
                }
            }
            for index in 1..<next.count { next[index] += next[index - 1] }
            start.withUnsafeMutableBufferPointer { start in
            end.withUnsafeMutableBufferPointer { end in
            point.withUnsafeMutableBufferPointer { point in
                var index = 0
                for scenario in 0..<offsets.count {
                    let offset = offsets[scenario] + Lattice.shift
                    for slot in 0..<slotCount {
                        guard protocols[slot] & proto != 0 else {
                            index += maxInstances[slot]
                            continue
                        }
                        let b = base[slot] + offset, inc = increment[slot], w = width[slot] - 1
                        for instance in 0..<maxInstances[slot] {
                            let key = b + instance * inc
                            let at = next[key]
                            next[key] = at + 1
                            start[at] = Int32(key - Lattice.shift)
                            end[at] = Int32(key - Lattice.shift + w)
                            point[at] = index
                            index += 1
                        }
                    }
                }
            }
            }
            }
        }
        return (start, end, point)
    }


    /// Whether there is one scenario (no environment moves ports): then a
    /// point is its local number, and no division is needed.
    var singleScenario: Bool { offsets.count == 1 }
    @inline(__always) func slot(of point: Int) -> Int { Int(slotOfLocal[singleScenario ? point : point % perScenario]) }
    @inline(__always) func scenario(of point: Int) -> Int { singleScenario ? 0 : point / perScenario }
    @inline(__always) func end(point: Int, start: Int) -> Int { start + width[slot(of: point)] - 1 }
    /// A number naming (scenario, slot), for grouping.
    @inline(__always) func scenarioSlot(of point: Int) -> Int { scenario(of: point) * slotCount + slot(of: point) }

    func member(of point: Int) -> LatticeMember {
        let scenario = self.scenario(of: point), local = point - scenario * perScenario, slot = Int(slotOfLocal[local])
        return LatticeMember(service: service[slot], port: port[slot], instance: local - slotStart[slot],
                             environment: scenarioEnvironment[scenario])
    }

    /// Points that share ports are reported when at least two are without an
    /// environment, or they span two scenarios. Two points of one environment
    /// repeat a collision already found without one.
    func reportable(_ points: [Int], _ range: Range<Int>) -> Bool {
        if singleScenario { return range.count >= 2 }
        var none = 0
        let firstScenario = scenario(of: points[range.lowerBound])
        var mixed = false
        for index in range {
            let s = scenario(of: points[index])
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

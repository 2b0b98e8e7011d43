import PortManagerCore

/// A dense chain of overlapping port ranges, summarised rather than listed
/// pair by pair: the ports involved, how many lattice points and overlapping
/// pairs, and the host ports where they overlap. A finding's
/// ``Finding/occurrences`` then hold only its first few example pairs.
///
/// A run of ranges that overlap one another (without all sharing one port)
/// is listed pair by pair while it has at most
/// ``AnalysisLimits/listedPairsPerPoint`` overlapping pairs per point; a
/// denser run (for example 100 ranges of width 10, bases 1 apart, increment
/// 10: every point overlaps 198 others) is summarised, so memory grows with
/// the lattice, not with the pairs. Dense runs involving the same ports (and
/// environments) are one finding.
public struct CollisionChain: Sendable, Hashable {
    /// One named port (or range) of one service, in one environment, in the chain.
    public struct Port: Sendable, Hashable {
        /// Index of the service in ``Registry/services``.
        public let service: Int
        /// Index of the port in ``ServiceDefinition/ports``.
        public let port: Int
        /// Index of the environment in ``Registry/environments``; nil for none.
        public let environment: Int?
        /// How many of its instances overlap another point of the chain.
        public let instances: Int
        /// The lowest of those instances.
        public let firstInstance: Int
        /// The highest of those instances.
        public let lastInstance: Int
    }

    /// Every port of the chain, ordered by environment (none first), service, port.
    public let ports: [Port]
    /// How many lattice points overlap another one of the chain.
    public let points: Int
    /// How many pairs of points overlap: all of them, counted without being
    /// listed (pairs inside one environment, which repeat pairs without one, excluded).
    public let pairs: Int
    /// How many separate runs of overlapping ranges the finding groups.
    public let runs: Int
    /// The host ports where two of its points overlap, as sorted, merged ranges.
    public let hostPorts: [ClosedRange<Int>]
}

/// The dense runs found by the sweep (``Analysis/collisions(_:_:protocol:into:)``),
/// grouped by their sorted scenario-slots. Work and memory per run are
/// O(m log m) and O(m) in its m points, whatever the number of pairs.
struct ChainGroups {
    let lattice: Lattice
    private var index: [[Int]: Int] = [:]
    private var groups: [Group] = []
    /// Per scenario: how many points of the run cover the current port (scratch, back to 0 after each run).
    private var cover: [Int]

    private struct Group {
        /// Sorted scenario-slots (``Lattice/scenarioSlot(of:)``), and per entry its instance count and bounds.
        var key: [Int]
        var instances: [Int], first: [Int], last: [Int]
        var points = 0, pairs = 0, runs = 0
        var ranges: [ClosedRange<Int>] = []
        /// Example pairs: ports and the two point numbers, in order.
        var examples: [(first: Int, last: Int, a: Int, b: Int)] = []
    }

    init(_ lattice: Lattice) {
        self.lattice = lattice
        cover = [Int](repeating: 0, count: lattice.offsets.count)
    }

    /// How many pairs of the points `run` (sorted by start) overlap: for each
    /// point, the later ones that start before it ends (binary search). O(m log m).
    static func overlappingPairs(_ starts: [Int32], _ ends: [Int32], _ run: Range<Int>) -> Int {
        starts.withUnsafeBufferPointer { starts in
            ends.withUnsafeBufferPointer { ends in
                var total = 0
                for k in run {
                    let end = ends[k]
                    var low = k + 1, high = run.upperBound
                    while low < high {
                        let mid = (low + high) / 2
                        if starts[mid] <= end { low = mid + 1 } else { high = mid }
                    }
                    total += low - k - 1
                }
                return total
            }
        }
    }

    /// Adds the dense run `run` of the sweep (points sorted by start, then number).
    mutating func add(_ starts: [Int32], _ ends: [Int32], _ points: [Int], _ run: Range<Int>) {
        let m = run.count, base = run.lowerBound, single = lattice.singleScenario
        var scenario = [Int32](repeating: 0, count: m)
        if !single { for k in 0..<m { scenario[k] = Int32(lattice.scenario(of: points[base + k])) } }
        // Pairs inside one environment repeat pairs found without one: not counted.
        var pairs = ChainGroups.overlappingPairs(starts, ends, run)
        if !single {
            var byScenario = [[Int]](repeating: [], count: lattice.offsets.count)
            for k in 0..<m where scenario[k] > 0 { byScenario[Int(scenario[k])].append(base + k) }
            for list in byScenario where list.count >= 2 {
                for (x, k) in list.enumerated() {
                    let end = ends[k]
                    var low = x + 1, high = list.count
                    while low < high {
                        let mid = (low + high) / 2
                        if starts[list[mid]] <= end { low = mid + 1 } else { high = mid }
                    }
                    pairs -= low - x - 1
                }
            }
        }
        guard pairs > 0 else { return }
        // nextOther[k]: the first later point of another scenario (m for none).
        var nextOther = [Int32](repeating: Int32(m), count: m)
        if !single && m >= 2 {
            for k in stride(from: m - 2, through: 0, by: -1) {
                nextOther[k] = scenario[k + 1] != scenario[k] ? Int32(k + 1) : nextOther[k + 1]
            }
        }
        // Which points overlap a point they are reported with. Every point of a
        // run overlaps another; one without environment is reported with any,
        // one with an environment only with a point of another scenario (the
        // latest-ending earlier point of another scenario, or the next later one).
        var takesPart = [Bool](repeating: true, count: m)
        if !single {
            var best = Int32.min, bestScenario: Int32 = -1, second = Int32.min
            for k in 0..<m {
                let s = scenario[k], start = starts[base + k], end = ends[base + k]
                if s != 0 {
                    let earlier = (bestScenario != s ? best : second) >= start
                    let l = Int(nextOther[k])
                    takesPart[k] = earlier || (l < m && starts[base + l] <= end)
                }
                if s == bestScenario {
                    best = max(best, end)
                } else if end > best {
                    (second, best, bestScenario) = (best, end, s)
                } else {
                    second = max(second, end)
                }
            }
        }
        // The run's scenario-slots, with instance counts and bounds.
        var position: [Int: Int] = [:]
        var keys: [Int] = [], counts: [Int] = [], firsts: [Int] = [], lasts: [Int] = []
        var participating = 0
        for k in 0..<m where takesPart[k] {
            participating += 1
            let point = points[base + k]
            let key = lattice.scenarioSlot(of: point), instance = lattice.member(of: point).instance
            if let at = position[key] {
                counts[at] += 1
                firsts[at] = min(firsts[at], instance)
                lasts[at] = max(lasts[at], instance)
            } else {
                position[key] = keys.count
                keys.append(key); counts.append(1); firsts.append(instance); lasts.append(instance)
            }
        }
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        let key = order.map { keys[$0] }
        let g: Int
        if let known = index[key] {
            g = known
            for (entry, at) in order.enumerated() {
                groups[g].instances[entry] += counts[at]
                groups[g].first[entry] = min(groups[g].first[entry], firsts[at])
                groups[g].last[entry] = max(groups[g].last[entry], lasts[at])
            }
        } else {
            g = groups.count
            index[key] = g
            groups.append(Group(key: key, instances: order.map { counts[$0] }, first: order.map { firsts[$0] },
                                last: order.map { lasts[$0] }))
        }
        groups[g].points += participating
        groups[g].pairs += pairs
        groups[g].runs += 1
        for range in hostPorts(starts, ends, run, scenario) {
            if let last = groups[g].ranges.last, last.upperBound + 1 >= range.lowerBound {
                groups[g].ranges[groups[g].ranges.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                groups[g].ranges.append(range)
            }
        }
        // The first reported pairs, in start order: O(m + examples).
        var wanted = AnalysisLimits.chainExamples - groups[g].examples.count
        var k = 0
        while wanted > 0 && k < m {
            let s = scenario[k], any = single || s == 0
            var l = any ? k + 1 : Int(nextOther[k])
            while wanted > 0 && l < m && starts[base + l] <= ends[base + k] {
                let (a, b) = (points[base + k], points[base + l])
                groups[g].examples.append((Int(starts[base + l]), Int(min(ends[base + k], ends[base + l])), min(a, b), max(a, b)))
                wanted -= 1
                l += 1
                if !any && l < m && scenario[l] == s { l = Int(nextOther[l]) }
            }
            k += 1
        }
    }

    /// The ports of `run` where two points it reports overlap: covered by two
    /// points without environment, or by points of two scenarios. A sweep over
    /// starts (sorted) and ends (sorted here).
    private mutating func hostPorts(_ starts: [Int32], _ ends: [Int32], _ run: Range<Int>,
                                    _ scenario: [Int32]) -> [ClosedRange<Int>] {
        let m = run.count, base = run.lowerBound
        var closing = (0..<m).map { (port: Int(ends[base + $0]) + 1, scenario: Int(scenario[$0])) }
        closing.sort { $0.port < $1.port }
        var ranges: [ClosedRange<Int>] = []
        var distinct = 0
        var a = 0, b = 0, current = 0
        var colliding = false
        while a < m || b < m {
            let port = min(a < m ? Int(starts[base + a]) : Int.max, b < m ? closing[b].port : Int.max)
            if colliding && port > current {
                if let last = ranges.last, last.upperBound + 1 == current {
                    ranges[ranges.count - 1] = last.lowerBound...(port - 1)
                } else {
                    ranges.append(current...(port - 1))
                }
            }
            while b < m && closing[b].port == port {
                cover[closing[b].scenario] -= 1
                if cover[closing[b].scenario] == 0 { distinct -= 1 }
                b += 1
            }
            while a < m && Int(starts[base + a]) == port {
                let s = Int(scenario[a])
                if cover[s] == 0 { distinct += 1 }
                cover[s] += 1
                a += 1
            }
            current = port
            colliding = cover[0] >= 2 || distinct >= 2
        }
        return ranges
    }

    /// One collision finding per group, its occurrences the example pairs in port order.
    func append(_ context: AnalysisContext, into parts: inout FindingParts) {
        let slots = lattice.slotCount
        for group in groups {
            var ports: [CollisionChain.Port] = []
            var representatives: [Int] = []
            for (entry, key) in group.key.enumerated() {
                let scenario = key / slots, slot = key % slots
                ports.append(CollisionChain.Port(service: lattice.slots[slot].service, port: lattice.slots[slot].port,
                                                 environment: lattice.scenarioEnvironment[scenario],
                                                 instances: group.instances[entry], firstInstance: group.first[entry],
                                                 lastInstance: group.last[entry]))
                representatives.append(scenario * lattice.perScenario + lattice.slots[slot].firstPoint + group.first[entry])
            }
            let examples = group.examples.sorted { ($0.first, $0.a, $0.b) < ($1.first, $1.a, $1.b) }.map {
                Occurrence(first: $0.first, last: $0.last, storage: .two(lattice.member(of: $0.a), lattice.member(of: $0.b)))
            }
            let chain = CollisionChain(ports: ports, points: group.points, pairs: group.pairs, runs: group.runs,
                                       hostPorts: group.ranges)
            let location = representatives.withUnsafeBufferPointer { context.collisionLocation($0) }
            parts.append(kind: .collision, severity: .error, location: location, occurrences: examples, chain: chain)
        }
    }
}


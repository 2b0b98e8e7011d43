import PortManagerCore

extension Analysis {
    /// Sorts the lattice by start port and sweeps it: runs of overlapping
    /// intervals are the only places collisions can be. A run whose intervals
    /// all share a port (always so for single ports) is one occurrence; other
    /// runs (chains of ranges) give one occurrence per overlapping pair, unless
    /// they have more than ``AnalysisLimits/listedPairsPerPoint`` pairs per
    /// point: those are summarised by ``ChainGroups`` (CollisionChains.swift).
    /// Occurrences are grouped by the set of (environment, service, port) they
    /// involve (``OccurrenceIndex``), so a pattern repeated over instances is
    /// one finding.
    ///
    /// Occurrences are turned into ``Occurrence`` values once, per finding.
    /// The sweep emits occurrences by non-decreasing first port, so each
    /// finding's occurrences come out in port order without a sort.
    ///
    /// One sweep per protocol (`PortProtocols` raw value): only slots published
    /// for it take part.
    static func collisions(_ lattice: Lattice, _ context: AnalysisContext, protocol proto: Int32,
                           into parts: inout FindingParts) {
        let sorted = lattice.sortedByStart(protocol: proto)
        let starts = sorted.start, ends = sorted.end, points = sorted.point
        let n = starts.count
        var index = OccurrenceIndex()
        let isTCP = proto == PortProtocols.tcp.rawValue
        /// Whether only tcp+udp ports are among `points[range]`: the UDP sweep
        /// leaves those to the TCP sweep, which has them too.
        func tcpOnly(_ points: [Int], _ range: Range<Int>) -> Bool {
            range.allSatisfy { lattice.slots[lattice.slot(of: points[$0])].protocols & PortProtocols.tcp.rawValue != 0 }
        }
        /// Records `points[range]`, sharing `first...last`, unless they repeat a
        /// collision found without environment or by the TCP sweep.
        func record(_ points: [Int], _ range: Range<Int>, first: Int, last: Int) {
            guard lattice.reportable(points, range), isTCP || !tcpOnly(points, range) else { return }
            index.add(points[range], first: first, last: last, key: lattice.scenarioSlot(of:))
        }
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
                    record(points, i..<j, first: maxStart, last: minEnd)
                } else if ChainGroups.overlappingPairs(starts, ends, i..<j) > AnalysisLimits.listedPairsPerPoint * (j - i) {
                    // Too dense to list pair by pair: summarised (CollisionChains.swift);
                    // like occurrences, a chain of tcp+udp ports only is the TCP sweep's.
                    if isTCP || !tcpOnly(points, i..<j) {
                        chains.add(starts, ends, points, i..<j)
                    }
                } else {
                    // A chain of ranges: every overlapping pair, by an active list.
                    active.removeAll(keepingCapacity: true)
                    for k in i..<j {
                        let point = points[k], start = Int(starts[k]), end = Int(ends[k])
                        active.removeAll { $0.end < start }
                        for other in active {
                            pair[0] = other.point
                            pair[1] = point
                            record(pair, 0..<2, first: start, last: min(end, other.end))
                        }
                        active.append((end, point))
                    }
                }
            }
            i = j
        }
        findings(of: index, lattice, context, into: &parts)
        chains.append(context, into: &parts)
    }

    /// One collision finding per group of `index`, its occurrences in the order found.
    private static func findings(of index: OccurrenceIndex, _ lattice: Lattice, _ context: AnalysisContext,
                                 into parts: inout FindingParts) {
        let (groupStart, byGroup) = index.entriesByGroup()
        let entries = index.entries
        // Members of occurrences of three or more points, all in one array that
        // their occurrences slice: no array per occurrence.
        var shared: [LatticeMember] = []
        shared.reserveCapacity(entries.reduce(0) { $0 + ($1.points.count > 2 ? $1.points.count : 0) })
        var sharedStart = [Int](repeating: -1, count: entries.count)
        for (o, entry) in entries.enumerated() where entry.points.count > 2 {
            sharedStart[o] = shared.count
            for point in index.points(of: entry) { shared.append(lattice.member(of: point)) }
        }
        index.points.withUnsafeBufferPointer { store in
            for group in 0..<index.groups.count {
                let first = groupStart[group], count = groupStart[group + 1] - first
                let occurrences = [Occurrence](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for k in 0..<count {
                        let o = byGroup[first + k], entry = entries[o]
                        let start = entry.points.lowerBound
                        let storage: Occurrence.Storage
                        switch entry.points.count {
                        case 2: storage = .two(lattice.member(of: store[start]), lattice.member(of: store[start + 1]))
                        default: storage = .many(shared[sharedStart[o]..<(sharedStart[o] + entry.points.count)])
                        }
                        (buffer.baseAddress! + k).initialize(to: Occurrence(first: entry.first, last: entry.last, storage: storage))
                    }
                    initialized = count
                }
                let points = UnsafeBufferPointer(rebasing: store[entries[byGroup[first]].points])
                parts.append(kind: .collision, severity: .error, location: context.collisionLocation(points),
                             occurrences: occurrences)
            }
        }
    }
}

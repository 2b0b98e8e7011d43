import PortManagerCore

/// The fixes of one analysis. They are chosen together, in finding order, so
/// that all of them can be applied at once (each avoids the ports the earlier
/// ones take). Finding collisions proves a registry conflict-free or not;
/// choosing fixes is extra work that only callers who read a suggestion pay
/// for, once, on first use. Thread-safe: an analysis is shared across threads
/// (its fixes are made under a ``Locked``; the rest is immutable).
final class FixTable: Sendable {
    private let context: AnalysisContext
    private let parts: [FindingPart]
    private let fixes = Locked<[Fix]?>(nil)

    /// The fixes of the findings `parts`, in that order.
    init(context: AnalysisContext, parts: [FindingPart]) {
        self.context = context
        self.parts = parts
    }

    func fix(at index: Int) -> Fix {
        fixes.withLock { table in
            if table == nil {
                var taken = AnalysisContext.FixState(occupancy: context.coverage, slotCount: context.lattice.slotCount)
                table = parts.map { part in
                    if let chain = part.chain { return context.fix(chain, taken: &taken) }
                    return context.fix(kind: part.kind, part.occurrences, taken: &taken)
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

extension AnalysisContext {
    /// What earlier fixes of one analysis took: the ports of moved slots, and
    /// their bases; plus caches and scratch space, so the search allocates
    /// nothing per finding.
    struct FixState {
        /// The lattice's coverage plus the ports of moves chosen so far.
        var occupancy: [Int32]
        /// The base each slot was moved to; 0 for none (bases are >= 1024).
        var moved: [Int]
        /// Per slot shape (increment, max_instances, width): the bases that
        /// fitted when first asked, in port order. Occupancy only grows, so a
        /// base that stops fitting never fits again and is dropped.
        var shapes: [Shape: Int] = [:]
        var candidates: [CandidateBases] = []
        /// Per slot: its shape's index in `candidates`, once it has one; else -1.
        var slotShape: [Int32]
        /// Per slot: 0 unknown, 1 its points are disjoint, 2 two of them overlap.
        var selfOverlap: [UInt8]
        /// Scratch for a finding's slots and a slot's starts.
        var slots: [Int] = []
        var starts: [Int] = []

        init(occupancy: [Int32], slotCount: Int) {
            self.occupancy = occupancy
            self.moved = [Int](repeating: 0, count: slotCount)
            self.selfOverlap = [UInt8](repeating: 0, count: slotCount)
            self.slotShape = [Int32](repeating: -1, count: slotCount)
        }
    }

    struct Shape: Hashable {
        let increment: Int, count: Int, width: Int
    }

    /// Chooses the finding's fix. Bases chosen for earlier findings are in
    /// `taken`, and this fix's are added, so the suggestions of one analysis
    /// can all be applied together.
    func fix(kind: FindingKind, _ occurrences: [Occurrence], taken: inout FixState) -> Fix {
        var fix = Fix()
        switch kind {
        case .collision:
            fix.moves = moveFix(occurrences, taken: &taken) ?? []
            fix.lowerMaxInstances = maxInstancesFix(occurrences)
        case .privileged, .ephemeral:
            let member = occurrences[0].storage[0], s = slot(member)
            if taken.moved[s] != 0 {
                fix.moves = [(s, taken.moved[s])]
            } else if kind == .ephemeral || member.environment == nil, let base = freeBase(s, state: &taken) {
                occupy(s, base: base, by: 1, &taken.occupancy)
                taken.moved[s] = base
                fix.moves = [(s, base)]
            }
        case .environment, .name:
            break
        }
        return fix
    }

    private func slot(_ member: LatticeMember) -> Int { firstSlot[member.service] + member.port }

    /// Moves every slot of the finding but the one defined first, latest first,
    /// each to a base verified free against the whole lattice, `taken`, and the
    /// moves before it; adds the chosen ports to `taken`. When the finding has
    /// two slots and the later cannot move, tries the earlier.
    func moveFix(_ occurrences: [Occurrence], taken: inout FixState) -> [(slot: Int, base: Int)]? {
        // Every occurrence of a collision finding has the same (scenario, slot)
        // points (that is how they are grouped), so the first tells them all.
        let members = occurrences[0].storage, count = members.count
        var slots = taken.slots
        taken.slots = []
        defer { taken.slots = slots }
        slots.removeAll(keepingCapacity: true)
        for index in 0..<count {
            let s = slot(members[index])
            // Two points of one slot (instances of one port across environments)
            // collide wherever the slot goes: no move fixes that.
            if slots.contains(s) { return nil }
            slots.append(s)
        }
        guard slots.count >= 2 else { return nil }
        // Latest defined first; stable, as the standard sort.
        if slots.count <= 16 {
            for i in 1..<slots.count {
                let s = slots[i]
                var j = i
                while j > 0 && lattice.slots[slots[j - 1]].position < lattice.slots[s].position {
                    slots[j] = slots[j - 1]
                    j -= 1
                }
                slots[j] = s
            }
        } else {
            slots.sort { lattice.slots[$0].position > lattice.slots[$1].position }
        }
        // The orders tried: every slot but the last (defined first); with two
        // slots, then the last alone.
        let orders = slots.count == 2 ? 2 : 1
        for order in 0..<orders {
            let range = order == 0 ? 0..<(slots.count - 1) : 1..<2
            // Tentative: undone below when some slot of this order finds no base.
            var moves: [(slot: Int, base: Int)] = []
            var fresh: [Int] = []
            for s in slots[range] {
                // A slot an earlier fix moved is already verified free: reuse its base.
                if taken.moved[s] != 0 {
                    moves.append((s, taken.moved[s]))
                    continue
                }
                guard let base = freeBase(s, state: &taken) else { break }
                occupy(s, base: base, by: 1, &taken.occupancy)
                taken.moved[s] = base
                fresh.append(s)
                moves.append((s, base))
            }
            if moves.count == range.count { return moves }
            for s in fresh {
                occupy(s, base: taken.moved[s], by: -1, &taken.occupancy)
                taken.moved[s] = 0
            }
        }
        return nil
    }

    /// With two points per occurrence, lowering one service's max_instances to
    /// below its smallest colliding instance removes every pair; the service
    /// that keeps the most instances wins.
    func maxInstancesFix(_ occurrences: [Occurrence]) -> (member: LatticeMember, limit: Int)? {
        guard occurrences.allSatisfy({ $0.storage.count == 2 }) else { return nil }
        let firstMembers = occurrences[0].storage
        var best: (member: LatticeMember, limit: Int)?
        for index in 0..<2 {
            let service = firstMembers[index].service
            // Each service once, in member order.
            if index == 1 && firstMembers[0].service == service { continue }
            var limit = Int.max
            for occurrence in occurrences {
                let members = occurrence.storage
                var highest = -1
                for m in 0..<2 where members[m].service == service { highest = max(highest, members[m].instance) }
                guard highest >= 0 else { limit = 0; break }
                limit = min(limit, highest)
            }
            if limit >= 1, limit > best?.1 ?? 0 {
                best = (firstMembers[index], limit)
            }
        }
        return best
    }

    /// Adds `delta` to the occupancy of every port (every scenario) of slot
    /// `s` if its base were `base`.
    private func occupy(_ s: Int, base: Int, by delta: Int32, _ occupancy: inout [Int32]) {
        let increment = lattice.slots[s].increment, width = lattice.slots[s].width, count = lattice.slots[s].maxInstances
        occupancy.withUnsafeMutableBufferPointer { occupied in
            for offset in lattice.offsets {
                for instance in 0..<count {
                    let start = instancePort(base: base, instance: instance, increment: increment, offset: offset) + Lattice.shift
                    for port in start..<(start + width) { occupied[port] += delta }
                }
            }
        }
    }

    /// Whether two points of slot `s` (any instances and scenarios) share a port.
    private func overlapsItself(_ s: Int, state: inout FixState) -> Bool {
        if state.selfOverlap[s] == 0 && lattice.offsets.count == 1 {
            // One scenario: instances overlap when the increment is narrower than the port.
            state.selfOverlap[s] = lattice.slots[s].maxInstances > 1 && lattice.slots[s].increment < lattice.slots[s].width ? 2 : 1
        }
        if state.selfOverlap[s] == 0 {
            var starts = state.starts
            state.starts = []
            starts.removeAll(keepingCapacity: true)
            let increment = lattice.slots[s].increment, count = lattice.slots[s].maxInstances
            for offset in lattice.offsets {
                for instance in 0..<count {
                    starts.append(instancePort(base: lattice.slots[s].base, instance: instance, increment: increment, offset: offset))
                }
            }
            starts.sort()
            let width = lattice.slots[s].width
            var overlap = false
            for index in starts.indices.dropFirst() where starts[index] - starts[index - 1] < width { overlap = true }
            state.selfOverlap[s] = overlap ? 2 : 1
            state.starts = starts
        }
        return state.selfOverlap[s] == 2
    }

    /// The nearest base port for slot `s` (round numbers first) whose every
    /// port, for every instance and scenario, is in 1024...65535, unoccupied in
    /// `state.occupancy` (the lattice's coverage plus earlier fixes) once the
    /// slot's own points leave, and outside the unreserved ephemeral range. Nil
    /// when the slot collides with itself (moving cannot help) or no base fits.
    ///
    /// The bases that fit a slot's shape are found once per shape, by one scan
    /// of the free ports; later calls only re-check those, so a dense lattice
    /// with many findings costs O(findings + ports), not their product.
    func freeBase(_ s: Int, state: inout FixState) -> Int? {
        if overlapsItself(s, state: &state) { return nil }
        let current = lattice.slots[s].base
        let increment = lattice.slots[s].increment, width = lattice.slots[s].width, count = lattice.slots[s].maxInstances
        let offsets = lattice.offsets
        let unsafe = unsafeEphemeral
        func fits(_ base: Int, _ occupied: UnsafeBufferPointer<Int32>) -> Bool {
            for offset in offsets {
                for instance in 0..<count {
                    let start = instancePort(base: base, instance: instance, increment: increment, offset: offset)
                    let end = start + width - 1
                    if start < 1024 || end > 65535 { return false }
                    for port in start...end {
                        if occupied[port + Lattice.shift] != 0 { return false }
                        if let unsafe, unsafe[port] != unsafe[port - 1] { return false }
                    }
                }
            }
            return true
        }
        var id = Int(state.slotShape[s])
        if id < 0 {
            let shape = Shape(increment: increment, count: count, width: width)
            if let known = state.shapes[shape] {
                id = known
            } else {
                // Sparse lattices: the nearest round free ports usually fit; try a
                // few (with the slot's own points gone) before scanning every free
                // port for this shape (with them: the scan's list never holds them).
                occupy(s, base: current, by: -1, &state.occupancy)
                let quick: Int? = state.occupancy.withUnsafeBufferPointer { occupied in
                    var low = 0, high = freePorts.count
                    while low < high {
                        let mid = (low + high) / 2
                        if freePorts[mid] < current { low = mid + 1 } else { high = mid }
                    }
                    var tried = 0
                    for index in low..<freePorts.count where freePorts[index] % 10 == 0 {
                        if fits(freePorts[index], occupied) { return freePorts[index] }
                        tried += 1
                        if tried == 32 { break }
                    }
                    return nil
                }
                occupy(s, base: current, by: 1, &state.occupancy)
                if let quick { return quick }
                id = state.candidates.count
                state.shapes[shape] = id
                state.candidates.append(CandidateBases(state.occupancy.withUnsafeBufferPointer { occupied in
                    freePorts.filter { fits($0, occupied) }
                }))
            }
            state.slotShape[s] = Int32(id)
        }
        // No base fitted the shape, or every one has been taken since.
        if state.candidates[id].isEmpty { return nil }
        var candidates = CandidateBases()
        swap(&candidates, &state.candidates[id])  // Edited in place below, without a copy.
        occupy(s, base: current, by: -1, &state.occupancy)
        let found = state.occupancy.withUnsafeBufferPointer { occupied in
            candidates.nearest(to: current) { fits($0, occupied) }
        }
        occupy(s, base: current, by: 1, &state.occupancy)
        swap(&candidates, &state.candidates[id])
        return found
    }

    /// A chain's fix: every port of it but the one defined first moved to a
    /// verified free base (as for other collisions); no max_instances change
    /// is offered, as the pairs are not listed to verify one.
    func fix(_ chain: CollisionChain, taken: inout FixState) -> Fix {
        let members = chain.ports.map {
            LatticeMember(service: $0.service, port: $0.port, instance: $0.firstInstance, environment: $0.environment)
        }
        var fix = Fix()
        fix.moves = moveFix([Occurrence(first: 0, last: 0, members: members)], taken: &taken) ?? []
        return fix
    }
}

/// The bases that fitted one slot shape when first asked, in port order, for
/// the search of the nearest that still fits: round bases (multiples of 10)
/// first, above the current base then below it, then the others in the same
/// order. A base found not to fit is dead (occupied by others since; it stays
/// so): negated where it is, and removed once half of its list is dead, so a
/// search passes over few dead bases and never over the other list's.
struct CandidateBases {
    /// One list of bases, sorted by absolute value; dead ones negated.
    private struct Bases {
        var bases: [Int]
        var dead = 0

        var isEmpty: Bool { bases.count == dead }

        /// The first live base that `fits`, from `current` upward, then
        /// downward from below it; every live base tried before it dies.
        mutating func nearest(to current: Int, _ fits: (Int) -> Bool) -> Int? {
            var dead = self.dead
            let found: Int? = bases.withUnsafeMutableBufferPointer { bases in
                var low = 0, high = bases.count
                while low < high {
                    let mid = (low + high) / 2
                    if abs(bases[mid]) < current { low = mid + 1 } else { high = mid }
                }
                func attempt(_ index: Int) -> Int? {
                    let base = bases[index]
                    guard base > 0 else { return nil }
                    if fits(base) { return base }
                    bases[index] = -base
                    dead += 1
                    return nil
                }
                for index in low..<bases.count { if let base = attempt(index) { return base } }
                for index in stride(from: low - 1, through: 0, by: -1) { if let base = attempt(index) { return base } }
                return nil
            }
            self.dead = dead
            if 2 * dead > bases.count {
                bases.removeAll { $0 < 0 }
                self.dead = 0
            }
            return found
        }
    }

    private var round: Bases, other: Bases

    /// The candidates `bases` (sorted, positive).
    init(_ bases: [Int] = []) {
        round = Bases(bases: bases.filter { $0 % 10 == 0 })
        other = Bases(bases: bases.filter { $0 % 10 != 0 })
    }

    /// Whether every candidate is dead.
    var isEmpty: Bool { round.isEmpty && other.isEmpty }

    /// The nearest live candidate that `fits` (round ones first); nil when none does.
    mutating func nearest(to current: Int, _ fits: (Int) -> Bool) -> Int? {
        round.nearest(to: current, fits) ?? other.nearest(to: current, fits)
    }
}

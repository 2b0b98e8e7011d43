/// What findings need to describe themselves and to suggest verified fixes:
/// the registry, the options, the lattice and its port coverage. Immutable.
final class AnalysisContext: Sendable {
    let registry: Registry
    let options: AnalysisOptions
    let lattice: Lattice
    /// How many lattice points cover each port, indexed by `port + Lattice.shift`.
    let coverage: [Int32]
    /// `unsafeEphemeral[p]`: how many ports in 1...p are in the ephemeral range
    /// and not reserved (a prefix sum over 0...65535); nil without a range.
    let unsafeEphemeral: [Int32]?
    /// Candidate base ports: 1024...65535, covered by no point, not unsafe.
    let freePorts: [Int]
    /// The slot number of each service's first port.
    let firstSlot: [Int]

    init(registry: Registry, options: AnalysisOptions, lattice: Lattice) {
        self.registry = registry
        self.options = options
        self.lattice = lattice
        let coverage = lattice.coverage()
        self.coverage = coverage
        var unsafe: [Int32]?
        if let range = options.ephemeralRange {
            var prefix = [Int32](repeating: 0, count: 65536)
            var running: Int32 = 0
            for port in 1...65535 {
                if range.contains(port) && !options.reservedPorts.contains(port) { running += 1 }
                prefix[port] = running
            }
            unsafe = prefix
        }
        self.unsafeEphemeral = unsafe
        var free: [Int] = []
        for port in 1024...65535 where coverage[port + Lattice.shift] == 0 {
            if let unsafe, unsafe[port] != unsafe[port - 1] { continue }
            free.append(port)
        }
        self.freePorts = free
        var first: [Int] = []
        var slot = 0
        for service in registry.services {
            first.append(slot)
            slot += service.ports.count
        }
        self.firstSlot = first
    }

    // MARK: Names

    func slotName(_ member: LatticeMember) -> String {
        let service = registry.services[member.service]
        var text = "\(service.name) port \(RegistryBuilder.quote(service.ports[member.port].name))"
        if let environment = member.environment {
            text += " in environment \(RegistryBuilder.quote(registry.environments[environment].name))"
        }
        return text
    }

    func environmentName(_ index: Int) -> String {
        let environment = registry.environments[index]
        let sign = environment.offset >= 0 ? "+" : ""
        return "environment \(RegistryBuilder.quote(environment.name)) (offset \(sign)\(environment.offset))"
    }

    func serviceName(_ member: LatticeMember) -> String {
        registry.services[member.service].name
    }

    // MARK: Locations

    /// A collision is located at the environment whose offset brings two
    /// scenarios together, else at the port defined last (the one that
    /// introduced the collision, as a compiler points at a redefinition).
    func collisionLocation(_ points: UnsafeBufferPointer<Int>) -> SourceLocation {
        // Points in order: their scenario-slots are sorted.
        var lastScenario = 0, mixed = false
        let firstScenario = lattice.scenario(of: points[0])
        for point in points {
            let scenario = lattice.scenario(of: point)
            if scenario != firstScenario { mixed = true }
            lastScenario = max(lastScenario, scenario)
        }
        if mixed, let environment = lattice.scenarioEnvironment[lastScenario] {
            return registry.environments[environment].location
        }
        var latest = lattice.slot(of: points[0])
        for point in points where lattice.position[lattice.slot(of: point)] > lattice.position[latest] {
            latest = lattice.slot(of: point)
        }
        return registry.services[lattice.service[latest]].ports[lattice.port[latest]].location
    }

    // MARK: Messages

    func message(for finding: Finding) -> String {
        switch finding.kind {
        case .collision:
            if let chain = finding.chain { return chainMessage(finding, chain) }
            return collisionMessage(finding)
        case .environment:
            let member = finding.occurrences[0].members[0]
            return "\(environmentName(member.environment!)) moves \(flaggedPoints(finding, withEnvironment: false)) to \(portsText(finding.occurrences)), outside 1..65535"
        case .privileged:
            return "\(flagSubject(finding)) \(portsText(finding.occurrences)), below 1024: binding needs root or CAP_NET_BIND_SERVICE"
        case .ephemeral:
            let range = options.ephemeralRange.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "?"
            return "\(flagSubject(finding)) \(portsText(finding.occurrences)), inside the ephemeral range \(range), where the kernel may give them to outgoing connections"
        }
    }

    /// "traefik port 'web_port' instances 0-2 use host ports" or, under an
    /// environment, "environment 'ci' (offset +20000) moves ... to host ports".
    private func flagSubject(_ finding: Finding) -> String {
        let member = finding.occurrences[0].members[0]
        if let environment = member.environment {
            return "\(environmentName(environment)) moves \(flaggedPoints(finding, withEnvironment: false)) to"
        }
        return "\(flaggedPoints(finding, withEnvironment: false)) \(finding.occurrences.count == 1 ? "uses" : "use")"
    }

    private func flaggedPoints(_ finding: Finding, withEnvironment: Bool) -> String {
        let member = finding.occurrences[0].members[0]
        let service = registry.services[member.service]
        let name = "\(service.name) port \(RegistryBuilder.quote(service.ports[member.port].name))"
        return "\(name) \(instancesText(finding.occurrences.map { $0.members[0].instance }))"
    }

    private func collisionMessage(_ finding: Finding) -> String {
        // Slots in member order; regular when every occurrence has one member of each.
        var slots: [LatticeMember] = []
        func key(_ m: LatticeMember) -> LatticeMember {
            LatticeMember(service: m.service, port: m.port, instance: 0, environment: m.environment)
        }
        for member in finding.occurrences[0].members where !slots.contains(key(member)) { slots.append(key(member)) }
        let regular = finding.occurrences.allSatisfy { occurrence in
            occurrence.members.count == slots.count && occurrence.members.map(key) == slots
        }
        let ports = portsText(finding.occurrences)
        if regular {
            let parts = slots.enumerated().map { index, slot in
                "\(slotName(slot)) \(instancesText(finding.occurrences.map { $0.members[index].instance }))"
            }
            let order = finding.occurrences.count > 1 ? ", in that order" : ""
            return "\(listText(parts)) share \(ports)\(order)"
        }
        let limit = 8
        var parts = finding.occurrences.prefix(limit).map { occurrence in
            "\(portText(occurrence)) by " + listText(occurrence.members.map { "\(slotName($0)) instance \($0.instance)" })
        }
        if finding.occurrences.count > limit { parts.append("\(finding.occurrences.count - limit) more") }
        return "host ports are shared: " + parts.joined(separator: "; ")
    }

    func instancesText(_ instances: [Int]) -> String {
        if instances.count == 1 { return "instance \(instances[0])" }
        if instances.count > 2, zip(instances, instances.dropFirst()).allSatisfy({ $1 == $0 + 1 }) {
            return "instances \(instances.first!)-\(instances.last!)"
        }
        return "instances " + truncatedList(instances.map(String.init))
    }

    func portText(_ occurrence: Occurrence) -> String {
        occurrence.first == occurrence.last ? "\(occurrence.first)" : "\(occurrence.first)-\(occurrence.last)"
    }

    func portsText(_ occurrences: [Occurrence]) -> String {
        let single = occurrences.count == 1 && occurrences[0].first == occurrences[0].last
        return (single ? "host port " : "host ports ") + truncatedList(occurrences.map(portText))
    }

    func truncatedList(_ items: [String], limit: Int = 12) -> String {
        items.count <= limit ? items.joined(separator: ", ")
            : items.prefix(limit).joined(separator: ", ") + ", ... (\(items.count - limit) more)"
    }

    func listText(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    // MARK: Suggestions

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
        var candidates: [[Int]] = []
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
        case .environment:
            break
        }
        return fix
    }

    func suggestion(for finding: Finding) -> String? {
        switch finding.kind {
        case .collision:
            return collisionSuggestion(finding)
        case .environment:
            guard let (low, high) = allowedOffsets() else { return nil }
            return "use an offset between \(low) and \(high), which keeps every port of every instance inside 1..65535"
        case .privileged:
            var text = "run with CAP_NET_BIND_SERVICE (or lower net.ipv4.ip_unprivileged_port_start)"
            if let move = finding.fix.moves.first {
                text += ", or move its base to \(move.base), free for every instance and environment"
            }
            return text
        case .ephemeral:
            let ports = PortSet(options.reservedPorts.ranges + finding.occurrences.map { $0.first...$0.last })
            var text = "reserve them with sysctl -w net.ipv4.ip_local_reserved_ports=\(ports)"
            if let move = finding.fix.moves.first {
                text += ", or move the base of \(slotName(move.slot)) to \(move.base), free and outside the range in every environment"
            }
            return text
        }
    }

    private func slot(_ member: LatticeMember) -> Int { firstSlot[member.service] + member.port }

    /// `kafka port 'broker_port'`.
    func slotName(_ s: Int) -> String {
        let service = registry.services[lattice.service[s]]
        return "\(service.name) port \(RegistryBuilder.quote(service.ports[lattice.port[s]].name))"
    }

    private func collisionSuggestion(_ finding: Finding) -> String? {
        var options: [String] = []
        if !finding.fix.moves.isEmpty {
            options.append(listText(finding.fix.moves.map { "move the base of \(slotName($0.slot)) to \($0.base)" })
                           + " (verified free for every instance and environment)")
        }
        if let (member, limit) = finding.fix.lowerMaxInstances {
            options.append("lower max_instances of \(serviceName(member)) to \(limit)")
        }
        if options.isEmpty && finding.chain != nil {
            return "no base port move fixes this chain; space the ports so that no two ranges overlap (larger instance_increment, bases further apart)"
        }
        if options.isEmpty {
            return "no single base port or max_instances change fixes this; change an instance_increment or an environment offset"
        }
        return options.joined(separator: ", or ")
    }

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
                while j > 0 && lattice.position[slots[j - 1]] < lattice.position[s] {
                    slots[j] = slots[j - 1]
                    j -= 1
                }
                slots[j] = s
            }
        } else {
            slots.sort { lattice.position[$0] > lattice.position[$1] }
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
        let increment = lattice.increment[s], width = lattice.width[s], count = lattice.maxInstances[s]
        occupancy.withUnsafeMutableBufferPointer { occupied in
            for offset in lattice.offsets {
                for instance in 0..<count {
                    let start = base + instance * increment + offset + Lattice.shift
                    for port in start..<(start + width) { occupied[port] += delta }
                }
            }
        }
    }

    /// Whether two points of slot `s` (any instances and scenarios) share a port.
    private func overlapsItself(_ s: Int, state: inout FixState) -> Bool {
        if state.selfOverlap[s] == 0 && lattice.offsets.count == 1 {
            // One scenario: instances overlap when the increment is narrower than the port.
            state.selfOverlap[s] = lattice.maxInstances[s] > 1 && lattice.increment[s] < lattice.width[s] ? 2 : 1
        }
        if state.selfOverlap[s] == 0 {
            var starts = state.starts
            state.starts = []
            starts.removeAll(keepingCapacity: true)
            let increment = lattice.increment[s], count = lattice.maxInstances[s]
            for offset in lattice.offsets {
                for instance in 0..<count { starts.append(lattice.base[s] + instance * increment + offset) }
            }
            starts.sort()
            let width = lattice.width[s]
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
        let current = lattice.base[s]
        let increment = lattice.increment[s], width = lattice.width[s], count = lattice.maxInstances[s]
        let offsets = lattice.offsets
        let unsafe = unsafeEphemeral
        func fits(_ base: Int, _ occupied: UnsafeBufferPointer<Int32>) -> Bool {
            for offset in offsets {
                for instance in 0..<count {
                    let start = base + instance * increment + offset
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
                state.candidates.append(state.occupancy.withUnsafeBufferPointer { occupied in
                    freePorts.filter { fits($0, occupied) }
                })
            }
            state.slotShape[s] = Int32(id)
        }
        // No base fitted the shape, or every one has been taken since.
        if state.candidates[id].isEmpty { return nil }
        var list: [Int] = []
        swap(&list, &state.candidates[id])  // Edited in place below, without a copy.
        occupy(s, base: current, by: -1, &state.occupancy)
        // Dead bases (occupied by others since: they stay so) are negated, then compacted.
        var dead = 0
        let found: Int? = state.occupancy.withUnsafeBufferPointer { occupied -> Int? in
            list.withUnsafeMutableBufferPointer { list -> Int? in
                var low = 0, high = list.count
                while low < high {
                    let mid = (low + high) / 2
                    if abs(list[mid]) < current { low = mid + 1 } else { high = mid }
                }
                func attempt(_ index: Int, roundOnly: Bool) -> Int? {
                    let base = list[index]
                    guard base > 0, !roundOnly || base % 10 == 0 else { return nil }
                    if fits(base, occupied) { return base }
                    list[index] = -base
                    dead += 1
                    return nil
                }
                for pass in 0..<2 {
                    let roundOnly = pass == 0
                    for index in low..<list.count { if let base = attempt(index, roundOnly: roundOnly) { return base } }
                    for index in stride(from: low - 1, through: 0, by: -1) {
                        if let base = attempt(index, roundOnly: roundOnly) { return base }
                    }
                }
                return nil
            }
        }
        occupy(s, base: current, by: 1, &state.occupancy)
        if dead > 0 { list.removeAll { $0 < 0 } }
        swap(&list, &state.candidates[id])
        return found
    }

    /// The offsets that keep the whole instance-0-based lattice in 1...65535.
    func allowedOffsets() -> (Int, Int)? {
        var lowest = Int.max, highest = Int.min
        for s in 0..<lattice.slotCount {
            lowest = min(lowest, lattice.base[s])
            highest = max(highest, lattice.base[s] + (lattice.maxInstances[s] - 1) * lattice.increment[s] + lattice.width[s] - 1)
        }
        guard lowest <= highest else { return nil }
        return (1 - lowest, 65535 - highest)
    }
}

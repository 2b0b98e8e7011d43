import PortManagerCore

/// Every point of a registry's lattice, numbered. A slot is one named port
/// (or range) of one service, the unit a fix moves; a scenario is no
/// environment (0) or one distinct environment offset (k >= 1). Point numbers
/// are `scenario * perScenario + slots[slot].firstPoint + instance`.
struct Lattice: Sendable {
    /// One named port (or range) of one service, with what places its points.
    struct Slot: Sendable {
        /// Index of the service in ``Registry/services``.
        let service: Int
        /// Index of the port in ``ServiceDefinition/ports``.
        let port: Int
        /// The instance-0 base port, the range's width, the service's increment and instance count.
        let base: Int, width: Int, increment: Int, maxInstances: Int
        /// The protocols the port is published for (`PortProtocols` raw value).
        let protocols: Int32
        /// Where the port is defined, as one comparable number: line << 32 | column.
        let position: Int
        /// The local number of its instance 0 (its points in one scenario are
        /// `firstPoint..<firstPoint + maxInstances`).
        let firstPoint: Int
    }

    /// Every slot, services in registry order, each service's ports in order.
    let slots: [Slot]
    /// The slot of each local point (a point number within one scenario).
    let slotOfLocal: [Int32]
    /// Scenario offsets: 0, then each distinct offset of the environments.
    let offsets: [Int]
    /// The environment each scenario stands for; nil for none.
    let scenarioEnvironment: [Int?]
    /// How many points one scenario has.
    let perScenario: Int

    var slotCount: Int { slots.count }
    var pointCount: Int { perScenario * offsets.count }

    /// Ports plus this are in 0..<2 * shift (ports may reach -65534...131070).
    static let shift = 131_072

    init(_ registry: Registry) throws {
        var slots: [Slot] = []
        var total = 0
        // Checked before anything is allocated for the points.
        try AnalysisLimits.checkLatticeSize(registry)
        for (s, service) in registry.services.enumerated() {
            guard service.maxInstances >= 1, service.increment >= 0 else {
                throw PortManagerError.invalidArgument(
                    "service \(RegistryBuilder.quote(service.name)) has max_instances \(service.maxInstances) and instance_increment \(service.increment); the analysis needs max_instances >= 1 and a non-negative increment")
            }
            for (p, port) in service.ports.enumerated() {
                let (span, overflow) = (service.maxInstances - 1).multipliedReportingOverflow(by: service.increment)
                guard port.base >= 1, port.count >= 1, !overflow, port.baseLast <= 65535,
                      port.baseLast + span <= 65535 else {
                    throw PortManagerError.invalidArgument(
                        "port \(RegistryBuilder.quote(port.name)) of service \(RegistryBuilder.quote(service.name)) leaves 1..65535 within its \(service.maxInstances) instances; the analysis needs a valid registry")
                }
                slots.append(Slot(service: s, port: p, base: port.base, width: port.count, increment: service.increment,
                                  maxInstances: service.maxInstances, protocols: port.protocols.rawValue,
                                  position: port.location.line << 32 | port.location.column, firstPoint: total))
                total += service.maxInstances
            }
        }
        for environment in registry.environments where !(-65535...65535).contains(environment.offset) {
            throw PortManagerError.invalidArgument(
                "environment \(RegistryBuilder.quote(environment.name)) has offset \(environment.offset), outside -65535..65535")
        }
        var slotOfLocal = [Int32](repeating: 0, count: total)
        for (index, slot) in slots.enumerated() {
            for local in slot.firstPoint..<(slot.firstPoint + slot.maxInstances) { slotOfLocal[local] = Int32(index) }
        }
        self.slots = slots
        self.slotOfLocal = slotOfLocal
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
        for slot in slots where slot.protocols & proto != 0 { n += slot.maxInstances }
        n *= offsets.count
        var count = [Int](repeating: 0, count: 2 * Lattice.shift + 1)
        var start = [Int32](repeating: 0, count: n), end = [Int32](repeating: 0, count: n), point = [Int](repeating: 0, count: n)
        count.withUnsafeMutableBufferPointer { next in
            for scenario in 0..<offsets.count {
                let offset = offsets[scenario] + Lattice.shift
                for slot in slots where slot.protocols & proto != 0 {
                    let b = slot.base + offset, inc = slot.increment
                    for instance in 0..<slot.maxInstances { next[b + instance * inc + 1] += 1 }
                }
            }
            for index in 1..<next.count { next[index] += next[index - 1] }
            start.withUnsafeMutableBufferPointer { start in
            end.withUnsafeMutableBufferPointer { end in
            point.withUnsafeMutableBufferPointer { point in
                var index = 0
                for scenario in 0..<offsets.count {
                    let offset = offsets[scenario] + Lattice.shift
                    for slot in slots {
                        guard slot.protocols & proto != 0 else {
                            index += slot.maxInstances
                            continue
                        }
                        let b = slot.base + offset, inc = slot.increment, w = slot.width - 1
                        for instance in 0..<slot.maxInstances {
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
    /// A number naming (scenario, slot), for grouping.
    @inline(__always) func scenarioSlot(of point: Int) -> Int { scenario(of: point) * slotCount + slot(of: point) }

    func member(of point: Int) -> LatticeMember {
        let scenario = self.scenario(of: point), local = point - scenario * perScenario
        let slot = slots[Int(slotOfLocal[local])]
        return LatticeMember(service: slot.service, port: slot.port, instance: local - slot.firstPoint,
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
                for slot in slots {
                    let b = slot.base + offset, inc = slot.increment, w = slot.width
                    for instance in 0..<slot.maxInstances {
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

import PortManagerCore

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
        for point in points where lattice.slots[lattice.slot(of: point)].position > lattice.slots[latest].position {
            latest = lattice.slot(of: point)
        }
        return registry.services[lattice.slots[latest].service].ports[lattice.slots[latest].port].location
    }
}

import PortManagerCore

/// The documented bounds of the whole-lattice analysis (docs/analysis.md,
/// "Limits"). Memory grows with the lattice points and the findings; these
/// keep both below about 1 GB.
enum AnalysisLimits {
    /// The most lattice points (every port of every instance of every service,
    /// in every distinct environment) one analysis accepts; past it,
    /// ``PortManagerError/tooLarge(_:)`` before anything is allocated for them.
    static let maximumLatticePoints = 10_000_000

    /// A run of overlapping ranges (a connected set of lattice points that do
    /// not all share one port) is listed pair by pair while it has at most this
    /// many overlapping pairs per point; denser runs are summarised as a chain
    /// (``CollisionChain``). So listed pairs never exceed this times the points.
    static let listedPairsPerPoint = 4

    /// How many example pairs a chain finding lists.
    static let chainExamples = 8

    /// Throws ``PortManagerError/tooLarge(_:)`` when `registry`'s lattice has
    /// more than ``maximumLatticePoints`` points, naming the service with the
    /// most. Counts without overflow; numbers the analysis refuses for other
    /// reasons (max_instances < 1) count as 0 here and are refused later.
    static func checkLatticeSize(_ registry: Registry) throws {
        var offsets: Set<Int> = [0]
        for environment in registry.environments { offsets.insert(environment.offset) }
        let scenarios = offsets.count
        var perScenario = 0
        var largest: (name: String, points: Int)?
        for service in registry.services {
            let (points, overflow) = max(service.maxInstances, 0).multipliedReportingOverflow(by: service.ports.count)
            let own = overflow ? Int.max : points
            if own > largest?.points ?? 0 { largest = (service.name, own) }
            perScenario = own > Int.max - perScenario ? Int.max : perScenario + own
        }
        let (total, overflow) = perScenario.multipliedReportingOverflow(by: scenarios)
        guard overflow || total > maximumLatticePoints else { return }
        var message = "the registry's lattice has "
            + (overflow ? "more than \(Int.max)" : "\(total)")
            + " points (ports x instances x \(scenarios) environment offset\(scenarios == 1 ? "" : "s")), more than the analysis limit of \(maximumLatticePoints)"
        if let largest {
            message += "; the largest service is \(RegistryBuilder.quote(largest.name)) with \(largest.points) (lower its max_instances)"
        }
        throw PortManagerError.tooLarge(message)
    }
}

extension Analysis {
    /// The most lattice points one analysis accepts (10,000,000); a larger
    /// registry throws ``PortManagerError/tooLarge(_:)`` (C: `PM_ERR_TOO_LARGE`).
    public static let maximumLatticePoints = AnalysisLimits.maximumLatticePoints
}

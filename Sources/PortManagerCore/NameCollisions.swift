/// Two instances that get the same container name or the same volume name,
/// across services, instances and environments (``Naming``): `web` instance 1
/// and `web_1` instance 0 are both `web-1`. Docker refuses the second
/// container, and two instances sharing a volume share their data, so
/// `portmanager check` reports each as an error (the analysis's `name`
/// findings). Pure: no I/O.
public struct NameCollision: Sendable, Hashable {
    /// Which namespace the name is in: containers, volumes and compose
    /// projects (`compose --project`) are separate.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case container
        case volume
        case project

        /// The stem of `service`'s names of this kind.
        public func stem(_ service: ServiceDefinition) -> String {
            switch self {
            case .container: return service.containerStem
            case .volume: return service.volumeStem
            case .project: return ServiceInstance.projectStem(service.name)
            }
        }

        /// How an environment's name appears in names of this kind.
        func environment(_ name: String) -> String {
            self == .project ? ServiceInstance.projectStem(name) : name
        }
    }

    /// One instance in one environment.
    public struct Member: Sendable, Hashable, Comparable {
        /// Index of the service in ``Registry/services``.
        public let service: Int
        /// The instance ID.
        public let instance: Int
        /// Index of the environment in ``Registry/environments``; nil for none.
        public let environment: Int?

        public init(service: Int, instance: Int, environment: Int?) {
            self.service = service
            self.instance = instance
            self.environment = environment
        }

        /// Ordered by service, environment (none first), instance.
        public static func < (a: Member, b: Member) -> Bool {
            (a.service, a.environment ?? -1, a.instance) < (b.service, b.environment ?? -1, b.instance)
        }
    }

    /// Container or volume.
    public let kind: Kind
    /// The name both get.
    public let name: String
    /// The instance that had the name first, in ``Member`` order.
    public let first: Member
    /// The later one.
    public let second: Member

    /// Every collision of `registry`, ordered by kind, then by the later member.
    ///
    /// Names are `STEM[-ENV][-N]`, so two names of different stems can only be
    /// equal when one stem is the other followed by `-` and more. Only the
    /// services whose stems are so related, or equal, or every service when
    /// the environment and instance suffixes alone coincide (an environment
    /// named `1`, or `a` beside `a-1`), have their names listed and compared:
    /// a registry of unrelated stems costs one pass over the stems.
    public static func find(in registry: Registry) -> [NameCollision] {
        var result: [NameCollision] = []
        for kind in Kind.allCases {
            let stems = registry.services.map(kind.stem)
            let candidates = suffixesCoincide(registry, kind) ? Array(stems.indices) : related(stems)
            var holder: [String: Member] = [:]
            for s in candidates {
                let definition = registry.services[s]
                for environment in [nil] + registry.environments.indices.map(Optional.some) {
                    let environmentName = environment.map { kind.environment(registry.environments[$0].name) }
                    for instance in 0..<definition.maxInstances {
                        let name = Naming.instanceName(stems[s], environment: environmentName, instance: instance)
                        let member = Member(service: s, instance: instance, environment: environment)
                        if let first = holder[name] {
                            result.append(NameCollision(kind: kind, name: name, first: first, second: member))
                        } else {
                            holder[name] = member
                        }
                    }
                }
            }
        }
        return result
    }

    /// The indices of the stems that equal another, or that another begins
    /// with followed by `-` (either of the two), in order.
    static func related(_ stems: [String]) -> [Int] {
        var byStem: [String: [Int]] = [:]
        for (index, stem) in stems.enumerated() { byStem[stem, default: []].append(index) }
        var marked = Set<Int>()
        for (stem, indices) in byStem {
            if indices.count > 1 { marked.formUnion(indices) }
            // Each proper prefix of the stem that ends right before a '-'.
            let bytes = Array(stem.utf8)
            for cut in bytes.indices where cut > 0 && bytes[cut] == UInt8(ascii: "-") {
                let prefix = String(decoding: bytes[..<cut], as: UTF8.self)
                if let shorter = byStem[prefix] {
                    marked.formUnion(shorter)
                    marked.formUnion(indices)
                }
            }
        }
        return marked.sorted()
    }

    /// True when two (environment, instance) pairs give the same suffix
    /// (`-ENV-N`), so one service's own names could coincide.
    static func suffixesCoincide(_ registry: Registry, _ kind: Kind) -> Bool {
        let instances = registry.services.map(\.maxInstances).max() ?? 0
        var seen = Set<String>()
        for environment in [nil] + registry.environments.map({ Optional.some(kind.environment($0.name)) }) {
            for instance in 0..<instances {
                if !seen.insert(Naming.instanceName("", environment: environment, instance: instance)).inserted {
                    return true
                }
            }
        }
        return false
    }
}

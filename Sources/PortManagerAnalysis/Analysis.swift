import PortManagerCore

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

    /// Creates an occurrence (the analysis makes them; a program only reads them).
    init(first: Int, last: Int, members: [LatticeMember]) {
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
    /// Instances that get the same container or volume name (error; ``NameCollision``).
    case name
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
    /// For a `name` finding, its collisions: one kind of name, one pair of
    /// (service, environment)s, each pair of instances (in order). Empty otherwise.
    public let names: [NameCollision]
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
            let service = context.registry.services[context.lattice.slots[move.slot].service]
            return (service.name, service.ports[context.lattice.slots[move.slot].port].name, move.base)
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
        if lattice.slots.contains(where: { $0.protocols & PortProtocols.udp.rawValue != 0 }) {
            Analysis.collisions(lattice, context, protocol: PortProtocols.udp.rawValue, into: &parts)
        }
        Analysis.flags(lattice, context, into: &parts)
        Analysis.names(registry, into: &parts)
        // Sorted through an index (stable, as a sort of the findings themselves
        // would be); each finding is then built once, in order, with its fix.
        let keys = parts.all.map(\.key)
        var order = Array(parts.all.indices)
        keys.withUnsafeBufferPointer { keys in
            order.sort { keys[$0] < keys[$1] }
        }
        let ordered = order.map { parts.all[$0] }
        parts.all = []
        let fixes = FixTable(context: context, parts: ordered)
        var findings: [Finding] = []
        findings.reserveCapacity(ordered.count)
        for (position, part) in ordered.enumerated() {
            findings.append(Finding(kind: part.kind, severity: part.severity, location: part.location,
                                    occurrences: part.occurrences, chain: part.chain, names: part.names,
                                    context: context,
                                    index: position, fixes: fixes))
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
}

/// A finding as the sweeps and the flag pass find it, before the findings
/// are ordered and get their fixes.
struct FindingPart {
    let kind: FindingKind, severity: Severity, location: SourceLocation
    let occurrences: [Occurrence]
    /// The summary when the finding is a dense chain; nil for the others.
    let chain: CollisionChain?
    /// The collisions of a `name` finding; empty for the others.
    var names: [NameCollision] = []

    /// Its place in the order of findings.
    var key: SortKey {
        SortKey(line: location.line, column: location.column, rank: (2 - severity.order) << 8 | kind.order,
                port: occurrences.first?.first ?? 0)
    }
}

/// The findings found so far, in the order found.
struct FindingParts {
    var all: [FindingPart] = []

    mutating func append(kind: FindingKind, severity: Severity, location: SourceLocation, occurrences: [Occurrence],
                         chain: CollisionChain? = nil, names: [NameCollision] = []) {
        all.append(FindingPart(kind: kind, severity: severity, location: location, occurrences: occurrences, chain: chain,
                               names: names))
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
        case .name: return 4
        }
    }
}

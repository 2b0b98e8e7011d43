import PortManagerCore

/// How the store learns whether the container of a container owner
/// (``Reservation/Owner/container(_:)``) still exists: the hook through which
/// the Docker engine reaps container reservations.
///
/// A container reservation is reaped only when the lookup answers `false`
/// (the engine said 404: no container of that name, running or stopped). `nil`
/// (the engine cannot be reached, or nobody asked it) never reaps: the
/// reservation counts as held. ``unknown`` answers `nil` for every name, so
/// nothing is reaped; it is what ``standard`` is until the Docker engine is wired in.
///
/// The lookup is called inside the store's write transaction, at most once per
/// name per call, for the rows a call judges (those in the way of a take, every
/// row when the store is reaped whole, every row a listing shows): it should
/// answer quickly (one request to the engine listing every container, kept for
/// the call, rather than one per name).
public struct ContainerLookup: Sendable {
    private let answer: (@Sendable (String) -> Bool?)?

    /// A lookup: `exists(name)` is true when a container of that name exists,
    /// false when the engine says none does, nil when it cannot tell.
    public init(_ exists: @escaping @Sendable (String) -> Bool?) { answer = exists }

    private init() { answer = nil }

    /// Never tells: no container reservation is reaped.
    public static let unknown = ContainerLookup()

    /// What every reservation call uses unless given another: ``unknown`` until
    /// the Docker engine client answers here.
    public static var standard: ContainerLookup { .unknown }

    /// Whether this lookup can ever answer (``unknown`` cannot: the store then
    /// skips container rows when reaping).
    var answers: Bool { answer != nil }

    /// Whether a container named `name` exists; nil when that cannot be told.
    public func exists(_ name: String) -> Bool? { answer?(name) }
}

/// Whether owners have ended, for one call of the store: process owners by
/// ``ProcessIdentity/Probe``, container owners by a ``ContainerLookup`` asked
/// at most once per name.
struct OwnerProbe {
    private var processes: ProcessIdentity.Probe
    let containers: ContainerLookup
    private var seen: [[UInt8]: Bool?] = [:]

    init(processes: ProcessIdentity.Probe, containers: ContainerLookup) {
        self.processes = processes
        self.containers = containers
    }

    /// ``ProcessIdentity/Probe/liveness(of:)``.
    mutating func liveness(of process: ProcessIdentity) -> ProcessIdentity.Liveness {
        processes.liveness(of: process)
    }

    /// Whether the container owner named by `name` (its bytes, as stored) has
    /// ended: the lookup says no such container exists. Never when it cannot tell.
    mutating func containerGone(_ name: [UInt8]) -> Bool {
        guard containers.answers else { return false }
        if let known = seen[name] { return known == false }
        let answer = containers.exists(PathText.text(name))
        seen[name] = .some(answer)
        return answer == false
    }
}

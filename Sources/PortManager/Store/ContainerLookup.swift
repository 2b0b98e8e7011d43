#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// How the store learns which containers exist: the hook through which the
/// Docker engine reaps container reservations (``Reservation/Owner/container(_:)``),
/// refuses or adopts instances whose container runs without a reservation,
/// and through which `status` and `reconcile` see the containers.
///
/// ``standard`` asks the Docker engine (``DockerEngine/fromEnvironment()``)
/// for its whole container list (`GET /containers/json?all=1`) at most once:
/// the first question asks, later ones read that answer. Every reservation
/// call evaluates ``standard`` anew (its default argument), so each call
/// (store operation) asks once, when it first needs to, and never reads an
/// older call's answer.
///
/// A container reservation is reaped only when the lookup answers `false`
/// (the engine answered, and no container of that name is in its list,
/// running or stopped) and the reservation has passed its start grace
/// (``startGraceSeconds``). `nil` (the engine cannot be reached, answered
/// with an error, or nobody asked it) never reaps: the reservation counts as
/// held. ``unknown`` answers `nil` for every name.
///
/// The store calls it inside its transaction for the rows a call judges
/// (those in the way of a take, every row when the store is reaped whole,
/// every row a listing shows); `reserve`, `status` and `reconcile` ask before
/// they open the store (``prefetch()``), so no request is made while the
/// store's lock is held.
public struct ContainerLookup: Sendable {
    private enum Source: Sendable {
        case none
        case names(@Sendable (String) -> Bool?)
        case listing(ContainerListing)
    }

    private let source: Source
    /// How long a container reservation whose container the engine has never
    /// listed is kept, in seconds from when it was made (``startGraceSeconds``
    /// unless the lookup was made with another).
    let grace: Int64

    /// A lookup: `exists(name)` is true when a container of that name exists,
    /// false when the engine says none does, nil when it cannot tell. It knows
    /// no labels or ports: it reaps, but neither adopts nor names containers.
    /// `startGrace`: seconds a reservation whose container was never seen is
    /// kept (``startGraceSeconds``).
    public init(startGrace: Int64 = ContainerLookup.startGraceSeconds, _ exists: @escaping @Sendable (String) -> Bool?) {
        source = .names(exists)
        grace = startGrace
    }

    /// A lookup that reads the container list `list` gives (asked once, at the
    /// first question); a thrown ``DockerError`` makes every answer unknown.
    public init(startGrace: Int64 = ContainerLookup.startGraceSeconds,
                listing list: @escaping @Sendable () throws(DockerError) -> [DockerContainer]) {
        source = .listing(ContainerListing(list))
        grace = startGrace
    }

    private init() {
        source = .none
        grace = Self.startGraceSeconds
    }

    /// Never tells: no container reservation is reaped, nothing is adopted.
    public static let unknown = ContainerLookup()

    /// The lookup of `engine`: one `GET /containers/json?all=1`, at the first question.
    public static func engine(_ engine: DockerEngine, startGrace: Int64 = ContainerLookup.startGraceSeconds) -> ContainerLookup {
        ContainerLookup(startGrace: startGrace, listing: { () throws(DockerError) in try engine.containers() })
    }

    /// What every reservation call uses unless given another: the engine
    /// `$DOCKER_HOST` names, else `/var/run/docker.sock` (``engine(_:startGrace:)``),
    /// asked once per call. (Another inside ``substituted(by:_:)``.)
    public static var standard: ContainerLookup {
        if let make = Substitute.lookups.read()[Substitute.me] { return make() }
        return .engine(.fromEnvironment())
    }

    /// How long a container reservation is kept while the engine does not
    /// list its container and never has: 300 s from when it was made. A
    /// reservation owned by its container is usually made before `docker run`
    /// creates the container (which may pull the image first); within this
    /// grace, another call must not take the instance from it. Once the
    /// engine has listed the container, its absence reaps the reservation at once.
    public static let startGraceSeconds: Int64 = 300

    /// Runs `body` with ``standard`` made by `make` on this thread: the
    /// library's warm-up of the store, which runs the Docker paths on a canned
    /// container list and must not ask the engine.
    package static func substituted<R>(by make: @escaping @Sendable () -> ContainerLookup, _ body: () throws -> R) rethrows -> R {
        let me = Substitute.me
        Substitute.lookups.withLock { $0[me] = make }
        defer { Substitute.lookups.withLock { _ = $0.removeValue(forKey: me) } }
        return try body()
    }

    private enum Substitute {
        static let lookups = Locked<[UInt: @Sendable () -> ContainerLookup]>([:])
        static var me: UInt { UInt(pthread_self()) }
    }

    /// Whether this lookup can ever answer (``unknown`` cannot: the store then
    /// skips container rows when reaping).
    var answers: Bool {
        if case .none = source { return false }
        return true
    }

    /// Whether a container named `name` exists; nil when that cannot be told.
    public func exists(_ name: String) -> Bool? {
        switch source {
        case .none: return nil
        case .names(let exists): return exists(name)
        case .listing(let listing):
            guard case .success(let index) = listing.answer() else { return nil }
            return index.container(named: name) != nil
        }
    }

    /// The engine's containers, asked now if not yet: nil for a lookup that
    /// lists nothing (``unknown``, or one made with ``init(_:)``).
    public func listing() -> Result<ContainerIndex, DockerError>? {
        guard case .listing(let listing) = source else { return nil }
        return listing.answer()
    }

    /// The containers, when the engine answered; nil otherwise.
    public var index: ContainerIndex? {
        if case .success(let index)? = listing() { return index }
        return nil
    }

    /// Asks now, if this lookup lists containers: before a call opens the store.
    public func prefetch() { _ = listing() }

    /// Why the containers are not known: the engine's error, or, for a lookup
    /// that asks no engine, that it was not asked. nil when the engine answered.
    public var unavailableReason: String? {
        switch source {
        case .none: return "the Docker engine was not asked"
        case .names: return nil
        case .listing(let listing):
            if case .failure(let error) = listing.answer() { return error.description }
            return nil
        }
    }
}

/// The one answer of a listing lookup, asked at the first question. The
/// request is made outside the lock (a fork must not wait for the engine);
/// two threads asking at once may both ask, and the first answer is kept.
private final class ContainerListing: Sendable {
    private let list: @Sendable () throws(DockerError) -> [DockerContainer]
    private let kept = Locked<Result<ContainerIndex, DockerError>?>(nil)

    init(_ list: @escaping @Sendable () throws(DockerError) -> [DockerContainer]) { self.list = list }

    func answer() -> Result<ContainerIndex, DockerError> {
        if let known = kept.read() { return known }
        let made: Result<ContainerIndex, DockerError>
        do throws(DockerError) {
            made = .success(ContainerIndex(try list()))
        } catch {
            made = .failure(error)
        }
        return kept.withLock { value in
            if let known = value { return known }
            value = made
            return made
        }
    }
}

/// Whether owners have ended, for one call of the store: process owners by
/// ``ProcessIdentity/Probe``, container owners by a ``ContainerLookup`` asked
/// at most once per name. It also collects the container reservations whose
/// container the lookup saw for the first time (``sighted``), which a write
/// transaction records (``ReservationStore/recordSightings(_:)``).
struct OwnerProbe {
    private var processes: ProcessIdentity.Probe
    let containers: ContainerLookup
    private var seen: [[UInt8]: Bool?] = [:]
    /// Rows of container reservations not yet marked seen whose container exists.
    private(set) var sighted: Set<Int64> = []

    init(processes: ProcessIdentity.Probe, containers: ContainerLookup) {
        self.processes = processes
        self.containers = containers
    }

    /// ``ProcessIdentity/Probe/liveness(of:)``.
    mutating func liveness(of process: ProcessIdentity) -> ProcessIdentity.Liveness {
        processes.liveness(of: process)
    }

    /// Whether a container named `name` (its bytes, as stored) exists; nil when
    /// that cannot be told. Asked once per name.
    mutating func containerExists(_ name: [UInt8]) -> Bool? {
        guard containers.answers else { return nil }
        if let known = seen[name] { return known }
        let answer = containers.exists(PathText.text(name))
        seen[name] = .some(answer)
        return answer
    }

    /// Whether the container reservation of row `id`, owned by the container
    /// named `name`, made at `since` and `wasSeen` (its container listed
    /// before), has ended: the lookup says no such container exists and the
    /// container was seen before or the start grace is over. Never when it
    /// cannot tell. A container seen for the first time is noted in ``sighted``.
    mutating func containerEnded(id: Int64, name: [UInt8], since: Int64, wasSeen: Bool, now: Int64) -> Bool {
        switch containerExists(name) {
        case true?:
            if !wasSeen { sighted.insert(id) }
            return false
        case false?:
            return wasSeen || now - since >= containers.grace
        case nil:
            return false
        }
    }

    /// Forgets the sightings once recorded.
    mutating func clearSightings() { sighted = [] }
}

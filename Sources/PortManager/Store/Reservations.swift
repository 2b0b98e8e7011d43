#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// The port probe of reservations: the one place that decides whether a port
/// is in use by a process without a reservation. Ports whose state cannot be
/// known (privileged ports without root) do not count as in use.
public enum ReservationProbe {
    /// The first host port of the instance in use now, per each port's protocol
    /// and host IP (``Registry/portInUse(_:instance:)``, the new probe), with
    /// its holders; nil when every port is free or cannot be told (which never blocks).
    public static func inUse(_ registry: Registry, _ service: String, instance: Int) throws -> PortProbe.Answer? {
        try registry.portInUse(service, instance: instance)
    }
}

extension Registry {
    /// Reserves every host port of one instance of `service` in the store.
    ///
    /// A reservation is exclusive: an instance anyone else holds is refused
    /// (or, without an instance, skipped).
    ///
    /// - Parameters:
    ///   - instance: the instance, or nil for the lowest one that is neither
    ///     reserved (its ports included) nor, with `probe`, in use now (always
    ///     a new reservation: an owner may hold several instances).
    ///   - owner: who holds it; the same owner reserving the same instance again
    ///     succeeds (a retry) and sets the new TTL, with ``Reservation/fresh`` false.
    ///   - ttl: seconds until it expires (1 or more); nil for never.
    ///   - probe: skip (or, for an explicit instance, refuse) instances whose ports
    ///     a process without a reservation uses (``ReservationProbe``).
    ///   - adopt: when the instance (given) has a container and no reservation,
    ///     reserve it for that container (owner kind container) instead of
    ///     refusing it; the owner asked for is then not the owner.
    ///   - stateDirectory: the store's directory, as bytes (any but NUL, used as
    ///     given); nil for ``StateDirectory/resolve(bytes:)``.
    ///   - containers: which containers exist (``ContainerLookup``). When it
    ///     lists them, an instance whose container exists (by its labels, else
    ///     by its container name) counts as taken without a reservation, and so
    ///     does one whose host port a container publishes: refused (or, without
    ///     an instance, skipped), unless `adopt`. When the engine cannot be
    ///     reached, neither is checked.
    /// - Returns: the reservation, ``Reservation/fresh`` when this call created it.
    /// - Throws: ``PortManagerError/reserved(service:instance:reason:)`` (taken, the
    ///   owner or the container named), ``PortManagerError/state(path:reason:)``, unknown service,
    ///   instance out of range or ``PortManagerError/invalidArgument(_:)`` (also
    ///   `adopt` without an instance).
    public func reserve(_ service: String, instance: Int? = nil, owner: ReservationOwner = .thisProcess,
                        ttl: Int? = nil, probe: Bool = true, adopt: Bool = false, stateDirectory: [UInt8]?,
                        containers: ContainerLookup = .standard) throws -> Reservation {
        let definition = try self.service(named: service)
        if let instance { try checkInstance(definition, instance) }
        try owner.check()
        if let ttl { try Self.checkTTL(ttl) }
        if adopt && instance == nil {
            throw PortManagerError.invalidArgument("adopting a container needs an instance: without one, instances whose container exists are skipped")
        }
        // Every owner but the instance's container name is known before the instance.
        let known: Reservation.Owner? = owner == .containerName ? nil : try owner.resolved { "" }
        let command = known.flatMap(ReservationOwner.command(of:))
        let environment = self.environment?.name ?? ""
        let candidates = instance.map { [$0] } ?? Array(0..<definition.maxInstances)
        /// The candidates in order, inside ``ReservationStore/transaction(_:)``:
        /// the rows a candidate needs (its own, those holding its ports) are
        /// reaped first when they have ended, and the first free candidate is
        /// taken (or, the same owner asking for its instance again, renewed).
        func scan(_ store: ReservationStore, now: Int64, _ lives: inout OwnerProbe) throws -> Reservation {
            var reasons: [String] = []  // the first three refusals, which the message shows
            var refused = 0
            for candidate in candidates {
                let wanted = try known ?? owner.resolved { try containerName(definition.name, instance: candidate) }
                if let id = try store.heldInstance(service: definition.name, environment: environment, instance: candidate,
                                                   now: now, &lives) {
                    var held: Reservation?  // read whole only when a message or the owner needs it
                    if reasons.count < 3 || instance != nil { held = try store.reservation(id: id, &lives) }
                    if instance != nil, let held, held.owner == wanted {
                        var renewed = held
                        renewed.expires = ttl.map { now + Int64($0) }
                        try store.setExpiry(id, renewed.expires)
                        return renewed  // not fresh: the owner's already
                    }
                    refused += 1
                    if let held, reasons.count < 3 {
                        reasons.append("instance \(candidate) is reserved by \(held.ownerDescription) since \(Reservation.timestamp(held.since))")
                    }
                    continue
                }
                let ports = reservedPorts(definition, candidate)
                if let (port, id) = try store.heldPort(ports, now: now, &lives) {
                    refused += 1
                    if reasons.count < 3, let other = try store.reservation(id: id, &lives) {
                        reasons.append("port \(port.port)\(port.protocols == .udp ? "/udp" : "") of instance \(candidate) is reserved by \(other.ownerDescription) for instance \(other.instance) of service \(RegistryBuilder.quote(other.service))")
                    }
                    continue
                }
                switch try containerInTheWay(definition.name, candidate, ports, lives.containers.index) {
                case .own(let found, _)? where adopt:
                    var adopted = Reservation(
                        service: definition.name, environment: environment, instance: candidate,
                        owner: try ReservationOwner.containerOwner(OwnerName(found.name)), command: nil, since: now,
                        expires: ttl.map { now + Int64($0) }, ports: ports)
                    try store.insert(adopted, containerSeen: true)
                    adopted.fresh = true
                    Log.emit(.info, Log.event("port_manager_adopted", [
                        ("service", adopted.service), ("instance", String(candidate)),
                        ("container", RegistryBuilder.truncated(found.name)), ("ports", adopted.ports.map { String($0.port) }.joined(separator: ",")),
                    ]))
                    return adopted
                case let obstacle?:
                    refused += 1
                    if reasons.count < 3 { reasons.append(obstacle.reason(candidate)) }
                    continue
                case nil:
                    break
                }
                if probe, let busy = try ReservationProbe.inUse(self, definition.name, instance: candidate) {
                    let held = busy.holders.isEmpty ? "" : " (" + busy.holders.map(\.description).joined(separator: ", ") + ")"
                    refused += 1
                    if reasons.count < 3 {
                        reasons.append("port \(busy.port) of instance \(candidate) is in use by a process without a reservation\(held)")
                    }
                    continue
                }
                var reservation = Reservation(
                    service: definition.name, environment: environment, instance: candidate, owner: wanted,
                    command: command, since: now, expires: ttl.map { now + Int64($0) }, ports: ports)
                try store.insert(reservation, containerSeen: wanted.container.map { lives.containerExists($0.bytes) == true } ?? false)
                reservation.fresh = true
                Log.emit(.info, Log.event("port_manager_reserved", [
                    ("service", reservation.service), ("instance", String(candidate)),
                    ("owner", RegistryBuilder.truncated(reservation.ownerText)), ("ports", reservation.ports.map { String($0.port) }.joined(separator: ",")),
                ]))
                return reservation
            }
            if instance != nil {
                throw PortManagerError.reserved(service: definition.name, instance: instance, reason: reasons.first ?? "it is taken")
            }
            let shown = reasons.joined(separator: "; ") + (refused > reasons.count ? "; ..." : "")
            throw PortManagerError.reserved(service: definition.name, instance: nil,
                                            reason: "all \(definition.maxInstances) instances are taken (\(shown))")
        }
        containers.prefetch()
        return try ReservationStore.with(stateDirectory) { store in
            var lives = store.probe(containers)
            return try store.transaction(&lives) { lives in
                let now = Int64(time(nil))
                try store.reapAllIfDue(now: now, &lives)
                return try scan(store, now: now, &lives)
            }
        }
    }

    /// Releases the reservation of one instance: its ports are free at once.
    ///
    /// - Parameters:
    ///   - owner: who asks; only the owner may release, unless `force`.
    ///   - force: release whoever owns it.
    /// - Returns: true when a reservation was released, false when the instance was free.
    /// - Throws: ``PortManagerError/notOwner(service:instance:reason:)`` naming the
    ///   owner, ``PortManagerError/state(path:reason:)``, unknown service, instance out of range.
    @discardableResult
    public func release(_ service: String, instance: Int, owner: ReservationOwner = .thisProcess,
                        force: Bool = false, stateDirectory: [UInt8]?,
                        containers: ContainerLookup = .standard) throws -> Bool {
        let (definition, asker) = try asking(service, instance, owner)
        return try withHeldInstance(definition, instance, stateDirectory, containers) { store, id, _, lives in
            guard let id, let holder = try store.owner(id: id) else { return false }
            guard force || holder == asker else {
                let held = try store.reservation(id: id, &lives)  // whole, for the message
                throw PortManagerError.notOwner(service: definition.name, instance: instance,
                                                reason: "reserved by \(held?.ownerDescription ?? holder.shortDescription), not by \(asker.shortDescription); release it as its owner, or force it (--force in the CLI)")
            }
            try store.delete(id)
            Log.emit(.info, Log.event("port_manager_released", [
                ("service", definition.name), ("instance", String(instance)),
                ("owner", RegistryBuilder.truncated(holder.text)),
            ]))
            return true
        }
    }

    /// Extends a reservation: it now expires `ttl` seconds from now.
    ///
    /// - Throws: ``PortManagerError/notOwner(service:instance:reason:)`` when the
    ///   instance is not reserved or is reserved by someone else, or as ``release(_:instance:owner:force:stateDirectory:containers:)-([UInt8]?)``.
    public func renew(_ service: String, instance: Int, ttl: Int, owner: ReservationOwner = .thisProcess,
                      stateDirectory: [UInt8]?, containers: ContainerLookup = .standard) throws -> Reservation {
        try Self.checkTTL(ttl)
        return try changing(service, instance, owner, stateDirectory, containers) { store, id, held, now, _ in
            var renewed = held
            renewed.expires = now + Int64(ttl)
            try store.setExpiry(id, renewed.expires)
            return renewed
        }
    }

    /// Hands a reservation from its owner to a container, once the container
    /// is started: the reservation then lasts while a container of that name
    /// exists (``Reservation/Owner/container(_:)``), and its TTL is dropped.
    /// Binding a reservation to the container that holds it already changes
    /// nothing and succeeds.
    ///
    /// - Parameters:
    ///   - container: the container's name (Docker's rule, a leading `/`
    ///     dropped); nil for the instance's container name (``containerName(_:instance:)``).
    ///   - owner: the reservation's owner now, who hands it over.
    /// - Returns: the reservation, owned by the container.
    /// - Throws: ``PortManagerError/notOwner(service:instance:reason:)`` when the
    ///   instance is not reserved or is reserved by someone else (another
    ///   container included), ``PortManagerError/invalidArgument(_:)`` for a name
    ///   Docker refuses, or as ``release(_:instance:owner:force:stateDirectory:containers:)-([UInt8]?)``.
    public func bind(_ service: String, instance: Int, container: OwnerName? = nil, owner: ReservationOwner = .thisProcess,
                     stateDirectory: [UInt8]?, containers: ContainerLookup = .standard) throws -> Reservation {
        let target = try ReservationOwner.containerOwner(OwnerName(bytes: container?.bytes ?? Array(try containerName(service, instance: instance).utf8)))
        return try changing(service, instance, owner, stateDirectory, containers, alreadyOwned: target) { store, id, held, _, lives in
            var bound = held
            bound.owner = target
            bound.command = nil
            bound.liveness = nil
            bound.expires = nil
            // Bound once started: its container is seen now (its absence then reaps it at once).
            try store.setOwner(id, target, expires: nil, containerSeen: target.container.map { lives.containerExists($0.bytes) == true } ?? false)
            Log.emit(.info, Log.event("port_manager_bound", [
                ("service", held.service), ("instance", String(instance)),
                ("owner", RegistryBuilder.truncated(held.ownerText)), ("container", RegistryBuilder.truncated(target.text)),
            ]))
            return bound
        }
    }

    /// Every reservation in the store (of every registry and environment), or
    /// those of one service of this registry, after reaping expired and dead-owner ones.
    public func reservations(_ service: String? = nil, stateDirectory: [UInt8]?,
                             containers: ContainerLookup = .standard) throws -> [Reservation] {
        let name = try service.map { try self.service(named: $0).name }
        return try ReservationStore.with(stateDirectory) { store in
            var lives = store.probe(containers)
            // Every row shown is judged (each owner's pid read once): when none
            // has ended, the snapshot is shown as it is, without the write lock;
            // else everything is reaped first.
            let now = Int64(time(nil))
            if let shown = try store.reading({ try store.anyEnded(now: now, &lives) ? nil : store.all(service: name, &lives) }) {
                return shown
            }
            return try store.transaction(&lives) { lives in
                try store.reapAll(now: Int64(time(nil)), &lives)
                return try store.all(service: name, &lives)
            }
        }
    }

    /// The service and the owner who asks to change an instance's reservation.
    private func asking(_ service: String, _ instance: Int, _ owner: ReservationOwner) throws -> (ServiceDefinition, Reservation.Owner) {
        let definition = try self.service(named: service)
        try checkInstance(definition, instance)
        try owner.check()
        return (definition, try owner.resolved { try containerName(definition.name, instance: instance) })
    }

    /// Runs `change` on the reservation of one instance when `owner` holds it,
    /// in one transaction; when `alreadyOwned` holds it, returns it unchanged.
    private func changing(_ service: String, _ instance: Int, _ owner: ReservationOwner, _ stateDirectory: [UInt8]?,
                          _ containers: ContainerLookup, alreadyOwned: Reservation.Owner? = nil,
                          _ change: (ReservationStore, Int64, Reservation, Int64, inout OwnerProbe) throws -> Reservation) throws -> Reservation {
        let (definition, asker) = try asking(service, instance, owner)
        return try withHeldInstance(definition, instance, stateDirectory, containers) { store, id, now, lives in
            guard let id, let held = try store.reservation(id: id, &lives) else {
                throw PortManagerError.notOwner(service: definition.name, instance: instance,
                                                reason: "is not reserved (released or expired); reserve it again")
            }
            if let alreadyOwned, held.owner == alreadyOwned { return held }
            guard held.owner == asker else {
                throw PortManagerError.notOwner(service: definition.name, instance: instance,
                                                reason: "reserved by \(held.ownerDescription), not by \(asker.shortDescription)")
            }
            return try change(store, id, held, now, &lives)
        }
    }

    /// In one write transaction of the store: reaps what is due, then calls
    /// `body` with the id of the reservation that holds this instance (nil when
    /// it is free), the time, and the owner probe. Release, renew and bind share it.
    private func withHeldInstance<R>(_ definition: ServiceDefinition, _ instance: Int, _ stateDirectory: [UInt8]?,
                                     _ containers: ContainerLookup,
                                     _ body: (ReservationStore, Int64?, Int64, inout OwnerProbe) throws -> R) throws -> R {
        let environment = self.environment?.name ?? ""
        return try ReservationStore.with(stateDirectory) { store in
            var lives = store.probe(containers)
            return try store.transaction(&lives) { lives in
                let now = Int64(time(nil))
                try store.reapAllIfDue(now: now, &lives)
                let id = try store.heldInstance(service: definition.name, environment: environment, instance: instance,
                                                now: now, &lives)
                return try body(store, id, now, &lives)
            }
        }
    }

    /// Every host port of one instance, ascending, each with its port's name.
    func reservedPorts(_ definition: ServiceDefinition, _ instance: Int) -> [ReservedPort] {
        var ports: [ReservedPort] = []
        for port in definition.ports {
            let first = definition.hostPort(port, instance: instance, offset: offset)
            ports += (first..<(first + port.count)).map { ReservedPort(name: port.name, port: $0, protocols: port.protocols) }
        }
        return ports.sorted { $0.port < $1.port }
    }

    /// The TTLs a reservation accepts, in seconds: 1 second to 100 years.
    public static let ttlRange: ClosedRange<Int> = 1...(100 * 365 * 86_400)

    private static func checkTTL(_ ttl: Int) throws {
        guard ttlRange.contains(ttl) else {
            throw PortManagerError.invalidArgument("the TTL \(ttl) is outside \(ttlRange.lowerBound)..\(ttlRange.upperBound) seconds")
        }
    }

    /// ``reserve(_:instance:owner:ttl:probe:adopt:stateDirectory:containers:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func reserve(_ service: String, instance: Int? = nil, owner: ReservationOwner = .thisProcess,
                        ttl: Int? = nil, probe: Bool = true, adopt: Bool = false, stateDirectory: String? = nil,
                        containers: ContainerLookup = .standard) throws -> Reservation {
        try reserve(service, instance: instance, owner: owner, ttl: ttl, probe: probe, adopt: adopt,
                    stateDirectory: stateDirectory.map { Array($0.utf8) }, containers: containers)
    }

    /// ``release(_:instance:owner:force:stateDirectory:containers:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    @discardableResult
    public func release(_ service: String, instance: Int, owner: ReservationOwner = .thisProcess,
                        force: Bool = false, stateDirectory: String? = nil,
                        containers: ContainerLookup = .standard) throws -> Bool {
        try release(service, instance: instance, owner: owner, force: force, stateDirectory: stateDirectory.map { Array($0.utf8) },
                    containers: containers)
    }

    /// ``renew(_:instance:ttl:owner:stateDirectory:containers:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func renew(_ service: String, instance: Int, ttl: Int, owner: ReservationOwner = .thisProcess,
                      stateDirectory: String? = nil, containers: ContainerLookup = .standard) throws -> Reservation {
        try renew(service, instance: instance, ttl: ttl, owner: owner, stateDirectory: stateDirectory.map { Array($0.utf8) },
                  containers: containers)
    }

    /// ``bind(_:instance:container:owner:stateDirectory:containers:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func bind(_ service: String, instance: Int, container: OwnerName? = nil, owner: ReservationOwner = .thisProcess,
                     stateDirectory: String? = nil, containers: ContainerLookup = .standard) throws -> Reservation {
        try bind(service, instance: instance, container: container, owner: owner,
                 stateDirectory: stateDirectory.map { Array($0.utf8) }, containers: containers)
    }

    /// ``reservations(_:stateDirectory:containers:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func reservations(_ service: String? = nil, stateDirectory: String? = nil,
                             containers: ContainerLookup = .standard) throws -> [Reservation] {
        try reservations(service, stateDirectory: stateDirectory.map { Array($0.utf8) }, containers: containers)
    }
}

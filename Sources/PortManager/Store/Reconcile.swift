#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// One thing ``Registry/reconcile(dryRun:stateDirectory:containers:)-([UInt8]?)`` did (or, in a dry run, would do).
public struct ReconcileAction: Sendable, Hashable {
    /// What was done.
    public enum Kind: String, Sendable {
        /// A container reservation whose container the engine no longer lists was removed.
        case reap
        /// A container of an instance without a reservation was given one (owner kind container).
        case adopt
        /// A container of an instance without a reservation could not be adopted:
        /// another reservation holds one of the instance's ports (``ReconcileAction/reason``).
        case skip
    }

    /// What was done.
    public var kind: Kind
    /// The service, as the store or the registry names it.
    public var service: String
    /// The environment, `""` for none.
    public var environment: String
    /// The instance.
    public var instance: Int
    /// The container: the reservation's owner (reap), or the instance's container (adopt, skip).
    public var container: String
    /// The container's engine state (`running`, `exited`, ...); nil for a reap (it is gone).
    public var containerState: String?
    /// Why: `the container is gone`, `found by its labels`, `found by its name`,
    /// or what holds the port (skip).
    public var reason: String

    /// One compact JSON object: `action` (`reap`, `adopt`, `skip`), `service`,
    /// `environment`, `instance`, `container`, `container_state` (null for a
    /// reap) and `reason`. An element of `pm_reconcile`'s array.
    public var json: String {
        JSONValue.object([
            ("action", .string(kind.rawValue)), ("service", .string(service)), ("environment", .string(environment)),
            ("instance", .int(instance)), ("container", .string(container)),
            ("container_state", .optional(containerState)), ("reason", .string(reason)),
        ]).compact()
    }

    /// The action for people: `reaped kafka instance 1: container 'kafka-1' is gone`;
    /// `dryRun`: `would reap ...`.
    public func line(dryRun: Bool) -> String {
        let verb: String
        switch kind {
        case .reap: verb = dryRun ? "would reap" : "reaped"
        case .adopt: verb = dryRun ? "would adopt" : "adopted"
        case .skip: verb = dryRun ? "would skip" : "skipped"
        }
        let place = environment.isEmpty ? "" : " (environment \(RegistryBuilder.quote(environment)))"
        let subject = "\(RegistryBuilder.quote(service)) instance \(instance)\(place)"
        switch kind {
        case .reap:
            return "\(verb) \(subject): the reservation of container \(RegistryBuilder.quote(container)), \(reason)"
        case .adopt, .skip:
            return "\(verb) \(subject): container \(RegistryBuilder.quote(container)) (\(containerState ?? "?")), \(reason)"
        }
    }
}

extension Registry {
    /// Brings the store and the Docker engine into line: removes every
    /// container reservation whose container the engine does not list (past
    /// its start grace, ``ContainerLookup/startGraceSeconds``), then gives every
    /// instance of this registry (in its environment) whose container exists
    /// (by its labels, else by its container name) and that has no
    /// reservation one, owned by that container. An instance whose port
    /// another reservation holds is skipped. Each action is logged at INFO
    /// (`port_manager_reaped`, `port_manager_adopted`).
    ///
    /// - Parameters:
    ///   - dryRun: change nothing; return what would be done.
    ///   - containers: the engine's containers; it must list them (``ContainerLookup/engine(_:startGrace:)``).
    /// - Returns: the actions, reaps first, then adoptions and skips, in
    ///   service, environment and instance order.
    /// - Throws: ``PortManagerError/docker(_:)`` (nothing changed) when the
    ///   engine cannot be reached or gives no usable answer, or the lookup lists
    ///   no containers; ``PortManagerError/state(path:reason:)``.
    public func reconcile(dryRun: Bool = false, stateDirectory: [UInt8]?,
                          containers: ContainerLookup = .standard) throws -> [ReconcileAction] {
        try reconcile(dryRun: dryRun, stateDirectory: stateDirectory, containers: containers, before: { _ in })
    }

    /// ``reconcile(dryRun:stateDirectory:containers:)-([UInt8]?)`` that calls
    /// `before` with the actions before it commits them: when `before` throws,
    /// nothing is changed (the C function's buffer too small).
    package func reconcile(dryRun: Bool, stateDirectory: [UInt8]?, containers: ContainerLookup,
                           before: ([ReconcileAction]) throws -> Void) throws -> [ReconcileAction] {
        let index: ContainerIndex
        switch containers.listing() {
        case .success(let listed)?: index = listed
        case .failure(let error)?: throw PortManagerError.docker("cannot reconcile: " + error.description)
        case nil: throw PortManagerError.docker("cannot reconcile: \(containers.unavailableReason ?? "the container lookup lists no containers")")
        }
        /// Thrown to roll a dry run's transaction back.
        struct DryRun: Error { var actions: [ReconcileAction] }
        let environment = self.environment?.name ?? ""
        do {
            return try ReservationStore.with(stateDirectory) { store in
                var lives = store.probe(containers)
                return try store.transaction(&lives) { lives in
                    let now = Int64(time(nil))
                    var actions: [ReconcileAction] = []
                    for row in try store.containerRows() where lives.containerEnded(
                        id: row.id, name: row.container, since: row.since, wasSeen: row.seen, now: now) {
                        try store.delete(row.id)
                        let name = PathText.text(row.container)
                        actions.append(ReconcileAction(kind: .reap, service: row.service, environment: row.environment,
                                                       instance: row.instance, container: name, containerState: nil,
                                                       reason: "the container is gone"))
                        Log.emit(.info, Log.event("port_manager_reaped", [
                            ("service", row.service), ("instance", String(row.instance)),
                            ("container", RegistryBuilder.truncated(name)),
                        ]))
                    }
                    try store.reapAll(now: now, &lives)  // expired, ended processes: as every call does
                    for definition in services {
                        for instance in 0..<definition.maxInstances {
                            guard let (container, match) = index.container(of: try self.instance(definition.name, instance)) else { continue }
                            if try store.heldInstance(service: definition.name, environment: environment, instance: instance,
                                                      now: now, &lives) != nil { continue }
                            var action = ReconcileAction(kind: .adopt, service: definition.name, environment: environment,
                                                         instance: instance, container: container.name,
                                                         containerState: container.state,
                                                         reason: match == .label ? "found by its labels" : "found by its name")
                            let ports = reservedPorts(definition, instance)
                            if let (port, id) = try store.heldPort(ports, now: now, &lives) {
                                let other = try store.reservation(id: id, &lives)
                                action.kind = .skip
                                action.reason = "port \(port.port)\(port.protocols == .udp ? "/udp" : "") is reserved by "
                                    + (other.map { "\($0.ownerDescription) for instance \($0.instance) of service \(RegistryBuilder.quote($0.service))" } ?? "another reservation")
                                actions.append(action)
                                continue
                            }
                            try store.insert(Reservation(
                                service: definition.name, environment: environment, instance: instance,
                                owner: try ReservationOwner.containerOwner(OwnerName(container.name)), command: nil,
                                since: now, expires: nil, ports: ports), containerSeen: true)
                            actions.append(action)
                            Log.emit(.info, Log.event("port_manager_adopted", [
                                ("service", definition.name), ("instance", String(instance)),
                                ("container", RegistryBuilder.truncated(container.name)),
                                ("ports", ports.map { String($0.port) }.joined(separator: ",")),
                            ]))
                        }
                    }
                    try before(actions)
                    if dryRun { throw DryRun(actions: actions) }
                    return actions
                }
            }
        } catch let dry as DryRun {
            return dry.actions
        }
    }

    /// ``reconcile(dryRun:stateDirectory:containers:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func reconcile(dryRun: Bool = false, stateDirectory: String? = nil,
                          containers: ContainerLookup = .standard) throws -> [ReconcileAction] {
        try reconcile(dryRun: dryRun, stateDirectory: stateDirectory.map { Array($0.utf8) }, containers: containers)
    }
}

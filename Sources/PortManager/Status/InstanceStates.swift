#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// What one service instance is now, from the reservation store, the port
/// probe and the Docker engine together: the state `portmanager status`,
/// `pm_instance_states_json` and Python's `PortManager.status()` show.
public struct InstanceState: Sendable {
    /// The states, as JSON and the CLI spell them.
    public enum State: String, Sendable, CaseIterable {
        /// Its container runs (reserved or not).
        case running
        /// Its container exists and does not run (exited, created, paused, ...).
        case stopped
        /// Reserved, and no container of it exists yet (or the engine cannot be asked).
        case reserved
        /// Not reserved, no container of its own, but a port of it is held:
        /// by another container (named), or by a process (pid and command).
        case inUse = "in_use"
        /// Reserved by one owner while another container, or a process that
        /// is not the owner's, holds one of its ports.
        case conflict
        /// None of these (listed only when asked for every row).
        case free
    }

    /// The service.
    public var service: String
    /// The environment, `""` for none.
    public var environment: String
    /// The instance.
    public var instance: Int
    /// The state.
    public var state: State
    /// The reservation that holds it: its own, or (``reservedAs``) another
    /// instance's that holds its ports; nil when none does.
    public var reservation: Reservation?
    /// The container this row is about: the reservation's (a container owner's)
    /// or the instance's own (by its labels, else its name), or for `in_use`
    /// the container that publishes its port; nil when none (or unknown).
    public var container: DockerContainer?
    /// True when the Docker engine could not be asked: ``container`` is then unknown.
    public var containerUnknown: Bool
    /// For `in_use` and `conflict`: the probe of the port held, its holders
    /// with the containers behind them named.
    public var portInUse: PortProbe.Answer?
    /// Every port of the instance, as the registry resolves it.
    public var ports: [Allocation]

    /// True when the reservation holding the instance is another instance's.
    public var reservedAs: Bool {
        guard let reservation else { return false }
        return reservation.service != service || reservation.instance != instance || reservation.environment != environment
    }

    /// The container's engine state (`running`, `exited`, ...), `unknown`
    /// when the engine could not be asked, nil when there is no container.
    public var containerState: String? {
        containerUnknown ? "unknown" : container?.state
    }
}

/// Every instance's state (or those not free), with whether the Docker engine answered.
public struct InstanceStates: Sendable {
    /// The rows, by service (registry order) and instance.
    public var rows: [InstanceState]
    /// Why the Docker engine's containers are unknown; nil when it answered.
    public var dockerUnavailable: String?
}

extension Registry {
    /// The state of every instance of every service (or of `service`), in
    /// the environment in force: reservations (expired and ended ones reaped
    /// first), every host port probed once, and the Docker engine's
    /// containers asked once (``ContainerLookup``), combined per instance:
    ///
    /// - reserved: `conflict` when another container, or a process that is
    ///   not the owner's (for a process owner: neither it nor a descendant;
    ///   for a container owner: any process but its `docker-proxy`), holds a
    ///   port; else `running` or `stopped` by its container (a container
    ///   owner's, else the instance's own); else `reserved`;
    /// - not reserved: `running` or `stopped` when its own container exists
    ///   (``ContainerIndex/container(of:)``); `in_use` when a port is held
    ///   (``PortProbe/Answer/naming(_:)`` names a container behind it); else `free`.
    ///
    /// When the engine cannot be asked, no container is known
    /// (``InstanceStates/dockerUnavailable`` says why): a reserved instance
    /// stays `reserved` (never `free`: nothing is reaped), the others are
    /// judged by their ports alone.
    ///
    /// - Parameters:
    ///   - all: include the `free` rows.
    /// - Throws: unknown service, ``PortManagerError/state(path:reason:)``,
    ///   ``PortManagerError/io(path:reason:)`` (a `/proc/net` table).
    public func instanceStates(_ service: String? = nil, all: Bool = false, stateDirectory: [UInt8]?,
                               containers: ContainerLookup = .standard) throws -> InstanceStates {
        let services = try service.map { [try self.service(named: $0)] } ?? self.services
        let environment = self.environment?.name ?? ""
        containers.prefetch()
        let index = containers.index
        let held = try reservations(stateDirectory: stateDirectory, containers: containers)
        // Indexed once, so each instance's lookup is O(1): linear in instances + reservations.
        var byPort: [PortKey: Reservation] = [:]
        var byInstance: [InstanceKey: Reservation] = [:]
        for reservation in held {
            for port in reservation.ports { for member in port.protocols.members { byPort[PortKey(member, port.port)] = reservation } }
            let key = InstanceKey(service: reservation.service, environment: reservation.environment, instance: reservation.instance)
            if byInstance[key] == nil { byInstance[key] = reservation }
        }
        // One probe of every host port of every instance: the kernel's tables are read once.
        var instances: [ServiceInstance] = []
        var slices: [Range<Int>] = []
        var requests: [PortProbe.Request] = []
        for definition in services {
            for number in 0..<definition.maxInstances {
                let resolved = try instance(definition.name, number)
                instances.append(resolved)
                let start = requests.count
                for port in resolved.ports {
                    for host in port.hostPort...port.hostPortLast {
                        requests.append(PortProbe.Request(port: host, protocols: port.protocols, host: port.hostIP))
                    }
                }
                slices.append(start..<requests.count)
            }
        }
        let answers = try Self.probe(requests, naming: index)
        var rows: [InstanceState] = []
        for (position, resolved) in instances.enumerated() {
            let probed = Array(answers[slices[position]])
            let own = byInstance[InstanceKey(service: resolved.service, environment: environment, instance: resolved.instance)]
            let holder = own ?? resolved.ports.lazy.flatMap { port in
                (port.hostPort...port.hostPortLast).flatMap { number in port.protocols.members.map { PortKey($0, number) } }
            }.compactMap { byPort[$0] }.first
            let row = Self.judge(resolved, holder, ownReservation: own != nil, probed, index)
            if row.state != .free || all { rows.append(row) }
        }
        return InstanceStates(rows: rows, dockerUnavailable: containers.unavailableReason)
    }

    /// ``instanceStates(_:all:stateDirectory:containers:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func instanceStates(_ service: String? = nil, all: Bool = false, stateDirectory: String? = nil,
                               containers: ContainerLookup = .standard) throws -> InstanceStates {
        try instanceStates(service, all: all, stateDirectory: stateDirectory.map { Array($0.utf8) }, containers: containers)
    }

    /// Every port probed, the containers behind them named (``PortProbe/Answer/naming(_:)``).
    /// The processes behind the sockets (one pass over every `/proc/PID/fd`,
    /// which 100 running containers' `docker-proxy`s make long) are looked up
    /// only for the ports in use that no container explains.
    static func probe(_ requests: [PortProbe.Request], naming index: ContainerIndex?) throws -> [PortProbe.Answer] {
        guard let index else { return try PortProbe.probe(requests) }
        var answers = try PortProbe.probe(requests, holders: false).map { $0.naming(index) }
        let unexplained = answers.indices.filter { answers[$0].verdict == .inUse && answers[$0].holders.contains { $0.container == nil } }
        guard !unexplained.isEmpty else { return answers }
        let detailed = try PortProbe.probe(unexplained.map { requests[$0] })
        for (position, answer) in zip(unexplained, detailed) { answers[position] = answer.naming(index) }
        return answers
    }

    /// The state of one instance (rules: ``instanceStates(_:all:stateDirectory:containers:)-([UInt8]?)``).
    static func judge(_ resolved: ServiceInstance, _ holder: Reservation?, ownReservation: Bool,
                      _ probed: [PortProbe.Answer], _ index: ContainerIndex?) -> InstanceState {
        var row = InstanceState(service: resolved.service, environment: resolved.environmentName, instance: resolved.instance,
                                state: .free, reservation: holder, container: nil, containerUnknown: index == nil,
                                portInUse: nil, ports: resolved.ports)
        let busy = probed.filter { $0.verdict == .inUse }
        guard let holder else {
            if let (own, _) = index?.container(of: resolved) {
                row.container = own
                row.state = own.isRunning ? .running : .stopped
            } else if let answer = busy.first {
                row.state = .inUse
                row.portInUse = answer
                row.container = answer.holders.lazy.compactMap(\.container).first.flatMap { index?.container(named: $0) }
            }
            return row
        }
        // Its container: a container owner's, else (its own reservation) the instance's.
        let mine: DockerContainer?
        if let name = holder.owner.container {
            mine = index?.container(named: name.text)
        } else {
            mine = ownReservation ? index?.container(of: resolved)?.container : nil
        }
        row.container = mine
        for answer in busy {
            if answer.holders.contains(where: { isForeign($0, to: holder, container: holder.owner.container?.text ?? mine?.name) }) {
                row.state = .conflict
                row.portInUse = answer
                return row
            }
        }
        if let mine { row.state = mine.isRunning ? .running : .stopped } else { row.state = .reserved }
        return row
    }

    /// Whether `socket` holds a port of `reservation` against it: a container
    /// other than `container` (the reservation's); for a container owner, a
    /// visible process that is not the container's proxy; for a process owner
    /// in this PID namespace, a visible process that is neither the owner nor
    /// its descendant. A process of a name owner, or one this user cannot see,
    /// is never held against it (nothing tells whose it is).
    static func isForeign(_ socket: PortProbe.Holder, to reservation: Reservation, container: String?) -> Bool {
        if let other = socket.container { return other != container }
        guard let pid = socket.pid else { return false }
        switch reservation.owner {
        case .container: return true
        case .name: return false
        case .process(let owner):
            guard reservation.liveness == .alive else { return false }
            return !ProcessIdentity.isDescendant(pid, of: owner.pid)
        }
    }
}

/// A host port of one protocol.
private struct PortKey: Hashable {
    var protocols: PortProtocols
    var port: Int
    init(_ protocols: PortProtocols, _ port: Int) { self.protocols = protocols; self.port = port }
}

/// A reservation's identity: one service instance in one environment.
private struct InstanceKey: Hashable {
    let service: String
    let environment: String
    let instance: Int
}

#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// One host port held by a reservation.
public struct ReservedPort: Sendable, Hashable {
    /// The registry's name of the port (`broker_port`); each port of a range carries the range's name.
    public var name: String
    /// The host port.
    public var port: Int
    /// The protocols it is held for (the port's `protocol:`): the store keys
    /// ports by protocol and number, so a UDP and a TCP port of one number are
    /// two ports.
    public var protocols: PortProtocols = .tcp
}

/// An owner name: bytes, as a C caller or the command line gives them (1 to
/// ``ReservationOwner/maxLength`` bytes, any but NUL), kept and compared as
/// bytes, so two names that differ only in bytes that are not UTF-8 are two owners.
public struct OwnerName: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name's bytes.
    public var bytes: [UInt8]

    /// A name from its bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// A name from text (its UTF-8 bytes).
    public init(_ text: String) { bytes = Array(text.utf8) }

    public init(stringLiteral value: String) { self.init(value) }

    /// The name as text: itself when UTF-8, else with each other byte as `\xHH`
    /// (``PathText/text(_:)``), so two names never show as one.
    public var text: String { PathText.text(bytes) }

    public var description: String { text }
}

/// A claim on every host port of one service instance, kept in the reservation
/// store (``StateDirectory``) so that two orchestrators never start the same
/// instance, whichever process or host user asks.
public struct Reservation: Sendable, Hashable {
    /// Who holds a reservation.
    public enum Owner: Sendable, Hashable {
        /// A process: the reservation ends when it ends (pid reuse and reboots are detected).
        case process(ProcessIdentity)
        /// A name (a container name, a workflow ID): the reservation lasts until
        /// released, or until its TTL runs out.
        case name(OwnerName)

        /// The owner as JSON and messages show it: the name (``OwnerName/text``), or `process 1234`.
        public var text: String {
            switch self {
            case .name(let name): return name.text
            case .process(let p): return "process \(p.pid)"
            }
        }
    }

    /// The service, as the registry names it.
    public var service: String
    /// The environment whose offset the ports include; "" for none.
    public var environment: String
    /// The instance.
    public var instance: Int
    /// The owner.
    public var owner: Owner
    /// The command of a process owner when it reserved (`/proc/PID/comm`), else nil.
    public var command: String?
    /// When it was made, in seconds since the Unix epoch.
    public var since: Int64
    /// When it expires, in seconds since the Unix epoch; nil for never.
    public var expires: Int64?
    /// Every host port held, ascending (each port of a range too).
    public var ports: [ReservedPort]
    /// For a process owner read from the store: whether it runs
    /// (``ProcessIdentity/Liveness/alive``) or is in another PID namespace, so
    /// that its liveness is unknown here; nil for a name, or a reservation just made.
    public var liveness: ProcessIdentity.Liveness? = nil

    /// Creates a reservation from its parts.
    public init(service: String, environment: String, instance: Int, owner: Owner, command: String?,
                since: Int64, expires: Int64?, ports: [ReservedPort]) {
        self.service = service
        self.environment = environment
        self.instance = instance
        self.owner = owner
        self.command = command
        self.since = since
        self.expires = expires
        self.ports = ports
    }

    /// The owner for messages: the name quoted (escaped, cut at 64 characters),
    /// or `process 1234 ('sleep')`. Text from the store reaches messages only this way.
    public var ownerDescription: String {
        switch owner {
        case .name(let name): return RegistryBuilder.quote(name.text)
        case .process(let p):
            return "process \(p.pid)" + (command.map { " (\(RegistryBuilder.quote($0)))" } ?? "")
                + (liveness == .unknown ? " in another PID namespace (liveness unknown)" : "")
        }
    }

    /// Each port name with its first host port, in ascending port order.
    public var portsByName: [(name: String, port: Int)] {
        var seen = Set<String>()
        return ports.filter { seen.insert($0.name).inserted }.map { ($0.name, $0.port) }
    }

    /// The owner as JSON and messages show it: the name (``OwnerName/text``), or `process 1234`.
    public var ownerText: String { owner.text }

    /// The process id of a process owner, else nil.
    public var pid: Int? {
        if case .process(let p) = owner { return p.pid }
        return nil
    }

    /// The inode of a process owner's PID namespace, when known; else nil.
    public var pidNamespace: UInt64? {
        if case .process(let p) = owner { return p.pidNamespace }
        return nil
    }

    /// One compact JSON object: `service`, `environment`, `instance`, `owner`,
    /// `owner_kind` (`name` or `process`), `pid`, `pid_namespace` (the inode of
    /// the owner's PID namespace, or null), `liveness` (`alive`, `unknown` for
    /// an owner in another PID namespace, or null), `command`, `since`, `expires`
    /// (seconds since the epoch, or null), `ports` (name -> first host port) and
    /// `host_ports` (every host port). The schema of `pm_reservations_json`.
    public var json: String {
        var out = "{\"service\":" + JSONText.string(service) + ",\"environment\":" + JSONText.string(environment)
        out += ",\"instance\":\(instance),\"owner\":" + JSONText.string(ownerText)
        out += ",\"owner_kind\":" + (pid == nil ? "\"name\"" : "\"process\"")
        out += ",\"pid\":" + (pid.map(String.init) ?? "null")
        out += ",\"pid_namespace\":" + (pidNamespace.map(String.init) ?? "null")
        out += ",\"liveness\":" + (liveness.map { JSONText.string($0.rawValue) } ?? "null")
        out += ",\"command\":" + (command.map(JSONText.string) ?? "null")
        out += ",\"since\":\(since),\"expires\":" + (expires.map(String.init) ?? "null") + ",\"ports\":{"
        out += portsByName.map { JSONText.string($0.name) + ":\($0.port)" }.joined(separator: ",")
        out += "},\"host_ports\":[" + ports.map { String($0.port) }.joined(separator: ",") + "]}"
        return out
    }

    /// `2026-11-29T06:41:30Z` for seconds since the Unix epoch.
    public static func timestamp(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return String(seconds) }
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}

/// Who a reservation is asked for.
public enum ReservationOwner: Sendable, Hashable {
    /// The calling process (``Reservation/Owner/process(_:)``).
    case thisProcess
    /// A name (``Reservation/Owner/name(_:)``): any bytes but NUL, 1 to ``maxLength`` of them.
    case name(OwnerName)
    /// The container name of the instance (`kafka-development-1`), known once the instance is chosen.
    case containerName

    /// The longest owner name, in UTF-8 bytes.
    public static let maxLength = 1024
}

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
    /// - Parameters:
    ///   - instance: the instance, or nil for the lowest one that is neither
    ///     reserved (its ports included) nor, with `probe`, in use now.
    ///   - owner: who holds it; the same owner reserving the same instance again
    ///     succeeds (and sets the new TTL).
    ///   - ttl: seconds until it expires (1 or more); nil for never.
    ///   - probe: skip (or, for an explicit instance, refuse) instances whose ports
    ///     a process without a reservation uses (``ReservationProbe``).
    ///   - stateDirectory: the store's directory, as bytes (any but NUL, used as
    ///     given); nil for ``StateDirectory/resolve(bytes:)``.
    /// - Throws: ``PortManagerError/reserved(service:instance:reason:)`` (taken, the
    ///   owner named), ``PortManagerError/state(path:reason:)``, unknown service,
    ///   instance out of range or ``PortManagerError/invalidArgument(_:)``.
    public func reserve(_ service: String, instance: Int? = nil, owner: ReservationOwner = .thisProcess,
                        ttl: Int? = nil, probe: Bool = true, stateDirectory: [UInt8]?) throws -> Reservation {
        let definition = try self.service(named: service)
        if let instance { try checkInstance(definition, instance) }
        try Self.checkOwner(owner)
        if let ttl { try Self.checkTTL(ttl) }
        let process = owner == .thisProcess ? try ProcessIdentity.current() : nil
        let command = process == nil ? nil : ProcessIdentity.currentCommand()
        let environment = self.environment?.name ?? ""
        let candidates = instance.map { [$0] } ?? Array(0..<definition.maxInstances)
        /// The candidates in order, inside ``ReservationStore/transaction(_:)``:
        /// the rows a candidate needs (its own, those holding its ports) are
        /// reaped first when they have ended, and the first free candidate is
        /// taken (or, the same owner asking for its instance again, renewed).
        func scan(_ store: ReservationStore, now: Int64, _ lives: inout ProcessIdentity.Probe) throws -> Reservation {
            var reasons: [String] = []  // the first three refusals, which the message shows
            var refused = 0
            for candidate in candidates {
                let name = try containerName(definition.name, instance: candidate)
                let wanted: Reservation.Owner = process.map { .process($0) } ?? .name(Self.ownerName(owner, container: name))
                if let id = try store.heldInstance(service: definition.name, environment: environment, instance: candidate,
                                                   now: now, &lives) {
                    var held: Reservation?  // read whole only when a message or the owner needs it
                    if reasons.count < 3 || instance != nil { held = try store.reservation(id: id, &lives) }
                    if instance != nil, let held, held.owner == wanted {
                        var renewed = held
                        renewed.expires = ttl.map { now + Int64($0) }
                        try store.setExpiry(id, renewed.expires)
                        return renewed
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
                if probe, let busy = try ReservationProbe.inUse(self, definition.name, instance: candidate) {
                    let held = busy.holders.isEmpty ? "" : " (" + busy.holders.map(\.description).joined(separator: ", ") + ")"
                    refused += 1
                    if reasons.count < 3 {
                        reasons.append("port \(busy.port) of instance \(candidate) is in use by a process without a reservation\(held)")
                    }
                    continue
                }
                let reservation = Reservation(
                    service: definition.name, environment: environment, instance: candidate, owner: wanted,
                    command: command, since: now, expires: ttl.map { now + Int64($0) }, ports: ports)
                try store.insert(reservation)
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
        return try ReservationStore.with(stateDirectory) { store in
            var lives = store.probe()
            return try store.transaction {
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
                        force: Bool = false, stateDirectory: [UInt8]?) throws -> Bool {
        let definition = try self.service(named: service)
        try checkInstance(definition, instance)
        try Self.checkOwner(owner)
        let asker = try askingOwner(owner, definition, instance)
        let environment = self.environment?.name ?? ""
        return try ReservationStore.with(stateDirectory) { store in
            var lives = store.probe()
            return try store.transaction {
                let now = Int64(time(nil))
                try store.reapAllIfDue(now: now, &lives)
                guard let id = try store.heldInstance(service: definition.name, environment: environment, instance: instance,
                                                      now: now, &lives),
                      let holder = try store.owner(id: id) else {
                    return false
                }
                guard force || holder == asker else {
                    let held = try store.reservation(id: id, &lives)  // whole, for the message
                    throw PortManagerError.notOwner(service: definition.name, instance: instance,
                                                    reason: "reserved by \(held?.ownerDescription ?? Self.describe(holder)), not by \(Self.describe(asker)); release it as its owner, or force it (--force in the CLI)")
                }
                try store.delete(id)
                Log.emit(.info, Log.event("port_manager_released", [
                    ("service", definition.name), ("instance", String(instance)),
                    ("owner", RegistryBuilder.truncated(holder.text)),
                ]))
                return true
            }
        }
    }

    /// Extends a reservation: it now expires `ttl` seconds from now.
    ///
    /// - Throws: ``PortManagerError/notOwner(service:instance:reason:)`` when the
    ///   instance is not reserved or is reserved by someone else, or as ``release(_:instance:owner:force:stateDirectory:)``.
    public func renew(_ service: String, instance: Int, ttl: Int, owner: ReservationOwner = .thisProcess,
                      stateDirectory: [UInt8]?) throws -> Reservation {
        let definition = try self.service(named: service)
        try checkInstance(definition, instance)
        try Self.checkOwner(owner)
        try Self.checkTTL(ttl)
        let asker = try askingOwner(owner, definition, instance)
        let environment = self.environment?.name ?? ""
        return try ReservationStore.with(stateDirectory) { store in
            var lives = store.probe()
            return try store.transaction {
                let now = Int64(time(nil))
                try store.reapAllIfDue(now: now, &lives)
                guard let id = try store.heldInstance(service: definition.name, environment: environment, instance: instance,
                                                      now: now, &lives),
                      let held = try store.reservation(id: id, &lives) else {
                    throw PortManagerError.notOwner(service: definition.name, instance: instance,
                                                    reason: "is not reserved (released or expired); reserve it again")
                }
                guard held.owner == asker else {
                    throw PortManagerError.notOwner(service: definition.name, instance: instance,
                                                    reason: "reserved by \(held.ownerDescription), not by \(Self.describe(asker))")
                }
                var renewed = held
                renewed.expires = now + Int64(ttl)
                try store.setExpiry(id, renewed.expires)
                return renewed
            }
        }
    }

    /// Every reservation in the store (of every registry and environment), or
    /// those of one service of this registry, after reaping expired and dead-owner ones.
    public func reservations(_ service: String? = nil, stateDirectory: [UInt8]?) throws -> [Reservation] {
        let name = try service.map { try self.service(named: $0).name }
        return try ReservationStore.with(stateDirectory) { store in
            var lives = store.probe()
            // Every row shown is judged (each owner's pid read once): when none
            // has ended, the snapshot is shown as it is, without the write lock;
            // else everything is reaped first.
            let now = Int64(time(nil))
            if let shown = try store.reading({ try store.anyEnded(now: now, &lives) ? nil : store.all(service: name, &lives) }) {
                return shown
            }
            return try store.transaction {
                try store.reapAll(now: Int64(time(nil)), &lives)
                return try store.all(service: name, &lives)
            }
        }
    }

    /// Every host port of one instance, ascending, each with its port's name.
    func reservedPorts(_ definition: ServiceDefinition, _ instance: Int) -> [ReservedPort] {
        var ports: [ReservedPort] = []
        for port in definition.ports {
            let first = port.base + instance * definition.increment + offset
            ports += (first..<(first + port.count)).map { ReservedPort(name: port.name, port: $0, protocols: port.protocols) }
        }
        return ports.sorted { $0.port < $1.port }
    }

    private func askingOwner(_ owner: ReservationOwner, _ definition: ServiceDefinition, _ instance: Int) throws -> Reservation.Owner {
        if owner == .thisProcess { return .process(try ProcessIdentity.current()) }
        return .name(Self.ownerName(owner, container: try containerName(definition.name, instance: instance)))
    }

    private static func ownerName(_ owner: ReservationOwner, container: String) -> OwnerName {
        if case .name(let name) = owner { return name }
        return OwnerName(container)
    }

    private static func describe(_ owner: Reservation.Owner) -> String {
        switch owner {
        case .name(let name): return RegistryBuilder.quote(name.text)
        case .process(let p): return "process \(p.pid)"
        }
    }

    private static func checkOwner(_ owner: ReservationOwner) throws {
        guard case .name(let name) = owner else { return }
        guard !name.bytes.isEmpty else { throw PortManagerError.invalidArgument("the owner name is empty") }
        guard name.bytes.count <= ReservationOwner.maxLength else {
            throw PortManagerError.invalidArgument("the owner name \(RegistryBuilder.quote(name.text)) is longer than \(ReservationOwner.maxLength) bytes")
        }
        guard !name.bytes.contains(0) else {
            throw PortManagerError.invalidArgument("the owner name \(RegistryBuilder.quote(name.text)) holds a NUL byte")
        }
    }

    /// The TTLs a reservation accepts, in seconds: 1 second to 100 years.
    public static let ttlRange: ClosedRange<Int> = 1...(100 * 365 * 86_400)

    private static func checkTTL(_ ttl: Int) throws {
        guard ttlRange.contains(ttl) else {
            throw PortManagerError.invalidArgument("the TTL \(ttl) is outside \(ttlRange.lowerBound)..\(ttlRange.upperBound) seconds")
        }
    }

    /// ``reserve(_:instance:owner:ttl:probe:stateDirectory:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func reserve(_ service: String, instance: Int? = nil, owner: ReservationOwner = .thisProcess,
                        ttl: Int? = nil, probe: Bool = true, stateDirectory: String? = nil) throws -> Reservation {
        try reserve(service, instance: instance, owner: owner, ttl: ttl, probe: probe,
                    stateDirectory: stateDirectory.map { Array($0.utf8) })
    }

    /// ``release(_:instance:owner:force:stateDirectory:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    @discardableResult
    public func release(_ service: String, instance: Int, owner: ReservationOwner = .thisProcess,
                        force: Bool = false, stateDirectory: String? = nil) throws -> Bool {
        try release(service, instance: instance, owner: owner, force: force, stateDirectory: stateDirectory.map { Array($0.utf8) })
    }

    /// ``renew(_:instance:ttl:owner:stateDirectory:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func renew(_ service: String, instance: Int, ttl: Int, owner: ReservationOwner = .thisProcess,
                      stateDirectory: String? = nil) throws -> Reservation {
        try renew(service, instance: instance, ttl: ttl, owner: owner, stateDirectory: stateDirectory.map { Array($0.utf8) })
    }

    /// ``reservations(_:stateDirectory:)-([UInt8]?)`` with the directory as text (its UTF-8 bytes).
    public func reservations(_ service: String? = nil, stateDirectory: String? = nil) throws -> [Reservation] {
        try reservations(service, stateDirectory: stateDirectory.map { Array($0.utf8) })
    }
}

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
        /// A name (a workflow ID, a job): the reservation lasts until
        /// released, or until its TTL runs out.
        case name(OwnerName)
        /// A Docker container, by name: the reservation lasts while a container
        /// of that name exists on the engine (running or stopped), until
        /// released, or until its TTL (if any) runs out. It is reaped only when
        /// the engine answers that no such container exists (``ContainerLookup``).
        case container(OwnerName)

        /// The owner's kind as JSON and the store spell it: `process`, `name` or `container`.
        public var kind: String {
            switch self {
            case .process: return "process"
            case .name: return "name"
            case .container: return "container"
            }
        }

        /// The owner as JSON and messages show it: the name or container name
        /// (``OwnerName/text``), or `process 1234`.
        public var text: String {
            switch self {
            case .name(let name), .container(let name): return name.text
            case .process(let p): return "process \(p.pid)"
            }
        }

        /// The container's name of a container owner, else nil.
        public var container: OwnerName? {
            if case .container(let name) = self { return name }
            return nil
        }

        /// The owner for messages without its command: `'wf-1'`, `container 'kafka-1'`
        /// or `process 1234` (names escaped and cut at 64 characters).
        var shortDescription: String {
            switch self {
            case .name(let name): return RegistryBuilder.quote(name.text)
            case .container(let name): return "container " + RegistryBuilder.quote(name.text)
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
    /// True when the call that returned it created it; false when the same
    /// owner already held it (a retry: ``Registry/reserve(_:instance:owner:ttl:probe:adopt:stateDirectory:containers:)-([UInt8]?)``
    /// renewed it), and for a reservation read from the store. A failure path
    /// releases only a fresh reservation: one that is not fresh was the owner's before.
    public var fresh = false

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
    /// `container 'kafka-1'`, or `process 1234 ('sleep')`. Text from the store
    /// reaches messages only this way.
    public var ownerDescription: String {
        guard case .process = owner else { return owner.shortDescription }
        return owner.shortDescription + (command.map { " (\(RegistryBuilder.quote($0)))" } ?? "")
            + (liveness == .unknown ? " in another PID namespace (liveness unknown)" : "")
    }

    /// Each port name with its first host port, in ascending port order.
    public var portsByName: [(name: String, port: Int)] {
        var seen = Set<String>()
        return ports.filter { seen.insert($0.name).inserted }.map { ($0.name, $0.port) }
    }

    /// The owner as JSON and messages show it: the name or container name (``OwnerName/text``), or `process 1234`.
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
    /// `owner_kind` (`process`, `name` or `container`), `pid`, `pid_namespace` (the inode of
    /// the owner's PID namespace, or null), `liveness` (`alive`, `unknown` for
    /// an owner in another PID namespace, or null), `command`, `since`, `expires`
    /// (seconds since the epoch, or null), `ports` (name -> first host port) and
    /// `host_ports` (every host port). The schema of `pm_reservations_json`.
    public var json: String { jsonValue.compact() }

    /// ``json`` as a value: the one encoder of a reservation's keys, which
    /// `pm_reservations_json` writes compact and the CLI's `--json` indented.
    public var jsonValue: JSONValue {
        .object([
            ("service", .string(service)), ("environment", .string(environment)), ("instance", .int(instance)),
            ("owner", .string(ownerText)), ("owner_kind", .string(owner.kind)), ("pid", .optional(pid)),
            ("pid_namespace", pidNamespace.map { .raw(String($0)) } ?? .null),
            ("liveness", .optional(liveness?.rawValue)), ("command", .optional(command)),
            ("since", .raw(String(since))), ("expires", expires.map { .raw(String($0)) } ?? .null),
            ("ports", .object(portsByName.map { ($0.name, JSONValue.int($0.port)) })),
            ("host_ports", .array(ports.map { .int($0.port) })),
        ])
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

/// Who a reservation is asked for (and who asks to release, renew or bind it).
public enum ReservationOwner: Sendable, Hashable {
    /// The calling process (``Reservation/Owner/process(_:)``).
    case thisProcess
    /// A given process, such as the caller's parent (``ProcessIdentity/parent()``:
    /// the command-line tool's default owner, the shell or script that ran it).
    case process(ProcessIdentity)
    /// A name (``Reservation/Owner/name(_:)``): any bytes but NUL, 1 to ``maxLength`` of them.
    case name(OwnerName)
    /// A Docker container by name (``Reservation/Owner/container(_:)``): a valid
    /// Docker container name (``containerNamePattern``), a leading `/` dropped.
    case container(OwnerName)
    /// The container name of the instance (`kafka-development-1`), known once the
    /// instance is chosen, as a container owner (``Reservation/Owner/container(_:)``).
    case containerName

    /// The longest owner name, in UTF-8 bytes.
    public static let maxLength = 1024

    /// Docker's rule for container names, which a container owner must follow.
    public static let containerNamePattern = "[a-zA-Z0-9][a-zA-Z0-9_.-]+"
}

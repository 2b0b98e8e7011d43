import CPortManagerHeader

/// The transport protocols a port is published for: TCP (the default), UDP,
/// or both. Written `tcp`, `udp` or `tcp+udp` in the registry
/// (`{host: 6831, protocol: udp}`). Also used for one protocol alone.
public struct PortProtocols: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// TCP: the header's `PM_PROTOCOL_TCP`.
    public static let tcp = PortProtocols(rawValue: Int32(truncatingIfNeeded: PM_PROTOCOL_TCP.rawValue))
    /// UDP: the header's `PM_PROTOCOL_UDP`.
    public static let udp = PortProtocols(rawValue: Int32(truncatingIfNeeded: PM_PROTOCOL_UDP.rawValue))
    /// TCP and UDP (`tcp+udp`; the header's `PM_PROTOCOL_BOTH`).
    public static let both: PortProtocols = [.tcp, .udp]

    /// Every spelling the registry accepts, in the order they are suggested.
    public static let spellings = ["tcp", "udp", "tcp+udp"]

    /// `tcp`, `udp` or `tcp+udp`; nil for anything else.
    public init?(spelling: String) {
        switch spelling {
        case "tcp": self = .tcp
        case "udp": self = .udp
        case "tcp+udp": self = .both
        default: return nil
        }
    }

    /// `tcp`, `udp` or `tcp+udp`.
    public var name: String {
        switch self {
        case .tcp: return "tcp"
        case .udp: return "udp"
        case .both: return "tcp+udp"
        default: return "none"
        }
    }

    public var description: String { name }

    /// The single protocols in the set, TCP first.
    public var members: [PortProtocols] { [PortProtocols.tcp, .udp].filter { contains($0) } }
}

/// Where a port listens inside its container (docs/registry.md, "Container
/// ports"), written as the `container` key of a port mapping.
public enum ContainerPort: Sendable, Hashable {
    /// The base port, the same for every instance: what the stock image
    /// listens on (`redis` instance 1: `6479:6379`). The default.
    case base
    /// A fixed port, the first of a range (`container: 8080`).
    case fixed(Int)
    /// The host port of each instance (`container: host`), for an image whose
    /// listener follows the port it is published on, as the original spec's
    /// Kafka does (`9192:9192`).
    case host

    /// The spelling of ``host`` in the registry.
    public static let hostSpelling = "host"
}

/// One named port of a service: a single port, or a contiguous range that moves
/// with the instance as one block.
public struct PortDefinition: Sendable, Hashable {
    /// The key in the registry: `port` or a name ending in `_port`.
    public let name: String
    /// The first host port of instance 0.
    public let base: Int
    /// How many consecutive ports: 1 for a single port, more for a range.
    public let count: Int
    /// Where it listens inside the container: the base port unless the registry says otherwise.
    public let container: ContainerPort
    /// Where the port is defined.
    public let location: SourceLocation
    /// The protocols it is published for (`protocol:`); TCP by default.
    public let protocols: PortProtocols
    /// The one host address it is published on (`host_ip:` of the port or of its
    /// service), or nil for every address (Docker's 0.0.0.0 and [::]).
    public let hostIP: IPAddress?

    /// Creates a port definition. The registry builder validates the numbers.
    public init(name: String, base: Int, count: Int = 1, container: ContainerPort = .base, location: SourceLocation,
                protocols: PortProtocols = .tcp, hostIP: IPAddress? = nil) {
        self.name = name
        self.base = base
        self.count = count
        self.container = container
        self.location = location
        self.protocols = protocols
        self.hostIP = hostIP
    }

    /// The same port published on `hostIP`.
    public func with(hostIP: IPAddress?) -> PortDefinition {
        PortDefinition(name: name, base: base, count: count, container: container, location: location,
                       protocols: protocols, hostIP: hostIP)
    }

    /// The first port inside the container when it is the same for every
    /// instance (the base port, or a fixed one); nil when it follows the host
    /// port (``ContainerPort/host``). `pm_port_definition`'s `out_container`.
    public var containerPort: Int? {
        switch container {
        case .base: return base
        case .fixed(let port): return port
        case .host: return nil
        }
    }

    /// True when the port is a range of more than one port.
    public var isRange: Bool { count > 1 }

    /// The last host port of instance 0.
    public var baseLast: Int { base + count - 1 }

    /// `9092` or `31001-31003`.
    public var baseText: String { count == 1 ? String(base) : "\(base)-\(baseLast)" }
}

/// A service as the registry defines it.
public struct ServiceDefinition: Sendable, Hashable {
    /// The registry key, for example `kafka`.
    public let name: String
    /// Its named ports, in source order.
    public let ports: [PortDefinition]
    /// How far every port moves from one instance to the next (`instance_increment`).
    public let increment: Int
    /// How many instances may run: IDs `0..<maxInstances` (`max_instances`).
    public let maxInstances: Int
    /// The container name of instance 0; instance N appends `-N` (`container_name`).
    public let containerStem: String
    /// The volume name of instance 0; instance N appends `-N` (`volume_name`).
    public let volumeStem: String
    /// The container image (`image`), such as `apache/kafka`; nil when the registry names none.
    public let image: String?
    /// Where the service is defined.
    public let location: SourceLocation

    /// The default increment when a service does not set `instance_increment`.
    public static let defaultIncrement = 100
    /// The default `max_instances`.
    public static let defaultMaxInstances = 10

    /// Creates a service. The registry builder validates it.
    public init(
        name: String, ports: [PortDefinition],
        increment: Int = ServiceDefinition.defaultIncrement,
        maxInstances: Int = ServiceDefinition.defaultMaxInstances,
        containerStem: String? = nil, volumeStem: String? = nil,
        image: String? = nil,
        location: SourceLocation
    ) {
        self.name = name
        self.ports = ports
        self.increment = increment
        self.maxInstances = maxInstances
        let stem = ServiceDefinition.defaultStem(for: name)
        self.containerStem = containerStem ?? stem
        self.volumeStem = volumeStem ?? stem + "-data"
        self.image = image
        self.location = location
    }

    /// The stem a service name gives when the registry sets none:
    /// underscores become dashes (`my_new_service` → `my-new-service`).
    public static func defaultStem(for name: String) -> String {
        String(decoding: name.utf8.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 }, as: UTF8.self)
    }

    /// The port named `name`, if the service has one.
    public func port(named name: String) -> PortDefinition? {
        ports.first { $0.name == name }
    }

    /// The names of the service's ports, in source order.
    public var portNames: [String] { ports.map(\.name) }
}

/// A named environment: a port offset added to every host port, so that
/// several environments (say `dev` and `ci`) can share one host.
public struct EnvironmentDefinition: Sendable, Hashable {
    /// The name, for example `ci`.
    public let name: String
    /// Added to every host port.
    public let offset: Int
    /// Where it is defined.
    public let location: SourceLocation

    /// Creates an environment.
    public init(name: String, offset: Int, location: SourceLocation) {
        self.name = name
        self.offset = offset
        self.location = location
    }
}

/// One allocated port (or range) of one service instance.
public struct Allocation: Sendable, Hashable {
    /// The service name.
    public let service: String
    /// The instance ID.
    public let instance: Int
    /// The port name (`type=` in the log line).
    public let portName: String
    /// The first host port.
    public let hostPort: Int
    /// The last host port; equal to ``hostPort`` unless the port is a range.
    public let hostPortLast: Int
    /// The first port inside the container.
    public let containerPort: Int
    /// The last port inside the container.
    public let containerPortLast: Int
    /// The registry's base port for instance 0 (before any environment offset).
    public let base: Int
    /// The service's increment.
    public let increment: Int
    /// The protocols the port is published for.
    public var protocols: PortProtocols = .tcp
    /// The one host address it is published on, or nil for every address.
    public var hostIP: IPAddress? = nil

    /// `9192` or `31101-31103`.
    public var hostText: String { hostPort == hostPortLast ? String(hostPort) : "\(hostPort)-\(hostPortLast)" }
    /// `9192` or `31101-31103`, inside the container.
    public var containerText: String {
        containerPort == containerPortLast ? String(containerPort) : "\(containerPort)-\(containerPortLast)"
    }
    /// True when the port inside the container is neither the host port nor
    /// the base port, so a line that shows both (the log line, the summary)
    /// must show it too: a fixed `container:` such as ArgoCD's 8080.
    public var containerIsNotable: Bool { containerPort != hostPort && containerPort != base }

    /// The docker/compose mapping, host then container: `9192:9092`.
    public var mapping: String { "\(hostText):\(containerText)" }

    /// The docker compose `ports:` entries: one per protocol, with the host IP
    /// when there is one and `/udp` for UDP (TCP is compose's default):
    /// `9192:9092`, `127.0.0.1:9192:9092`, `6831:6831/udp`, `[::1]:53:53/udp`.
    public var composeMappings: [String] {
        let prefix = hostIP.map { $0.bracketed + ":" } ?? ""
        return protocols.members.map { prefix + mapping + ($0 == .udp ? "/udp" : "") }
    }
}

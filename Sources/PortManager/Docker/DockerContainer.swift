import PortManagerCore

/// One container the Docker engine knows, running or not.
public struct DockerContainer: Sendable, Hashable {
    /// The full ID (64 hexadecimal digits).
    public var id: String
    /// The name, without Docker's leading `/`.
    public var name: String
    /// The engine's state: `created`, `running`, `paused`, `restarting`,
    /// `removing`, `exited` or `dead`.
    public var state: String
    /// Its labels (`io.portmanager.service`, ...), empty when it has none.
    public var labels: [String: String]
    /// The host ports it publishes now, sorted (by host port, protocol, host IP,
    /// container port). A stopped container publishes none.
    public var ports: [DockerPublishedPort]

    /// True when ``state`` is `running`.
    public var isRunning: Bool { state == "running" }

    /// A container with these fields.
    public init(id: String, name: String, state: String, labels: [String: String] = [:], ports: [DockerPublishedPort] = []) {
        self.id = id
        self.name = name
        self.state = state
        self.labels = labels
        self.ports = ports.sorted()
    }
}

/// One host port a container publishes.
public struct DockerPublishedPort: Sendable, Hashable, Comparable {
    /// The host address it is bound to: `0.0.0.0`, `::`, `127.0.0.1`, ...
    /// (empty when the engine names none).
    public var hostIP: String
    /// The port on the host.
    public var hostPort: UInt16
    /// The port inside the container.
    public var containerPort: UInt16
    /// `tcp`, `udp` or `sctp`, as the engine writes it.
    public var `protocol`: String

    /// A published port with these fields.
    public init(hostIP: String, hostPort: UInt16, containerPort: UInt16, protocol: String) {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.protocol = `protocol`
    }

    /// Ordered by host port, then protocol, host IP and container port.
    public static func < (a: DockerPublishedPort, b: DockerPublishedPort) -> Bool {
        (a.hostPort, a.protocol, a.hostIP, a.containerPort) < (b.hostPort, b.protocol, b.hostIP, b.containerPort)
    }
}

/// The two shapes the engine describes a container in: an entry of
/// `GET /containers/json` (`Names`, `State` a string, `Labels`, `Ports` an
/// array with `PublicPort` numbers) and the answer of
/// `GET /containers/{name}/json` (`Name`, `State.Status`, `Config.Labels`,
/// `NetworkSettings.Ports` an object of `"80/tcp": [{"HostIp", "HostPort"}]`).
/// Fields not read here are ignored; a field read here of another kind is
/// refused, naming it.
extension DockerContainer {
    /// Reads an entry of `GET /containers/json`.
    init(listEntry value: ParsedJSON) throws(ShapeError) {
        let id = try Self.text(value["Id"], "Id")
        let context = "container " + RegistryBuilder.quote(id)
        guard case .array(let names)? = value["Names"] else { throw ShapeError("\(context): 'Names' is \(value["Names"]?.kind ?? "missing"), not an array") }
        var all: [String] = []
        for name in names {
            guard let text = name.string else { throw ShapeError("\(context): 'Names' holds \(name.kind), not a string") }
            all.append(text)
        }
        // Besides its own name (`/web`), a container linked to others lists
        // their aliases for it (`/other/web`).
        guard let name = all.first(where: { !$0.dropFirst().contains("/") }) ?? all.first else {
            throw ShapeError("\(context): 'Names' is empty")
        }
        var ports: [DockerPublishedPort] = []
        switch value["Ports"] {
        case nil, .null?: break
        case .array(let entries)?:
            for entry in entries {
                // An exposed port that is not published has no PublicPort.
                guard let hostPort = entry["PublicPort"], hostPort != .null else { continue }
                ports.append(DockerPublishedPort(
                    hostIP: try Self.text(entry["IP"], "Ports[].IP", context, optional: true),
                    hostPort: try Self.port(hostPort.integer, "Ports[].PublicPort", context),
                    containerPort: try Self.port(entry["PrivatePort"]?.integer, "Ports[].PrivatePort", context),
                    protocol: try Self.text(entry["Type"], "Ports[].Type", context)))
            }
        case let other?:
            throw ShapeError("\(context): 'Ports' is \(other.kind), not an array")
        }
        self.init(id: id, name: Self.withoutSlash(name),
                  state: try Self.text(value["State"], "State", context),
                  labels: try Self.labels(value["Labels"], "Labels", context), ports: ports)
    }

    /// Reads the answer of `GET /containers/{name}/json`.
    init(inspection value: ParsedJSON) throws(ShapeError) {
        let id = try Self.text(value["Id"], "Id")
        let context = "container " + RegistryBuilder.quote(id)
        var ports: [DockerPublishedPort] = []
        switch value["NetworkSettings"]?["Ports"] {
        case nil, .null?: break
        case .object(let byPort)?:
            for (key, bindings) in byPort {
                // "80/tcp": the container port and its protocol.
                let parts = key.split(separator: "/", maxSplits: 1)
                let containerPort = try Self.port(parts.first.flatMap { Int($0) }, "NetworkSettings.Ports key \(RegistryBuilder.quote(key))", context)
                let proto = parts.count == 2 ? String(parts[1]) : "tcp"
                switch bindings {
                case .null: continue   // exposed, not published
                case .array(let list):
                    for binding in list {
                        ports.append(DockerPublishedPort(
                            hostIP: try Self.text(binding["HostIp"], "NetworkSettings.Ports[].HostIp", context, optional: true),
                            hostPort: try Self.port(binding["HostPort"]?.string.flatMap { Int($0) }, "NetworkSettings.Ports[].HostPort", context),
                            containerPort: containerPort, protocol: proto))
                    }
                default:
                    throw ShapeError("\(context): 'NetworkSettings.Ports' \(RegistryBuilder.quote(key)) is \(bindings.kind), not an array")
                }
            }
        case let other?:
            throw ShapeError("\(context): 'NetworkSettings.Ports' is \(other.kind), not an object")
        }
        self.init(id: id, name: Self.withoutSlash(try Self.text(value["Name"], "Name", context)),
                  state: try Self.text(value["State"]?["Status"], "State.Status", context),
                  labels: try Self.labels(value["Config"]?["Labels"], "Config.Labels", context), ports: ports)
    }

    /// Why a JSON answer is not the shape expected.
    struct ShapeError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    private static func withoutSlash(_ name: String) -> String {
        name.hasPrefix("/") ? String(name.dropFirst()) : name
    }

    private static func text(_ value: ParsedJSON?, _ field: String, _ context: String = "a container",
                             optional: Bool = false) throws(ShapeError) -> String {
        if let text = value?.string { return text }
        if optional, value == nil || value == .null { return "" }
        throw ShapeError("\(context): '\(field)' is \(value?.kind ?? "missing"), not a string")
    }

    private static func port(_ value: Int?, _ field: String, _ context: String) throws(ShapeError) -> UInt16 {
        guard let value, let port = UInt16(exactly: value) else {
            throw ShapeError("\(context): \(field) is not a port number (0-65535)")
        }
        return port
    }

    private static func labels(_ value: ParsedJSON?, _ field: String, _ context: String) throws(ShapeError) -> [String: String] {
        switch value {
        case nil, .null?: return [:]
        case .object(let members)?:
            var labels: [String: String] = [:]
            for (key, value) in members {
                guard let text = value.string else {
                    throw ShapeError("\(context): label \(RegistryBuilder.quote(key)) is \(value.kind), not a string")
                }
                labels[key] = text
            }
            return labels
        case let other?:
            throw ShapeError("\(context): '\(field)' is \(other.kind), not an object")
        }
    }
}

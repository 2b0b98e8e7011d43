/// One instance of one service, in the environment in force, resolved once
/// (``Registry/instance(_:_:)``): every port with its protocols, host IP, host
/// ports and container ports, the container name, the volume name and the
/// labels. Everything the library and its callers say about an instance (the
/// CLI's `get`, `env`, `compose` and `docker-args`, the probe of its ports,
/// `pm_instance_docker_json`, `pm_instance_env`) is read from here, so the
/// formula and the naming rules are applied in one place.
///
/// Resolving an instance is reading, not allocating: nothing is logged. The
/// entry points that allocate for a caller (`pm_get_port`, Python's
/// `get_port`, `portmanager get`) log through ``Registry/allocate(_:instance:name:)``.
public struct ServiceInstance: Sendable, Hashable {
    /// The service, as the registry defines it.
    public let definition: ServiceDefinition
    /// The instance ID, in `0..<definition.maxInstances`.
    public let instance: Int
    /// The environment in force, or nil for none.
    public let environment: EnvironmentDefinition?
    /// Every port (or range), in source order.
    public let ports: [Allocation]
    /// The container name (``Naming``).
    public let containerName: String
    /// The volume name (``Naming``).
    public let volumeName: String

    /// Resolves `instance` of `definition` under `environment`. The caller
    /// (``Registry/instance(_:_:)``) has checked the instance.
    init(definition: ServiceDefinition, instance: Int, environment: EnvironmentDefinition?) {
        self.definition = definition
        self.instance = instance
        self.environment = environment
        let offset = environment?.offset ?? 0
        self.ports = definition.ports.map { definition.allocation($0, instance: instance, offset: offset) }
        self.containerName = Naming.instanceName(definition.containerStem, environment: environment?.name,
                                                 instance: instance)
        self.volumeName = Naming.instanceName(definition.volumeStem, environment: environment?.name,
                                              instance: instance)
    }

    /// The service name.
    public var service: String { definition.name }

    /// The environment's name, `""` for none (as reservations and labels write it).
    public var environmentName: String { environment?.name ?? "" }

    /// The port named `name`.
    ///
    /// - Throws: ``PortManagerError/unknownPort(service:port:available:)``.
    public func port(named name: String) throws -> Allocation {
        guard let port = ports.first(where: { $0.portName == name }) else {
            throw PortManagerError.unknownPort(service: service, port: name, available: definition.portNames)
        }
        return port
    }

    /// The labels every container portmanager describes carries
    /// (``InstanceLabel``), in the order of ``InstanceLabel/keys``.
    public var labels: [InstanceLabel] {
        [InstanceLabel(key: InstanceLabel.serviceKey, value: service),
         InstanceLabel(key: InstanceLabel.instanceKey, value: String(instance)),
         InstanceLabel(key: InstanceLabel.environmentKey, value: environmentName)]
    }
}

/// One container label: `io.portmanager.service=kafka`. The keys are written
/// here and nowhere else; a Docker client that looks for an instance's
/// container filters by them.
public struct InstanceLabel: Sendable, Hashable {
    /// The service name (`kafka`).
    public static let serviceKey = "io.portmanager.service"
    /// The instance ID in decimal (`1`).
    public static let instanceKey = "io.portmanager.instance"
    /// The environment's name, `""` for none.
    public static let environmentKey = "io.portmanager.environment"
    /// Every key, in the order an instance lists its labels.
    public static let keys = [serviceKey, instanceKey, environmentKey]

    /// The key, one of ``keys``.
    public let key: String
    /// The value.
    public let value: String

    /// Creates a label.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// `key=value`, as `docker run --label` takes it.
    public var assignment: String { key + "=" + value }
}

/// The original spec's formula, `final_port = base_port + instance_id *
/// instance_increment` (plus an environment's offset), written once: every
/// port the library, the analysis and the store compute comes from here.
@inline(__always)
public func instancePort(base: Int, instance: Int, increment: Int, offset: Int = 0) -> Int {
    base + instance * increment + offset
}

extension ServiceDefinition {
    /// The first host port of `port` for `instance`, under an environment
    /// offset (``instancePort(base:instance:increment:offset:)``).
    @inline(__always)
    public func hostPort(_ port: PortDefinition, instance: Int, offset: Int) -> Int {
        instancePort(base: port.base, instance: instance, increment: increment, offset: offset)
    }

    /// One port of one instance, resolved.
    func allocation(_ port: PortDefinition, instance: Int, offset: Int) -> Allocation {
        let host = hostPort(port, instance: instance, offset: offset)
        let container = port.containerPort ?? host
        var result = Allocation(service: name, instance: instance, portName: port.name,
                                hostPort: host, hostPortLast: host + port.count - 1,
                                containerPort: container, containerPortLast: container + port.count - 1,
                                base: port.base, increment: increment)
        result.protocols = port.protocols
        result.hostIP = port.hostIP
        return result
    }
}

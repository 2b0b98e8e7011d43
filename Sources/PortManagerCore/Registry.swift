/// A validated port registry: the services, their ports, and the environment
/// whose offset every host port includes.
///
/// A `Registry` is an immutable value, so one instance can be shared by any
/// number of threads. Build one with ``RegistryBuilder`` (from a ``YAMLNode``)
/// or, in the `PortManager` module, load one from YAML text or a file.
public struct Registry: Sendable {
    /// Where the registry came from: a file path, or a name such as `<memory>`.
    public let source: String
    /// The services, in source order.
    public let services: [ServiceDefinition]
    /// The environments the registry defines (`_environments`), in source order.
    public let environments: [EnvironmentDefinition]
    /// The environment in force, or nil for none (offset 0).
    public let environment: EnvironmentDefinition?

    /// The allocation-free index behind ``hostPort(service:instance:port:)``.
    package let table: LookupTable

    /// The did-you-mean search over the service names, built on its first use.
    package let nameIndex: NameIndex

    /// Creates a registry from validated parts. ``RegistryBuilder`` is the usual way in.
    public init(source: String, services: [ServiceDefinition], environments: [EnvironmentDefinition] = []) {
        self.init(source: source, services: services, environments: environments, environment: nil)
    }

    private init(source: String, services: [ServiceDefinition], environments: [EnvironmentDefinition],
                 environment: EnvironmentDefinition?, nameIndex: NameIndex? = nil) {
        self.source = source
        self.services = services
        self.environments = environments
        self.environment = environment
        self.table = LookupTable(services, offset: environment?.offset ?? 0)
        self.nameIndex = nameIndex ?? NameIndex(services.map(\.name))
    }

    /// The offset of the environment in force (0 when none).
    public var offset: Int { environment?.offset ?? 0 }

    /// The same registry with `name`'s offset in force; `nil` selects no environment.
    ///
    /// - Throws: ``PortManagerError/unknownEnvironment(_:available:)`` when the registry
    ///   does not define `name`, and ``PortManagerError/invalidRegistry(_:)`` when the
    ///   offset would push a port of some instance outside 1...65535.
    public func selecting(environment name: String?) throws -> Registry {
        guard let name else {
            return Registry(source: source, services: services, environments: environments, environment: nil,
                            nameIndex: nameIndex)
        }
        guard let env = environments.first(where: { $0.name == name }) else {
            throw PortManagerError.unknownEnvironment(name, available: environments.map(\.name))
        }
        var problems: [Diagnostic] = []
        for service in services {
            for port in service.ports {
                let low = port.base + env.offset
                let high = instancePort(base: port.baseLast, instance: service.maxInstances - 1,
                                        increment: service.increment, offset: env.offset)
                if low < 1 || high > 65535 {
                    let bad = low < 1 ? low : high
                    problems.append(Diagnostic(env.location,
                        "environment '\(env.name)' (offset \(env.offset)) moves port '\(port.name)' of service '\(service.name)' to \(bad), outside 1..65535"))
                }
            }
        }
        if !problems.isEmpty { throw PortManagerError.invalidRegistry(problems) }
        return Registry(source: source, services: services, environments: environments, environment: env,
                        nameIndex: nameIndex)
    }

    // MARK: Lookup

    /// The index of a service in ``services``, from its UTF-8 name.
    @inline(__always)
    package func serviceIndex(utf8 name: UnsafeRawBufferPointer) -> Int? {
        table.service(name)
    }

    /// The index of a service in ``services``.
    public func serviceIndex(named name: String) -> Int? {
        name.withUTF8Bytes { table.service($0) }
    }

    /// The service called `name`.
    ///
    /// - Throws: ``PortManagerError/unknownService(_:suggestion:)``, with a near-miss suggestion.
    public func service(named name: String) throws -> ServiceDefinition {
        guard let index = serviceIndex(named: name) else { throw unknownService(name) }
        return services[index]
    }

    /// The names of every service, in source order.
    public var serviceNames: [String] { services.map(\.name) }

    /// The error for a service `name` that is not in the registry. Its
    /// did-you-mean is searched for (in ``nameIndex``) only when the message
    /// is read (``DidYouMean``): a miss costs about what a hit does.
    package func unknownService(_ name: String) -> PortManagerError {
        .unknownService(name, suggestion: .closestName(to: name, in: nameIndex))
    }

    // MARK: Allocation

    /// The host port of `portName` for `instance` of `service`, from their
    /// UTF-8 bytes: the hot path behind `pm_get_port`, which builds no string
    /// and allocates nothing unless it fails. A range gives its first port.
    ///
    /// The allocation is logged at ``LogLevel/info``.
    /// - Throws: ``PortManagerError/unknownService(_:suggestion:)``,
    ///   ``PortManagerError/unknownPort(service:port:available:)`` or
    ///   ``PortManagerError/instanceOutOfRange(service:instance:maxInstances:)``.
    @inline(__always)
    package func hostPort(service: UnsafeRawBufferPointer, instance: Int,
                          port: UnsafeRawBufferPointer) throws(PortManagerError) -> Int {
        if let id = Int32(exactly: instance) {
            let hit = table.lookup(service: service, instance: id, port: port)
            if hit.status == .ok {
                if Log.isEnabled(.info) {
                    let definition = services[Int(hit.service)]
                    Log.allocated(definition.allocation(definition.ports[Int(hit.portIndex)], instance: instance,
                                                        offset: offset))
                }
                return Int(hit.port)
            }
            if hit.status == .unknownService {
                throw unknownService(String(decoding: service.assumingMemoryBound(to: UInt8.self), as: UTF8.self))
            }
        }
        throw lookupError(service: service, instance: instance, port: port)
    }

    /// The error a failed lookup reports, with names and suggestions (the slow path).
    package func lookupError(service: UnsafeRawBufferPointer, instance: Int, port: UnsafeRawBufferPointer) -> PortManagerError {
        let name = String(decoding: service, as: UTF8.self)
        guard let s = table.service(service) else { return unknownService(name) }
        let definition = services[s]
        let portName = String(decoding: port, as: UTF8.self)
        guard definition.port(named: portName) != nil else {
            return .unknownPort(service: definition.name, port: portName, available: definition.portNames)
        }
        return .instanceOutOfRange(service: definition.name, instance: instance, maxInstances: definition.maxInstances)
    }

    /// One instance of `service`, resolved: its ports, names and labels. Not logged.
    ///
    /// - Throws: ``PortManagerError/unknownService(_:suggestion:)`` or
    ///   ``PortManagerError/instanceOutOfRange(service:instance:maxInstances:)``.
    public func instance(_ service: String, _ instance: Int) throws -> ServiceInstance {
        let definition = try self.service(named: service)
        try checkInstance(definition, instance)
        return ServiceInstance(definition: definition, instance: instance, environment: environment)
    }

    /// The host port of `portName` for `instance` of `service`; a range gives
    /// its first port. Not logged: ``allocate(_:instance:name:)`` is the call
    /// that allocates for a caller and logs.
    ///
    /// - Throws: ``PortManagerError/unknownService(_:suggestion:)``,
    ///   ``PortManagerError/unknownPort(service:port:available:)`` or
    ///   ``PortManagerError/instanceOutOfRange(service:instance:maxInstances:)``.
    public func port(_ service: String, instance: Int = 0, name portName: String = "port") throws -> Int {
        try allocation(service, instance: instance, name: portName).hostPort
    }

    /// How many ports ``ports(_:instance:)`` gives, after the same checks; it
    /// allocates and logs nothing (the size query of `pm_get_ports`).
    package func portCount(_ service: String, instance: Int) throws -> Int {
        let definition = try self.service(named: service)
        try checkInstance(definition, instance)
        return definition.ports.count
    }

    /// Every port of one instance, in source order. Not logged.
    public func ports(_ service: String, instance: Int = 0) throws -> [Allocation] {
        try self.instance(service, instance).ports
    }

    /// One port of one instance, with its range and container side. Not logged.
    ///
    /// The service is looked up first, then the port, then the instance is
    /// checked: the order of `pm_get_port`'s errors.
    public func allocation(_ service: String, instance: Int = 0, name portName: String = "port") throws -> Allocation {
        let definition = try self.service(named: service)
        guard let port = definition.port(named: portName) else {
            throw PortManagerError.unknownPort(service: service, port: portName, available: definition.portNames)
        }
        try checkInstance(definition, instance)
        return definition.allocation(port, instance: instance, offset: offset)
    }

    /// One port of one instance, allocated for a caller: as
    /// ``allocation(_:instance:name:)``, and logged at ``LogLevel/info`` in the
    /// original spec's form (``Log/allocationMessage(_:)``). The original
    /// spec's `get_port(service, instance_id, port_type)`.
    public func allocate(_ service: String, instance: Int = 0, name portName: String = "port") throws -> Allocation {
        let result = try allocation(service, instance: instance, name: portName)
        if Log.isEnabled(.info) { Log.allocated(result) }
        return result
    }

    /// Every port of one instance, allocated for a caller: as
    /// ``ports(_:instance:)``, each logged as ``allocate(_:instance:name:)`` logs.
    public func allocateAll(_ service: String, instance: Int = 0) throws -> [Allocation] {
        let result = try ports(service, instance: instance)
        if Log.isEnabled(.info) { result.forEach(Log.allocated) }
        return result
    }

    /// Every allocation of every instance of every service, in source order:
    /// the data behind a summary. Enumerating is not allocating, so nothing is logged.
    public func allAllocations() -> [Allocation] {
        services.flatMap { instances(of: $0).flatMap(\.ports) }
    }

    /// Every instance of `service` (a definition of this registry), in order. Not logged.
    public func instances(of service: ServiceDefinition) -> [ServiceInstance] {
        (0..<service.maxInstances).map { ServiceInstance(definition: service, instance: $0, environment: environment) }
    }

    /// The container name of an instance (``Naming``).
    public func containerName(_ service: String, instance: Int = 0) throws -> String {
        try self.instance(service, instance).containerName
    }

    /// The volume name of an instance (``Naming``).
    public func volumeName(_ service: String, instance: Int = 0) throws -> String {
        try self.instance(service, instance).volumeName
    }

    /// Throws ``PortManagerError/instanceOutOfRange(service:instance:maxInstances:)``
    /// unless `0 <= instance < definition.maxInstances`.
    public func checkInstance(_ definition: ServiceDefinition, _ instance: Int) throws {
        guard instance >= 0 && instance < definition.maxInstances else {
            throw PortManagerError.instanceOutOfRange(service: definition.name, instance: instance,
                                                      maxInstances: definition.maxInstances)
        }
    }
}

/// Container and volume naming, as in the original spec: `kafka-development`,
/// `kafka-development-1`, `kafka-data-2`; with an environment selected, its
/// name follows the stem (`kafka-development-ci`, `kafka-data-ci-2`), so two
/// environments on one host never share a container or a volume.
public enum Naming {
    /// `STEM[-ENVIRONMENT][-N]`: the stem, then the environment's name when one
    /// is selected, then `-N` for instance N > 0. Instance 0 with no environment
    /// is the stem itself, the original spec's name.
    public static func instanceName(_ stem: String, environment: String? = nil, instance: Int) -> String {
        var name = stem
        if let environment { name += "-" + environment }
        if instance != 0 { name += "-" + String(instance) }
        return name
    }

    /// True when `name` is a valid Docker container or volume name:
    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, at most 253 bytes.
    public static func isValidDockerName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard utf8.count >= 2, utf8.count <= 253, let first = utf8.first, isAlnum(first) else { return false }
        return utf8.dropFirst().allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// True when `text` can be a container image reference (`image` in the
    /// registry): `[a-zA-Z0-9][a-zA-Z0-9_.:/@+-]*`, at most 255 bytes. The
    /// characters of `registry:port/path:tag@digest`; no spaces, quotes or
    /// shell or YAML syntax.
    public static func isValidImageReference(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 255, let first = utf8.first, isAlnum(first) else { return false }
        return utf8.allSatisfy { b in
            isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
                || b == UInt8(ascii: ":") || b == UInt8(ascii: "/") || b == UInt8(ascii: "@") || b == UInt8(ascii: "+")
        }
    }

    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}

extension Registry {
    /// The container-side port of one port of one instance (the first of a
    /// range; docs/registry.md gives the rule). Not logged.
    public func containerPort(_ service: String, instance: Int = 0, name portName: String = "port") throws -> Int {
        try allocation(service, instance: instance, name: portName).containerPort
    }
}

/// Turns a parsed YAML document into a validated ``Registry``, collecting every
/// problem with its line and column rather than stopping at the first.
///
/// The rules are those of README's "Registry format": a top-level mapping of
/// service name to settings; `port` or `*_port` keys hold an integer 1..65535,
/// a range `"FIRST-LAST"`, or a mapping `{host: ..., container: PORT|RANGE|host,
/// protocol: tcp|udp|tcp+udp, host_ip: ADDRESS}`;
/// `instance_increment` (default 100), `max_instances` (default 10),
/// `container_name`, `volume_name`, `image` and `host_ip` (the default of its ports). A top-level `_environments` mapping names
/// port offsets. Nothing else is accepted.
///
/// This file walks the structure (services, environments, ports, keys);
/// RegistryValues.swift reads the single values, deciding types by
/// ``YAMLKind`` (YAMLScalar.swift).
public struct RegistryBuilder {
    /// The name used in diagnostics: a path, or `<memory>`.
    public let source: String
    private var diagnostics: [Diagnostic] = []

    /// Service-level keys other than ports.
    public static let serviceKeys = ["instance_increment", "max_instances", "container_name", "volume_name", "host_ip", "image"]
    /// Keys of a port written as a mapping.
    public static let portMappingKeys = ["host", "container", "protocol", "host_ip"]
    /// Top-level keys that are settings, not services. They begin with `_`,
    /// which no Docker name can, so they never shadow a service.
    public static let reservedTopLevelKeys = ["_environments"]

    /// Creates a builder whose diagnostics name `source`.
    public init(source: String) {
        self.source = source
    }

    /// Validates `root` and returns the registry.
    ///
    /// - Throws: ``PortManagerError/invalidRegistry(_:)`` with every problem found, in source order.
    public static func build(_ root: YAMLNode, source: String) throws -> Registry {
        var builder = RegistryBuilder(source: source)
        let (services, environments) = builder.registry(root)
        if !builder.diagnostics.isEmpty {
            let sorted = builder.diagnostics.enumerated().sorted {
                ($0.element.location.line, $0.element.location.column, $0.offset)
                    < ($1.element.location.line, $1.element.location.column, $1.offset)
            }.map(\.element)
            throw PortManagerError.invalidRegistry(sorted)
        }
        return Registry(source: source, services: services, environments: environments)
    }

    // MARK: Structure

    private mutating func registry(_ root: YAMLNode) -> ([ServiceDefinition], [EnvironmentDefinition]) {
        guard case .mapping(let entries, _, _) = root else {
            fail(root, "the registry must be a mapping of service names to settings, not \(root.kind)")
            return ([], [])
        }
        if entries.isEmpty { fail(root, "the registry defines no services") }
        var services: [ServiceDefinition] = []
        var environments: [EnvironmentDefinition] = []
        var seen: [String: Int] = [:]
        for (keyNode, value) in entries {
            guard let key = keyString(keyNode, what: "service name") else { continue }
            if let first = seen[key] {
                fail(keyNode, "duplicate service \(Self.quote(key)); first defined on line \(first)")
                continue
            }
            seen[key] = keyNode.line
            if key.hasPrefix("_") {
                if key == "_environments" {
                    environments = self.environments(value)
                } else {
                    fail(keyNode, "unknown registry setting \(Self.quote(key)); keys beginning with '_' are reserved"
                        + hint(key, Self.reservedTopLevelKeys))
                }
                continue
            }
            if let service = service(named: key, keyNode: keyNode, value) { services.append(service) }
        }
        return (services, environments)
    }

    private mutating func environments(_ node: YAMLNode) -> [EnvironmentDefinition] {
        guard case .mapping(let entries, _, _) = node else {
            fail(node, "_environments must be a mapping of environment name to port offset, not \(node.kind)")
            return []
        }
        var result: [EnvironmentDefinition] = []
        var seen: [String: Int] = [:]
        for (keyNode, value) in entries {
            guard let name = keyString(keyNode, what: "environment name") else { continue }
            if let first = seen[name] {
                fail(keyNode, "duplicate environment \(Self.quote(name)); first defined on line \(first)")
                continue
            }
            seen[name] = keyNode.line
            guard !name.isEmpty, name.utf8.allSatisfy({ Naming.isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else {
                fail(keyNode, "environment name \(Self.quote(name)) may hold only letters, digits, '_', '-' and '.'")
                continue
            }
            guard let offset = integer(value, what: "offset of environment \(Self.quote(name))") else { continue }
            guard offset >= -65535 && offset <= 65535 else {
                fail(value, "offset \(offset) of environment \(Self.quote(name)) is outside -65535..65535")
                continue
            }
            result.append(EnvironmentDefinition(name: name, offset: offset, location: location(keyNode)))
        }
        return result
    }

    private mutating func service(named name: String, keyNode: YAMLNode, _ node: YAMLNode) -> ServiceDefinition? {
        var quoted: String { Self.quote(name) }
        var valid = true
        if !Naming.isValidDockerName(name) {
            fail(keyNode, "service name \(quoted) is not a valid Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 253 characters)")
            valid = false
        }
        guard case .mapping(let entries, _, _) = node else {
            fail(node, "service \(quoted) must be a mapping of settings and ports, not \(node.kind)")
            return nil
        }
        var ports: [PortDefinition] = []
        var increment: Int?
        var maxInstances: Int?
        var containerStem: String?
        var volumeStem: String?
        var serviceHostIP: IPAddress?
        var image: String?
        var seen = SeenKeys()
        for (keyNode, value) in entries {
            guard let key = keyString(keyNode, what: "key of service \(quoted)") else { valid = false; continue }
            if let first = seen.line(of: key) {
                fail(keyNode, "duplicate key \(Self.quote(key)) in service \(quoted); first defined on line \(first)")
                valid = false
                continue
            }
            seen.add(key, line: keyNode.line)
            switch key {
            case "instance_increment":
                increment = integer(value, what: "instance_increment of service \(quoted)")
                if increment == nil { valid = false }
            case "max_instances":
                maxInstances = integer(value, what: "max_instances of service \(quoted)")
                if maxInstances == nil { valid = false }
            case "host_ip":
                serviceHostIP = hostIP(value, what: "host_ip of service \(quoted)")
                if serviceHostIP == nil { valid = false }
            case "container_name", "volume_name":
                if let stem = dockerName(value, what: "\(key) of service \(quoted)") {
                    if key == "container_name" { containerStem = stem } else { volumeStem = stem }
                } else {
                    valid = false
                }
            case "image":
                image = imageReference(value, what: "image of service \(quoted)")
                if image == nil { valid = false }
            default:
                if Self.isPortKey(key) {
                    if let port = port(named: key, keyNode: keyNode, value, service: quoted) {
                        ports.append(port)
                    } else {
                        valid = false
                    }
                } else {
                    fail(keyNode, "unknown key \(Self.quote(key)) in service \(quoted); port keys are 'port' or end in '_port'"
                        + hint(key, Self.serviceKeys + ["port"] + portSuggestion(key)))
                    valid = false
                }
            }
        }
        let location = location(keyNode)
        let inc = increment ?? ServiceDefinition.defaultIncrement
        let count = maxInstances ?? ServiceDefinition.defaultMaxInstances
        if ports.isEmpty && valid {
            fail(keyNode, "service \(quoted) defines no ports; add 'port' or a key ending in '_port'")
            return nil
        }
        if count < 1 {
            fail(entryValue(entries, "max_instances") ?? node, "max_instances of service \(quoted) is \(count); it must be at least 1")
            valid = false
        }
        if inc < 0 {
            fail(entryValue(entries, "instance_increment") ?? node, "instance_increment of service \(quoted) is \(inc); it must not be negative")
            valid = false
        } else if inc == 0 && count > 1 {
            fail(entryValue(entries, "instance_increment") ?? node,
                 "instance_increment of service \(quoted) is 0, so its \(count) instances would share ports; use a positive increment or max_instances: 1")
            valid = false
        }
        guard valid else { return nil }
        if let serviceHostIP {
            ports = ports.map { $0.hostIP == nil ? $0.with(hostIP: serviceHostIP) : $0 }
        }
        // The last instance must stay within 1...65535 (computed without overflow).
        for port in ports {
            let (span, overflow1) = (count - 1).multipliedReportingOverflow(by: inc)
            let (last, overflow2) = port.baseLast.addingReportingOverflow(span)
            if overflow1 || overflow2 || last > 65535 {
                let fits = (65535 - port.baseLast) / inc + 1
                let lastText = overflow1 || overflow2 ? "a port past 65535" : "port \(last)"
                fail(at: port.location,
                     "port \(Self.quote(port.name)) of service \(quoted): instance \(count - 1) would use \(lastText) (\(port.baseText) + \(count - 1) * \(inc)); lower max_instances to at most \(fits) or the base port")
                valid = false
            }
        }
        guard valid else { return nil }
        let service = ServiceDefinition(name: name, ports: ports, increment: inc, maxInstances: count,
                                        containerStem: containerStem, volumeStem: volumeStem, image: image,
                                        location: location)
        for problem in SelfCollision.find(in: service) {
            fail(at: problem.location, problem.message)
            valid = false
        }
        return valid ? service : nil
    }

    private mutating func port(named name: String, keyNode: YAMLNode, _ node: YAMLNode, service: @autoclosure () -> String) -> PortDefinition? {
        func what() -> String { "port \(Self.quote(name)) of service \(service())" }
        if case .mapping(let entries, _, _) = node {
            var host: (Int, Int)?
            var container: (Int, Int)?
            var followsHost = false
            var protocols = PortProtocols.tcp
            var address: IPAddress?
            var seen = SeenKeys()
            var ok = true
            for (k, v) in entries {
                guard let key = keyString(k, what: "key of \(what())") else { ok = false; continue }
                if let first = seen.line(of: key) {
                    fail(k, "duplicate key \(Self.quote(key)) in \(what()); first defined on line \(first)")
                    ok = false
                    continue
                }
                seen.add(key, line: k.line)
                switch key {
                case "host": host = portValue(v, what: "host side of \(what())")
                    if host == nil { ok = false }
                case "container":
                    if case .scalar(ContainerPort.hostSpelling, _, _, _) = v, v.kind == .string {
                        followsHost = true
                    } else if let value = containerValue(v, what: "container side of \(what())") {
                        container = value
                    } else {
                        ok = false
                    }
                case "protocol":
                    if let value = protocolValue(v, what: "protocol of \(what())") { protocols = value } else { ok = false }
                case "host_ip":
                    address = hostIP(v, what: "host_ip of \(what())")
                    if address == nil { ok = false }
                default:
                    // `container_port` and the like: the mapping's keys without `_port`.
                    let near = hint(key, Self.portMappingKeys)
                    let stem = key.hasSuffix("_port") && Self.portMappingKeys.contains(String(key.dropLast(5)))
                        ? "; did you mean \(Self.quote(String(key.dropLast(5))))?" : ""
                    fail(k, "unknown key \(Self.quote(key)) in \(what()); a port mapping has 'host' and optionally 'container', 'protocol' and 'host_ip'" + (near.isEmpty ? stem : near))
                    ok = false
                }
            }
            guard ok else { return nil }
            guard let host else {
                fail(node, "\(what()) is a mapping without 'host'")
                return nil
            }
            if let container, container.1 - container.0 != host.1 - host.0 {
                fail(node, "\(what()): the container range has \(container.1 - container.0 + 1) ports but the host range has \(host.1 - host.0 + 1)")
                return nil
            }
            let side: ContainerPort = followsHost ? .host : container.map { .fixed($0.0) } ?? .base
            return PortDefinition(name: name, base: host.0, count: host.1 - host.0 + 1, container: side,
                                  location: location(keyNode), protocols: protocols, hostIP: address)
        }
        guard let (first, last) = portValue(node, what: what()) else { return nil }
        return PortDefinition(name: name, base: first, count: last - first + 1, location: location(keyNode))
    }

    // MARK: Keys

    private mutating func keyString(_ node: YAMLNode, what: @autoclosure () -> String) -> String? {
        guard case .scalar(let text, _, _, _) = node else {
            fail(node, "\(what()) must be a plain string, not \(node.kind)")
            return nil
        }
        return text
    }

    /// `port`, or letters, digits and `_` ending in `_port`.
    static func isPortKey(_ key: String) -> Bool {
        guard key == "port" || (key.hasSuffix("_port") && key.count > 5) else { return false }
        return key.utf8.allSatisfy { Naming.isAlnum($0) || $0 == UInt8(ascii: "_") }
    }

    // MARK: Messages

    /// `; did you mean 'CANDIDATE'?` for the candidate nearest `key`, or nothing.
    private func hint(_ key: String, _ candidates: [String]) -> String {
        guard let match = Suggest.closest(to: key, among: candidates) else { return "" }
        return "; did you mean \(Self.quote(match))?"
    }

    /// For `broker_prot`, suggests `broker_port`.
    private func portSuggestion(_ key: String) -> [String] {
        guard let underscore = key.lastIndex(of: "_") else { return [] }
        let tail = String(key[key.index(after: underscore)...])
        guard Suggest.distance(tail, "port", limit: 2) <= 2 else { return [] }
        return [String(key[..<underscore]) + "_port"]
    }

    private func entryValue(_ entries: [(key: YAMLNode, value: YAMLNode)], _ key: String) -> YAMLNode? {
        entries.first { if case .scalar(key, _, _, _) = $0.key { return true } else { return false } }?.value
    }

    /// Where `node` starts in the source.
    private func location(_ node: YAMLNode) -> SourceLocation {
        SourceLocation(file: source, line: node.line, column: node.column)
    }

    /// Records a problem at `node`.
    mutating func fail(_ node: YAMLNode, _ message: String) {
        diagnostics.append(Diagnostic(location(node), message))
    }

    /// Records a problem at `location`.
    private mutating func fail(at location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }
}

/// The keys of one small mapping, for duplicate detection without hashing.
struct SeenKeys {
    private var keys: [(String, Int)] = []
    func line(of key: String) -> Int? { keys.first { $0.0 == key }?.1 }
    mutating func add(_ key: String, line: Int) { keys.append((key, line)) }
}

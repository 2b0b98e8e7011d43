import PortManagerCore

/// The engine's containers from one `GET /containers/json?all=1`, indexed for
/// the questions the reservation store, `status`, `reconcile` and the probe
/// ask: a container by name, the container of a service instance, and the
/// containers publishing a host port. Built once per call (``ContainerLookup``).
public struct ContainerIndex: Sendable {
    /// How a container was found to be an instance's (``container(of:)``).
    public enum Match: String, Sendable {
        /// Its labels (``InstanceLabel``) name the service, instance and environment.
        case label
        /// Its name is the instance's container name (``ServiceInstance/containerName``).
        case name
    }

    /// Every container, as the engine listed them.
    public let containers: [DockerContainer]
    private let byName: [String: Int]
    private let byLabels: [LabelKey: [Int]]
    private let byPort: [PortKey: [Int]]

    /// Indexes `containers`.
    public init(_ containers: [DockerContainer]) {
        self.containers = containers
        var byName: [String: Int] = [:]
        var byLabels: [LabelKey: [Int]] = [:]
        var byPort: [PortKey: [Int]] = [:]
        for (index, container) in containers.enumerated() {
            byName[container.name] = index
            if let service = container.labels[InstanceLabel.serviceKey],
               let instance = container.labels[InstanceLabel.instanceKey].flatMap({ Int($0) }) {
                let environment = container.labels[InstanceLabel.environmentKey] ?? ""
                byLabels[LabelKey(service: service, environment: environment, instance: instance), default: []].append(index)
            }
            for published in container.ports {
                let key = PortKey(port: Int(published.hostPort), protocol: published.protocol)
                if byPort[key]?.last != index { byPort[key, default: []].append(index) }
            }
        }
        self.byName = byName
        self.byLabels = byLabels
        self.byPort = byPort
    }

    /// The container named `name` (without Docker's leading `/`), running or not.
    public func container(named name: String) -> DockerContainer? {
        byName[name].map { containers[$0] }
    }

    /// The container of one service instance: one whose labels name it (the
    /// first by name when several do), else the one with its container name.
    public func container(of instance: ServiceInstance) -> (container: DockerContainer, match: Match)? {
        container(service: instance.service, environment: instance.environmentName, instance: instance.instance,
                  containerName: instance.containerName)
    }

    /// ``container(of:)`` by its parts.
    func container(service: String, environment: String, instance: Int,
                   containerName: String) -> (container: DockerContainer, match: Match)? {
        if let labelled = byLabels[LabelKey(service: service, environment: environment, instance: instance)] {
            let first = labelled.map { containers[$0] }.min { $0.name < $1.name }!
            return (first, .label)
        }
        return container(named: containerName).map { ($0, .name) }
    }

    /// The containers that publish host port `port` for `protocol` (`tcp`,
    /// `udp`), on any host address, ordered as the engine listed them.
    public func publishers(port: Int, protocol name: String) -> [DockerContainer] {
        (byPort[PortKey(port: port, protocol: name)] ?? []).map { containers[$0] }
    }

    /// The instances whose labels a container carries, for every labelled container.
    var labelled: [(key: LabelKey, containers: [DockerContainer])] {
        byLabels.map { ($0.key, $0.value.map { containers[$0] }) }
    }

    /// An instance as the labels name it.
    struct LabelKey: Hashable {
        var service: String
        var environment: String
        var instance: Int
    }

    private struct PortKey: Hashable {
        var port: Int
        var `protocol`: String
    }
}

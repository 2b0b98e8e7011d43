import PortManagerCore

/// A container that takes an instance without a reservation: the engine
/// lists it, so a reservation would only lead to a `docker run` that fails
/// (on the container name, or on a port already allocated).
enum ContainerObstacle {
    /// The instance's own container, found by its labels or by the instance's
    /// container name: refused, or adopted when asked.
    case own(DockerContainer, ContainerIndex.Match)
    /// Another container that publishes one of the instance's host ports.
    case publisher(DockerContainer, port: Int, protocol: String)

    /// Why instance `instance` is refused, for the message of ``PortManagerError/reserved(service:instance:reason:)``.
    func reason(_ instance: Int) -> String {
        switch self {
        case .own(let container, let match):
            return "instance \(instance) has container \(RegistryBuilder.quote(container.name)) (\(container.state), "
                + "found by its \(match == .label ? "labels" : "name")) without a reservation; adopt it "
                + "(CLI --adopt, C PM_RESERVE_ADOPT, Python adopt=True) or remove the container"
        case .publisher(let container, let port, let name):
            return "port \(port)\(name == "udp" ? "/udp" : "") of instance \(instance) is published by container "
                + "\(RegistryBuilder.quote(container.name)) (\(container.state))"
        }
    }
}

extension Registry {
    /// The container in the way of reserving `instance` of `service` (whose
    /// host ports are `ports`): its own container, else a container publishing
    /// one of its ports; nil when there is none or the engine was not heard
    /// (`index` nil: reservations go on as without Docker).
    func containerInTheWay(_ service: String, _ instance: Int, _ ports: [ReservedPort],
                           _ index: ContainerIndex?) throws -> ContainerObstacle? {
        guard let index else { return nil }
        if let (own, match) = index.container(of: try self.instance(service, instance)) { return .own(own, match) }
        for port in ports {
            for member in port.protocols.members {
                if let other = index.publishers(port: port.port, protocol: member.name).first {
                    return .publisher(other, port: port.port, protocol: member.name)
                }
            }
        }
        return nil
    }
}

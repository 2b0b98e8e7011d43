import ArgumentParser
import PortManager

/// `portmanager summary`: every service, instance and port, as the original spec's printout (README, "The original spec").
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every service, instance and port of the registry.",
        discussion: """
        For each service, one row per instance: the instance ID, its container \
        name, its volume name and the host port of each named port. A range \
        shows as 31001-31003. Where the port inside the container differs from \
        the host port, the cell reads HOST->CONTAINER (8090->8080).

        Examples:
          portmanager summary
          portmanager summary kafka mongodb
          portmanager summary --env ci --json

        \(ExitStatus.help(for: "summary"))
        """
    )

    @Argument(help: ArgumentHelp("Only these services (default: all).", valueName: "service"),
              completion: RegistryCompletion.services)
    var services: [String] = []

    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    func run() throws {
        let registry = try options.open()
        let selected = try services.isEmpty ? registry.services : services.map { try registry.service(named: $0) }
        if output.json {
            Output.line(json(registry, selected).rendered())
        } else {
            Output.lines(text(registry, selected))
        }
    }

    /// One row per instance: ID, container name, volume name and allocations,
    /// from ``Registry/instances(of:)``: enumerating is not allocating, so the
    /// summary logs nothing, even with --verbose.
    private func instances(_ registry: Registry, _ service: ServiceDefinition) -> [(Int, String, String, [Allocation])] {
        registry.instances(of: service).map { ($0.instance, $0.containerName, $0.volumeName, $0.ports) }
    }

    private func text(_ registry: Registry, _ services: [ServiceDefinition]) -> [String] {
        var lines = ["Port registry: \(PathText.shown(registry.source))"]
        if let environment = registry.environment {
            lines.append("Environment: \(environment.name) (offset \(environment.offset >= 0 ? "+" : "")\(environment.offset) on every host port)")
        }
        let instanceCount = services.reduce(0) { $0 + $1.maxInstances }
        lines.append("\(counted(services.count, "service")), \(counted(instanceCount, "instance")); "
                     + "final_port = base_port + instance_id * instance_increment")
        for service in services {
            lines.append("")
            lines.append("\(service.name)  (instance_increment \(service.increment), max_instances \(service.maxInstances))")
            var table = Table(header: ["INSTANCE", "CONTAINER", "VOLUME"] + service.portNames)
            for (instance, container, volume, allocations) in instances(registry, service) {
                table.add([String(instance), container, volume] + allocations.map(\.displayText))
            }
            lines += table.render(indent: "  ")
        }
        return lines
    }

    private func json(_ registry: Registry, _ services: [ServiceDefinition]) -> JSON {
        .object([
            ("registry", .string(registry.source)),
            ("environment", registry.environmentJSON),
            ("services", .array(services.map { service in
                .object([
                    ("name", .string(service.name)),
                    ("instance_increment", .int(service.increment)),
                    ("max_instances", .int(service.maxInstances)),
                    ("instances", .array(instances(registry, service).map { instance, container, volume, allocations in
                        .object([
                            ("instance", .int(instance)),
                            ("container_name", .string(container)),
                            ("volume_name", .string(volume)),
                            ("ports", .array(allocations.map(\.json))),
                        ])
                    })),
                ])
            })),
        ])
    }
}

extension Allocation {
    /// `9192`, `31101-31103`, or `8090->8080` when the container port is
    /// neither the host port nor the base port (``Allocation/containerIsNotable``).
    var displayText: String {
        containerIsNotable ? "\(hostText)->\(containerText)" : hostText
    }
}

import ArgumentParser
import PortManager

/// `portmanager list`: the services and their definitions, as the registry states them.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the services and their definitions.",
        discussion: """
        One row per service: its base ports (instance 0, before any environment \
        offset), instance_increment, max_instances and the container and volume \
        names of instance 0. A port whose container side is fixed shows as \
        HOST->CONTAINER. Environments defined under _environments follow.

        Examples:
          portmanager list
          portmanager list --json

        \(ExitStatus.help(for: "list"))
        """
    )

    @OptionGroup var output: JSONOption

    @OptionGroup var options: RegistryOptions

    func run() throws {
        let registry = try options.open()
        if output.json {
            Output.line(json(registry).rendered())
            return
        }
        var table = Table(header: ["SERVICE", "INCREMENT", "MAX", "CONTAINER", "VOLUME", "BASE PORTS"])
        for service in registry.services {
            let ports = service.ports.map { port in "\(port.name)=\(port.baseText)" + containerText(port) }
            table.add([service.name, String(service.increment), String(service.maxInstances),
                       service.containerStem, service.volumeStem, ports.joined(separator: " ")])
        }
        var lines = table.render()
        if !registry.environments.isEmpty {
            lines.append("")
            var environments = Table(header: ["ENVIRONMENT", "OFFSET"])
            for environment in registry.environments {
                environments.add([environment.name + (environment.name == registry.environment?.name ? " (selected)" : ""),
                                  (environment.offset >= 0 ? "+" : "") + String(environment.offset)])
            }
            lines += environments.render()
        }
        Output.lines(lines)
    }

    /// `->8080` (or a range) for a fixed container port other than the base,
    /// `->host` for one that follows the host port, nothing for the base (the default).
    private func containerText(_ port: PortDefinition) -> String {
        switch port.container {
        case .base: return ""
        case .fixed(let first) where first == port.base: return ""
        case .fixed(let first): return "->" + (port.isRange ? "\(first)-\(first + port.count - 1)" : String(first))
        case .host: return "->" + ContainerPort.hostSpelling
        }
    }

    private func json(_ registry: Registry) -> JSON {
        .object([
            ("registry", .string(registry.source)),
            ("environment", registry.environmentJSON),
            ("services", .array(registry.services.map { service in
                .object([
                    ("name", .string(service.name)),
                    ("ports", .array(service.ports.map { port in
                        .object([
                            ("name", .string(port.name)),
                            ("base", .int(port.base)),
                            ("base_last", .int(port.baseLast)),
                            ("count", .int(port.count)),
                            ("container", .optional(port.containerPort)),
                        ])
                    })),
                    ("instance_increment", .int(service.increment)),
                    ("max_instances", .int(service.maxInstances)),
                    ("container_name", .string(service.containerStem)),
                    ("volume_name", .string(service.volumeStem)),
                    ("location", .string(service.location.description)),
                ])
            })),
            ("environments", .array(registry.environments.map { environment in
                .object([("name", .string(environment.name)), ("offset", .int(environment.offset))])
            })),
        ])
    }
}

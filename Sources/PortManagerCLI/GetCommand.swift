import ArgumentParser
import PortManager

/// `portmanager get SERVICE [--instance N] [--port NAME]`: one port, or all of an instance.
struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the host port of one port, or every port of one instance.",
        discussion: """
        With --port, prints just the host port (a range prints as FIRST-LAST), \
        ready for a script. Without it, prints every port of the instance, one \
        per line: the port name, the host port and, when it differs, the port \
        inside the container.

        Examples:
          portmanager get kafka --instance 1 --port broker_port    prints 9192
          portmanager get neo4j -i 2              every port of instance 2
          portmanager get traefik --port entrypoint_port --json

        \(ExitStatus.help(for: "get"))
        """
    )

    @Argument(help: "The service, as named in the registry (for example kafka).",
              completion: RegistryCompletion.services)
    var service: String

    @OptionGroup var instanceOption: InstanceOption

    @Option(name: [.short, .long], help: ArgumentHelp(
        "One port of the service, for example broker_port; single-port services call theirs 'port'.",
        valueName: "name"), completion: RegistryCompletion.ports)
    var port: String?

    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if let port, port.isEmpty { throw ValidationError("--port needs a port name, not an empty string.") }
    }

    func run() throws {
        let registry = try options.open()
        let instance = instanceOption.instance
        if let port {
            let allocation = try registry.allocate(service, instance: instance, name: port)
            if output.json {
                Output.line(JSON.object(header(registry, allocation.service, instance) + [("port", allocation.json)]).rendered())
            } else {
                Output.line(allocation.hostText)
            }
            return
        }
        let allocations = try registry.allocateAll(service, instance: instance)
        let name = try registry.service(named: service).name
        if output.json {
            Output.line(JSON.object(header(registry, name, instance) + [("ports", .array(allocations.map(\.json)))]).rendered())
            return
        }
        let differs = allocations.contains { $0.containerPort != $0.hostPort }
        var table = Table(header: differs ? ["PORT", "HOST", "CONTAINER"] : ["PORT", "HOST"])
        for allocation in allocations {
            table.add([allocation.portName, allocation.hostText] + (differs ? [allocation.containerText] : []))
        }
        Output.lines(table.render())
    }

    private func header(_ registry: Registry, _ service: String, _ instance: Int) -> [(String, JSON)] {
        [("service", .string(service)), ("instance", .int(instance)), ("environment", registry.environmentJSON)]
    }
}

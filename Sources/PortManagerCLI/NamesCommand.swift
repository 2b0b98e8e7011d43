import ArgumentParser
import PortManager

/// `portmanager names SERVICE [--instance N]`: the container and volume name.
struct Names: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the container name and volume name of one instance.",
        discussion: """
        Instance 0 uses the service's stems as they are (kafka-development, \
        kafka-data); instance N appends -N (kafka-development-1, kafka-data-1). \
        With an environment, its name follows the stem (--env ci: \
        kafka-development-ci-1, kafka-data-ci-1).

        Examples:
          portmanager names kafka --instance 1
          portmanager names kafka -i 1 --json

        \(ExitStatus.help(for: "names"))
        """
    )

    @Argument(help: "The service, as named in the registry (for example kafka).",
              completion: RegistryCompletion.services)
    var service: String

    @OptionGroup var instanceOption: InstanceOption
    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
    }

    func run() throws {
        let registry = try options.open()
        let instance = instanceOption.instance
        let resolved = try registry.instance(service, instance)
        let (container, volume) = (resolved.containerName, resolved.volumeName)
        if output.json {
            Output.line(JSON.object([
                ("service", .string(service)), ("instance", .int(instance)),
                ("container_name", .string(container)), ("volume_name", .string(volume)),
            ]).rendered())
        } else {
            var table = Table()
            table.add(["container", container])
            table.add(["volume", volume])
            Output.lines(table.render())
        }
    }
}

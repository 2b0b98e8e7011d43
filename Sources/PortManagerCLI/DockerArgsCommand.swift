import ArgumentParser
import PortManager

/// `portmanager docker-args SERVICE --instance N`: the `docker run` arguments
/// of one instance, from the core's ``ServiceInstance/dockerRunArguments(volumePath:)``.
struct DockerArgs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker-args",
        abstract: "Print the docker run arguments of one instance: name, ports, volume, labels.",
        discussion: """
        One line, ready for `docker run` before the image: --name, one -p \
        [HOST_IP:]HOST:CONTAINER/PROTOCOL per port and protocol (the port inside \
        the container as docs/registry.md "Container ports" says), -v VOLUME:PATH \
        with --volume-path, and the labels io.portmanager.service, \
        io.portmanager.instance and io.portmanager.environment. Every word is plain \
        (no quoting is needed), so the line may be spliced in unquoted.

          --name kafka-development-1 -p 9192:9192/tcp -p 19193:19193/tcp \
        --label io.portmanager.service=kafka --label io.portmanager.instance=1 \
        --label io.portmanager.environment=

        With --json, prints the same instance as the JSON document of \
        pm_instance_docker_json (docs/json.md).

        Examples:
          docker run -d $(portmanager docker-args kafka -i 1 --volume-path /var/lib/kafka/data) apache/kafka
          portmanager docker-args redis -i 2 --json

        \(ExitStatus.help(for: "docker-args"))
        """
    )

    @Argument(help: "The service, as named in the registry (for example kafka).",
              completion: RegistryCompletion.services)
    var service: String

    @OptionGroup var instanceOption: RequiredInstanceOption

    @Option(name: .long, help: ArgumentHelp(
        "Mount the instance's volume at this path inside the container (-v VOLUME:PATH).", valueName: "path"))
    var volumePath: String?

    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if let volumePath, !ServiceInstance.isVolumePath(volumePath) {
            throw ValidationError("--volume-path '\(volumePath)' is not an absolute path of letters, digits and '_.-/'.")
        }
        if volumePath != nil && output.json { throw ValidationError("--volume-path and --json cannot be used together.") }
    }

    func run() throws {
        let resolved = try options.open().instance(service, instanceOption.instance)
        if output.json {
            Output.line(resolved.dockerJSON.rendered())
        } else {
            Output.line(resolved.dockerRunArguments(volumePath: volumePath).map(ShellWord.quoted).joined(separator: " "))
        }
    }
}

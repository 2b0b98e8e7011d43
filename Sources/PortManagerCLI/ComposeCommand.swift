import ArgumentParser
import PortManager

/// `portmanager compose SERVICE --instance N`: docker compose `ports:` entries,
/// or with `--document` a whole compose file for the instance.
struct Compose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the docker compose port mappings of one instance, or a whole compose document.",
        discussion: """
        One `- "HOST:CONTAINER"` line per port, ready to paste under a service's \
        `ports:` key. A range maps as a range ("31101-31103:31101-31103"). A UDP \
        port ends in /udp ("6831:6831/udp"); a tcp+udp port gives two lines; a \
        port with a host_ip starts with it ("127.0.0.1:9192:9092").

        With --env-file, prints the variables of `portmanager env` instead, in \
        the NAME=VALUE form `docker compose --env-file` reads, so a compose file \
        can say "${KAFKA_BROKER_PORT}:9092" and container_name: ${KAFKA_CONTAINER_NAME}.

        With --document, prints a whole compose file for the instance: a service \
        named after its container, with image (the registry's `image:` key, or \
        --image), container_name, ports and its volume mounted at --volume-target \
        (default /data), and the volume under the top-level volumes: with its \
        exact name. Without an image from either, it fails with exit status 2.

        Examples:
          portmanager compose kafka --instance 1
          portmanager compose kafka -i 1 --document > kafka-1.yaml
          docker compose -f kafka-1.yaml up -d
          portmanager compose kafka -i 1 --indent 6
          portmanager compose kafka -i 1 --env-file > kafka-1.env
          docker compose --env-file kafka-1.env up -d

        \(ExitStatus.help(for: "compose"))
        """
    )

    @Argument(help: "The service, as named in the registry (for example kafka).",
              completion: RegistryCompletion.services)
    var service: String

    @OptionGroup var instanceOption: RequiredInstanceOption

    @Option(name: .long, help: ArgumentHelp("Indent each mapping line by this many spaces (0-64).", valueName: "n"))
    var indent = 0

    @Flag(name: .long, help: "Print NAME=VALUE variables for `docker compose --env-file` instead of port mappings.")
    var envFile = false

    @Flag(name: .long, help: "Print a whole compose document (services: and volumes:) for the instance.")
    var document = false

    @Option(name: .long, help: ArgumentHelp(
        "The image of the service in --document (default: the registry's image: key).", valueName: "image"))
    var image: String?

    @Option(name: .long, help: ArgumentHelp(
        "Where the volume is mounted inside the container in --document (default: /data).", valueName: "path"))
    var volumeTarget: String?

    @OptionGroup var prefixOption: PrefixOption
    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if envFile && output.json { throw ValidationError("--env-file and --json cannot be used together.") }
        if !(0...64).contains(indent) { throw ValidationError("--indent \(indent) is outside 0-64.") }
        if prefixOption.prefix != nil && !envFile { throw ValidationError("--prefix applies only with --env-file.") }
        if document && (envFile || output.json) { throw ValidationError("--document cannot be used with --env-file or --json.") }
        if !document && (image != nil || volumeTarget != nil) {
            throw ValidationError("--image and --volume-target apply only with --document.")
        }
        if let image, !Naming.isValidImageReference(image) {
            throw ValidationError("--image '\(image)' is not a container image reference ([a-zA-Z0-9][a-zA-Z0-9_.:/@+-]*, such as apache/kafka:3.7.0).")
        }
        if let volumeTarget, !ComposeDocument.isPlainPath(volumeTarget) {
            throw ValidationError("--volume-target '\(volumeTarget)' is not an absolute path of letters, digits and '_.-/'.")
        }
    }

    func run() throws {
        let registry = try options.open()
        let instance = instanceOption.instance
        if envFile {
            let variables = try InstanceVariables(registry: registry, service: service, instance: instance,
                                                  prefix: prefixOption.prefix)
            for (key, value) in variables.assignments where !InstanceVariables.isPlain(value) {
                throw PortManagerError.invalidArgument("\(key)=\(value) cannot be written to an env file unquoted")
            }
            Output.lines(variables.assignments.map { "\($0.key)=\($0.value)" })
            return
        }
        let allocations = try registry.ports(service, instance: instance)
        if document {
            Output.lines(try ComposeDocument.lines(registry: registry, service: service, instance: instance,
                                                   allocations: allocations, image: image,
                                                   volumeTarget: volumeTarget ?? ComposeDocument.defaultVolumeTarget))
            return
        }
        if output.json {
            Output.line(JSON.object([
                ("service", .string(try registry.service(named: service).name)),
                ("instance", .int(instance)),
                ("environment", registry.environmentJSON),
                ("container_name", .string(try registry.containerName(service, instance: instance))),
                ("volume_name", .string(try registry.volumeName(service, instance: instance))),
                ("ports", .array(allocations.flatMap { $0.composeMappings.map(JSON.string) })),
            ]).rendered())
        } else {
            Output.lines(Compose.portLines(allocations, indent: indent))
        }
    }

    /// The `ports:` entries of one instance, one `- "[HOST_IP:]HOST:CONTAINER[/udp]"`
    /// line per port and protocol (``Allocation/composeMappings``), indented by
    /// `indent` spaces: the fragment form, and the ports of `--document`.
    static func portLines(_ allocations: [Allocation], indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        return allocations.flatMap { $0.composeMappings.map { "\(pad)- \"\($0)\"" } }
    }
}

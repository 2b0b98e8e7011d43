import ArgumentParser
import PortManager

/// `portmanager compose SERVICE --instance N`: docker compose `ports:` entries,
/// the instance's compose project name, or with `--document` a whole compose
/// file for the instance (the core's ``ComposeDocument``).
struct Compose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the docker compose port mappings of one instance, its project name, or a whole compose document.",
        discussion: """
        One `- "HOST:CONTAINER"` line per port, ready to paste under a service's \\
        `ports:` key; CONTAINER is the port inside the container (docs/registry.md, \\
        "Container ports"). A range maps as a range ("31101-31103:31001-31003"). A \\
        UDP port ends in /udp ("6831:6831/udp"); a tcp+udp port gives two lines; a \\
        port with a host_ip starts with it ("127.0.0.1:9192:9092").

        With --env-file, prints the variables of `portmanager env` instead, in \\
        the NAME=VALUE form `docker compose --env-file` reads, so a compose file \\
        can say "${KAFKA_BROKER_PORT}:9092" and container_name: ${KAFKA_CONTAINER_NAME}.

        With --project, prints the instance's own compose project name (kafka, \\
        kafka-1, kafka-ci-1): each instance is its own project, so `down` of one \\
        never touches another.

        With --document, prints a whole compose file for the instance: a service \\
        named after its container, with image (the registry's `image:` key, or \\
        --image), container_name, the labels io.portmanager.service, \\
        io.portmanager.instance and io.portmanager.environment, ports, its volume \\
        mounted at --volume-path (default /data), --command and each --env KEY=VALUE, \\
        and the volume under the top-level volumes: with its exact name. A `$` in \\
        a command or value is written `$$`, so compose takes it literally. The \\
        default --format portable is read by docker-compose 1.27+ (Debian's 1.29) \\
        and Compose v2 and names no project (1.29 refuses a top-level name:), so \\
        pass -p; --format v2 adds name: for Compose v2. Without an image from \\
        either, it fails with exit status 2.

        Examples:
          portmanager compose kafka --instance 1
          portmanager compose kafka -i 1 --project                prints kafka-1
          portmanager compose kafka -i 1 --document > kafka-1.yaml
          docker-compose -p "$(portmanager compose kafka -i 1 --project)" -f kafka-1.yaml up -d
          portmanager compose redis -i 2 --document --image redis:7 --command "redis-server --appendonly yes" -e TZ=UTC
          portmanager compose kafka -i 1 --env-file > kafka-1.env

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

    @Flag(name: .long, help: "Print the instance's compose project name (for docker-compose -p).")
    var project = false

    @Flag(name: .long, help: "Print a whole compose document (services: and volumes:) for the instance.")
    var document = false

    @Option(name: .long, help: ArgumentHelp(
        "The image of the service in --document (default: the registry's image: key).", valueName: "image"))
    var image: String?

    @Option(name: .long, help: ArgumentHelp("The container's command in --document, as one string.", valueName: "command"))
    var command: String?


    @Option(name: [.customLong("volume-path"), .customLong("volume-target")], help: ArgumentHelp(
        "Where the volume is mounted inside the container in --document (default: /data).", valueName: "path"))
    var volumePath: String?

    @Option(name: .long, help: ArgumentHelp(
        "The --document's format: portable (docker-compose 1.27+ and Compose v2; no name:) or v2 (adds name:).",
        valueName: "format"))
    var format: String = ComposeDocument.Format.portable.rawValue

    @OptionGroup var prefixOption: PrefixOption
    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if envFile && output.json { throw ValidationError("--env-file and --json cannot be used together.") }
        if !(0...64).contains(indent) { throw ValidationError("--indent \(indent) is outside 0-64.") }
        if prefixOption.prefix != nil && !envFile { throw ValidationError("--prefix applies only with --env-file.") }
        if project && (document || envFile || output.json) {
            throw ValidationError("--project cannot be used with --document, --env-file or --json.")
        }
        if document && (envFile || output.json) { throw ValidationError("--document cannot be used with --env-file or --json.") }
        if !document && (image != nil || command != nil || !options.variables.isEmpty || volumePath != nil
                         || format != ComposeDocument.Format.portable.rawValue) {
            throw ValidationError("--image, --command, --env KEY=VALUE, --volume-path and --format apply only with --document.")
        }
        if let image, !Naming.isValidImageReference(image) {
            throw ValidationError("--image '\(image)' is not a container image reference ([a-zA-Z0-9][a-zA-Z0-9_.:/@+-]*, such as apache/kafka:3.7.0).")
        }
        if let volumePath, !ServiceInstance.isVolumePath(volumePath) {
            throw ValidationError("--volume-path '\(volumePath)' is not an absolute path of letters, digits and '_.-/'.")
        }
        if ComposeDocument.Format(rawValue: format) == nil {
            throw ValidationError("--format '\(format)' is not one of: \(ComposeDocument.Format.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        for assignment in options.variables {
            let key = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            if !assignment.contains("=") || !EnvironmentKey.isIdentifier(key) {
                throw ValidationError("--env '\(assignment)' is not KEY=VALUE with KEY a shell variable name.")
            }
        }
    }

    func run() throws {
        let registry = try options.open(allowingVariables: document)
        let resolved = try registry.instance(service, instanceOption.instance)
        if project {
            Output.line(resolved.projectName)
        } else if envFile {
            Output.lines(try resolved.environmentVariables(prefix: prefixOption.prefix).map { "\($0.key)=\($0.value)" })
        } else if document {
            if image == nil && resolved.definition.image == nil {
                throw PortManagerError.invalidArgument(
                    "service \(RegistryBuilder.quote(resolved.service)) has no image: add 'image: NAME' to it in the registry (\(PathText.shown(registry.source))) or pass --image NAME")
            }
            var composer = ComposeDocument()
            composer.image = image
            composer.command = command
            composer.environment = options.variables.map { assignment in
                let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return ServiceInstance.Variable(String(parts[0]), String(parts[1]))
            }
            composer.volumePath = volumePath ?? ComposeDocument.defaultVolumePath
            composer.format = ComposeDocument.Format(rawValue: format) ?? .portable
            Output.lines(try composer.lines(for: resolved))
        } else if output.json {
            Output.line(JSON.object([
                ("service", .string(resolved.service)),
                ("instance", .int(resolved.instance)),
                ("environment", registry.environmentJSON),
                ("container_name", .string(resolved.containerName)),
                ("volume_name", .string(resolved.volumeName)),
                ("ports", .array(resolved.ports.flatMap { $0.composeMappings.map(JSON.string) })),
            ]).rendered())
        } else {
            Output.lines(resolved.composePortLines(indent: indent))
        }
    }
}

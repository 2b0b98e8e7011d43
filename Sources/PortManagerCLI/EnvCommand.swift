import ArgumentParser
import PortManager

/// `--prefix`, shared by `env` and `compose`.
struct PrefixOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Start every variable name with this instead of the service name in upper case.",
        valueName: "prefix"))
    var prefix: String?

    mutating func validate() throws {
        if let prefix, !EnvironmentKey.isIdentifier(prefix) {
            throw ValidationError("--prefix '\(prefix)' is not a shell variable name; use letters, digits and '_', not starting with a digit.")
        }
    }
}

/// `portmanager env SERVICE --instance N`: shell assignments for one instance.
struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print shell variable assignments for one instance.",
        discussion: """
        One NAME=VALUE line per port, then the container and volume names. Names \
        are the service name and the port name in upper case, with anything but \
        letters and digits turned into '_'. Values are port numbers and Docker \
        names, which no shell needs quoted.

          KAFKA_BROKER_PORT=9192
          KAFKA_CONTROLLER_PORT=19193
          KAFKA_CONTAINER_NAME=kafka-development-1
          KAFKA_VOLUME_NAME=kafka-data-1

        A range adds NAME_FIRST and NAME_LAST; a port whose container side is \
        another number adds NAME_CONTAINER (docs/registry.md, "Container ports"). \
        With an environment, the names include it (KAFKA_CONTAINER_NAME=kafka-development-ci-1).

        Examples:
          eval "$(portmanager env kafka --instance 1)"
          portmanager env kafka -i 1 --export >> .envrc
          portmanager env kafka -i 1 --json

        \(ExitStatus.help(for: "env"))
        """
    )

    @Argument(help: "The service, as named in the registry (for example kafka).",
              completion: RegistryCompletion.services)
    var service: String

    @OptionGroup var instanceOption: RequiredInstanceOption
    @OptionGroup var prefixOption: PrefixOption

    @Flag(name: .long, help: "Begin each line with 'export '.")
    var export = false

    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if export && output.json { throw ValidationError("--export and --json cannot be used together.") }
    }

    func run() throws {
        let registry = try options.open()
        let variables = try InstanceVariables(registry: registry, service: service,
                                              instance: instanceOption.instance, prefix: prefixOption.prefix)
        if output.json {
            Output.line(variables.json.rendered())
        } else {
            Output.lines(variables.assignments.map {
                (export ? "export " : "") + "\($0.key)=\(ShellWord.quoted($0.value))"
            })
        }
    }
}

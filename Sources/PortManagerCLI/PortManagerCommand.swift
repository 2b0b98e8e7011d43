#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PortManager

/// The `portmanager` command: the root of every subcommand.
///
/// Exit statuses: ``ExitStatus/table`` lists them; each subcommand's `--help` says which it uses.
@main
struct PortManagerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portmanager",
        abstract: "Conflict-free host ports for side-by-side service instances.",
        discussion: """
        portmanager reads a port registry (a YAML file listing each service's base \
        ports) and tells you which host ports, container name and volume name each \
        instance of a service gets:

          final_port = base_port + instance_id * instance_increment

        so instance 1 of Kafka (base 9092, increment 100) listens on 9192, runs in \
        container kafka-development-1 and keeps its data in volume kafka-data-1.

        The registry is found in this order (the first place that holds one wins):

        """ + RegistrySearchPlace.numberedList + "\n\n" + """
        --env NAME (or $PORTMANAGER_ENV) adds the offset of an environment the \
        registry defines under _environments.

        Examples:
          portmanager summary                          every service, instance and port
          portmanager get kafka --instance 1 --port broker_port     prints 9192
          portmanager names kafka --instance 1         container and volume name
          portmanager env kafka --instance 1           KAFKA_BROKER_PORT=9192 ...
          portmanager compose kafka --instance 1       - "9192:9192" ...
          portmanager docker-args kafka --instance 1   --name kafka-development-1 -p ...
          portmanager check                            validate the registry
          portmanager reserve kafka --json             reserve a free instance
          portmanager release kafka 1                  give it back
          portmanager status                           what is reserved, held, in use
          portmanager probe 9092                       is the port free? who holds it?

        """ + "\n" + ExitStatus.rootHelp + "\n\n" + """
        Errors go to standard error, data to standard output; most commands take \
        --json for machine-readable output (PREFIX/share/doc/portmanager/json.md).
        """,
        version: LibraryVersion.string,
        subcommands: [
            Summary.self, List.self, Get.self, Names.self, Env.self, Compose.self, DockerArgs.self, Check.self,
            Reserve.self, Release.self, Renew.self, Bind.self, Status.self, Reconcile.self, Run.self, Probe.self,
        ]
    )

    /// Runs the command line with exit codes that mean something.
    ///
    /// swift-argument-parser exits 64 (`EX_USAGE`) on usage errors; this tool
    /// exits 2 instead, keeping the parser's message and usage text. Library
    /// errors print `portmanager: error: <message>` and exit 2.
    static func main() {
        // No subcommand: the help, on standard error, as a usage error.
        if CommandLine.arguments.count <= 1 {
            Output.err(helpMessage())
            Glibc.exit(Failure.inputError)
        }
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch let error as PortManagerError {
            Failure.report(error)
            Glibc.exit(Failure.inputError)
        } catch let error as ExitCode {
            Glibc.exit(error.rawValue)
        } catch {
            if exitCode(for: error) == .validationFailure {
                Output.err(fullMessage(for: error))
                Glibc.exit(Failure.inputError)
            }
            exit(withError: error)
        }
    }
}

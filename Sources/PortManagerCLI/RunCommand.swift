#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PortManager

/// `portmanager run`: reserve an instance for a command and run it.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reserve a free instance of a service and run a command with its ports.",
        discussion: """
        Reserves the lowest instance of SERVICE that is neither reserved nor \
        (unless --no-probe) in use now (or the one given with --instance), exports \
        its variables as `env` prints them (KAFKA_BROKER_PORT=9192, \
        KAFKA_CONTAINER_NAME=..., KAFKA_VOLUME_NAME=...) plus PORTMANAGER_SERVICE \
        and PORTMANAGER_INSTANCE, and replaces itself with COMMAND.

        The reservation is owned by the process that becomes COMMAND (same pid, \
        same start time), so it ends when COMMAND exits or crashes, whatever its \
        background children do. For a container that outlives the command \
        (docker run -d), use `portmanager reserve` and `portmanager release` instead.

        Examples:
          portmanager run kafka -- sh -c 'docker run --name "$KAFKA_CONTAINER_NAME" \\
              -p "$KAFKA_BROKER_PORT:$KAFKA_BROKER_PORT" apache/kafka'
          portmanager run redis --instance 2 -- ./start-redis.sh

        \(ExitStatus.help(for: "run"))
        """
    )

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var state: StateOption

    @Argument(help: "The service to start, as the registry names it.", completion: RegistryCompletion.services)
    var service: String

    @Option(name: [.short, .long], help: "Reserve this instance instead of the lowest free one.")
    var instance: Int?

    @Flag(name: .customLong("no-probe"), help: "Do not skip instances whose ports are in use by processes without a reservation.")
    var noProbe = false

    @Argument(parsing: .postTerminator, help: "The command to run, after `--`.")
    var command: [String] = []

    mutating func validate() throws {
        if command.isEmpty { throw ValidationError("Give the command to run after `--`, for example: portmanager run \(service) -- ./start.sh") }
    }

    func run() throws {
        let loaded = try registry.open()
        let reservation = try Failure.exitingUnavailable {
            try loaded.reserve(service, instance: instance, owner: .thisProcess, probe: !noProbe,
                               stateDirectory: state.path)
        }
        let variables = try InstanceVariables(registry: loaded, service: service, instance: reservation.instance, prefix: nil)
        for (key, value) in variables.assignments { setenv(key, value, 1) }
        setenv("PORTMANAGER_SERVICE", reservation.service, 1)
        setenv("PORTMANAGER_INSTANCE", String(reservation.instance), 1)
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        argv.append(nil)
        execvp(command[0], &argv)
        let reason = String(cString: strerror(errno))
        // The command never ran: give back an instance this call took (only a fresh
        // one: one that is not was this process's before) rather than leave it to the reaper.
        if reservation.fresh {
            _ = try? loaded.release(reservation.service, instance: reservation.instance, stateDirectory: state.path)
        }
        Output.error("cannot run \(command[0]): \(reason)")
        throw ExitCode(Failure.cannotRun)
    }
}

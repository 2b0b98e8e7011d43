#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PortManager

/// `portmanager run`: lease an instance and run a command with its ports.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lease a free instance of a service and run a command with its ports.",
        discussion: """
        Picks the lowest instance of SERVICE whose host ports no other process has \
        leased (or the one given with --instance), exports its variables as `env` \
        prints them (KAFKA_BROKER_PORT=9192, KAFKA_CONTAINER_NAME=..., \
        KAFKA_VOLUME_NAME=...) plus PORTMANAGER_SERVICE and PORTMANAGER_INSTANCE, \
        and replaces itself with COMMAND. The command holds the lease until it exits, \
        so two orchestrators running at once never start the same instance.

        Leases are lock files under $PORTMANAGER_LEASE_DIR (default \
        /tmp/portmanager-leases), one per host port; the kernel releases them when \
        the command exits or crashes. Unless --no-probe is given, an instance whose \
        ports are bound by a process without a lease is skipped too.

        Examples:
          portmanager run kafka -- sh -c 'docker run --name "$KAFKA_CONTAINER_NAME" \\
              -p "$KAFKA_BROKER_PORT:$KAFKA_BROKER_PORT" apache/kafka'
          portmanager run redis --instance 2 -- ./start-redis.sh

        Exit status: COMMAND's own; 3 when no instance can be leased; 2 for usage \
        or input errors; 127 when COMMAND cannot be run.
        """
    )

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The service to start, as the registry names it.", completion: RegistryCompletion.services)
    var service: String

    @Option(name: [.short, .long], help: "Lease this instance instead of the lowest free one.")
    var instance: Int?

    @Flag(name: .customLong("no-probe"), help: "Do not skip instances whose ports are bound by processes without a lease.")
    var noProbe = false

    @Option(name: .customLong("lease-dir"), help: ArgumentHelp(
        "Keep lease files here instead of $PORTMANAGER_LEASE_DIR or /tmp/portmanager-leases.", valueName: "dir"))
    var leaseDirectory: String?

    @Argument(parsing: .postTerminator, help: "The command to run, after `--`.")
    var command: [String] = []

    /// Exit status when no instance can be leased.
    static let unavailable: Int32 = 3

    mutating func validate() throws {
        if command.isEmpty { throw ValidationError("Give the command to run after `--`, for example: portmanager run \(service) -- ./start.sh") }
        if let leaseDirectory, leaseDirectory.isEmpty { throw ValidationError("--lease-dir must not be empty.") }
    }

    func run() throws {
        let loaded = try registry.open()
        let lease: PortLease
        do {
            lease = try loaded.lease(service, instance: instance, directory: leaseDirectory, probe: !noProbe)
        } catch let error as PortManagerError {
            guard case .leased = error else { throw error }
            Failure.report(error)
            throw ExitCode(Run.unavailable)
        }
        let variables = try InstanceVariables(registry: loaded, service: service, instance: lease.instance, prefix: nil)
        for (key, value) in variables.assignments { setenv(key, value, 1) }
        setenv("PORTMANAGER_SERVICE", try loaded.service(named: service).name, 1)
        setenv("PORTMANAGER_INSTANCE", String(lease.instance), 1)
        lease.keepAcrossExec()
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        argv.append(nil)
        execvp(command[0], &argv)
        let reason = String(cString: strerror(errno))
        Output.error("cannot run \(command[0]): \(reason)")
        throw ExitCode(127)
    }
}

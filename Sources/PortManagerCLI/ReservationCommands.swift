import ArgumentParser
import PortManager

/// `portmanager reserve SERVICE`: reserve an instance in the store.
struct Reserve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reserve a free instance of a service (or the one given) until it is released.",
        discussion: """
        Takes the lowest instance of SERVICE that is neither reserved nor (unless \
        --no-probe) in use now, or the one given with --instance, and prints its \
        ports and names. The reservation is owned by --owner TEXT (a workflow ID, \
        a job name), by default the container name of the instance reserved, and \
        lasts until `portmanager release`, or until --ttl seconds pass without a \
        `portmanager renew`. Reserving an instance you already own succeeds again.

        Examples:
          portmanager reserve kafka --json
          portmanager reserve kafka --instance 2 --owner wf-8841 --ttl 3600

        Exit status: 0 reserved; 3 no instance is free, or the one asked for is \
        taken (the owner is named); 2 usage or input errors.
        """
    )

    @Argument(help: "The service, as the registry names it.")
    var service: String

    @Option(name: [.short, .long], help: "Reserve this instance instead of the lowest free one.")
    var instance: Int?

    @Option(name: .long, help: ArgumentHelp("Who owns the reservation (default: the instance's container name).", valueName: "text"))
    var owner: String?

    // .unconditional: `--ttl -5` reaches validate() as -5 instead of "missing value".
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Seconds until the reservation expires unless renewed (default: never).", valueName: "seconds"))
    var ttl: Int?

    @Flag(name: .customLong("no-probe"), help: "Do not skip instances whose ports are in use by processes without a reservation.")
    var noProbe = false

    @OptionGroup var output: JSONOption
    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if let owner, owner.isEmpty { throw ValidationError("--owner must not be empty.") }
        if let ttl { try checkTTL(ttl) }
    }

    func run() throws {
        let registry = try options.open()
        let reservation = try Failure.exitingUnavailable {
            try registry.reserve(service, instance: instance, owner: owner.map { .name(OwnerName(bytes: RawArguments.bytes(of: "--owner", parsed: $0))) } ?? .containerName,
                                 ttl: ttl, probe: !noProbe, stateDirectory: state.path)
        }
        let container = try registry.containerName(reservation.service, instance: reservation.instance)
        let volume = try registry.volumeName(reservation.service, instance: reservation.instance)
        if output.json {
            Output.line(reservation.cliJSON([("container_name", .string(container)), ("volume_name", .string(volume))]).rendered())
            return
        }
        Output.line("reserved \(reservation.service) instance \(reservation.instance) for \(reservation.ownerDescription), expires \(reservation.expiresText)")
        var table = Table()
        for (name, port) in reservation.portsByName { table.add([name, String(port)]) }
        table.add(["container", container])
        table.add(["volume", volume])
        Output.lines(table.render(indent: "  "))
    }
}

/// `portmanager release SERVICE INSTANCE`.
struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Release a reservation: its ports are free at once.",
        discussion: """
        Only the owner may release (--owner TEXT; default: the instance's \
        container name, as `reserve` uses), unless --force is given.

        Exit status: 0 released, or already free; 3 owned by someone else (the \
        owner is named); 2 usage or input errors.
        """
    )

    @Argument(help: "The service, as the registry names it.")
    var service: String

    @Argument(help: "The instance to release.")
    var instance: Int

    @Option(name: .long, help: ArgumentHelp("Who releases (default: the instance's container name).", valueName: "text"))
    var owner: String?

    @Flag(name: .long, help: "Release it whoever owns it.")
    var force = false

    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if let owner, owner.isEmpty { throw ValidationError("--owner must not be empty.") }
    }

    func run() throws {
        let registry = try options.open()
        let released = try Failure.exitingUnavailable {
            try registry.release(service, instance: instance, owner: owner.map { .name(OwnerName(bytes: RawArguments.bytes(of: "--owner", parsed: $0))) } ?? .containerName,
                                 force: force, stateDirectory: state.path)
        }
        let name = try registry.service(named: service).name
        Output.line(released ? "released \(name) instance \(instance)" : "\(name) instance \(instance) was not reserved")
    }
}

/// `portmanager renew SERVICE INSTANCE --ttl SECONDS`.
struct Renew: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extend a reservation: it now expires --ttl seconds from now.",
        discussion: """
        Only the owner may renew (--owner TEXT; default: the instance's container name).

        Exit status: 0 renewed; 3 not reserved, or owned by someone else; 2 usage \
        or input errors.
        """
    )

    @Argument(help: "The service, as the registry names it.")
    var service: String

    @Argument(help: "The instance to renew.")
    var instance: Int

    // .unconditional: `--ttl -5` reaches validate() as -5 instead of "missing value".
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Seconds from now until it expires.", valueName: "seconds"))
    var ttl: Int

    @Option(name: .long, help: ArgumentHelp("Who renews (default: the instance's container name).", valueName: "text"))
    var owner: String?

    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if let owner, owner.isEmpty { throw ValidationError("--owner must not be empty.") }
        try checkTTL(ttl)
    }

    func run() throws {
        let registry = try options.open()
        let renewed = try Failure.exitingUnavailable {
            try registry.renew(service, instance: instance, ttl: ttl, owner: owner.map { .name(OwnerName(bytes: RawArguments.bytes(of: "--owner", parsed: $0))) } ?? .containerName,
                               stateDirectory: state.path)
        }
        Output.line("renewed \(renewed.service) instance \(renewed.instance), expires \(renewed.expiresText)")
    }
}

extension Reservation {
    /// `never`, or the expiry time.
    var expiresText: String { expires.map(Reservation.timestamp) ?? "never" }
}

/// Refuses a --ttl outside the range the store accepts, naming the option and the range.
func checkTTL(_ ttl: Int) throws {
    let range = Registry.ttlRange
    guard range.contains(ttl) else {
        throw ValidationError("--ttl takes a whole number of seconds from \(range.lowerBound) to \(range.upperBound) (100 years), not \(ttl).")
    }
}

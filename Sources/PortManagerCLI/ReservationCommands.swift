import ArgumentParser
import PortManager

/// `portmanager reserve SERVICE`: reserve an instance in the store.
struct Reserve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reserve a free instance of a service (or the one given) until it is released.",
        discussion: """
        Takes the lowest instance of SERVICE that is neither reserved nor (unless \
        --no-probe) in use now, or the one given with --instance, and prints its \
        ports and names. A reservation is exclusive: an instance anyone else \
        holds is refused. It is owned by the shell or script that runs \
        portmanager (its parent process) and ends when that ends; or by --owner \
        TEXT (a workflow ID, a job name) until `portmanager release`; or by \
        --container NAME while that Docker container exists. --ttl ends it \
        sooner unless `portmanager renew` extends it. Reserving an instance you \
        already own succeeds again, and says so ("fresh": false).

        An instance whose container exists on the Docker engine without a \
        reservation (by its io.portmanager.* labels, else by its container \
        name), or whose host port a container publishes, is taken too: refused \
        (the container named), or skipped without --instance. --adopt reserves \
        it for its container instead. When the engine cannot be reached, \
        neither is checked.

        Examples:
          portmanager reserve kafka --json
          portmanager reserve kafka --instance 2 --owner wf-8841 --ttl 3600
          portmanager reserve kafka --instance 1 --container kafka-development-1
          portmanager reserve kafka --instance 1 --adopt

        \(ExitStatus.help(for: "reserve"))
        """
    )

    @Argument(help: "The service, as the registry names it.")
    var service: String

    @Option(name: [.short, .long], help: "Reserve this instance instead of the lowest free one.")
    var instance: Int?

    @OptionGroup var owner: OwnerOptions

    // .unconditional: `--ttl -5` reaches validate() as -5 instead of "missing value".
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Seconds until the reservation expires unless renewed (default: never).", valueName: "seconds"))
    var ttl: Int?

    @Flag(name: .customLong("no-probe"), help: "Do not skip instances whose ports are in use by processes without a reservation.")
    var noProbe = false

    @Flag(name: .customLong("adopt"), help: "When the instance's container exists without a reservation, reserve it for that container (needs --instance).")
    var adopt = false

    @OptionGroup var output: JSONOption
    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if let ttl { try checkTTL(ttl) }
        if adopt && instance == nil { throw ValidationError("--adopt needs --instance: without one, instances whose container exists are skipped.") }
    }

    func run() throws {
        let registry = try options.open()
        let asker = try owner.resolve()
        let reservation = try Failure.exitingUnavailable {
            try registry.reserve(service, instance: instance, owner: asker, ttl: ttl, probe: !noProbe, adopt: adopt,
                                 stateDirectory: state.path)
        }
        let container = try registry.containerName(reservation.service, instance: reservation.instance)
        let volume = try registry.volumeName(reservation.service, instance: reservation.instance)
        if output.json {
            Output.line(reservation.cliJSON([("fresh", .raw(reservation.fresh ? "true" : "false")),
                                             ("container_name", .string(container)), ("volume_name", .string(volume))]).rendered())
            return
        }
        let adopted = adopt && reservation.fresh && reservation.owner.container != nil && owner.container == nil
        let verb = adopted ? "adopted:" : reservation.fresh ? "reserved" : "already reserved (not fresh):"
        Output.line("\(verb) \(reservation.service) instance \(reservation.instance) for \(reservation.ownerDescription), expires \(reservation.expiresText)")
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
        Only the owner may release (as `reserve` takes it: by default the shell \
        or script that runs portmanager; --owner TEXT; --container NAME), unless \
        --force is given.

        \(ExitStatus.help(for: "release"))
        """
    )

    @Argument(help: "The service, as the registry names it.")
    var service: String

    @Argument(help: "The instance to release.")
    var instance: Int

    @OptionGroup var owner: OwnerOptions

    @Flag(name: .long, help: "Release it whoever owns it.")
    var force = false

    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
    }

    func run() throws {
        let registry = try options.open()
        // --force releases whoever owns it: the default owner need not be told (nor have a parent to tell).
        let asker = force && owner.owner == nil && owner.container == nil ? .thisProcess : try owner.resolve()
        let released = try Failure.exitingUnavailable {
            try registry.release(service, instance: instance, owner: asker, force: force, stateDirectory: state.path)
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
        Only the owner may renew (as `reserve` takes it: by default the shell or \
        script that runs portmanager; --owner TEXT; --container NAME).

        \(ExitStatus.help(for: "renew"))
        """
    )

    @Argument(help: "The service, as the registry names it.")
    var service: String

    @Argument(help: "The instance to renew.")
    var instance: Int

    // .unconditional: `--ttl -5` reaches validate() as -5 instead of "missing value".
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Seconds from now until it expires.", valueName: "seconds"))
    var ttl: Int

    @OptionGroup var owner: OwnerOptions

    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        try checkTTL(ttl)
    }

    func run() throws {
        let registry = try options.open()
        let asker = try owner.resolve()
        let renewed = try Failure.exitingUnavailable {
            try registry.renew(service, instance: instance, ttl: ttl, owner: asker, stateDirectory: state.path)
        }
        Output.line("renewed \(renewed.service) instance \(renewed.instance), expires \(renewed.expiresText)")
    }
}

/// `--owner TEXT` or `--container NAME`: who reserves, releases or renews;
/// by default the process that ran `portmanager` (its parent).
struct OwnerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A name that owns the reservation (a workflow ID, a job): it lasts until released, or until its --ttl runs out.",
        discussion: "Default (without --owner and --container): the process that ran portmanager (the shell or script, its parent), which holds it until it exits.",
        valueName: "text"))
    var owner: String?

    @Option(name: .long, help: ArgumentHelp(
        "A Docker container that owns the reservation, by name: it lasts while a container of that name exists.",
        valueName: "name"))
    var container: String?

    mutating func validate() throws {
        if let owner, owner.isEmpty { throw ValidationError("--owner must not be empty.") }
        if let container, container.isEmpty { throw ValidationError("--container must not be empty.") }
        if owner != nil && container != nil { throw ValidationError("give --owner or --container, not both.") }
    }

    /// The owner asked for: `--owner` (its bytes), `--container`, else the parent process.
    func resolve() throws -> ReservationOwner {
        if let owner { return .name(OwnerName(bytes: RawArguments.bytes(of: "--owner", parsed: owner))) }
        if let container { return .container(OwnerName(bytes: RawArguments.bytes(of: "--container", parsed: container))) }
        return .process(try ProcessIdentity.parent())
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

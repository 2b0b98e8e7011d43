import ArgumentParser
import PortManager

/// `portmanager bind SERVICE INSTANCE --container NAME`: hand a reservation to its container.
struct Bind: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hand a reservation to the container started for it.",
        discussion: """
        Once the container of a reserved instance is started, the reservation \
        can pass from its requester (a script, a workflow) to the container: it \
        then lasts while a container of that name exists, running or stopped, \
        and its TTL is dropped. Only the owner may hand it over (by default the \
        shell or script that runs portmanager, its parent; --owner TEXT for a \
        name). Binding to the container that holds it already succeeds.

        Example:
          portmanager reserve kafka -i 1 && docker run -d --name kafka-development-1 ... \\
            && portmanager bind kafka 1 --container kafka-development-1
          portmanager release kafka 1 --container kafka-development-1

        \(ExitStatus.help(for: "bind"))
        """
    )

    @Argument(help: "The service, as the registry names it.")
    var service: String

    @Argument(help: "The instance to hand over.")
    var instance: Int

    @Option(name: .long, help: ArgumentHelp(
        "The container that will own the reservation, by its Docker name (default: the instance's container name, as `names` prints it).",
        valueName: "name"))
    var container: String?

    @Option(name: .long, help: ArgumentHelp(
        "The reservation's owner now, when it is a name (default: the process that ran portmanager, its parent).",
        valueName: "text"))
    var owner: String?

    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if let owner, owner.isEmpty { throw ValidationError("--owner must not be empty.") }
        if let container, container.isEmpty { throw ValidationError("--container must not be empty.") }
    }

    func run() throws {
        let registry = try options.open()
        let asker: ReservationOwner = try owner.map { .name(OwnerName(bytes: RawArguments.bytes(of: "--owner", parsed: $0))) }
            ?? .process(ProcessIdentity.parent())
        let bound = try Failure.exitingUnavailable {
            try registry.bind(service, instance: instance,
                              container: container.map { OwnerName(bytes: RawArguments.bytes(of: "--container", parsed: $0)) },
                              owner: asker, stateDirectory: state.path)
        }
        Output.line("bound \(bound.service) instance \(bound.instance) to \(bound.ownerDescription)")
    }
}

import ArgumentParser
import PortManager

/// `portmanager status [SERVICE]`: the state of every instance, computed by the
/// library (``Registry/instanceStates(_:all:stateDirectory:containers:)-([UInt8]?)``).
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which instances run, are stopped, reserved, in use, in conflict, or free.",
        discussion: """
        For every instance of every service (or of SERVICE), one state, from \
        the reservation store, a probe of every host port and the Docker \
        engine's containers (one request):
          running    its container runs (reserved or not)
          stopped    its container exists and does not run
          reserved   reserved, no container yet
          in_use     not reserved, but a port is held: by a container (named) \
        or a process (pid and command)
          conflict   reserved by one owner while another container, or a \
        process not the owner's, holds a port
          free       none of these (listed only with --all)
        An instance's container is the reservation's (a container owner), \
        else one labelled io.portmanager.service/instance/environment for it, \
        else the one with its container name. Expired reservations and those \
        of ended owners and gone containers are removed first. When the engine \
        cannot be reached, a line on standard error says so, no container is \
        known (CONTAINER '?', "container_state": "unknown"), nothing is \
        reaped, and a reserved instance stays reserved.

        --json prints a list of objects with "service", "environment", \
        "instance", "state", "container", "container_state", "owner", \
        "owner_kind", "pid", "pid_namespace", "liveness", "command", "since", \
        "expires", "reserved_as", "port_in_use", "probe" and "ports", null where \
        they do not apply (PREFIX/share/doc/portmanager/json.md).

        \(ExitStatus.help(for: "status"))
        """
    )

    @Argument(help: "Only this service.")
    var service: String?

    @Flag(name: .customLong("all"), help: "List the free instances too.")
    var showAll = false

    @OptionGroup var output: JSONOption
    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    func run() throws {
        let registry = try options.open()
        let states = try registry.instanceStates(service, all: showAll, stateDirectory: state.path)
        if let line = states.dockerLine { Output.err("portmanager: warning: " + line) }
        if output.json {
            Output.line(JSON.array(states.rows.map { .raw($0.json) }).rendered())
        } else if states.rows.isEmpty {
            Output.line("No instance is running, stopped, reserved or in use (--all lists the free ones).")
        } else {
            var table = Table(header: ["SERVICE", "INSTANCE", "STATE", "CONTAINER", "DETAIL"])
            for row in states.rows {
                table.add([row.service, String(row.instance), row.state.rawValue, row.containerText, row.detail])
            }
            Output.lines(table.render())
        }
    }
}

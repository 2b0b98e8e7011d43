import ArgumentParser
import PortManager

/// `portmanager reconcile`: bring the reservation store and the Docker engine into line.
struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reap reservations whose container is gone; adopt containers that have none.",
        discussion: """
        Asks the Docker engine ($DOCKER_HOST when unix://PATH, else \
        /var/run/docker.sock) for every container, then, in one transaction:
          reap    removes each container reservation whose container the \
        engine no longer lists (one made less than 5 minutes ago whose \
        container was never seen is kept: it is being created);
          adopt   reserves each instance of the registry (in its environment) \
        whose container exists (by its io.portmanager.* labels, else by its \
        container name) and that has no reservation, for that container;
          skip    names such a container when another reservation holds one \
        of its instance's ports.
        Each action is printed (--dry-run: what would be done, changing \
        nothing). When the engine cannot be reached, nothing is changed.

        --json prints a list of objects with "action", "service", \
        "environment", "instance", "container", "container_state" and "reason" \
        (PREFIX/share/doc/portmanager/json.md).

        \(ExitStatus.help(for: "reconcile"))
        """
    )

    @Flag(name: .customLong("dry-run"), help: "Print what would be done; change nothing.")
    var dryRun = false

    @OptionGroup var output: JSONOption
    @OptionGroup var state: StateOption
    @OptionGroup var options: RegistryOptions

    func run() throws {
        let registry = try options.open()
        let actions = try registry.reconcile(dryRun: dryRun, stateDirectory: state.path)
        if output.json {
            Output.line(JSON.array(actions.map { .raw($0.json) }).rendered())
        } else if actions.isEmpty {
            Output.line("Nothing to reconcile: every container reservation has its container, every container its reservation.")
        } else {
            Output.lines(actions.map { $0.line(dryRun: dryRun) })
        }
    }
}

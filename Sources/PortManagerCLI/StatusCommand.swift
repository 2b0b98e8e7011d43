import ArgumentParser
import PortManager

/// `portmanager status [SERVICE]`: the state of every instance.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which instances are reserved, held by a running process, in use, or free.",
        discussion: """
        For every instance of every service (or of SERVICE), one state:
          reserved   reserved by a name (owner, since, expires)
          held       reserved by a process that runs (pid, command)
          in_use     not reserved, but a port is in use now (the probe, per the
                     port's protocol and host IP, with who holds it)
          free       none of these
        Expired reservations and those of ended processes are removed first. \
        Free instances are listed only with --all.

        --json prints a list of objects with "service", "instance", "state", \
        "owner" (null when none), "pid", "command", "since", "expires", "ports" \
        and, when a reservation of another service instance holds the ports, \
        "reserved_as" (PREFIX/share/doc/portmanager/json.md).

        Exit status: 0 success; 2 usage or input error (unknown service, bad \
        registry, a refused reservation store).
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
        let services = try service.map { [try registry.service(named: $0)] } ?? registry.services
        let environment = registry.environment?.name ?? ""
        let all = try registry.reservations(stateDirectory: state.stateDirectory)
        var byPort: [Int: Reservation] = [:]
        for reservation in all { for port in reservation.ports { byPort[port.port] = reservation } }
        // One probe of every host port of every instance: each /proc/net table is read once.
        var slices: [Range<Int>] = []
        var requests: [PortProbe.Request] = []
        for definition in services {
            for instance in 0..<definition.maxInstances {
                let start = requests.count
                requests += try registry.probeRequests(definition.name, instance: instance)
                slices.append(start..<requests.count)
            }
        }
        let answers = try PortProbe.probe(requests)
        var slice = 0
        var rows: [JSON] = []
        var table = Table(header: ["SERVICE", "INSTANCE", "STATE", "DETAIL"])
        for definition in services {
            for instance in 0..<definition.maxInstances {
                let ports = try registry.ports(definition.name, instance: instance)
                let hostPorts = ports.flatMap { Array($0.hostPort...$0.hostPortLast) }
                let probed = answers[slices[slice]]
                slice += 1
                let own = all.first { $0.service == definition.name && $0.environment == environment && $0.instance == instance }
                let holder = own ?? hostPorts.lazy.compactMap { byPort[$0] }.first
                var fields: [(String, JSON)] = [("service", .string(definition.name)), ("instance", .int(instance))]
                var detail: String
                let stateName: String
                if let holder {
                    stateName = holder.pid == nil ? "reserved" : "held"
                    detail = holder.pid == nil
                        ? "owner \(holder.ownerDescription), since \(Reservation.timestamp(holder.since)), expires \(holder.expiresText)"
                        : "\(holder.ownerDescription)" + (holder.expires == nil ? "" : ", expires \(holder.expiresText)")
                    fields += [("state", .string(stateName)), ("owner", .string(holder.ownerText)),
                               ("pid", .optional(holder.pid)), ("command", .optional(holder.command)),
                               ("since", .int(Int(holder.since))), ("expires", .optional(holder.expires.map { Int($0) }))]
                    if own == nil {
                        detail += " (as instance \(holder.instance) of \(RegistryBuilder.quote(holder.service)))"
                        fields.append(("reserved_as", .object([("service", .string(holder.service)),
                                                               ("environment", .string(holder.environment)),
                                                               ("instance", .int(holder.instance))])))
                    }
                } else if let busy = probed.first(where: { $0.verdict == .inUse }) {
                    stateName = "in_use"
                    detail = "port \(busy.port) is in use without a reservation"
                    if !busy.holders.isEmpty { detail += ": " + busy.holders.map(\.description).joined(separator: ", ") }
                    fields += [("state", .string(stateName)), ("owner", .null), ("port_in_use", .int(busy.port)),
                               ("probe", .raw(busy.json()))]
                } else {
                    stateName = "free"
                    detail = ""
                    fields += [("state", .string(stateName)), ("owner", .null)]
                }
                if stateName == "free" && !showAll { continue }
                fields.append(("ports", .object(ports.map { ($0.portName, JSON.int($0.hostPort)) })))
                rows.append(.object(fields))
                table.add([definition.name, String(instance), stateName, detail])
            }
        }
        if output.json {
            Output.line(JSON.array(rows).rendered())
        } else if rows.isEmpty {
            Output.line("No instance is reserved, held or in use (--all lists the free ones).")
        } else {
            Output.lines(table.render())
        }
    }
}

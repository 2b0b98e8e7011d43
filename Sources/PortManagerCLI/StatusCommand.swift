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
        let services = try service.map { [try registry.service(named: $0)] } ?? registry.services
        let environment = registry.environment?.name ?? ""
        let all = try registry.reservations(stateDirectory: state.path)
        // Indexed once, so each instance's lookup is O(1): status is linear in
        // instances + reservations (benchmarks/reservations/bench_status.py).
        // The store keys ports by protocol and number: so does this map.
        var byPort: [PortKey: Reservation] = [:]
        var byInstance: [InstanceKey: Reservation] = [:]
        byPort.reserveCapacity(all.count)
        byInstance.reserveCapacity(all.count)
        for reservation in all {
            for port in reservation.ports { for member in port.protocols.members { byPort[PortKey(member, port.port)] = reservation } }
            let key = InstanceKey(service: reservation.service, environment: reservation.environment,
                                  instance: reservation.instance)
            if byInstance[key] == nil { byInstance[key] = reservation }  // the first, as a scan would find
        }
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
        var shown = 0  // rows of either kind: JSON rows are built only for --json
        var table = Table(header: ["SERVICE", "INSTANCE", "STATE", "DETAIL"])
        for definition in services {
            for instance in 0..<definition.maxInstances {
                let ports = try registry.ports(definition.name, instance: instance)
                let hostPorts = ports.flatMap { port in
                    (port.hostPort...port.hostPortLast).flatMap { number in port.protocols.members.map { PortKey($0, number) } }
                }
                let probed = answers[slices[slice]]
                slice += 1
                let own = byInstance[InstanceKey(service: definition.name, environment: environment, instance: instance)]
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
                               ("pid", .optional(holder.pid)),
                               ("pid_namespace", .optional(holder.pidNamespace.flatMap { Int(exactly: $0) })),
                               ("liveness", .optional(holder.liveness?.rawValue)), ("command", .optional(holder.command)),
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
                shown += 1
                if output.json {
                    fields.append(("ports", .object(ports.map { ($0.portName, JSON.int($0.hostPort)) })))
                    rows.append(.object(fields))
                } else {
                    table.add([definition.name, String(instance), stateName, detail])
                }
            }
        }
        if output.json {
            Output.line(JSON.array(rows).rendered())
        } else if shown == 0 {
            Output.line("No instance is reserved, held or in use (--all lists the free ones).")
        } else {
            Output.lines(table.render())
        }
    }
}

/// A host port of one protocol.
private struct PortKey: Hashable {
    var protocols: PortProtocols
    var port: Int
    init(_ protocols: PortProtocols, _ port: Int) { self.protocols = protocols; self.port = port }
}

/// A reservation's identity: one service instance in one environment.
private struct InstanceKey: Hashable {
    let service: String
    let environment: String
    let instance: Int
}

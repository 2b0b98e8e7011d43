import PortManagerCore

// How instance states are shown: one JSON writer for the C function, Python
// and the CLI's --json, and the words of the CLI's table.

extension InstanceState {
    /// One compact JSON object, every key always present (null when it does not apply):
    ///
    ///     {"service": "kafka", "environment": "", "instance": 1, "state": "running",
    ///      "container": "kafka-development-1" | null,
    ///      "container_state": "running" | "exited" | ... | "unknown" (engine not heard) | null,
    ///      "owner": "wf-1" | "process 4242" | CONTAINER | null, "owner_kind": "process" | "name" | "container" | null,
    ///      "pid": 4242 | null, "pid_namespace": INODE | null, "liveness": "alive" | "unknown" | null,
    ///      "command": "sh" | null, "since": UNIX_SECONDS | null, "expires": UNIX_SECONDS | null,
    ///      "reserved_as": {"service", "environment", "instance"} | null,
    ///      "port_in_use": 9192 | null, "probe": PROBE_DOCUMENT | null,
    ///      "ports": {"broker_port": 9192, ...}}
    public var json: String { jsonValue.compact() }

    /// The keys a row takes from its reservation, written by the reservation's
    /// own encoder (``Reservation/jsonValue``), null for an instance without one.
    static let reservationKeys = ["owner", "owner_kind", "pid", "pid_namespace", "liveness", "command", "since", "expires"]

    /// ``json`` as a value (the library's one JSON writer).
    public var jsonValue: JSONValue {
        var fromReservation: [String: JSONValue] = [:]
        if let r = reservation, case .object(let members) = r.jsonValue {
            for member in members { fromReservation[member.key] = member.value }
        }
        var members: [(String, JSONValue)] = [
            ("service", .string(service)), ("environment", .string(environment)), ("instance", .int(instance)),
            ("state", .string(state.rawValue)), ("container", .optional(container?.name)),
            ("container_state", .optional(containerState)),
        ]
        members += Self.reservationKeys.map { ($0, fromReservation[$0] ?? .null) }
        let reservedAsValue: JSONValue = reservation.map { r in
            reservedAs ? .object([("service", .string(r.service)), ("environment", .string(r.environment)),
                                  ("instance", .int(r.instance))]) : .null
        } ?? .null
        members += [
            ("reserved_as", reservedAsValue),
            ("port_in_use", .optional(portInUse?.port)),
            ("probe", portInUse.map { .raw($0.json()) } ?? .null),
            ("ports", .object(ports.map { ($0.portName, JSONValue.int($0.hostPort)) })),
        ]
        return .object(members)
    }

    /// The container column: its name, `?` when the engine could not be asked, `-` for none.
    public var containerText: String {
        if containerUnknown { return "?" }
        return container.map(\.name) ?? "-"
    }

    /// What the state rests on, for people: the owner, the container, the port held and by whom.
    public var detail: String {
        var parts: [String] = []
        if let r = reservation {
            var owner = "reserved by \(r.ownerDescription) since \(Reservation.timestamp(r.since))"
            owner += r.expires.map { ", expires \(Reservation.timestamp($0))" } ?? ""
            if reservedAs { owner += " (as instance \(r.instance) of \(RegistryBuilder.quote(r.service)))" }
            parts.append(owner)
        } else if state == .running || state == .stopped {
            parts.append("not reserved: `portmanager reconcile` (or `reserve --adopt`) adopts it")
        }
        if let container, state != .inUse { parts.append("container \(RegistryBuilder.quote(container.name)) \(container.state)") }
        if state == .reserved && !containerUnknown { parts.append("no container yet") }
        if let answer = portInUse {
            let whom = answer.holders.map(\.description).joined(separator: ", ")
            parts.append(state == .inUse
                ? "port \(answer.port) is in use without a reservation" + (whom.isEmpty ? "" : ": " + whom)
                : "port \(answer.port) is also held" + (whom.isEmpty ? "" : " by " + whom))
        }
        return parts.joined(separator: "; ")
    }
}

extension InstanceStates {
    /// One compact JSON object: `{"docker": {"reachable": true | false, "error":
    /// null | WHY}, "instances": [ROW, ...]}`, each row ``InstanceState/json``.
    /// The document of `pm_instance_states_json`.
    public var json: String {
        JSONValue.object([
            ("docker", .object([("reachable", .bool(dockerUnavailable == nil)), ("error", .optional(dockerUnavailable))])),
            ("instances", .array(rows.map(\.jsonValue))),
        ]).compact()
    }

    /// The line `status` prints on standard error when the engine could not be asked.
    public var dockerLine: String? {
        dockerUnavailable.map { "the Docker engine cannot be reached, so no container is known and nothing was reaped: \($0)" }
    }
}

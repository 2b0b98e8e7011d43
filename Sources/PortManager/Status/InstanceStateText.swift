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
    public var json: String {
        var out = "{\"service\":" + JSONText.string(service) + ",\"environment\":" + JSONText.string(environment)
        out += ",\"instance\":\(instance),\"state\":" + JSONText.string(state.rawValue)
        out += ",\"container\":" + (container.map { JSONText.string($0.name) } ?? "null")
        out += ",\"container_state\":" + (containerState.map(JSONText.string) ?? "null")
        let r = reservation
        out += ",\"owner\":" + (r.map { JSONText.string($0.ownerText) } ?? "null")
        out += ",\"owner_kind\":" + (r.map { JSONText.string($0.owner.kind) } ?? "null")
        out += ",\"pid\":" + (r?.pid.map(String.init) ?? "null")
        out += ",\"pid_namespace\":" + (r?.pidNamespace.map(String.init) ?? "null")
        out += ",\"liveness\":" + (r?.liveness.map { JSONText.string($0.rawValue) } ?? "null")
        out += ",\"command\":" + (r?.command.map(JSONText.string) ?? "null")
        out += ",\"since\":" + (r.map { String($0.since) } ?? "null")
        out += ",\"expires\":" + (r?.expires.map(String.init) ?? "null")
        out += ",\"reserved_as\":"
        if let r, reservedAs {
            out += "{\"service\":" + JSONText.string(r.service) + ",\"environment\":" + JSONText.string(r.environment)
                + ",\"instance\":\(r.instance)}"
        } else {
            out += "null"
        }
        out += ",\"port_in_use\":" + (portInUse.map { String($0.port) } ?? "null")
        out += ",\"probe\":" + (portInUse?.json() ?? "null")
        out += ",\"ports\":{" + ports.map { JSONText.string($0.portName) + ":\($0.hostPort)" }.joined(separator: ",") + "}}"
        return out
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
        "{\"docker\":{\"reachable\":" + (dockerUnavailable == nil ? "true" : "false") + ",\"error\":"
            + (dockerUnavailable.map(JSONText.string) ?? "null") + "},\"instances\":["
            + rows.map(\.json).joined(separator: ",") + "]}"
    }

    /// The line `status` prints on standard error when the engine could not be asked.
    public var dockerLine: String? {
        dockerUnavailable.map { "the Docker engine cannot be reached, so no container is known and nothing was reaped: \($0)" }
    }
}

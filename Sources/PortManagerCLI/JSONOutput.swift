import PortManager

/// The CLI's JSON: the core's one JSON value (``JSONValue``), and below it the
/// JSON form of each library type that `--json` prints. The documents are
/// described in docs/json.md and checked against docs/schema/*.json by
/// Tests/cli/test_json_schema.py.
typealias JSON = JSONValue

extension Registry {
    /// `{"name": ..., "offset": ...}` of the environment in force, or `null`.
    var environmentJSON: JSON {
        guard let environment else { return .null }
        return .object([("name", .string(environment.name)), ("offset", .int(environment.offset))])
    }
}

extension Allocation {
    /// The JSON form of one allocated port of one instance.
    var json: JSON {
        .object([
            ("name", .string(portName)),
            ("host", .int(hostPort)),
            ("host_last", .int(hostPortLast)),
            ("container", .int(containerPort)),
            ("container_last", .int(containerPortLast)),
            ("host_text", .string(hostText)),
            ("mapping", .string(mapping)),
        ])
    }
}

extension InstanceVariables {
    /// The assignments as a JSON object, in order.
    var json: JSON { .object(assignments.map { ($0.key, .string($0.value)) }) }
}

extension Reservation {
    /// The CLI's JSON of a reservation: the library's object (``Reservation/jsonValue``,
    /// the keys of `pm_reservations_json`), pretty-printed, then `extra`.
    func cliJSON(_ extra: [(String, JSON)] = []) -> JSON {
        guard case .object(let members) = jsonValue else { return jsonValue }
        return .object(members + extra.map { JSON.Member($0.0, $0.1) })
    }
}

import PortManager

/// The CLI's one JSON encoder: a JSON value, and below it the JSON form of each
/// library type that `--json` prints. Objects keep their keys in the order
/// given, so output is stable and diffable. Strings are escaped by the core's
/// ``JSONText``, as the library's own JSON is. The documents are described in
/// docs/json.md and checked against docs/schema/*.json by Tests/cli/test_json_schema.py.
enum JSON {
    case null
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])
    /// JSON text written as is (the library's own JSON, such as a probe answer).
    case raw(String)

    /// A string, or `null` when `value` is nil.
    static func optional(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }

    /// An integer, or `null` when `value` is nil.
    static func optional(_ value: Int?) -> JSON { value.map(JSON.int) ?? .null }

    /// The value as JSON text, indented by two spaces per level, without a trailing newline.
    func rendered() -> String {
        var out = ""
        write(to: &out, depth: 0)
        return out
    }

    private func write(to out: inout String, depth: Int) {
        switch self {
        case .null: out += "null"
        case .int(let value): out += String(value)
        case .string(let value): JSONText.quote(value, into: &out)
        case .raw(let text): out += text
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += JSON.indent(depth + 1)
                item.write(to: &out, depth: depth + 1)
                out += i < items.count - 1 ? ",\n" : "\n"
            }
            out += JSON.indent(depth) + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += JSON.indent(depth + 1)
                JSONText.quote(key, into: &out)
                out += ": "
                value.write(to: &out, depth: depth + 1)
                out += i < members.count - 1 ? ",\n" : "\n"
            }
            out += JSON.indent(depth) + "}"
        }
    }

    private static func indent(_ depth: Int) -> String { String(repeating: "  ", count: depth) }
}

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
    /// The CLI's JSON of a reservation: the library's keys, pretty-printed.
    func cliJSON(_ extra: [(String, JSON)] = []) -> JSON {
        .object([
            ("service", .string(service)), ("environment", .string(environment)), ("instance", .int(instance)),
            ("owner", .string(ownerText)), ("owner_kind", .string(owner.kind)),
            ("pid", .optional(pid)), ("command", .optional(command)),
            ("since", .int(Int(since))), ("expires", .optional(expires.map { Int($0) })),
            ("ports", .object(portsByName.map { ($0.name, JSON.int($0.port)) })),
        ] + extra)
    }
}

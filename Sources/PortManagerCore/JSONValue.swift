/// A JSON value, written one way wherever the library or the CLI writes one:
/// objects keep their keys in the order given, so output is stable and
/// diffable, and strings are escaped by ``JSONText``. ``compact()`` is the one
/// line the C functions return (`pm_instance_docker_json`); ``rendered()`` the
/// indented form the CLI's `--json` prints.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([Member])
    /// JSON text written as is (the library's own JSON, such as a probe answer).
    case raw(String)

    /// One key and its value.
    public struct Member: Sendable, Hashable {
        public let key: String
        public let value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// An object from (key, value) pairs, in order.
    public static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(members.map { Member($0.0, $0.1) })
    }

    /// A string, or `null` when `value` is nil.
    public static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    /// An integer, or `null` when `value` is nil.
    public static func optional(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }

    /// The value as JSON text, indented by two spaces per level, without a trailing newline.
    public func rendered() -> String {
        var out = ""
        write(to: &out, depth: 0)
        return out
    }

    /// The value as JSON text on one line, without spaces.
    public func compact() -> String {
        var out = ""
        write(to: &out, depth: nil)
        return out
    }

    /// Writes the value; `depth` nil for one line.
    private func write(to out: inout String, depth: Int?) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): JSONText.quote(value, into: &out)
        case .raw(let text): out += text
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                JSONValue.newline(&out, depth.map { $0 + 1 })
                item.write(to: &out, depth: depth.map { $0 + 1 })
            }
            JSONValue.newline(&out, depth)
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.newline(&out, depth.map { $0 + 1 })
                JSONText.quote(member.key, into: &out)
                out += depth == nil ? ":" : ": "
                member.value.write(to: &out, depth: depth.map { $0 + 1 })
            }
            JSONValue.newline(&out, depth)
            out += "}"
        }
    }

    /// A newline and the indent of `depth`, in the indented form only.
    private static func newline(_ out: inout String, _ depth: Int?) {
        guard let depth else { return }
        out += "\n"
        out += String(repeating: "  ", count: depth)
    }
}

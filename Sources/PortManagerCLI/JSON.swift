import PortManager
/// A JSON value, just enough for the CLI's `--json` output. Objects keep their
/// keys in the order given, so output is stable and diffable.
enum JSON {
    case null
    case bool(Bool)
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
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): JSON.quote(value, into: &out)
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
                JSON.quote(key, into: &out)
                out += ": "
                value.write(to: &out, depth: depth + 1)
                out += i < members.count - 1 ? ",\n" : "\n"
            }
            out += JSON.indent(depth) + "}"
        }
    }

    private static func indent(_ depth: Int) -> String { String(repeating: "  ", count: depth) }

    /// Appends `text` as a JSON string (the core's ``JSONText`` escaping).
    static func quote(_ text: String, into out: inout String) {
        JSONText.quote(text, into: &out)
    }
}

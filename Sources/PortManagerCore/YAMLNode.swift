/// A YAML document reduced to what a registry needs: scalars, mappings and
/// sequences, each with its source position. The libyaml reader in the
/// `PortManager` target produces it; the core validates it without I/O.
public enum YAMLNode: Sendable, Hashable {
    /// How a scalar was written, which with its text decides its ``YAMLKind``:
    /// `"9092"` is a string, `9092` an integer.
    public enum ScalarStyle: Sendable, Hashable {
        /// Unquoted.
        case plain
        /// Single- or double-quoted, or a block scalar.
        case quoted
    }

    /// A scalar and how it was written.
    case scalar(String, ScalarStyle, line: Int, column: Int)
    /// A mapping, with its entries in source order (duplicates kept, so they can be reported).
    case mapping([(key: YAMLNode, value: YAMLNode)], line: Int, column: Int)
    /// A sequence.
    case sequence([YAMLNode], line: Int, column: Int)

    /// 1-based line where the node starts.
    public var line: Int {
        switch self {
        case .scalar(_, _, let line, _), .mapping(_, let line, _), .sequence(_, let line, _): return line
        }
    }

    /// 1-based column where the node starts.
    public var column: Int {
        switch self {
        case .scalar(_, _, _, let column), .mapping(_, _, let column), .sequence(_, _, let column): return column
        }
    }

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case let (.scalar(a, s, l, c), .scalar(b, t, m, d)):
            return a == b && s == t && l == m && c == d
        case let (.mapping(a, l, c), .mapping(b, m, d)):
            return l == m && c == d && a.count == b.count
                && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.sequence(a, l, c), .sequence(b, m, d)):
            return a == b && l == m && c == d
        default:
            return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(line)
        hasher.combine(column)
    }
}

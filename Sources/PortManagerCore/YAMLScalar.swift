/// What a YAML node resolves to, decided from the node alone: the collection
/// kinds, and for a scalar the type of YAML 1.1's resolution as a registry
/// meets it. Validation decides types by kind; messages name the kind through
/// ``description`` ("must be an integer, not a float"), so rewording a
/// message can never change what parses.
package enum YAMLKind: Sendable, Hashable, CustomStringConvertible {
    /// A mapping.
    case mapping
    /// A sequence.
    case list
    /// A quoted or block scalar, or a plain one that is none of the kinds below.
    case string
    /// A plain `[+-]?[0-9]+` (see ``DecimalInteger``). Not `0x1F`, `0o17` or
    /// `1_000`, which are strings.
    case integer
    /// A plain number with a `.` or an exponent (`80.0`, `1e3`, `1_000.5`), or
    /// `.inf`, `+.inf`, `-.inf`, `.nan` in any case.
    case float
    /// A plain `true`/`false`, `yes`/`no`, `on`/`off`, `y`/`n` (YAML 1.1),
    /// lower case, capitalised or upper case.
    case boolean
    /// A plain empty scalar, `~`, `null`, `Null` or `NULL`.
    case null

    /// The kind with an article, as messages name it: `an integer`, `a list`, `null`.
    package var description: String {
        switch self {
        case .mapping: return "a mapping"
        case .list: return "a list"
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .boolean: return "a boolean"
        case .null: return "null"
        }
    }

    /// The kind of a scalar written `text` in `style`: a quoted or block
    /// scalar is always a string; a plain one resolves as YAML 1.1 does.
    package init(scalar text: String, style: YAMLNode.ScalarStyle) {
        guard style == .plain else { self = .string; return }
        if DecimalInteger(text) != nil { self = .integer; return }
        switch text {
        case "", "~", "null", "Null", "NULL":
            self = .null
        case "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
             "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N":
            self = .boolean
        default:
            self = YAMLKind.isFloat(text) ? .float : .string
        }
    }

    /// True for a plain float: `.inf`, `+.inf`, `-.inf`, `.nan` in any case, or
    /// digits and `_` with a `.` or an exponent (`e`/`E`, signed or not).
    static func isFloat(_ text: String) -> Bool {
        let lowered = text.lowercased()
        if [".inf", "+.inf", "-.inf", ".nan"].contains(lowered) { return true }
        var sawDigit = false, sawDot = false, sawExp = false
        var previous: Character = " "
        for (i, c) in text.enumerated() {
            switch c {
            case "0"..."9", "_": sawDigit = sawDigit || c != "_"
            case "+", "-": if !(i == 0 || previous == "e" || previous == "E") { return false }
            case ".": if sawDot || sawExp { return false }; sawDot = true
            case "e", "E": if sawExp || !sawDigit { return false }; sawExp = true
            default: return false
            }
            previous = c
        }
        return sawDigit && (sawDot || sawExp)
    }
}

extension YAMLNode {
    /// What the node resolves to (see ``YAMLKind``).
    package var kind: YAMLKind {
        switch self {
        case .mapping: return .mapping
        case .sequence: return .list
        case .scalar(let text, let style, _, _): return YAMLKind(scalar: text, style: style)
        }
    }

    /// The integer of a node whose kind is ``YAMLKind/integer``; nil for every other kind.
    package var integer: DecimalInteger? {
        guard case .scalar(let text, .plain, _, _) = self else { return nil }
        return DecimalInteger(text)
    }
}

/// A decimal integer as the registry and the kernel's lists write one: an
/// optional sign (where allowed), then ASCII digits `0`-`9`, nothing else: no
/// spaces, no `_`, no `0x`/`0o`/`0b` prefix. The project's one integer parser:
/// the registry's integers and ranges, and the kernel's port lists read through it.
package struct DecimalInteger: Sendable, Hashable {
    /// The value; nil when its magnitude is beyond `Int.max` (so `-9223372036854775808`,
    /// whose magnitude is, has none).
    package let value: Int?
    /// True when written with `+` or `-`.
    package let isSigned: Bool
    /// True when the digits are more than one and begin with `0` (`007`, `-00`):
    /// YAML 1.1 reads those as octal, so the registry refuses them.
    package let hasLeadingZero: Bool

    /// Parses `text`, all of it; nil unless it is `[+-]?[0-9]+` (`[0-9]+`
    /// when `allowingSign` is false).
    package init?<Text: StringProtocol>(_ text: Text, allowingSign: Bool = true) {
        // One pass over contiguous bytes (every native String and Substring).
        let parsed = text.utf8.withContiguousStorageIfAvailable { DecimalInteger.parse($0, allowingSign: allowingSign) }
            ?? Array(text.utf8).withUnsafeBufferPointer { DecimalInteger.parse($0, allowingSign: allowingSign) }
        guard let parsed else { return nil }
        self = parsed
    }

    private init(value: Int?, isSigned: Bool, hasLeadingZero: Bool) {
        self.value = value
        self.isSigned = isSigned
        self.hasLeadingZero = hasLeadingZero
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, allowingSign: Bool) -> DecimalInteger? {
        let sign = bytes.first
        let isSigned = allowingSign && (sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"))
        let start = isSigned ? 1 : 0
        guard start < bytes.count else { return nil }
        var magnitude = 0
        var overflow = false
        for index in start..<bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(digit))
            overflow = overflow || o1 || o2
            magnitude = sum
        }
        return DecimalInteger(value: overflow ? nil : (sign == UInt8(ascii: "-") && isSigned ? -magnitude : magnitude),
                              isSigned: isSigned,
                              hasLeadingZero: bytes.count - start > 1 && bytes[start] == UInt8(ascii: "0"))
    }
}

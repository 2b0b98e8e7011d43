/// JSON string literals, escaped per RFC 8259: quotes, backslashes and
/// control characters escaped (C0, DEL and C1, whose U+0085 some readers take
/// as a line break, and U+2028/U+2029, which break JavaScript readers);
/// everything else passes through as UTF-8. Shared by the analysis
/// JSON and the CLI's `--json` output.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    public static func string(_ text: String) -> String {
        var out = ""
        quote(text, into: &out)
        return out
    }

    /// Appends `text` to `out` as a JSON string literal.
    public static func quote(_ text: String, into out: inout String) {
        // Most text is printable ASCII without quotes or backslashes: appended
        // whole after one scan of its bytes, not scalar by scalar.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += "\""
            out += text
            out += "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: appendEscapingControls(scalar, to: &out)
            }
        }
        out += "\""
    }

    /// Appends `scalar`, escaped when it is a control character (C0, DEL, C1,
    /// U+2028, U+2029): `\n`, `\r`, `\t`, else `\uXXXX`. Quotes and backslashes
    /// pass through. Shared with ``PathText``.
    static func appendEscapingControls(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
}

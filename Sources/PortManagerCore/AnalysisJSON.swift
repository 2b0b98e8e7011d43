extension Analysis {
    /// The analysis as one JSON object; docs/analysis.md gives the schema.
    ///
    /// ```json
    /// {"source": "...", "ephemeral_range": [32768, 60999], "reserved_ports": "",
    ///  "environments": [{"name": "ci", "offset": 20000}], "lattice_points": 123,
    ///  "errors": 3, "warnings": 1,
    ///  "findings": [{"kind": "collision", "severity": "error", "file": "...", "line": 7,
    ///                "column": 3, "message": "...", "suggestion": "...",
    ///                "host_ports": [3100, 3200],
    ///                "occurrences": [{"first": 3100, "last": 3100, "members": [
    ///                   {"service": "grafana", "port": "port", "instance": 1, "environment": null}]}]}]}
    /// ```
    public func json() -> String {
        var out = Analysis.jsonHead(source: registry.source, options: options, environments: registry.environments,
                                    latticePoints: latticePoints, errors: errorCount, warnings: warningCount)
        var firstFinding = true
        for finding in findings {
            if !firstFinding { out += "," }
            firstFinding = false
            finding.appendJSON(to: &out, registry)
        }
        out += "]}"
        return out
    }

    /// The same document for a registry that did not load: its load problems as
    /// findings of kind `invalid` (no suggestion, ports or occurrences), no
    /// environments and no lattice points. One shape, whether or not it loads.
    public static func json(source: String, options: AnalysisOptions, invalid diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        var out = jsonHead(source: source, options: options, environments: [], latticePoints: 0,
                           errors: errors, warnings: diagnostics.count - errors)
        for (i, d) in diagnostics.enumerated() {
            if i > 0 { out += "," }
            out += "{\"kind\":\"invalid\",\"severity\":\"\(d.severity.rawValue)\""
            out += ",\"file\":\(JSONText.string(d.location.file)),\"line\":\(d.location.line),\"column\":\(d.location.column)"
            out += ",\"message\":\(JSONText.string(d.message)),\"suggestion\":null,\"host_ports\":[],\"occurrences\":[]}"
        }
        out += "]}"
        return out
    }

    /// Everything before the findings' elements, up to and including `"findings":[`.
    private static func jsonHead(source: String, options: AnalysisOptions, environments: [EnvironmentDefinition],
                                 latticePoints: Int, errors: Int, warnings: Int) -> String {
        var out = "{"
        out += "\"source\":" + JSONText.string(source)
        if let range = options.ephemeralRange {
            out += ",\"ephemeral_range\":[\(range.lowerBound),\(range.upperBound)]"
        } else {
            out += ",\"ephemeral_range\":null"
        }
        out += ",\"reserved_ports\":" + JSONText.string(options.reservedPorts.description)
        out += ",\"environments\":["
        out += environments.map { "{\"name\":\(JSONText.string($0.name)),\"offset\":\($0.offset)}" }
            .joined(separator: ",")
        out += "],\"lattice_points\":\(latticePoints),\"errors\":\(errors),\"warnings\":\(warnings),\"findings\":["
        return out
    }
}

extension Finding {
    func appendJSON(to out: inout String, _ registry: Registry) {
        out += "{\"kind\":\"\(kind.rawValue)\",\"severity\":\"\(severity.rawValue)\""
        out += ",\"file\":\(JSONText.string(location.file)),\"line\":\(location.line),\"column\":\(location.column)"
        out += ",\"message\":\(JSONText.string(message))"
        out += ",\"suggestion\":" + (suggestion.map(JSONText.string) ?? "null")
        out += ",\"host_ports\":[" + hostPorts.map(String.init).joined(separator: ",") + "]"
        out += ",\"occurrences\":["
        for (i, occurrence) in occurrences.enumerated() {
            if i > 0 { out += "," }
            out += "{\"first\":\(occurrence.first),\"last\":\(occurrence.last),\"members\":["
            for (j, member) in occurrence.members.enumerated() {
                if j > 0 { out += "," }
                let service = registry.services[member.service]
                out += "{\"service\":\(JSONText.string(service.name)),\"port\":\(JSONText.string(service.ports[member.port].name))"
                out += ",\"instance\":\(member.instance),\"environment\":"
                out += member.environment.map { JSONText.string(registry.environments[$0].name) } ?? "null"
                out += "}"
            }
            out += "]}"
        }
        out += "]"
        if let chain { chain.appendJSON(to: &out, registry) }
        out += "}"
    }
}

extension CollisionChain {
    /// `,"chain":{...}`: only findings that are summarised chains have the key,
    /// so every other finding keeps its shape.
    func appendJSON(to out: inout String, _ registry: Registry) {
        out += ",\"chain\":{\"pairs\":\(pairs),\"points\":\(points),\"runs\":\(runs),\"port_ranges\":["
        out += hostPorts.map { "[\($0.lowerBound),\($0.upperBound)]" }.joined(separator: ",")
        out += "],\"ports\":["
        for (i, port) in ports.enumerated() {
            if i > 0 { out += "," }
            let service = registry.services[port.service]
            out += "{\"service\":\(JSONText.string(service.name)),\"port\":\(JSONText.string(service.ports[port.port].name))"
            out += ",\"environment\":" + (port.environment.map { JSONText.string(registry.environments[$0].name) } ?? "null")
            out += ",\"instances\":\(port.instances),\"first_instance\":\(port.firstInstance),\"last_instance\":\(port.lastInstance)}"
        }
        out += "]}"
    }
}

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

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
        var out = "{"
        out += "\"source\":" + JSONText.string(registry.source)
        if let range = options.ephemeralRange {
            out += ",\"ephemeral_range\":[\(range.lowerBound),\(range.upperBound)]"
        } else {
            out += ",\"ephemeral_range\":null"
        }
        out += ",\"reserved_ports\":" + JSONText.string(options.reservedPorts.description)
        out += ",\"environments\":["
        out += registry.environments.map { "{\"name\":\(JSONText.string($0.name)),\"offset\":\($0.offset)}" }
            .joined(separator: ",")
        out += "],\"lattice_points\":\(latticePoints),\"errors\":\(errorCount),\"warnings\":\(warningCount),\"findings\":["
        var firstFinding = true
        for finding in findings {
            if !firstFinding { out += "," }
            firstFinding = false
            finding.appendJSON(to: &out, registry)
        }
        out += "]}"
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
        out += "\""
    }
}

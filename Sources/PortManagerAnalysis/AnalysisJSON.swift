import PortManagerCore

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
        var out = ""
        writeJSON(to: &out)
        return out
    }

    /// Writes ``json()`` to `out` as it is produced: the head, then each
    /// finding once it is described (one `write` per finding), then the
    /// closing brackets. The whole document is never held in memory.
    public func writeJSON(to out: inout some TextOutputStream) {
        out.write(Analysis.jsonHead(source: registry.source, options: options, environments: registry.environments,
                                    latticePoints: latticePoints, errors: errorCount, warnings: warningCount))
        var text = ""
        for (index, finding) in findings.enumerated() {
            text.removeAll(keepingCapacity: true)
            if index > 0 { text += "," }
            finding.appendJSON(to: &text, registry)
            out.write(text)
        }
        out.write("]}")
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
            for j in 0..<occurrence.storage.count {
                if j > 0 { out += "," }
                let member = occurrence.storage[j]
                let service = registry.services[member.service]
                out += "{\"service\":"
                JSONText.quote(service.name, into: &out)
                out += ",\"port\":"
                JSONText.quote(service.ports[member.port].name, into: &out)
                out += ",\"instance\":"
                out += String(member.instance)
                out += ",\"environment\":"
                if let environment = member.environment {
                    JSONText.quote(registry.environments[environment].name, into: &out)
                } else {
                    out += "null"
                }
                out += "}"
            }
            out += "]}"
        }
        out += "]"
        if let chain { chain.appendJSON(to: &out, registry) }
        appendNamesJSON(to: &out, registry)
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

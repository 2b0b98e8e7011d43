import PortManagerCore

// The analysis's `name` findings: instances that get the same container,
// volume or compose project name (``NameCollision``, in the core), one finding per kind of name
// and pair of (service, environment)s, located where the later of the two is
// defined.

extension Analysis {
    /// Adds a finding per group of ``NameCollision``s.
    static func names(_ registry: Registry, into parts: inout FindingParts) {
        var groups: [GroupKey: [NameCollision]] = [:]
        var order: [GroupKey] = []
        for collision in NameCollision.find(in: registry) {
            let key = GroupKey(collision)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(collision)
        }
        for key in order {
            let collisions = groups[key]!
            parts.append(kind: .name, severity: .error, location: location(of: collisions[0], registry),
                         occurrences: [], names: collisions)
        }
    }

    /// One kind of name and one pair of (service, environment)s.
    private struct GroupKey: Hashable {
        let kind: NameCollision.Kind
        let services: [Int], environments: [Int]  // -1: none
        init(_ c: NameCollision) {
            kind = c.kind
            services = [c.first.service, c.second.service]
            environments = [c.first.environment ?? -1, c.second.environment ?? -1]
        }
    }

    /// The definition that brought the two names together: the service
    /// defined later, or within one service, the environment defined later.
    private static func location(of collision: NameCollision, _ registry: Registry) -> SourceLocation {
        let (a, b) = (collision.first, collision.second)
        if a.service != b.service {
            let x = registry.services[a.service].location, y = registry.services[b.service].location
            return (x.line, x.column) > (y.line, y.column) ? x : y
        }
        let environments = [a.environment, b.environment].compactMap { $0 }.map { registry.environments[$0].location }
        return environments.max { ($0.line, $0.column) < ($1.line, $1.column) } ?? registry.services[a.service].location
    }
}

extension AnalysisContext {
    /// "web instance 1 and web_1 instance 0 both get the container name 'web-1'"
    /// (and how many more pairs of the two give one name).
    func namesMessage(_ finding: Finding) -> String {
        let shown = 3
        let first = finding.names[0]
        var pairs = finding.names.prefix(shown).map { c in
            "\(memberName(c.first)) and \(memberName(c.second)) both get the \(c.kind.rawValue) name \(RegistryBuilder.quote(c.name))"
        }
        if finding.names.count > shown {
            pairs.append("\(finding.names.count - shown) more instance\(finding.names.count - shown == 1 ? "" : "s") of the two do too")
        }
        let consequence: String
        switch first.kind {
        case .container: consequence = "Docker refuses a second container of one name"
        case .volume: consequence = "the two would share one volume and its data"
        case .project: consequence = "one compose project would hold both, and `down` of one would remove the other"
        }
        return pairs.joined(separator: "; ") + " (\(stemsText(first))); " + consequence
    }

    /// `'web' (web) and 'web-1' (web_1)`.
    private func stemsText(_ c: NameCollision) -> String {
        let services = Array(Set([c.first.service, c.second.service])).sorted()
        return listText(services.map { s in
            let service = registry.services[s]
            return "\(c.kind.rawValue) stem \(RegistryBuilder.quote(c.kind.stem(service))) of \(service.name)"
        })
    }

    /// `web_1 instance 0` or `web instance 1 in environment 'ci'`.
    func memberName(_ m: NameCollision.Member) -> String {
        var text = "\(registry.services[m.service].name) instance \(m.instance)"
        if let environment = m.environment {
            text += " in environment \(RegistryBuilder.quote(registry.environments[environment].name))"
        }
        return text
    }

    /// Set `container_name` (or `volume_name`) of the later service, or rename
    /// the later environment.
    func namesSuggestion(_ finding: Finding) -> String {
        let c = finding.names[0]
        if c.first.service != c.second.service {
            let later = [c.first.service, c.second.service].max { a, b in
                let x = registry.services[a].location, y = registry.services[b].location
                return (x.line, x.column) < (y.line, y.column)
            }!
            switch c.kind {
            case .container, .volume:
                let key = c.kind == .container ? "container_name" : "volume_name"
                return "give \(registry.services[later].name) another \(key) (a stem no other service's names begin with)"
            case .project:
                return "rename \(registry.services[later].name): project names are the service name in lower case, with '.' as '-'"
            }
        }
        return "rename the environment so that no environment name followed by '-N' is another environment's name"
    }
}

extension NameCollision.Member {
    /// `{"service": ..., "instance": ..., "environment": ...}`.
    func appendJSON(to out: inout String, _ registry: Registry) {
        out += "{\"service\":" + JSONText.string(registry.services[service].name)
        out += ",\"instance\":\(instance),\"environment\":"
        out += environment.map { JSONText.string(registry.environments[$0].name) } ?? "null"
        out += "}"
    }
}

extension Finding {
    /// `,"names":[{"kind": "container", "name": "web-1", "members": [...]}]`:
    /// only `name` findings have the key, so every other finding keeps its shape.
    func appendNamesJSON(to out: inout String, _ registry: Registry) {
        guard kind == .name else { return }
        out += ",\"names\":["
        for (i, c) in names.enumerated() {
            if i > 0 { out += "," }
            out += "{\"kind\":\"\(c.kind.rawValue)\",\"name\":" + JSONText.string(c.name) + ",\"members\":["
            c.first.appendJSON(to: &out, registry)
            out += ","
            c.second.appendJSON(to: &out, registry)
            out += "]}"
        }
        out += "]"
    }
}

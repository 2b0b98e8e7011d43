import PortManagerCore

extension AnalysisContext {
    // MARK: Names

    func slotName(_ member: LatticeMember) -> String {
        let service = registry.services[member.service]
        var text = "\(service.name) port \(RegistryBuilder.quote(service.ports[member.port].name))"
        if let environment = member.environment {
            text += " in environment \(RegistryBuilder.quote(registry.environments[environment].name))"
        }
        return text
    }

    func environmentName(_ index: Int) -> String {
        let environment = registry.environments[index]
        let sign = environment.offset >= 0 ? "+" : ""
        return "environment \(RegistryBuilder.quote(environment.name)) (offset \(sign)\(environment.offset))"
    }

    func serviceName(_ member: LatticeMember) -> String {
        registry.services[member.service].name
    }

    // MARK: Messages

    func message(for finding: Finding) -> String {
        switch finding.kind {
        case .collision:
            if let chain = finding.chain { return chainMessage(finding, chain) }
            return collisionMessage(finding)
        case .environment:
            let member = finding.occurrences[0].members[0]
            return "\(environmentName(member.environment!)) moves \(flaggedPoints(finding, withEnvironment: false)) to \(portsText(finding.occurrences)), outside 1..65535"
        case .privileged:
            return "\(flagSubject(finding)) \(portsText(finding.occurrences)), below 1024: binding needs root or CAP_NET_BIND_SERVICE"
        case .ephemeral:
            let range = options.ephemeralRange.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "?"
            return "\(flagSubject(finding)) \(portsText(finding.occurrences)), inside the ephemeral range \(range), where the kernel may give them to outgoing connections"
        case .name:
            return namesMessage(finding)
        }
    }

    /// "traefik port 'web_port' instances 0-2 use host ports" or, under an
    /// environment, "environment 'ci' (offset +20000) moves ... to host ports".
    private func flagSubject(_ finding: Finding) -> String {
        let member = finding.occurrences[0].members[0]
        if let environment = member.environment {
            return "\(environmentName(environment)) moves \(flaggedPoints(finding, withEnvironment: false)) to"
        }
        return "\(flaggedPoints(finding, withEnvironment: false)) \(finding.occurrences.count == 1 ? "uses" : "use")"
    }

    private func flaggedPoints(_ finding: Finding, withEnvironment: Bool) -> String {
        let member = finding.occurrences[0].members[0]
        let service = registry.services[member.service]
        let name = "\(service.name) port \(RegistryBuilder.quote(service.ports[member.port].name))"
        return "\(name) \(instancesText(finding.occurrences.map { $0.storage[0].instance }))"
    }

    private func collisionMessage(_ finding: Finding) -> String {
        // Slots in member order; regular when every occurrence has one member of each.
        var slots: [LatticeMember] = []
        func key(_ m: LatticeMember) -> LatticeMember {
            LatticeMember(service: m.service, port: m.port, instance: 0, environment: m.environment)
        }
        for member in finding.occurrences[0].members where !slots.contains(key(member)) { slots.append(key(member)) }
        let regular = finding.occurrences.allSatisfy { occurrence in
            occurrence.storage.count == slots.count && slots.indices.allSatisfy { key(occurrence.storage[$0]) == slots[$0] }
        }
        let ports = portsText(finding.occurrences)
        if regular {
            let parts = slots.enumerated().map { index, slot in
                "\(slotName(slot)) \(instancesText(finding.occurrences.map { $0.storage[index].instance }))"
            }
            let order = finding.occurrences.count > 1 ? ", in that order" : ""
            return "\(listText(parts)) share \(ports)\(order)"
        }
        let limit = 8
        var parts = finding.occurrences.prefix(limit).map { occurrence in
            "\(portText(occurrence)) by " + listText(occurrence.members.map { "\(slotName($0)) instance \($0.instance)" })
        }
        if finding.occurrences.count > limit { parts.append("\(finding.occurrences.count - limit) more") }
        return "host ports are shared: " + parts.joined(separator: "; ")
    }

    func instancesText(_ instances: [Int]) -> String {
        if instances.count == 1 { return "instance \(instances[0])" }
        if instances.count > 2, zip(instances, instances.dropFirst()).allSatisfy({ $1 == $0 + 1 }) {
            return "instances \(instances.first!)-\(instances.last!)"
        }
        return "instances " + truncatedList(instances.map(String.init))
    }

    func portText(_ occurrence: Occurrence) -> String {
        occurrence.first == occurrence.last ? "\(occurrence.first)" : "\(occurrence.first)-\(occurrence.last)"
    }

    func portsText(_ occurrences: [Occurrence]) -> String {
        let single = occurrences.count == 1 && occurrences[0].first == occurrences[0].last
        return (single ? "host port " : "host ports ") + truncatedList(occurrences.map(portText))
    }

    func truncatedList(_ items: [String], limit: Int = 12) -> String {
        items.count <= limit ? items.joined(separator: ", ")
            : items.prefix(limit).joined(separator: ", ") + ", ... (\(items.count - limit) more)"
    }

    func listText(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    // MARK: Suggestions

    func suggestion(for finding: Finding) -> String? {
        switch finding.kind {
        case .collision:
            return collisionSuggestion(finding)
        case .environment:
            guard let (low, high) = allowedOffsets() else { return nil }
            return "use an offset between \(low) and \(high), which keeps every port of every instance inside 1..65535"
        case .privileged:
            var text = "run with CAP_NET_BIND_SERVICE (or lower net.ipv4.ip_unprivileged_port_start)"
            if let move = finding.fix.moves.first {
                text += ", or move its base to \(move.base), free for every instance and environment"
            }
            return text
        case .ephemeral:
            let ports = PortSet(options.reservedPorts.ranges + finding.occurrences.map { $0.first...$0.last })
            var text = "reserve them with sysctl -w net.ipv4.ip_local_reserved_ports=\(ports)"
            if let move = finding.fix.moves.first {
                text += ", or move the base of \(slotName(move.slot)) to \(move.base), free and outside the range in every environment"
            }
            return text
        case .name:
            return namesSuggestion(finding)
        }
    }

    /// `kafka port 'broker_port'`.
    func slotName(_ s: Int) -> String {
        let service = registry.services[lattice.slots[s].service]
        return "\(service.name) port \(RegistryBuilder.quote(service.ports[lattice.slots[s].port].name))"
    }

    private func collisionSuggestion(_ finding: Finding) -> String? {
        var options: [String] = []
        if !finding.fix.moves.isEmpty {
            options.append(listText(finding.fix.moves.map { "move the base of \(slotName($0.slot)) to \($0.base)" })
                           + " (verified free for every instance and environment)")
        }
        if let (member, limit) = finding.fix.lowerMaxInstances {
            options.append("lower max_instances of \(serviceName(member)) to \(limit)")
        }
        if options.isEmpty && finding.chain != nil {
            return "no base port move fixes this chain; space the ports so that no two ranges overlap (larger instance_increment, bases further apart)"
        }
        if options.isEmpty {
            return "no single base port or max_instances change fixes this; change an instance_increment or an environment offset"
        }
        return options.joined(separator: ", or ")
    }

    /// The offsets that keep the whole instance-0-based lattice in 1...65535.
    func allowedOffsets() -> (Int, Int)? {
        var lowest = Int.max, highest = Int.min
        for s in 0..<lattice.slotCount {
            lowest = min(lowest, lattice.slots[s].base)
            let last = instancePort(base: lattice.slots[s].base, instance: lattice.slots[s].maxInstances - 1,
                                    increment: lattice.slots[s].increment)
            highest = max(highest, last + lattice.slots[s].width - 1)
        }
        guard lowest <= highest else { return nil }
        return (1 - lowest, 65535 - highest)
    }
}

extension AnalysisContext {
    /// "ranges overlap in a chain: a port 'r_port' instances 0-5999, ... and
    /// 97 more share host ports 1025-61032 (N overlapping pairs of M lattice
    /// points); for example ..."
    func chainMessage(_ finding: Finding, _ chain: CollisionChain) -> String {
        let shown = 4
        var names = chain.ports.prefix(shown).map { port -> String in
            let member = LatticeMember(service: port.service, port: port.port, instance: port.firstInstance,
                                       environment: port.environment)
            let span = port.lastInstance - port.firstInstance + 1
            let instances = port.instances == 1 ? "instance \(port.firstInstance)"
                : port.instances == span ? "instances \(port.firstInstance)-\(port.lastInstance)"
                : "\(port.instances) instances in \(port.firstInstance)-\(port.lastInstance)"
            return "\(slotName(member)) \(instances)"
        }
        if chain.ports.count > shown { names.append("\(chain.ports.count - shown) more") }
        let ranges = chain.hostPorts.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        let runs = chain.runs > 1 ? " in \(chain.runs) separate runs" : ""
        var text = "ranges of \(chain.ports.count) ports overlap in a chain: \(listText(names)) share host ports "
            + truncatedList(ranges) + " (\(chain.pairs) overlapping pairs of \(chain.points) lattice points\(runs))"
        let examples = finding.occurrences.prefix(2).map { occurrence -> String in
            let (a, b) = (occurrence.storage.a, occurrence.storage.b)
            return "\(slotName(a)) instance \(a.instance) and \(slotName(b)) instance \(b.instance) share \(portsText([occurrence]))"
        }
        if !examples.isEmpty { text += "; for example " + examples.joined(separator: "; ") }
        return text
    }
}


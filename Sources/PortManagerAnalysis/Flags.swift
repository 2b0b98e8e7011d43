import PortManagerCore

extension Analysis {
    // MARK: Flags

    /// Privileged and ephemeral ports, and environments that push ports outside
    /// 1..65535, one finding per (environment, service, port). Under an
    /// environment, only points not already flagged without one are reported:
    /// those are the offset's doing.
    static func flags(_ lattice: Lattice, _ context: AnalysisContext, into parts: inout FindingParts) {
        let unsafe = context.unsafeEphemeral
        func ephemeral(_ start: Int, _ end: Int) -> Bool {
            guard let unsafe, end >= 1, start <= 65535 else { return false }
            let a = max(start, 1), b = min(end, 65535)
            return unsafe[b] - unsafe[a - 1] > 0
        }
        for scenario in 0..<lattice.offsets.count {
            let offset = lattice.offsets[scenario]
            let environment = lattice.scenarioEnvironment[scenario]
            // Reused for every slot; each finding gets its own copy.
            var outside: [Occurrence] = [], privileged: [Occurrence] = [], inEphemeral: [Occurrence] = []
            for slot in 0..<lattice.slotCount {
                outside.removeAll(keepingCapacity: true)
                privileged.removeAll(keepingCapacity: true)
                inEphemeral.removeAll(keepingCapacity: true)
                for instance in 0..<lattice.slots[slot].maxInstances {
                    let start0 = instancePort(base: lattice.slots[slot].base, instance: instance,
                                              increment: lattice.slots[slot].increment)
                    let end0 = start0 + lattice.slots[slot].width - 1
                    let start = start0 + offset, end = end0 + offset
                    let member = LatticeMember(service: lattice.slots[slot].service, port: lattice.slots[slot].port,
                                               instance: instance, environment: environment)
                    if start < 1 || end > 65535 {
                        outside.append(Occurrence(first: start, last: end, storage: .one(member)))
                        continue
                    }
                    if start < 1024 && !(scenario > 0 && start0 < 1024) {
                        privileged.append(Occurrence(first: start, last: min(end, 1023), storage: .one(member)))
                    }
                    if ephemeral(start, end) && !(scenario > 0 && ephemeral(start0, end0)) {
                        inEphemeral.append(Occurrence(first: start, last: end, storage: .one(member)))
                    }
                }
                if outside.isEmpty && privileged.isEmpty && inEphemeral.isEmpty { continue }
                let at = environment.map { context.registry.environments[$0].location }
                    ?? context.registry.services[lattice.slots[slot].service].ports[lattice.slots[slot].port].location
                if !outside.isEmpty {
                    parts.append(kind: .environment, severity: .error, location: at, occurrences: Array(outside))
                }
                if !privileged.isEmpty {
                    parts.append(kind: .privileged, severity: .warning, location: at, occurrences: Array(privileged))
                }
                if !inEphemeral.isEmpty {
                    parts.append(kind: .ephemeral, severity: .warning, location: at, occurrences: Array(inEphemeral))
                }
            }
        }
    }
}

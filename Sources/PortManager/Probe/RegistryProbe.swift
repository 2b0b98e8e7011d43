import PortManagerCore

// The probe of one service instance: its host ports as probe requests, and
// whether the instance may start here (PortProbe.swift probes the ports).
extension Registry {
    /// The probe requests of every host port of one instance (each port of a
    /// range), with each port's protocols and host IP.
    ///
    /// - Throws: unknown service, or instance out of range.
    public func probeRequests(_ service: String, instance: Int) throws -> [PortProbe.Request] {
        var requests: [PortProbe.Request] = []
        for port in try self.instance(service, instance).ports {
            for number in port.hostPort...port.hostPortLast {
                requests.append(PortProbe.Request(port: number, protocols: port.protocols, host: port.hostIP))
            }
        }
        return requests
    }

    /// Probes every host port of one instance: the instance is free for this
    /// host when every answer is free. An instance has a handful of ports, so
    /// each is bound (``PortProbe/probe(_:procRoot:tables:)``), and the kernel's
    /// tables are read only for a port in use, to name its holders (a dump of
    /// the tables costs more than a few binds). For a whole registry,
    /// ``PortProbe/probe(_:holders:procRoot:tables:)`` reads the tables once.
    public func probe(_ service: String, instance: Int) throws -> [PortProbe.Answer] {
        try probeRequests(service, instance: instance).map { try PortProbe.probe($0) }
    }

    /// The answer "may this instance start here": nil when every host port of
    /// the instance is free (or cannot be told, which never blocks), else the
    /// first port in use, with its holders. Stops at the first port in use.
    /// This is what a reservation asks before it is granted.
    public func portInUse(_ service: String, instance: Int) throws -> PortProbe.Answer? {
        for request in try probeRequests(service, instance: instance) {
            let answer = try PortProbe.probe(request)
            if answer.verdict == .inUse { return answer }
        }
        return nil
    }
}

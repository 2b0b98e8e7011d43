import PortManagerCore

// The probe and the Docker engine: the container behind a port, from the
// engine's port map (`GET /containers/json` lists each container's published
// host ports).
extension PortProbe {
    /// ``probe(port:protocols:host:)`` with the containers behind the port
    /// named from `containers` (``Answer/naming(_:)``): with
    /// `everyPublishedPort`, the engine is always asked, so a port published
    /// without a local socket is in use too (`portmanager probe`); without it,
    /// the engine is asked only when a `docker-proxy`, or a process this user
    /// cannot see, holds the port (`pm_probe`: a free port costs no request).
    /// When the engine cannot be asked, the answer is the kernel's alone.
    public static func probe(port: Int, protocols: PortProtocols = .tcp, host: String? = nil,
                             naming containers: ContainerLookup, everyPublishedPort: Bool) throws -> Answer {
        let answer = try probe(port: port, protocols: protocols, host: host)
        let behindDocker = answer.holders.contains { $0.command == "docker-proxy" || $0.pid == nil }
        guard everyPublishedPort || behindDocker, let index = containers.index else { return answer }
        return answer.naming(index)
    }
}

extension PortProbe.Answer {
    /// This answer with the containers behind it named, from the engine's
    /// port map (`index`):
    /// - a holder that is a `docker-proxy`, or a process this user cannot see,
    ///   on a port a container publishes for its protocol gains that
    ///   container's name (``PortProbe/Holder/container``; the one publishing on
    ///   the holder's address when several do);
    /// - a port a container publishes for a protocol asked, on an address the
    ///   request covers, that no socket holds (Docker's iptables-only
    ///   publishing, `--userland-proxy=false`) is in use: it gains a holder
    ///   for that container (no pid, uid 0, the published address) and a note.
    public func naming(_ index: ContainerIndex) -> PortProbe.Answer {
        var holders = self.holders
        var notes = self.notes
        var verdict = self.verdict
        for i in holders.indices where holders[i].container == nil && (holders[i].command == "docker-proxy" || holders[i].pid == nil) {
            let holder = holders[i]
            let publishers = index.publishers(port: port, protocol: holder.protocols.name)
            let host = Self.host(of: holder.address)
            let exact = publishers.first { container in
                container.ports.contains { $0.hostPort == UInt16(port) && $0.protocol == holder.protocols.name && $0.hostIP == host }
            }
            holders[i].container = (exact ?? publishers.first)?.name
        }
        for member in request.protocols.members {
            for container in index.publishers(port: port, protocol: member.name)
            where !holders.contains(where: { $0.container == container.name && $0.protocols == member }) {
                for published in container.ports where published.hostPort == UInt16(port) && published.protocol == member.name
                    && covers(published.hostIP) {
                    let shown = published.hostIP.contains(":") ? "[\(published.hostIP)]" : (published.hostIP.isEmpty ? "0.0.0.0" : published.hostIP)
                    var holder = PortProbe.Holder(pid: nil, command: nil, uid: 0, protocols: member, address: "\(shown):\(port)")
                    holder.container = container.name
                    holder.isPortMap = true
                    holders.append(holder)
                    verdict = .inUse
                    notes.append("\(member.name) port \(port) is published by container \(RegistryBuilder.quote(container.name)) through the Docker engine's port map, with no local socket")
                }
            }
        }
        if verdict == .inUse { notes.removeAll { $0.contains("no socket in /proc/net holds the port") } }
        return PortProbe.Answer(request: request, verdict: verdict, holders: holders, notes: notes)
    }

    /// Whether a port published on `hostIP` is one this request asks about:
    /// any, without a host IP (both wildcards); with one, the same address or a wildcard.
    private func covers(_ hostIP: String) -> Bool {
        guard let host = request.host else { return true }
        if hostIP.isEmpty || hostIP == "0.0.0.0" || hostIP == "::" { return true }
        return IPAddress(hostIP).map { $0 == host } ?? false
    }

    /// `0.0.0.0` of `0.0.0.0:9092`, `::` of `[::]:9092`.
    private static func host(of address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<end])
        }
        return String(address.prefix { $0 != ":" })
    }
}

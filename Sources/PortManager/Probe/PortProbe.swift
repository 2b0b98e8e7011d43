#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// Whether host ports are free, and who holds them when they are not.
///
/// "Free" means free the way Docker publishes a port: for each protocol of the
/// port (TCP, UDP or both), a socket can be bound on the IPv4 wildcard
/// `0.0.0.0` and on the IPv6 wildcard `[::]` (with `IPV6_V6ONLY`, so the two
/// families are separate answers), or on the port's host IP when it has one.
/// TCP probes set `SO_REUSEADDR`, as Docker's proxy (Go's `net.Listen`),
/// servers and `portpicker` do, so connections lingering in TIME_WAIT do not
/// count as use; UDP probes do not, so a UDP socket bound with `SO_REUSEADDR`
/// still counts. An address family the kernel lacks counts as free for that
/// family, and the answer's notes say so.
///
/// Three answers stay distinct: free, in use, and cannot tell (permission
/// denied for a privileged port without root and no socket in the kernel's
/// tables holds it; a host IP that is not on this machine).
///
/// Holders come from the kernel's socket tables (listening TCP sockets, bound
/// UDP sockets): over netlink (`NETLINK_SOCK_DIAG`, ``SockDiag``) where the
/// kernel allows it, else `/proc/net/tcp`, `tcp6`, `udp` and `udp6`; mapped to
/// processes through `/proc/PID/fd` where this user may look, as `ss -p` does.
public enum PortProbe {
    /// The answer of the single-address TCP probe ``check(port:host:)``.
    public enum Availability: Sendable, Equatable {
        /// `bind` succeeded: nothing is listening or bound there.
        case available
        /// `bind` failed with `EADDRINUSE`.
        case inUse
    }

    /// The three answers. The raw values are the C `pm_probe_verdict` values
    /// and the exit codes of `portmanager probe`.
    public enum Verdict: Int32, Sendable, Hashable {
        /// Every protocol and family of the port can be bound.
        case free = 0
        /// Some protocol or family of the port is taken.
        case inUse = 1
        /// The answer cannot be known (see the notes).
        case unknown = 2

        /// `free`, `in use`, `cannot tell`.
        public var text: String {
            switch self {
            case .free: return "free"
            case .inUse: return "in use"
            case .unknown: return "cannot tell"
            }
        }
    }

    /// A socket holding a probed port, and its process when visible.
    public struct Holder: Sendable, Hashable {
        /// The process ID; nil when the process is not visible to this user.
        public let pid: Int?
        /// The command name (`/proc/PID/comm`, escaped); nil when not visible.
        public let command: String?
        /// The socket owner's user ID.
        public let uid: Int
        /// `.tcp` or `.udp`.
        public let protocols: PortProtocols
        /// The socket's local address and port: `0.0.0.0:9092`, `[::1]:6831`.
        public let address: String
        /// The Docker container that publishes the port through this holder (a
        /// `docker-proxy`), or through the engine's port map alone (no local
        /// socket: `pid` nil, `uid` 0), as ``Answer/naming(_:)`` found it; nil otherwise.
        public internal(set) var container: String? = nil

        /// `pid 1234 (nc)`, `pid 99 (docker-proxy) for container 'kafka-1'`,
        /// `container 'kafka-1' (uid 0)` (its process not looked up, or not visible),
        /// `container 'kafka-1' (the Docker engine's port map, no local socket)`,
        /// or `a process of another user (uid 0)`.
        public var who: String {
            if let pid { return "pid \(pid) (\(command ?? "?"))" + (container.map { " for container \(RegistryBuilder.quote($0))" } ?? "") }
            if let container {
                return "container \(RegistryBuilder.quote(container))"
                    + (isPortMap ? " (the Docker engine's port map, no local socket)" : " (uid \(uid))")
            }
            return uid == Int(geteuid()) ? "a process not visible here (uid \(uid))" : "a process of another user (uid \(uid))"
        }

        /// `tcp 0.0.0.0:9092 pid 1234 (nc)`.
        public var description: String { "\(protocols.name) \(address) \(who)" }

        /// True for a holder made from the engine's port map (no socket holds the port).
        var isPortMap = false
    }

    /// What to probe: one port, its protocols, and its host IP (nil: both wildcards).
    public struct Request: Sendable, Hashable {
        public let port: Int
        public let protocols: PortProtocols
        public let host: IPAddress?

        /// A request. ``probe(_:holders:)`` validates it.
        public init(port: Int, protocols: PortProtocols = .tcp, host: IPAddress? = nil) {
            self.port = port
            self.protocols = protocols
            self.host = host
        }
    }

    /// The answer for one port.
    public struct Answer: Sendable, Hashable {
        /// The port, its protocols and host IP, as asked.
        public let request: Request
        /// Free, in use, or cannot tell.
        public let verdict: Verdict
        /// Who holds the port, when it is in use and the kernel's tables show it.
        public let holders: [Holder]
        /// Why it cannot tell, families the kernel lacks, and the like.
        public let notes: [String]

        /// The port.
        public var port: Int { request.port }
        /// True when free, false when in use, nil when it cannot tell.
        public var available: Bool? {
            switch verdict {
            case .free: return true
            case .inUse: return false
            case .unknown: return nil
            }
        }
    }

    // MARK: One port

    /// Probes one port, binding a socket per protocol and family (released at once).
    ///
    /// - Parameters:
    ///   - port: 1...65535.
    ///   - protocols: `.tcp`, `.udp` or `.both`.
    ///   - host: a numeric IPv4 or IPv6 address to probe instead of both wildcards.
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` for a port outside
    ///   1...65535, no protocol, or a host that is not a numeric address;
    ///   ``PortManagerError/io(path:reason:)`` when a `/proc/net` table needed
    ///   for the holders cannot be read or is malformed (naming file and line).
    public static func probe(port: Int, protocols: PortProtocols = .tcp, host: String? = nil) throws -> Answer {
        try probe(Request(port: port, protocols: protocols, host: try address(host)))
    }

    /// As ``probe(port:protocols:host:)``, for a request; `tables`: where the
    /// holders of a port in use are read.
    public static func probe(_ request: Request, procRoot: String = "/proc", tables: Tables = .automatic) throws -> Answer {
        try validate(request)
        var inUse = false
        var problems: [String] = []
        var notes: [String] = []
        for proto in [PortProtocols.tcp, .udp] where request.protocols.contains(proto) {
            // Fast path: one dual-stack [::] socket (IPV6_V6ONLY off) conflicts with
            // every IPv4 and IPv6 socket on the port, so when it binds, Docker's
            // 0.0.0.0 and [::] binds both would. Otherwise each family on its own.
            if request.host == nil && bind(port: request.port, protocols: proto, address: ipv6Any, dualStack: true) == .free {
                continue
            }
            for address in bindAddresses(request.host) {
                switch bind(port: request.port, protocols: proto, address: address) {
                case .free: break
                case .inUse: inUse = true
                case .noFamily: notes.append(noFamilyNote(address, proto))
                case .failed(let reason): problems.append("\(proto.name) \(address.bracketed):\(request.port): \(reason)")
                }
            }
        }
        if !inUse && problems.isEmpty { return Answer(request: request, verdict: .free, holders: [], notes: notes) }
        // In use, or binding was refused: the kernel's tables say by whom, or decide.
        let snapshot = try snapshot(procRoot, request.protocols, ports: request.port...request.port, tables)
        let found = holders(of: request, in: snapshot, includeMaybe: inUse)
        if !found.certain.isEmpty || inUse {
            return Answer(request: request, verdict: .inUse,
                          holders: describe(found.certain + found.maybe, procRoot: procRoot), notes: notes)
        }
        return Answer(request: request, verdict: .unknown, holders: [], notes: notes + problems.map {
            $0 + "; no socket in /proc/net holds the port"
        })
    }

    // MARK: Many ports

    /// Probes many ports at once: the kernel's tables are read once (over
    /// netlink, which dumps the TCP and UDP sockets of the ports' range; else
    /// each `/proc/net` table once), and a socket is bound only where the tables
    /// cannot decide: a port below the unprivileged range without root, an IPv4
    /// address next to an IPv6 wildcard socket that may or may not be
    /// dual-stack (a flag only netlink shows), or a port that only TCP
    /// connections are on (an outgoing connection's local port, an accepted
    /// side, TIME_WAIT), which a bind may or may not take depending on
    /// SO_REUSEADDR flags no table shows. So the answer is the bind's on every
    /// port (Tests/PortManagerTests/ConnectedPortsProbeTests.swift).
    ///
    /// - Parameters:
    ///   - requests: the ports; answers come back in the same order.
    ///   - holders: also name the processes holding ports in use (one pass over
    ///     `/proc/*/fd`, only when a port is in use).
    ///   - tables: where the kernel's socket tables are read.
    /// - Throws: as ``probe(port:protocols:host:)``.
    public static func probe(_ requests: [Request], holders wantHolders: Bool = true,
                             procRoot: String = "/proc", tables: Tables = .automatic) throws -> [Answer] {
        for request in requests { try validate(request) }
        guard !requests.isEmpty else { return [] }
        let numbers = requests.map(\.port)
        let ports = numbers.min().flatMap { low in numbers.max().map { low...$0 } }
        let snapshot = try snapshot(procRoot, requests.reduce(PortProtocols()) { $0.union($1.protocols) },
                                    ports: ports, tables)
        let privilegedLimit = geteuid() == 0 ? 0 : unprivilegedPortStart(procRoot)
        var answers: [Answer] = []
        answers.reserveCapacity(requests.count)
        var pending: [(index: Int, sockets: [ProcNetSocket])] = []
        for request in requests {
            var verdict = Verdict.free
            var notes: [String] = []
            var sockets: [ProcNetSocket] = []
            let candidates = snapshot.byPort[request.port] ?? []
            for proto in request.protocols.members {
                for address in bindAddresses(request.host) {
                    if address.isIPv6 ? !snapshot.hasIPv6 : !snapshot.hasIPv4 {
                        notes.append(noFamilyNote(address, proto))
                        continue
                    }
                    var certain: [ProcNetSocket] = [], maybe: [ProcNetSocket] = []
                    for socket in candidates where socket.protocols == proto {
                        switch conflict(socket, address) {
                        case .yes: certain.append(socket)
                        case .maybe: maybe.append(socket)
                        case .none: break
                        }
                    }
                    if !certain.isEmpty {
                        verdict = .inUse
                        sockets += certain + maybe
                    } else if !maybe.isEmpty || request.port < privilegedLimit {
                        switch bind(port: request.port, protocols: proto, address: address) {
                        case .inUse:
                            verdict = .inUse
                            sockets += maybe
                        case .failed(let reason):
                            if verdict == .free { verdict = .unknown }
                            notes.append("\(proto.name) \(address.bracketed):\(request.port): \(reason); no socket in /proc/net holds the port")
                        case .noFamily: notes.append(noFamilyNote(address, proto))
                        case .free: break
                        }
                    }
                }
            }
            if verdict == .inUse { notes.removeAll { $0.contains("no socket in /proc/net") } }
            if verdict == .inUse && !sockets.isEmpty { pending.append((answers.count, sockets)) }
            answers.append(Answer(request: request, verdict: verdict, holders: [], notes: notes))
        }
        guard !pending.isEmpty else { return answers }
        let processes = wantHolders
            ? ProcNet.processes(holding: Set(pending.flatMap { $0.sockets.map(\.inode) }), root: procRoot) : [:]
        for (index, sockets) in pending {
            let answer = answers[index]
            answers[index] = Answer(request: answer.request, verdict: answer.verdict,
                                    holders: describe(unique(sockets), processes), notes: answer.notes)
        }
        return answers
    }

    // MARK: The single-address TCP probe

    /// Binds a TCP socket to `host:port` (with `SO_REUSEADDR`, as servers do, so
    /// that connections in TIME_WAIT do not count) and releases it at once.
    /// This is `pm_port_probe`; ``probe(port:protocols:host:)`` is the probe
    /// the way Docker publishes ports.
    ///
    /// - Parameters:
    ///   - port: 1...65535.
    ///   - host: a numeric IPv4 or IPv6 address or a host name; default `127.0.0.1`.
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` for a port outside 1...65535 or an
    ///   empty host, and ``PortManagerError/probeFailed(host:port:reason:)`` when the answer
    ///   cannot be known: permission denied (privileged ports), an address family the
    ///   kernel lacks, an address not on this machine, or a host that does not resolve.
    public static func check(port: Int, host: String = "127.0.0.1") throws -> Availability {
        guard (1...65535).contains(port) else {
            throw PortManagerError.invalidArgument("port \(port) is outside 1..65535")
        }
        guard !host.isEmpty else { throw PortManagerError.invalidArgument("the host is empty") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw PortManagerError.probeFailed(host: host, port: port, reason: "cannot resolve host: " + String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        let info = first.pointee
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else {
            throw PortManagerError.probeFailed(host: host, port: port, reason: "socket: " + String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.bind(fd, info.ai_addr, info.ai_addrlen) == 0 { return .available }
        let code = errno
        if code == EADDRINUSE { return .inUse }
        throw PortManagerError.probeFailed(host: host, port: port, reason: "bind: " + String(cString: strerror(code)))
    }

    // MARK: Parts

    /// A numeric host, IPv4-mapped IPv6 addresses read as IPv4.
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` for anything else.
    public static func address(_ host: String?) throws -> IPAddress? {
        guard let host else { return nil }
        guard let address = IPAddress(host) else {
            throw PortManagerError.invalidArgument(
                "host \(RegistryBuilder.quote(host)) is not a numeric IPv4 or IPv6 address (such as 127.0.0.1 or ::1)")
        }
        if let v4 = address.mappedIPv4 { return IPAddress(bytes: v4) }
        return address
    }

    static func validate(_ request: Request) throws {
        guard (1...65535).contains(request.port) else {
            throw PortManagerError.invalidArgument("port \(request.port) is outside 1..65535")
        }
        guard !request.protocols.isEmpty, PortProtocols.both.isSuperset(of: request.protocols) else {
            throw PortManagerError.invalidArgument(
                "protocols \(request.protocols.rawValue) are not tcp (1), udp (2) or both (3)")
        }
        if let host = request.host, host.mappedIPv4 != nil {
            throw PortManagerError.invalidArgument("host \(host) is IPv4-mapped; give the IPv4 address")
        }
    }

    static let ipv4Any = IPAddress(bytes: [0, 0, 0, 0])
    static let ipv6Any = IPAddress(bytes: [UInt8](repeating: 0, count: 16))

    /// Where Docker binds: the host IP, else both wildcards.
    static func bindAddresses(_ host: IPAddress?) -> [IPAddress] {
        host.map { [$0] } ?? [ipv4Any, ipv6Any]
    }

    static func noFamilyNote(_ address: IPAddress, _ proto: PortProtocols) -> String {
        "\(proto.name) \(address.isIPv6 ? "IPv6" : "IPv4"): the kernel has no \(address.isIPv6 ? "IPv6" : "IPv4"); counted as free"
    }

    enum BindResult: Equatable {
        case free, inUse, noFamily
        case failed(String)
    }

    /// Binds and closes one socket. `dualStack` clears IPV6_V6ONLY (for `[::]`).
    static func bind(port: Int, protocols proto: PortProtocols, address: IPAddress, dualStack: Bool = false) -> BindResult {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let type = proto == .udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue
        let fd = socket(family, Int32(type) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            if errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT { return .noFamily }
            return .failed("socket: " + String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let size = socklen_t(MemoryLayout<Int32>.size)
        var storage = sockaddr_storage()
        let length: socklen_t
        if address.isIPv6 {
            var v6only: Int32 = dualStack ? 0 : 1
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &v6only, size)
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in
                for i in 0..<16 { raw[i] = address.bytes[i] }
            }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: sa) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sa.sin_addr) { raw in
                for i in 0..<4 { raw[i] = address.bytes[i] }
            }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: sa) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        func attempt() -> Int32 {
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
            }
        }
        var rc = attempt()
        // TCP binds as servers and Docker do, with SO_REUSEADDR, so connections in
        // TIME_WAIT do not count. Set only once a plain bind has failed (a failed
        // bind leaves the socket unbound): with it a bind can only succeed more
        // often, so the answer is the same, and a free port costs one call less.
        if rc != 0 && errno == EADDRINUSE && proto == .tcp {
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size)
            rc = attempt()
        }
        if rc == 0 { return .free }
        let code = errno
        switch code {
        case EADDRINUSE: return .inUse
        case EAFNOSUPPORT: return .noFamily
        case EADDRNOTAVAIL where address.isUnspecified: return .noFamily
        case EACCES: return .failed("binding needs root or CAP_NET_BIND_SERVICE below the unprivileged port range")
        case EADDRNOTAVAIL: return .failed("the address is not on this host")
        default: return .failed("bind: " + String(cString: strerror(code)))
        }
    }

    enum Conflict { case none, yes, maybe }

    /// Whether `socket` keeps a bind on `address` (same protocol and port) from
    /// succeeding. `maybe`: an IPv6 wildcard socket against an IPv4 address,
    /// which conflicts only when it is dual-stack, a flag `/proc/net` does not
    /// show (netlink does: ``ProcNetSocket/v6only``).
    /// A TCP connection (``ProcNetSocket/isConnection``) is at most `maybe`:
    /// whether it keeps the bind out depends on SO_REUSEADDR flags the tables
    /// do not show.
    static func conflict(_ socket: ProcNetSocket, _ address: IPAddress) -> Conflict {
        let c = addressConflict(socket, address)
        return c == .yes && socket.isConnection ? .maybe : c
    }

    /// Whether `socket`'s local address overlaps `address` (same port and protocol).
    static func addressConflict(_ socket: ProcNetSocket, _ address: IPAddress) -> Conflict {
        if address.isIPv6 {
            guard socket.address.isIPv6, socket.address.mappedIPv4 == nil else { return .none }
            return address.isUnspecified || socket.address.isUnspecified || socket.address.bytes == address.bytes ? .yes : .none
        }
        if !socket.address.isIPv6 {
            return address.isUnspecified || socket.address.isUnspecified || socket.address.bytes == address.bytes ? .yes : .none
        }
        if let mapped = socket.address.mappedIPv4 {
            return address.isUnspecified || mapped == address.bytes || mapped == [0, 0, 0, 0] ? .yes : .none
        }
        guard socket.address.isUnspecified else { return .none }
        return socket.v6only.map { $0 ? .none : .yes } ?? .maybe
    }

    /// The sockets holding `request`'s port against its binds.
    static func holders(of request: Request, in snapshot: ProcNet.Snapshot, includeMaybe: Bool)
        -> (certain: [ProcNetSocket], maybe: [ProcNetSocket]) {
        var certain: [ProcNetSocket] = [], maybe: [ProcNetSocket] = []
        for socket in snapshot.sockets(port: request.port, protocols: request.protocols) {
            var best = Conflict.none
            for address in bindAddresses(request.host) {
                let c = conflict(socket, address)
                if c == .yes { best = .yes } else if c == .maybe && best == .none { best = .maybe }
            }
            if best == .yes { certain.append(socket) } else if best == .maybe && includeMaybe { maybe.append(socket) }
        }
        return (certain, maybe)
    }

    static func describe(_ sockets: [ProcNetSocket], procRoot: String) -> [Holder] {
        describe(sockets, ProcNet.processes(holding: Set(sockets.map(\.inode)), root: procRoot))
    }

    static func describe(_ sockets: [ProcNetSocket], _ processes: [UInt64: ProcNet.Process]) -> [Holder] {
        sockets.map { socket in
            let process = processes[socket.inode]
            return Holder(pid: process?.pid, command: process?.command, uid: socket.uid,
                          protocols: socket.protocols, address: socket.endpoint)
        }
    }

    static func unique(_ sockets: [ProcNetSocket]) -> [ProcNetSocket] {
        var seen: Set<ProcNetSocket> = []
        return sockets.filter { seen.insert($0).inserted }
    }

    /// The first port that needs no privilege (`ip_unprivileged_port_start`, default 1024).
    static func unprivilegedPortStart(_ procRoot: String) -> Int {
        guard let bytes = try? ProcNet.readFile(procRoot + "/sys/net/ipv4/ip_unprivileged_port_start") else { return 1024 }
        let digits = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }
        return Int(String(decoding: digits, as: UTF8.self)) ?? 1024
    }
}

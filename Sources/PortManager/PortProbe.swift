#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// Whether a TCP port can be bound on a host address.
public enum PortProbe {
    /// The answer of a probe.
    public enum Availability: Sendable, Equatable {
        /// `bind` succeeded: nothing is listening or bound there.
        case available
        /// `bind` failed with `EADDRINUSE`.
        case inUse
    }

    /// Binds a TCP socket to `host:port` (with `SO_REUSEADDR`, as servers do, so
    /// that connections in TIME_WAIT do not count) and releases it at once.
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
        if bind(fd, info.ai_addr, info.ai_addrlen) == 0 { return .available }
        let code = errno
        if code == EADDRINUSE { return .inUse }
        throw PortManagerError.probeFailed(host: host, port: port, reason: "bind: " + String(cString: strerror(code)))
    }
}

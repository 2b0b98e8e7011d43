#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PortManager
@testable import PortManagerCore

// The many-port probe (PortProbe.probe([Request])) against one bind() per port,
// on a range of loopback ports this test fills with every kind of socket:
// listening, both ends of connections (the client's local port, the server's
// accepted side with and without the listener), TIME_WAIT on either side,
// and UDP (bound, connected). Read over netlink and over /proc/net.
//
// The bind is Docker's: TCP with SO_REUSEADDR (docker-proxy's Go listener and
// the daemon's own port mapper both set it), UDP without. So TIME_WAIT and an
// accepted side whose listener had SO_REUSEADDR may be free; the kernel decides
// and the probe must agree with it, whatever it decides.

private func loopback(_ port: Int) -> sockaddr_in {
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    sa.sin_port = UInt16(port).bigEndian
    sa.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return sa
}

private func withAddress<R>(_ sa: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    withUnsafePointer(to: sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
}

/// The sockets a test opened, closed however it ends.
private final class Sockets {
    var open: [Int32] = []
    deinit { for fd in open { close(fd) } }

    /// A socket bound to 127.0.0.1:`port`; -1 on failure.
    func bound(_ port: Int, udp: Bool = false, reuse: Bool = false) -> Int32 {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        open.append(fd)
        var one: Int32 = 1
        if reuse { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        return withAddress(loopback(port)) { Glibc.bind(fd, $0, $1) } == 0 ? fd : -1
    }

    func listening(_ port: Int, reuse: Bool = false) -> Int32 {
        let fd = bound(port, reuse: reuse)
        return fd >= 0 && listen(fd, 8) == 0 ? fd : -1
    }

    /// A client bound to `from` connected to `to` and the server's accepted
    /// side: (client, accepted), or nil.
    func connection(from: Int, to listener: Int32, port: Int, reuse: Bool = false) -> (Int32, Int32)? {
        let client = bound(from, reuse: reuse)
        guard client >= 0, withAddress(loopback(port), { connect(client, $0, $1) }) == 0 else { return nil }
        let accepted = accept(listener, nil, nil)
        guard accepted >= 0 else { return nil }
        open.append(accepted)
        return (client, accepted)
    }

    func shut(_ fd: Int32) {
        close(fd)
        open.removeAll { $0 == fd }
    }
}

/// Whether Docker's bind of `port` on 0.0.0.0 (or [::] with IPV6_V6ONLY) succeeds.
private func bindSucceeds(_ port: Int, udp: Bool, ipv6: Bool = false) -> Bool {
    let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return true }  // no such family: nothing to conflict with
    defer { close(fd) }
    var one: Int32 = 1
    if !udp { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
    if ipv6 {
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = UInt16(port).bigEndian
        return withUnsafePointer(to: sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    sa.sin_port = UInt16(port).bigEndian
    return withAddress(sa) { Glibc.bind(fd, $0, $1) } == 0
}

/// The TCP state of the socket on 127.0.0.1:`port` in /proc/net/tcp (hex `st`), if any.
private func tcpStates(_ port: Int) -> [UInt8] {
    guard let text = try? ProcNet.readFile("/proc/net/tcp"),
          let sockets = try? text.withUnsafeBytes({ try ProcNet.parse(bytes: $0, path: "/proc/net/tcp", protocols: .tcp, ipv6: false) })
    else { return [] }
    return sockets.filter { $0.port == port }.map(\.state)
}

@Suite("The many-port probe agrees with bind() on connected ports", .serialized)
struct ConnectedPortsProbeTests {
    /// `count` consecutive ports below the ephemeral range that bind now for
    /// TCP and UDP, starting at a place that depends on the pid (so parallel runs differ).
    private func freeRange(_ count: Int) -> Int? {
        var start = 20000 + Int(getpid()) % 9000
        for _ in 0..<200 {
            if (start..<(start + count)).allSatisfy({ bindSucceeds($0, udp: false) && bindSucceeds($0, udp: true) }) { return start }
            start = 20000 + (start - 20000 + count + 37) % 9000
        }
        return nil
    }

    @Test func everyKindOfSocketOnARange() throws {
        let count = 16
        let base = try #require(freeRange(count), "no \(count) free consecutive ports in 20000..<29016")
        let sockets = Sockets()
        func port(_ i: Int) -> Int { base + i }
        // 0: listening, no SO_REUSEADDR. 1: listening with it, and the accepted side
        // of a connection from 2 (the client's local port, as an outgoing connection's).
        let listener0 = sockets.listening(port(0))
        let listener1 = sockets.listening(port(1), reuse: true)
        try #require(listener0 >= 0 && listener1 >= 0)
        try #require(sockets.connection(from: port(2), to: listener1, port: port(1)) != nil)
        // 3: an accepted side alone (its listener, without SO_REUSEADDR, closed); 4 its client.
        let listener3 = sockets.listening(port(3))
        try #require(listener3 >= 0 && sockets.connection(from: port(4), to: listener3, port: port(3)) != nil)
        sockets.shut(listener3)
        // 5: an accepted side alone whose listener had SO_REUSEADDR; 6 its client.
        let listener5 = sockets.listening(port(5), reuse: true)
        try #require(listener5 >= 0 && sockets.connection(from: port(6), to: listener5, port: port(5)) != nil)
        sockets.shut(listener5)
        // 8: TIME_WAIT of a client that closed first (7: its server, closed).
        let listener7 = sockets.listening(port(7), reuse: true)
        let (client8, accepted7) = try #require(sockets.connection(from: port(8), to: listener7, port: port(7)))
        sockets.shut(client8)
        sockets.shut(accepted7)
        sockets.shut(listener7)
        // 9: TIME_WAIT of a server's accepted side that closed first (10: its client, with SO_REUSEADDR).
        let listener9 = sockets.listening(port(9))
        let (client10, accepted9) = try #require(sockets.connection(from: port(10), to: listener9, port: port(9), reuse: true))
        sockets.shut(accepted9)
        sockets.shut(client10)
        sockets.shut(listener9)
        // 11: a bound UDP socket; 12: a connected one, to 11. 13...15: nothing.
        let udp11 = sockets.bound(port(11), udp: true)
        let udp12 = sockets.bound(port(12), udp: true)
        try #require(udp11 >= 0 && udp12 >= 0 && withAddress(loopback(port(11))) { connect(udp12, $0, $1) } == 0)
        // The FIN exchanges run in the kernel: wait (bounded) for both TIME_WAITs.
        var waited = 0
        while waited < 400 && !(tcpStates(port(8)).contains(0x06) && tcpStates(port(9)).contains(0x06)) {
            usleep(5000)
            waited += 1
        }
        #expect(tcpStates(port(8)) == [0x06] && tcpStates(port(9)) == [0x06], "TIME_WAIT on both sides")

        let expectedTaken = Set([0, 1, 2, 3, 4, 6, 11, 12].map(port))
        var sources: [PortProbe.Tables] = [.procNet]
        if (try? SockDiag.snapshot(protocols: .both, ports: 1...1)) != nil { sources.append(.netlink) }
        for tables in sources {
            for udp in [false, true] {
                let proto: PortProtocols = udp ? .udp : .tcp
                // One address (0.0.0.0), then Docker's default pair (0.0.0.0 and [::]).
                for host in [IPAddress?.some(PortProbe.ipv4Any), nil] {
                    let requests = (0..<count).map { PortProbe.Request(port: port($0), protocols: proto, host: host) }
                    let answers = try PortProbe.probe(requests, holders: false, tables: tables)
                    for (i, answer) in answers.enumerated() {
                        let free = bindSucceeds(port(i), udp: udp) && (host != nil || bindSucceeds(port(i), udp: udp, ipv6: true))
                        #expect(answer.verdict == (free ? .free : .inUse),
                                "\(tables) \(proto.name) port +\(i) (\(host.map { $0.bracketed } ?? "0.0.0.0 and [::]")): probe \(answer.verdict), bind \(free ? "succeeds" : "fails"); \(answer.notes)")
                    }
                    if host != nil {
                        // The fixture is what it claims: these ports are taken for their protocol.
                        let taken = Set((0..<count).map(port).filter { !bindSucceeds($0, udp: udp) })
                        #expect(taken.isSuperset(of: expectedTaken.filter { udp ? $0 >= port(11) : $0 < port(11) }),
                                "\(proto.name): ports taken \(taken.sorted().map { $0 - base })")
                        #expect(taken.isDisjoint(with: (13..<count).map(port)))
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PortManager
@testable import PortManagerCore

// The kernel's socket tables over netlink (SockDiag): replies parsed strictly
// (crafted datagrams), the same sockets as /proc/net on live sockets this test
// opens, and the fallback to /proc/net when the kernel refuses netlink.

/// True when this kernel answers NETLINK_SOCK_DIAG dumps here (not in some containers).
private let netlinkWorks: Bool = {
    (try? SockDiag.snapshot(protocols: .both, ports: 1...1)) != nil
}()

/// Little-endian bytes of `value`.
private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

/// One netlink message: header (length, type, flags, seq, port ID) and payload, padded to 4.
private func message(type: UInt16, seq: UInt32 = 7, _ payload: [UInt8], length: Int? = nil) -> [UInt8] {
    let bytes = le(UInt32(length ?? 16 + payload.count)) + le(type) + le(UInt16(2)) + le(seq) + le(UInt32(0)) + payload
    return bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
}

/// A `struct inet_diag_msg` for family, state, port, address bytes, uid, inode; then attributes.
private func diagMessage(family: UInt8 = UInt8(AF_INET), state: UInt8 = 10, port: UInt16 = 9092,
                         address: [UInt8] = [127, 0, 0, 1], uid: UInt32 = 1000, inode: UInt32 = 4242,
                         attributes: [UInt8] = []) -> [UInt8] {
    var bytes = [family, state, 0, 0] + le(port.bigEndian) + [0, 0]
    bytes += address + [UInt8](repeating: 0, count: 16 - address.count)   // idiag_src
    bytes += [UInt8](repeating: 0, count: 16 + 4 + 8 + 12)                 // dst, if, cookie, expires, queues
    bytes += le(uid) + le(inode)
    return bytes + attributes
}

private let done = message(type: SockDiag.messageDone, le(Int32(0)))

private func parse(_ datagram: [UInt8], family: UInt8 = UInt8(AF_INET)) throws -> (Bool, [ProcNetSocket]) {
    var sockets: [ProcNetSocket] = []
    let finished = try datagram.withUnsafeBytes {
        try SockDiag.parse($0, seq: 7, family: family, protocols: .tcp, into: &sockets)
    }
    return (finished, sockets)
}

private func parseError(_ datagram: [UInt8], family: UInt8 = UInt8(AF_INET)) -> String {
    do {
        _ = try parse(datagram, family: family)
        return "parsed"
    } catch {
        return "\(error)"
    }
}

@Suite("Probe: netlink replies")
struct SockDiagParseTests {
    @Test("a well-formed dump: sockets, IPV6_V6ONLY, then the end")
    func wellFormed() throws {
        let v4 = message(type: SockDiag.sockDiagByFamily, diagMessage())
        let (finished, sockets) = try parse(v4 + done)
        #expect(finished)
        #expect(sockets.map(\.endpoint) == ["127.0.0.1:9092"])
        #expect(sockets[0].uid == 1000 && sockets[0].inode == 4242 && sockets[0].state == ProcNetSocket.listen)
        #expect(sockets[0].v6only == nil && sockets[0].holdsPort)
        // An IPv6 wildcard socket with INET_DIAG_SKV6ONLY = 1 (a 5-byte attribute, padded).
        let attribute = le(UInt16(5)) + le(SockDiag.attributeV6Only) + [1, 0, 0, 0]
        let v6 = message(type: SockDiag.sockDiagByFamily,
                         diagMessage(family: UInt8(AF_INET6), address: [UInt8](repeating: 0, count: 16), attributes: attribute))
        let (more, six) = try parse(v6, family: UInt8(AF_INET6))
        #expect(!more && six.map(\.endpoint) == ["[::]:9092"] && six[0].v6only == true)
    }

    @Test("malformed replies are errors naming netlink, never a crash", arguments: [
        ([UInt8](), "an empty reply"),
        ([1, 0, 0, 0], "4 bytes where a header takes 16"),
        (message(type: SockDiag.messageDone, le(Int32(0)), length: 200), "length 200 outside 16...20"),
        (message(type: SockDiag.messageDone, le(Int32(0)), length: 8), "length 8 outside"),
        (message(type: SockDiag.messageDone, seq: 8, le(Int32(0))), "sequence number 8, not the request's 7"),
        (message(type: 99, []), "unknown type 99"),
        (message(type: SockDiag.sockDiagByFamily, [UInt8](repeating: 0, count: 40)), "a socket of 40 bytes where the kernel writes 72"),
        (message(type: SockDiag.sockDiagByFamily, diagMessage(family: UInt8(AF_INET6))), "address family 10 in the reply to a dump of family 2"),
        (message(type: SockDiag.sockDiagByFamily, diagMessage(attributes: le(UInt16(40)) + le(UInt16(1)))), "an attribute of length 40"),
        (message(type: SockDiag.sockDiagByFamily, diagMessage(attributes: le(UInt16(2)) + le(UInt16(1)))), "an attribute of length 2"),
        (message(type: SockDiag.sockDiagByFamily, diagMessage(attributes: le(UInt16(4)) + le(SockDiag.attributeV6Only))), "an empty INET_DIAG_SKV6ONLY"),
        (message(type: SockDiag.messageError, le(Int32(-1))), "an error of 4 bytes where the kernel writes 20"),
        (done + message(type: SockDiag.sockDiagByFamily, diagMessage()), "data after the end of the dump"),
    ])
    func malformed(_ datagram: [UInt8], _ expected: String) {
        let text = parseError(datagram)
        #expect(text.contains(SockDiag.name) && text.contains("malformed reply") && text.contains(expected), "\(text)")
    }

    @Test("every truncation and every flipped length byte of a reply is parsed or refused, never a crash")
    func truncations() {
        let good = message(type: SockDiag.sockDiagByFamily, diagMessage(attributes: le(UInt16(5)) + le(UInt16(8)) + [0, 0, 0, 0])) + done
        for cut in 0..<good.count {
            _ = parseError(Array(good.prefix(cut)))
        }
        for index in [0, 1, 88, 89, good.count - 20] {
            for value: UInt8 in [0, 1, 3, 0x7F, 0xFF] {
                var bad = good
                bad[index] = value
                _ = parseError(bad)
            }
        }
    }

    @Test("an error from the kernel (EPERM, ENOENT) means netlink is unavailable, not a malformed reply")
    func kernelErrors() {
        for code in [EPERM, ENOENT] {
            let error = message(type: SockDiag.messageError, le(Int32(-code)) + [UInt8](repeating: 0, count: 16))
            #expect(throws: SockDiag.Unavailable.self) { try parse(error) }
            #expect(throws: SockDiag.Unavailable.self) { try parse(message(type: SockDiag.messageDone, le(Int32(-code)))) }
        }
    }

    @Test("the request: header, inet_diag_req_v2, and the port range as bytecode")
    func request() {
        let bytes = SockDiag.request(seq: 3, family: UInt8(AF_INET6), protocols: .udp, ports: 6831...6832)
        #expect(bytes.count == 16 + 56 + 20)
        #expect(Array(bytes[0..<4]) == le(UInt32(92)) && Array(bytes[4..<6]) == le(UInt16(20)))
        #expect(Array(bytes[8..<12]) == le(UInt32(3)))
        #expect(bytes[16] == UInt8(AF_INET6) && bytes[17] == UInt8(IPPROTO_UDP))
        #expect(Array(bytes[72..<76]) == le(UInt16(20)) + le(UInt16(1)))
        #expect(Array(bytes[76..<92]) == [2, 8] + le(UInt16(20)) + [0, 0] + le(UInt16(6831))
                + [3, 8] + le(UInt16(12)) + [0, 0] + le(UInt16(6832)))
        let all = SockDiag.request(seq: 1, family: UInt8(AF_INET), protocols: .tcp, ports: nil)
        // Every TCP state: a connection's local port may be taken (ConnectedPortsProbeTests).
        #expect(all.count == 72 && Array(all[20..<24]) == le(UInt32(0xFFFF_FFFF)))
    }
}

@Suite("Probe: netlink and /proc/net on live sockets")
struct SockDiagLiveTests {
    @Test("netlink lists what /proc/net lists, and the IPV6_V6ONLY flag", .enabled(if: netlinkWorks))
    func sameSockets() throws {
        let (tcp, tcpPort) = try openSocket(AF_INET, SOCK_STREAM, "127.0.0.1")
        defer { close(tcp) }
        let (udp, udpPort) = try openSocket(AF_INET6, SOCK_DGRAM, "::1")
        defer { close(udp) }
        let (wild, wildPort) = try openSocket(AF_INET6, SOCK_STREAM, "::")   // v6-only (openSocket sets it)
        defer { close(wild) }
        let netlink = try PortProbe.snapshot("/proc", .both, ports: nil, .netlink)
        let procNet = try PortProbe.snapshot("/proc", .both, ports: nil, .procNet)
        #expect(netlink.source == .netlink && procNet.source == .procNet)
        #expect(netlink.hasIPv4 == procNet.hasIPv4 && netlink.hasIPv6 == procNet.hasIPv6)
        for port in [tcpPort, udpPort, wildPort] {
            let a = (netlink.byPort[port] ?? []).map { "\($0.protocols.name) \($0.endpoint) \($0.uid) \($0.inode)" }
            let b = (procNet.byPort[port] ?? []).map { "\($0.protocols.name) \($0.endpoint) \($0.uid) \($0.inode)" }
            #expect(!a.isEmpty && Set(a) == Set(b), "port \(port): netlink \(a), /proc/net \(b)")
        }
        #expect(netlink.byPort[wildPort]?.first?.v6only == true)
        #expect(netlink.byPort[udpPort]?.first?.inode != 0)
        // A dump limited to one port holds that port only.
        let one = try PortProbe.snapshot("/proc", .both, ports: tcpPort...tcpPort, .netlink)
        #expect(Set(one.byPort.keys) == [tcpPort])
    }

    @Test("a dual-stack [::] listener holds IPv4 addresses; a v6-only one does not (no bind needed)",
          .enabled(if: netlinkWorks))
    func dualStack() throws {
        for dual in [true, false] {
            let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
            var flag: Int32 = dual ? 0 : 1
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &flag, 4)
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let port: Int = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    guard bind(fd, sa, length) == 0, listen(fd, 4) == 0, getsockname(fd, sa, &length) == 0 else { return -1 }
                    return Int(UInt16(bigEndian: pointer.pointee.sin6_port))
                }
            }
            defer { close(fd) }
            try #require(port > 0)
            let request = PortProbe.Request(port: port, host: try PortProbe.address("127.0.0.1"))
            let bulk = try #require(try PortProbe.probe([request], tables: .netlink).first)
            let bound = try PortProbe.probe(request, tables: .netlink)
            #expect(bulk.verdict == (dual ? .inUse : .free) && bound.verdict == bulk.verdict, "dual-stack \(dual): \(bulk.lines)")
            #expect(dual ? bulk.holders.map(\.pid) == [Int(getpid())] : bulk.holders.isEmpty)
        }
    }

    @Test("one port and many ports give the same answers and holders from either table",
          arguments: [PortProbe.Tables.netlink, .procNet])
    func bothTables(_ tables: PortProbe.Tables) throws {
        if tables == .netlink && !netlinkWorks { return }
        let (tcp, tcpPort) = try openSocket(AF_INET, SOCK_STREAM, "127.0.0.2")
        defer { close(tcp) }
        let (udp, udpPort) = try openSocket(AF_INET6, SOCK_DGRAM, "::1")
        defer { close(udp) }
        let requests = [PortProbe.Request(port: tcpPort), PortProbe.Request(port: udpPort, protocols: .udp),
                        PortProbe.Request(port: udpPort, protocols: .tcp)]
        let bulk = try PortProbe.probe(requests, tables: tables)
        let single = try requests.map { try PortProbe.probe($0, tables: tables) }
        #expect(bulk.map(\.verdict) == [.inUse, .inUse, .free])
        #expect(single.map(\.verdict) == bulk.map(\.verdict))
        #expect(bulk[0].holders.map(\.address) == ["127.0.0.2:\(tcpPort)"] && single[0].holders == bulk[0].holders)
        #expect(bulk[1].holders.map(\.address) == ["[::1]:\(udpPort)"] && single[1].holders == bulk[1].holders)
        #expect((bulk[0].holders + bulk[1].holders).allSatisfy { $0.pid == Int(getpid()) && $0.command != nil })
    }

    @Test("netlink refused (EPERM, EAFNOSUPPORT): /proc/net answers; forced netlink is an error naming it")
    func fallback() throws {
        let (fd, port) = try openSocket(AF_INET, SOCK_STREAM, "127.0.0.1")
        defer { close(fd) }
        for code in [EPERM, EAFNOSUPPORT] {
            let refuse: () -> Int32 = { errno = code; return -1 }
            let snapshot = try PortProbe.snapshot("/proc", .tcp, ports: port...port, .automatic, open: refuse)
            #expect(snapshot.source == .procNet)
            #expect(snapshot.byPort[port]?.map(\.endpoint) == ["127.0.0.1:\(port)"])
            do {
                _ = try PortProbe.snapshot("/proc", .tcp, ports: nil, .netlink, open: refuse)
                Issue.record("forced netlink accepted a refused socket")
            } catch PortManagerError.io(let path, let reason) {
                #expect(path == SockDiag.name && reason.contains(String(cString: strerror(code))), "\(reason)")
            }
        }
        // A fake /proc is never mixed with the live kernel's netlink answer.
        #expect(try PortProbe.snapshot("/nonexistent-proc", .tcp, ports: nil, .automatic).source == .procNet)
    }
}

@Suite("Probe: the TCP bind and SO_REUSEADDR")
struct ReuseAddressTests {
    /// A TCP socket bound on 127.0.0.1 (port chosen by the kernel), not listening, with or without SO_REUSEADDR.
    private func boundSocket(reuse: Bool) throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        if reuse { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let port: Int = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                guard bind(fd, sa, length) == 0, getsockname(fd, sa, &length) == 0 else { return -1 }
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        guard port > 0 else {
            close(fd)
            throw PortManagerError.io(path: "bind", reason: String(cString: strerror(errno)))
        }
        return (fd, port)
    }

    @Test("a bound, not listening socket holds the port unless both binds set SO_REUSEADDR, as for Docker's bind")
    func boundNotListening() throws {
        // The probe binds without SO_REUSEADDR first and sets it only after EADDRINUSE:
        // the answer must be the one a bind with SO_REUSEADDR gives.
        let (plain, plainPort) = try boundSocket(reuse: false)
        defer { close(plain) }
        let (reusing, reusingPort) = try boundSocket(reuse: true)
        defer { close(reusing) }
        #expect(try PortProbe.probe(port: plainPort, host: "127.0.0.1").verdict == .inUse)
        #expect(try PortProbe.probe(port: plainPort).verdict == .inUse)
        #expect(try PortProbe.probe(port: reusingPort, host: "127.0.0.1").verdict == .free)
        #expect(try PortProbe.probe(port: reusingPort).verdict == .free)
    }
}

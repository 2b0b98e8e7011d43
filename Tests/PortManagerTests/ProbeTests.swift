#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PortManager
@testable import PortManagerCore

// The /proc/net parser (fixtures and odd text), the many-port probe over a fake
// /proc (Tests/fixtures/procnet), and the one-port probe on sockets the test opens.
// The matrix against portpicker is bindings/python/tests/test_probe_matrix.py.

private let root: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

private let procFixtures = root + "/Tests/fixtures/procnet"
private let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
private let good = "   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 91001 1 000000004c13f921 100 0 0 10 0\n"

private func parseError(_ text: String, ipv6: Bool = false) -> String {
    do {
        _ = try ProcNet.parse(text, path: "/proc/net/tcp", protocols: .tcp, ipv6: ipv6)
        return "parsed"
    } catch {
        return "\(error)"
    }
}

/// Odd tables and the error each gives.
private let oddTables: [(String, String)] = {
    var cases: [(String, String)] = []
    cases.append(("", "/proc/net/tcp: the file is empty"))
    cases.append((good, "/proc/net/tcp: line 1 is malformed: the first line is not the table header"))
    cases.append((header + "   0: 0100007F:2384 00000000:0000 0A\n", "line 2 is malformed: 4 fields where the kernel writes at least 10"))
    cases.append((header + good + "\n" + good, "line 3 is malformed: a blank line"))
    cases.append((header + good.replacingFirst("0100007F", "0100007G"), "line 2 is malformed: the local address is not 8 hex digits"))
    cases.append((header + good.replacingFirst("0100007F:2384", "0100007F:12384"), "line 2 is malformed: the local address"))
    cases.append((header + good.replacingFirst("0100007F:2384", "00000000000000000000000001000000:2384"), "the local address is not 8 hex digits"))
    cases.append((header + good.replacingFirst("00000000:0000", "00000000-0000"), "the remote address"))
    cases.append((header + good.replacingFirst(" 0A ", " 0AA "), "the state is not 2 hex digits"))
    cases.append((header + good.replacingFirst("  1000  ", "  -1000  "), "the uid is not a number"))
    cases.append((header + good.replacingFirst(" 91001 ", " 99999999999999999999 "), "the inode is not a number"))
    cases.append((header + good.replacingFirst("   0:", "   x:"), "the slot number is not 'N:'"))
    cases.append((header + good.replacingFirst("00:00000000", "0000000000"), "the queue, timer or retransmit fields are not hex"))
    cases.append((header + "   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 91001\r\n",
         "line 2 is malformed: the inode is not a number"))
    cases.append((header + good.replacingFirst(" 0A ", " \u{1B}[2J "), "line 2 is malformed"))
    return cases
}()

@Suite("Probe: /proc/net parsing")
struct ProcNetParseTests {
    @Test("the fixture tables parse: addresses, ports, states, uids, inodes")
    func fixtures() throws {
        let snapshot = try ProcNet.snapshot(root: procFixtures)
        #expect(snapshot.hasIPv4 && snapshot.hasIPv6)
        let tcp = try ProcNet.parse(String(decoding: try #require(try ProcNet.readFile(procFixtures + "/net/tcp")), as: UTF8.self),
                                    path: "tcp", protocols: .tcp, ipv6: false)
        #expect(tcp.map(\.endpoint) == ["127.0.0.1:9092", "0.0.0.0:9093", "127.0.0.2:9094", "127.0.0.1:9095",
                                        "127.0.0.1:9096", "127.0.0.1:54321"])
        #expect(tcp.map(\.holdsPort) == [true, true, true, true, false, false])
        #expect(tcp[0].uid == 1000 && tcp[0].inode == 91001 && tcp[0].state == ProcNetSocket.listen)
        #expect(snapshot.sockets(port: 9097, protocols: .tcp).map(\.endpoint) == ["[::]:9097"])
        #expect(snapshot.sockets(port: 9098, protocols: .tcp).map(\.endpoint) == ["[::1]:9098"])
        #expect(snapshot.sockets(port: 9099, protocols: .tcp).map(\.endpoint) == ["[::ffff:127.0.0.1]:9099"])
        #expect(snapshot.sockets(port: 6831, protocols: .udp).map(\.endpoint) == ["127.0.0.1:6831", "[::1]:6831"])
        #expect(snapshot.sockets(port: 6831, protocols: .tcp).isEmpty)
        // The TIME_WAIT (9096) and the ESTABLISHED client (54321) are kept as
        // connections: the many-port probe binds to decide whether they hold their ports.
        #expect(tcp.map(\.isConnection) == [false, false, false, false, true, true])
        #expect(snapshot.sockets(port: 9096, protocols: .tcp).map(\.state) == [0x06])
        #expect(snapshot.sockets(port: 54321, protocols: .tcp).map(\.state) == [0x01])
    }

    @Test("this host's tables parse")
    func thisHost() throws {
        _ = try ProcNet.snapshot()
    }

    @Test("a table with no newline at the end, and one with only its header, parse")
    func edges() throws {
        #expect(try ProcNet.parse(header + String(good.dropLast()), path: "t", protocols: .tcp, ipv6: false).count == 1)
        #expect(try ProcNet.parse(header, path: "t", protocols: .tcp, ipv6: false).isEmpty)
        #expect(try ProcNet.parse(String(header.dropLast()), path: "t", protocols: .tcp, ipv6: false).isEmpty)
    }

    @Test("odd content is an error naming the file and the line", arguments: oddTables)
    func malformed(_ text: String, _ expected: String) {
        let message = parseError(text)
        #expect(message.contains(expected), "\(message)")
        #expect(!message.utf8.contains { $0 < 0x20 }, "control characters reach the message: \(message)")
    }

    @Test("a long junk line is cut in the message")
    func longLine() {
        let message = parseError(header + String(repeating: "x", count: 100_000) + "\n")
        #expect(message.contains("line 2 is malformed: 1 fields"), "\(message)")
        #expect(message.utf8.count < 300)
    }

    @Test("an IPv6 table takes 32 hex digits per address")
    func ipv6() throws {
        let v6 = "   0: 00000000000000000000000001000000:2384 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 92002 1 0 100 0 0 10 0\n"
        #expect(try ProcNet.parse(header + v6, path: "t", protocols: .tcp, ipv6: true).map(\.endpoint) == ["[::1]:9092"])
        #expect(parseError(header + good, ipv6: true).contains("the local address is not 32 hex digits"))
    }
}

@Suite("Probe: many ports over a fake /proc")
struct BulkProbeTests {
    private func answer(_ port: Int, _ protocols: PortProtocols = .tcp, _ host: String? = nil) throws -> PortProbe.Answer {
        let request = PortProbe.Request(port: port, protocols: protocols, host: try PortProbe.address(host))
        return try #require(try PortProbe.probe([request], procRoot: procFixtures).first)
    }

    @Test("verdicts per protocol, family and host IP", arguments: [
        (9092, PortProtocols.tcp, nil as String?, PortProbe.Verdict.inUse),   // 127.0.0.1 listener vs wildcards
        (9092, .tcp, "127.0.0.1", .inUse),
        (9092, .tcp, "127.0.0.2", .free),                                     // another loopback address
        (9092, .tcp, "::1", .free),                                           // IPv4 socket, IPv6 host
        (9092, .udp, nil, .free),                                             // TCP socket, UDP probe
        (9093, .tcp, "127.0.0.5", .inUse),                                    // 0.0.0.0 takes every IPv4 address
        (9093, .tcp, "::1", .free),
        (9094, .tcp, nil, .inUse),                                            // 127.0.0.2 only: Docker's 0.0.0.0 fails
        (9094, .tcp, "127.0.0.1", .free),
        (9095, .tcp, nil, .inUse),                                            // bound, not listening
        (9096, .tcp, nil, .free),                                             // TIME_WAIT only
        (54321, .tcp, nil, .free),                                            // client side of a connection
        (9097, .tcp, nil, .inUse),                                            // [::]
        (9097, .tcp, "::1", .inUse),
        (9098, .tcp, "::1", .inUse),
        (9098, .tcp, "::2", .free),
        (9099, .tcp, "127.0.0.1", .inUse),                                    // ::ffff:127.0.0.1
        (6831, .udp, nil, .inUse),
        (6831, .tcp, nil, .free),
        (6831, .both, nil, .inUse),
        (6831, .udp, "127.0.0.2", .free),
        (9100, .udp, "127.0.0.1", .inUse),                                    // UDP on 0.0.0.0
    ])
    func verdicts(_ port: Int, _ protocols: PortProtocols, _ host: String?, _ expected: PortProbe.Verdict) throws {
        let result = try answer(port, protocols, host)
        #expect(result.verdict == expected, "\(result.lines)")
        #expect(result.verdict == .inUse ? !result.holders.isEmpty : result.holders.isEmpty)
    }

    @Test("holders: pid and command where /proc/PID/fd shows them, escaped; others not visible")
    func holders() throws {
        let udp = try answer(6831, .udp)
        #expect(udp.holders.map(\.address) == ["127.0.0.1:6831", "[::1]:6831"])
        #expect(udp.holders.map(\.pid) == [4242, 4343])
        #expect(udp.holders[0].command == "kafka")
        #expect(udp.holders[1].command == "\"evil\\u001b[31m name\"")
        #expect(udp.holders.allSatisfy { $0.protocols == .udp && $0.uid == 1000 })
        let wildcard = try answer(9093)
        #expect(wildcard.holders.count == 1 && wildcard.holders[0].pid == nil && wildcard.holders[0].command == nil)
        #expect(wildcard.holders[0].who.contains("uid 0"))
        #expect(wildcard.json().contains("\"pid\": null, \"command\": null, \"uid\": 0, \"protocol\": \"tcp\", \"address\": \"0.0.0.0:9093\""))
    }

    @Test("answers come back in request order, each table read once")
    func order() throws {
        let requests = [9096, 9092, 6831, 9095].map { PortProbe.Request(port: $0) }
        let answers = try PortProbe.probe(requests, procRoot: procFixtures)
        #expect(answers.map(\.port) == [9096, 9092, 6831, 9095])
        #expect(answers.map(\.verdict) == [.free, .inUse, .free, .inUse])
    }

    @Test("a kernel without IPv6 tables: free for IPv6, and the answer says so")
    func noIPv6() throws {
        let dir = try TemporaryDirectory()
        try dir.write("net/tcp", header)
        try dir.write("sys/net/ipv4/ip_unprivileged_port_start", "1024\n")
        let answer = try #require(try PortProbe.probe([PortProbe.Request(port: 40000)], procRoot: dir.path).first)
        #expect(answer.verdict == .free)
        #expect(answer.notes.contains { $0.contains("the kernel has no IPv6; counted as free") }, "\(answer.notes)")
    }

    @Test("a malformed table fails the probe, naming the file and line")
    func malformedTable() throws {
        let dir = try TemporaryDirectory()
        try dir.write("net/tcp", header + good + "garbage\n")
        do {
            _ = try PortProbe.probe([PortProbe.Request(port: 40000)], procRoot: dir.path)
            Issue.record("a malformed table was accepted")
        } catch PortManagerError.io(let path, let reason) {
            #expect(path == dir.path + "/net/tcp")
            #expect(reason.contains("line 3 is malformed"))
        }
    }

    @Test("bad requests", arguments: [
        (PortProbe.Request(port: 0), "port 0 is outside 1..65535"),
        (PortProbe.Request(port: 65536), "port 65536"),
        (PortProbe.Request(port: 80, protocols: PortProtocols(rawValue: 0)), "protocols 0"),
        (PortProbe.Request(port: 80, protocols: PortProtocols(rawValue: 5)), "protocols 5"),
    ])
    func badRequests(_ request: PortProbe.Request, _ expected: String) {
        do {
            _ = try PortProbe.probe([request])
            Issue.record("accepted \(request)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test("hosts must be numeric")
    func hosts() throws {
        #expect(throws: PortManagerError.self) { try PortProbe.probe(port: 80, host: "localhost") }
        #expect(throws: PortManagerError.self) { try PortProbe.probe(port: 80, host: "[::1]") }
        #expect(try PortProbe.address("::ffff:127.0.0.1")?.text == "127.0.0.1")
    }
}

@Suite("Probe: one port, live sockets")
struct LiveProbeTests {
    @Test("a UDP socket on ::1: UDP in use by this process, TCP free; closed: free")
    func udp() throws {
        let (fd, port) = try openSocket(AF_INET6, SOCK_DGRAM, "::1")
        let tcp = try PortProbe.probe(port: port, protocols: .tcp)
        let udp = try PortProbe.probe(port: port, protocols: .udp)
        let both = try PortProbe.probe(port: port, protocols: .both)
        close(fd)
        #expect(tcp.verdict == .free)
        #expect(udp.verdict == .inUse && udp.holders.map(\.pid) == [Int(getpid())])
        #expect(udp.holders.first?.address == "[::1]:\(port)")
        #expect(both.verdict == .inUse)
        #expect(try PortProbe.probe(port: port, protocols: .udp).verdict == .free)
    }

    @Test("a TCP listener on 127.0.0.1: in use on the wildcards and on 127.0.0.1, free on 127.0.0.2 and ::1")
    func tcp() throws {
        let (fd, port) = try openSocket(AF_INET, SOCK_STREAM, "127.0.0.1")
        defer { close(fd) }
        #expect(try PortProbe.probe(port: port).verdict == .inUse)
        #expect(try PortProbe.probe(port: port, host: "127.0.0.1").verdict == .inUse)
        #expect(try PortProbe.probe(port: port, host: "127.0.0.2").verdict == .free)
        #expect(try PortProbe.probe(port: port, host: "::1").verdict == .free)
        let bulk = try PortProbe.probe([PortProbe.Request(port: port)])
        #expect(bulk.first?.verdict == .inUse && bulk.first?.holders.first?.pid == Int(getpid()))
    }

    @Test("a host address not on this machine: cannot tell, and why")
    func foreignHost() throws {
        let answer = try PortProbe.probe(port: 40000, host: "192.0.2.1")
        #expect(answer.verdict == .unknown && answer.available == nil)
        #expect(answer.notes.contains { $0.contains("the address is not on this host") }, "\(answer.notes)")
    }

    @Test("a registry instance is probed per its protocols and host IP")
    func instance() throws {
        let (fd, port) = try openSocket(AF_INET, SOCK_DGRAM, "127.0.0.1")
        defer { close(fd) }
        let yaml = "svc:\n  tcp_port: \(port)\n  udp_port: {host: \(port), protocol: udp, host_ip: 127.0.0.1}\n  max_instances: 1\n  instance_increment: 0\n"
        let registry = try Registry(yaml: yaml)
        let answers = try registry.probe("svc", instance: 0)
        #expect(answers.map(\.verdict) == [.free, .inUse])
        #expect(answers[1].holders.first?.pid == Int(getpid()))
    }
}

/// A socket bound on `host` at a port the kernel picks (TCP also listens).
func openSocket(_ family: Int32, _ type: __socket_type, _ host: String) throws -> (Int32, Int) {
    let fd = socket(family, Int32(type.rawValue), 0)
    guard fd >= 0 else { throw PortManagerError.io(path: "socket", reason: String(cString: strerror(errno))) }
    var storage = sockaddr_storage()
    var length: socklen_t
    if family == AF_INET6 {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        withUnsafeMutableBytes(of: &storage) { raw in
            let a = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
            a.pointee.sin6_family = sa_family_t(AF_INET6)
            _ = inet_pton(AF_INET6, host, &a.pointee.sin6_addr)
        }
    } else {
        length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutableBytes(of: &storage) { raw in
            let a = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            a.pointee.sin_family = sa_family_t(AF_INET)
            _ = inet_pton(AF_INET, host, &a.pointee.sin_addr)
        }
    }
    let ok = withUnsafeMutablePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bind(fd, sa, length) == 0 && (type != SOCK_STREAM || listen(fd, 4) == 0) && getsockname(fd, sa, &length) == 0
        }
    }
    guard ok else {
        close(fd)
        throw PortManagerError.io(path: "bind", reason: String(cString: strerror(errno)))
    }
    let port = withUnsafeBytes(of: storage) { raw -> UInt16 in
        family == AF_INET6 ? raw.load(fromByteOffset: 2, as: UInt16.self) : raw.load(fromByteOffset: 2, as: UInt16.self)
    }
    return (fd, Int(UInt16(bigEndian: port)))
}

/// A private temporary directory, removed on deinit.
final class TemporaryDirectory {
    let path: String
    private var made: [String] = []
    init() throws {
        var template = Array("/tmp/pm-probe-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PortManagerError.io(path: "/tmp", reason: "mkdtemp failed") }
        path = String(cString: made)
    }
    func write(_ relative: String, _ text: String) throws {
        var directory = path
        for part in relative.split(separator: "/").dropLast() {
            directory += "/" + part
            if mkdir(directory, 0o700) == 0 { made.append(directory) }
        }
        let fd = open(path + "/" + relative, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
        made.append(path + "/" + relative)
        guard fd >= 0 else { throw PortManagerError.io(path: relative, reason: "open failed") }
        defer { close(fd) }
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
    deinit {
        for item in made.reversed() { remove(item) }
        rmdir(path)
    }
}

extension String {
    func replacingFirst(_ target: String, _ replacement: String) -> String {
        replacing(target, with: replacement, maxReplacements: 1)
    }
}

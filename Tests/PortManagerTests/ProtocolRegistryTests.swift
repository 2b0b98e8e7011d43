import Testing
@testable import PortManager
@testable import PortManagerCore

// The registry's `protocol` and `host_ip`: parsing, validation, compose
// mappings and the analysis (a TCP and a UDP port of one number are distinct).

private let root: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

private let noEphemeral = AnalysisOptions(ephemeralRange: nil)

private func failure(_ yaml: String) -> String {
    do {
        _ = try Registry(yaml: yaml, source: "t.yaml")
        return "opened"
    } catch {
        return "\(error)"
    }
}

@Suite("Registry: protocols and host IPs")
struct ProtocolRegistryTests {
    @Test("the fixture opens with each port's protocols and host IP, and compose writes them")
    func fixture() throws {
        let registry = try Registry(contentsOf: root + "/Tests/fixtures/protocols/udp_and_host_ip.yaml")
        let jaeger = try registry.service(named: "jaeger")
        #expect(jaeger.port(named: "agent_port")?.protocols == .udp)
        #expect(jaeger.port(named: "query_port")?.protocols == .tcp)
        #expect(jaeger.port(named: "agent_port")?.hostIP == nil)
        let dns = try registry.service(named: "coredns")
        #expect(dns.port(named: "dns_port")?.protocols == .both)
        #expect(dns.port(named: "dns_port")?.hostIP?.text == "127.0.0.1")
        #expect(dns.port(named: "metrics_port")?.hostIP?.text == "127.0.0.1")
        #expect(try registry.ports("jaeger", instance: 1).flatMap(\.composeMappings) == ["6841:6831/udp", "16696:16686"])
        #expect(try registry.ports("coredns", instance: 2).flatMap(\.composeMappings)
            == ["127.0.0.1:1253:53", "127.0.0.1:1253:53/udp", "127.0.0.1:9353:9153"])
        #expect(try registry.ports("kafka_local", instance: 0).flatMap(\.composeMappings) == ["[::1]:9192:9092"])
        let requests = try registry.probeRequests("coredns", instance: 0)
        #expect(requests.map(\.port) == [1053, 9153])
        #expect(requests.map(\.protocols) == [.both, .tcp])
        #expect(requests.allSatisfy { $0.host?.text == "127.0.0.1" })
    }

    @Test("the analysis: TCP and UDP of one number do not collide; tcp+udp collides with each, once")
    func analysis() throws {
        let registry = try Registry(contentsOf: root + "/Tests/fixtures/protocols/udp_and_host_ip.yaml")
        #expect(try Analysis(registry: registry, options: noEphemeral).collisions.isEmpty)
        let yaml = """
        aa:
          port: {host: 5353, protocol: tcp+udp}
          max_instances: 1
        bb:
          port: {host: 5353, protocol: tcp+udp}
          max_instances: 1
        cc:
          port: {host: 7000, protocol: udp}
          max_instances: 1
        dd:
          port: {host: 7000, protocol: tcp+udp}
          max_instances: 1
        ee:
          port: 7000
          max_instances: 1
        """
        let analysis = try Analysis(registry: try Registry(yaml: yaml, source: "p.yaml"), options: noEphemeral)
        let groups = analysis.collisions.map { finding in
            finding.occurrences[0].members.map { analysis.registry.services[$0.service].name }.sorted()
        }.sorted { $0.joined() < $1.joined() }
        // a-b once (not once per protocol); c-d on UDP; d-e on TCP; c and e never.
        #expect(groups == [["aa", "bb"], ["cc", "dd"], ["dd", "ee"]])
    }

    @Test("a service's own TCP and UDP ports may share a number")
    func selfCollision() throws {
        _ = try Registry(yaml: "dns:\n  tcp_port: 53\n  udp_port: {host: 53, protocol: udp}\n", source: "t.yaml")
        #expect(failure("dns:\n  tcp_port: 53\n  any_port: {host: 53, protocol: tcp+udp}\n").contains("coincide"))
    }

    @Test("bad values: file:line:column and a did-you-mean", arguments: [
        ("kk:\n  port: {host: 1, protocol: UDP}\n", "t.yaml:2:29: protocol of port 'port' of service 'kk' is 'UDP'; it must be tcp, udp or tcp+udp; did you mean 'udp'?"),
        ("kk:\n  port: {host: 1, protocol: tpc}\n", "did you mean 'tcp'?"),
        ("kk:\n  port: {host: 1, protocol: 6}\n", "t.yaml:2:29: protocol of port 'port' of service 'kk' must be tcp, udp or tcp+udp, not an integer"),
        ("kk:\n  port: {host: 1, protocol: [tcp, udp]}\n", "must be tcp, udp or tcp+udp, not a list"),
        ("kk:\n  port: {host: 1, host_ip: \"[::1]\"}\n", "write IPv6 addresses without brackets"),
        ("kk:\n  port: {host: 1, host_ip: 10.0.0.0/8}\n", "give one address, not a network"),
        ("kk:\n  port: {host: 1, host_ip: \"fe80::1%eth0\"}\n", "zone IDs are not supported"),
        ("kk:\n  port: {host: 1, host_ip: 1.2.3}\n", "t.yaml:2:28: host_ip of port 'port' of service 'kk' is '1.2.3', not a numeric IPv4 or IPv6 address"),
        ("kk:\n  port: 1\n  host_ip: 127.0.0.01\n", "t.yaml:3:12: host_ip of service 'kk' is '127.0.0.01'"),
        ("kk:\n  port: 1\n  host_ip: 8080\n", "host_ip of service 'kk' must be an IPv4 or IPv6 address such as 127.0.0.1 or ::1, not an integer"),
        ("kk:\n  port: 1\n  host_iq: 127.0.0.1\n", "did you mean 'host_ip'?"),
        ("kk:\n  port: {host: 1, hostip: 127.0.0.1}\n", "did you mean 'host_ip'?"),
    ])
    func badValues(_ yaml: String, _ expected: String) {
        let message = failure(yaml)
        #expect(message.contains(expected), "\(message)")
    }

    @Test("IP literals", arguments: [
        ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("::", "::"), ("0.0.0.0", "0.0.0.0"),
        ("fe80::1", "fe80::1"), ("::ffff:10.1.2.3", "::ffff:10.1.2.3"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1::", "1::"), ("FE80::A", "fe80::a"),
    ])
    func ipLiterals(_ text: String, _ canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(IPAddress(bytes: address.bytes).text == canonical)
    }

    @Test("not IP literals", arguments: [
        "", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9",
        "12345::", "::g", "1.2.3.4:80", "[::1]", " 1.2.3.4", "::1 ", "1:2:3:4:5:6:7::8:9", "::ffff:1.2.3",
    ])
    func notIPLiterals(_ text: String) {
        #expect(IPAddress(text) == nil)
    }
}

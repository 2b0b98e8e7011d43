import Testing
@testable import PortManager
@testable import PortManagerCore
@testable import PortManagerAnalysis

// The analysis over real YAML: the original spec's original table (Tests/fixtures/seed_table.yaml)
// and the shipped registry, plus the kernel's /proc files.

/// The repository root, from this file's path (Tests/PortManagerTests/...).
private let root: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

private let linux = AnalysisOptions(ephemeralRange: AnalysisOptions.linuxDefaultEphemeralRange)

@Suite("Analysis: fixtures")
struct AnalysisFixtureTests {
    @Test("the original spec's table has exactly its 10 colliding host ports, in 3 findings, and Traefik's privileged port")
    func seedTable() throws {
        let path = root + "/Tests/fixtures/seed_table.yaml"
        let registry = try Registry(contentsOf: path)
        #expect(registry.services.count == 15)
        let analysis = try Analysis(registry: registry, options: linux)
        #expect(analysis.collidingHostPorts == [3100, 3200, 3300, 3400, 8080, 8081, 8180, 8181, 8280, 8281])
        let collisions = analysis.collisions
        #expect(collisions.count == 3)
        let pairsByServices = Dictionary(grouping: collisions) { finding in
            Set(finding.occurrences[0].members.map { registry.services[$0.service].name })
        }
        #expect(pairsByServices[["grafana", "loki"]]?.first?.hostPorts == [3100, 3200, 3300, 3400])
        #expect(pairsByServices[["argocd", "temporal"]]?.first?.hostPorts == [8080, 8180, 8280])
        #expect(pairsByServices[["argocd", "mongo_express"]]?.first?.hostPorts == [8081, 8181, 8281])
        for finding in collisions {
            #expect(finding.severity == .error)
            #expect(finding.location.file == path)
            #expect(finding.suggestion != nil)
        }
        let warnings = analysis.findings.filter { $0.severity == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.kind == .privileged)
        #expect(warnings.first?.hostPorts == [80, 180, 280])
        #expect(warnings.first?.message.contains("traefik port 'web_port'") == true)
        #expect(analysis.errorCount == 3)
        // Every line is FILE:LINE:COLUMN: severity: message.
        let grafana = try #require(pairsByServices[["grafana", "loki"]]?.first)
        #expect(grafana.line.hasPrefix("\(path):50:3: error: grafana port 'port' instances 1-4 and loki port 'port' instances 0-3 share host ports 3100, 3200, 3300, 3400"), "\(grafana.line)")
    }

    @Test("applying all suggested moves together makes the original spec's table collision-free")
    func seedFixed() throws {
        let path = root + "/Tests/fixtures/seed_table.yaml"
        var yaml = String(decoding: try FileReader.read(path), as: UTF8.self)
        let analysis = try Analysis(registry: Registry(yaml: yaml, source: path), options: linux)
        let registry = try Registry(yaml: yaml)
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var moves = 0
        for finding in analysis.collisions {
            #expect(!finding.suggestedMoves.isEmpty, "\(finding.line)")
            for move in finding.suggestedMoves {
                let port = try #require(registry.services.first { $0.name == move.service }?.port(named: move.port))
                lines[port.location.line - 1] = "  \(port.name): \(move.base)"
                moves += 1
            }
        }
        #expect(moves == 3)
        yaml = lines.joined(separator: "\n")
        let fixed = try Analysis(registry: Registry(yaml: yaml, source: path), options: linux)
        #expect(fixed.collisions.isEmpty, "\(fixed.collisions.map(\.line))")
    }

    @Test("the shipped registry has no collisions and no error")
    func shipped() throws {
        let registry = try Registry(contentsOf: root + "/dynamicconfig/port_registry.yaml")
        let analysis = try Analysis(registry: registry, options: linux)
        #expect(analysis.collisions.isEmpty, "\(analysis.collisions.map(\.line))")
        #expect(analysis.errorCount == 0, "\(analysis.findings.map(\.line))")
    }

    @Test("the JSON form holds every finding")
    func json() throws {
        let registry = try Registry(contentsOf: root + "/Tests/fixtures/seed_table.yaml")
        let text = try Analysis(registry: registry, options: linux).json()
        #expect(text.hasPrefix("{\"source\":"))
        #expect(text.contains("\"ephemeral_range\":[32768,60999]"))
        #expect(text.contains("\"errors\":3,\"warnings\":1"))
        #expect(text.contains("\"host_ports\":[3100,3200,3300,3400]"))
        #expect(text.contains("{\"service\":\"grafana\",\"port\":\"port\",\"instance\":1,\"environment\":null}"))
        #expect(JSONText.string("a\"b\\c\n\u{1}") == "\"a\\\"b\\\\c\\n\\u0001\"")
    }
}

@Suite("Analysis: kernel ranges")
struct AnalysisKernelTests {
    @Test("this host's /proc files parse, or the error names the file")
    func procFiles() {
        do {
            let range = try KernelPorts.ephemeralRange()
            #expect(range.lowerBound >= 1 && range.upperBound <= 65535)
            _ = try KernelPorts.reservedPorts()
        } catch let PortManagerError.io(path, _) {
            #expect(path.hasPrefix("/proc/sys/net/ipv4/"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("missing and malformed files give io errors naming them")
    func badFiles() throws {
        do {
            _ = try KernelPorts.ephemeralRange(path: "/nonexistent/ip_local_port_range")
            Issue.record("expected an error")
        } catch let PortManagerError.io(path, reason) {
            #expect(path == "/nonexistent/ip_local_port_range")
            #expect(reason.contains("No such file"))
        }
        // The original spec's table is a readable file that is not a port range.
        do {
            _ = try KernelPorts.ephemeralRange(path: root + "/Tests/fixtures/seed_table.yaml")
            Issue.record("expected an error")
        } catch let PortManagerError.io(path, reason) {
            #expect(path.hasSuffix("seed_table.yaml"))
            #expect(reason.contains("not two port numbers"))
        }
        do {
            _ = try KernelPorts.reservedPorts(path: root + "/Tests/fixtures/seed_table.yaml")
            Issue.record("expected an error")
        } catch let PortManagerError.io(_, reason) {
            #expect(reason.contains("reserved port list"))
        }
    }

    @Test("pm_analyze's range conventions: 0,0 reads the kernel, -1,-1 skips, else checked")
    func conventions() throws {
        #expect(try KernelPorts.EphemeralCheck(cLow: 0, cHigh: 0) == .kernel)
        #expect(try KernelPorts.EphemeralCheck(cLow: -1, cHigh: -1) == .unchecked)
        #expect(try KernelPorts.EphemeralCheck(cLow: 1000, cHigh: 2000) == .range(1000...2000))
        #expect(try KernelPorts.EphemeralCheck(cLow: 7, cHigh: 7) == .range(7...7))
        // Any other pair is a range to check, without trapping where low > high.
        for (low, high) in [(0, 5), (5, 0), (-1, 5), (0, -1), (5, 3), (1, 65536), (Int(Int32.min), Int(Int32.max))] {
            #expect(throws: PortManagerError.invalidArgument(
                "ephemeral range \(low)-\(high) is invalid; it needs 1 <= LOW <= HIGH <= 65535")) {
                try KernelPorts.EphemeralCheck(cLow: low, cHigh: high)
            }
        }
        #expect(try KernelPorts.options(ephemeral: .init(cLow: -1, cHigh: -1), reserved: nil) == AnalysisOptions())
        #expect(try KernelPorts.options(ephemeral: .unchecked, reserved: nil) == AnalysisOptions())
        #expect(try KernelPorts.options(ephemeral: .unchecked, reserved: "80") == AnalysisOptions(reservedPorts: PortSet([80...80])))
        #expect(try KernelPorts.options(ephemeral: .init(cLow: 1000, cHigh: 2000), reserved: "1500")
                == AnalysisOptions(ephemeralRange: 1000...2000, reservedPorts: PortSet([1500...1500])))
        #expect(try KernelPorts.options(ephemeral: .range(1000...2000), reserved: nil) == AnalysisOptions(ephemeralRange: 1000...2000))
        #expect(throws: PortManagerError.self) { try KernelPorts.options(ephemeral: .init(cLow: 0, cHigh: 5), reserved: nil) }
        #expect(throws: PortManagerError.invalidArgument(
            "ephemeral range 0-5 is invalid; it needs 1 <= LOW <= HIGH <= 65535")) {
            try KernelPorts.options(ephemeral: .range(0...5), reserved: nil)
        }
        #expect(throws: PortManagerError.self) { try KernelPorts.options(ephemeral: .range(5...6), reserved: "x") }
    }
}

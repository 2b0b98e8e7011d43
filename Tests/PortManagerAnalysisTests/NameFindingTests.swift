import Testing
@testable import PortManagerCore
@testable import PortManagerAnalysis

@Suite("Analysis: container and volume names")
struct NameFindingTests {
    @Test("web instance 1 and web_1 instance 0 both get web-1: one error naming both, at web_1")
    func webAndWebOne() throws {
        let r = registry([("web", 10, 3, [("port", 5000, 1)]), ("web_1", 10, 3, [("port", 6000, 1)])])
        let analysis = try Analysis(registry: r, options: AnalysisOptions())
        let names = analysis.findings.filter { $0.kind == .name }
        #expect(names.count == 1 && analysis.errorCount == 1)
        let finding = try #require(names.first)
        #expect(finding.severity == .error && finding.hostPorts.isEmpty && finding.occurrences.isEmpty)
        #expect(finding.location == SourceLocation(file: "t.yaml", line: 3, column: 1))  // web_1, defined later
        #expect(finding.message.hasPrefix("web instance 1 and web_1 instance 0 both get the container name 'web-1'"),
                "\(finding.message)")
        #expect(finding.message.contains("container stem 'web' of web and container stem 'web-1' of web_1"))
        #expect(finding.suggestion?.contains("give web_1 another container_name") == true)
        #expect(finding.line.hasPrefix("t.yaml:3:1: error: web instance 1 and web_1 instance 0"))
        let json = analysis.json()
        #expect(json.contains("\"kind\":\"name\""))
        #expect(json.contains("\"names\":[{\"kind\":\"container\",\"name\":\"web-1\",\"members\":[{\"service\":\"web\",\"instance\":1,\"environment\":null},{\"service\":\"web_1\",\"instance\":0,\"environment\":null}]}]"))
    }

    @Test("an environment whose name is an instance number is located at the environment")
    func environmentNamedOne() throws {
        let r = registry([("web", 10, 3, [("port", 5000, 1)])], environments: [("1", 1000)])
        let analysis = try Analysis(registry: r, options: AnalysisOptions())
        let names = analysis.findings.filter { $0.kind == .name }
        #expect(names.map { $0.names.map(\.kind) } == [[.container], [.volume], [.project]])
        #expect(names[2].message.contains("one compose project would hold both"))
        #expect(names.allSatisfy { $0.location.line == 5 })  // the environment
        #expect(names[0].message.hasPrefix("web instance 1 and web instance 0 in environment '1' both get the container name 'web-1'"))
    }

    @Test("the shipped registry's names are distinct")
    func noNamesFindingsWithoutCollisions() throws {
        let r = registry([("kafka", 100, 10, [("broker_port", 9092, 1)]), ("redis", 100, 10, [("port", 6379, 1)])],
                         environments: [("ci", 20000)])
        #expect(try Analysis(registry: r, options: AnalysisOptions()).findings.isEmpty)
    }
}

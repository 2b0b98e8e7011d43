import Testing
@testable import PortManager

/// Loads `yaml` from memory and returns the diagnostics it is refused with.
private func problems(_ yaml: String) -> [Diagnostic] {
    do {
        _ = try Registry(yaml: yaml, source: "reg.yaml")
        Issue.record("expected the registry to be refused:\n\(yaml)")
        return []
    } catch PortManagerError.invalidRegistry(let diagnostics) {
        return diagnostics
    } catch PortManagerError.parse(let diagnostic) {
        return [diagnostic]
    } catch {
        Issue.record("unexpected error \(error)")
        return []
    }
}

/// Expects exactly one problem, at `line`:`column`, whose message holds every fragment.
private func expectProblem(_ yaml: String, line: Int, column: Int? = nil, _ fragments: String...,
                           sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let found = problems(yaml)
    #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
    guard let first = found.first else { return }
    #expect(first.location.file == "reg.yaml", sourceLocation: sourceLocation)
    #expect(first.location.line == line, "\(first)", sourceLocation: sourceLocation)
    if let column { #expect(first.location.column == column, "\(first)", sourceLocation: sourceLocation) }
    for fragment in fragments {
        #expect(first.message.contains(fragment), "'\(fragment)' not in: \(first.message)", sourceLocation: sourceLocation)
    }
}

private func isParseError(_ yaml: String) -> Bool {
    do { _ = try Registry(yaml: yaml, source: "reg.yaml") } catch PortManagerError.parse { return true } catch { return false }
    return false
}

@Suite("Registry format: accepted")
struct AcceptedTests {
    @Test func fullFormat() throws {
        let r = try Registry(yaml: """
            kafka:
              broker_port: 9092
              controller_port: 19093
              instance_increment: 100
              max_instances: 10
              container_name: kafka-development
              volume_name: kafka-data
            traefik:
              web_port: 80
              entrypoint_port: "31001-31003"
              admin_port: {host: 8090, container: 8080}
              max_instances: 3
            redis:
              port: +6379
            _environments:
              dev: 0
              ci: +20000
            """, source: "reg.yaml")
        #expect(r.serviceNames == ["kafka", "traefik", "redis"])
        let redis = try r.service(named: "redis")
        #expect(redis.increment == 100 && redis.maxInstances == 10)
        #expect(redis.containerStem == "redis" && redis.volumeStem == "redis-data")
        let traefik = try r.service(named: "traefik")
        #expect(traefik.ports.map(\.count) == [1, 3, 1])
        #expect(traefik.ports[2].containerPort == 8080)
        #expect(try r.port("traefik", instance: 2, name: "entrypoint_port") == 31201)
        #expect(r.environments.map(\.name) == ["dev", "ci"])
        #expect(try r.selecting(environment: "ci").port("kafka", instance: 1, name: "broker_port") == 29192)
        #expect(try r.service(named: "kafka").ports[1].location == SourceLocation(file: "reg.yaml", line: 3, column: 3))
    }

    @Test func commentsFlowStyleAndBOMAreFine() throws {
        let r = try Registry(yaml: "\u{FEFF}# registry\n{svc: {port: 1234, max_instances: 1, instance_increment: 0}}\n")
        #expect(try r.port("svc") == 1234)
    }
}

@Suite("Registry format: refused with file, line, column and key")
struct RefusedTests {
    @Test func yamlSyntaxError() {
        let found = problems("kafka:\n  port: 9092\n   bad: [1, 2\n")
        #expect(found.count == 1)
        #expect(found.first?.location.line == 3)
        #expect(found.first?.message.contains("YAML syntax error") == true)
        #expect(isParseError("a: [1, 2"))
    }

    @Test("Wrong types where an integer belongs", arguments: [
        ("\"9092\"", "a string"), ("9092.0", "a float"), ("true", "a boolean"), ("yes", "a boolean"),
        ("~", "null"), ("", "null"), ("[9092]", "a list"), ("nine", "a string"), ("1e3", "a float"),
    ])
    func wrongPortType(value: String, type: String) {
        expectProblem("kafka:\n  broker_port: \(value)\n", line: 2, "port 'broker_port' of service 'kafka'", "not \(type)")
    }

    @Test("Wrong types for settings", arguments: ["instance_increment", "max_instances"])
    func wrongSettingType(key: String) {
        expectProblem("svc:\n  port: 1000\n  \(key): \"5\"\n", line: 3, column: 3 + key.count + 2, "\(key) of service 'svc'", "must be an integer, not a string")
        expectProblem("svc:\n  port: 1000\n  \(key): 2.5\n", line: 3, "\(key) of service 'svc'", "not a float")
    }

    @Test("Ports outside 1..65535", arguments: ["0", "70000", "-5", "65536"])
    func portOutOfRange(value: String) {
        expectProblem("svc:\n  port: \(value)\n  max_instances: 1\n", line: 2, column: 9, "port 'port' of service 'svc' is \(value)", "outside 1..65535")
    }

    @Test func rangesAreChecked() {
        expectProblem("svc:\n  r_port: \"31003-31001\"\n", line: 2, "ends before it starts")
        expectProblem("svc:\n  r_port: 65000-65600\n", line: 2, "outside 1..65535")
        expectProblem("svc:\n  r_port: {host: \"100-102\", container: \"100-101\"}\n", line: 2, "container range has 2 ports but the host range has 3")
        expectProblem("svc:\n  r_port: {container: 80}\n", line: 2, "without 'host'")
        expectProblem("svc:\n  r_port: {host: 80, contianer: 80}\n", line: 2, "unknown key 'contianer'", "did you mean 'container'?")
    }

    @Test func containerPortsAreCheckedNamingFileLineServiceAndPort() {
        expectProblem("svc:\n  port: 80\nkafka:\n  broker_port: {host: 9092, container: hots}\n", line: 4, column: 40,
                      "container side of port 'broker_port' of service 'kafka' is 'hots'", "or host", "did you mean 'host'?")
        expectProblem("kafka:\n  broker_port: {host: 9092, container_port: 9092}\n", line: 2,
                      "unknown key 'container_port' in port 'broker_port' of service 'kafka'", "did you mean 'container'?")
        expectProblem("kafka:\n  broker_port: {host: 9092, container: 70000}\n", line: 2,
                      "container side of port 'broker_port' of service 'kafka' is 70000, outside 1..65535")
        expectProblem("kafka:\n  broker_port: {host: 9092, container: [host]}\n", line: 2, "not a list")
        let registry = try? Registry(yaml: "kafka:\n  broker_port: {host: 9092, container: host}\n  redis_port: 6379\n"
                                     + "  r_port: {host: \"100-102\", container: host}\n", source: "reg.yaml")
        #expect(registry?.services[0].ports.map(\.container) == [.host, .base, .host])
    }

    @Test func lastInstancePastTheTop() {
        expectProblem("svc:\n  port: 65000\n  max_instances: 10\n", line: 2,
                      "instance 9 would use port 65900", "lower max_instances to at most 6")
        expectProblem("svc:\n  r_port: \"65300-65336\"\n  max_instances: 3\n", line: 2, "instance 2 would use port 65536")
        #expect(throws: Never.self) { try Registry(yaml: "svc:\n  r_port: \"65300-65335\"\n  max_instances: 3\n") }
    }

    @Test func incrementRules() {
        expectProblem("svc:\n  port: 5000\n  instance_increment: 0\n", line: 3, "instance_increment of service 'svc' is 0")
        expectProblem("svc:\n  port: 5000\n  instance_increment: -100\n", line: 3, "must not be negative")
        #expect(throws: Never.self) { try Registry(yaml: "svc:\n  port: 5000\n  instance_increment: 0\n  max_instances: 1\n") }
    }

    @Test func maxInstancesAtLeastOne() {
        expectProblem("svc:\n  port: 5000\n  max_instances: 0\n", line: 3, "max_instances of service 'svc' is 0", "at least 1")
    }

    @Test func integersTooLarge() {
        expectProblem("svc:\n  port: 99999999999999999999999\n", line: 2, "too large")
        expectProblem("svc:\n  port: 80\n  max_instances: 9223372036854775807\n", line: 2, "past 65535")
        expectProblem("svc:\n  port: 80\n  instance_increment: 9223372036854775807\n  max_instances: 3\n", line: 2, "past 65535")
    }

    @Test func leadingZeroIsAmbiguous() {
        expectProblem("svc:\n  port: 08080\n", line: 2, "leading zero", "octal")
    }

    @Test func duplicates() {
        expectProblem("a1:\n  port: 1000\na1:\n  port: 2000\n", line: 3, column: 1, "duplicate service 'a1'", "line 1")
        expectProblem("svc:\n  port: 1000\n  port: 2000\n", line: 3, "duplicate key 'port' in service 'svc'", "line 2")
    }

    @Test func unknownKeysSuggestTheNearMiss() {
        expectProblem("svc:\n  port: 1000\n  instance_incremnet: 10\n", line: 3, column: 3,
                      "unknown key 'instance_incremnet' in service 'svc'", "did you mean 'instance_increment'?")
        expectProblem("svc:\n  broker_prot: 1000\n  port: 2000\n", line: 2, "unknown key 'broker_prot'", "did you mean 'broker_port'?")
        expectProblem("svc:\n  port: 1000\n  colour: blue\n", line: 3, "unknown key 'colour'", "end in '_port'")
        expectProblem("_environmnets: {}\nsvc:\n  port: 1000\n", line: 1, "unknown registry setting '_environmnets'", "did you mean '_environments'?")
    }

    @Test func serviceWithoutPorts() {
        expectProblem("svc:\n  max_instances: 2\n", line: 1, "service 'svc' defines no ports")
    }

    @Test func invalidDockerNames() {
        expectProblem("bad name:\n  port: 1000\n", line: 1, "service name 'bad name' is not a valid Docker container name")
        expectProblem("svc:\n  port: 1000\n  container_name: -dash\n", line: 3, "container_name of service 'svc' '-dash' is not a valid Docker name")
        expectProblem("svc:\n  port: 1000\n  volume_name: 12\n", line: 3, "volume_name of service 'svc' must be a string, not an integer")
    }

    @Test func wrongShapes() {
        expectProblem("- a\n- b\n", line: 1, "must be a mapping of service names", "not a list")
        expectProblem("just text\n", line: 1, "not a string")
        expectProblem("svc: 9092\n", line: 1, "service 'svc' must be a mapping", "not an integer")
        expectProblem("? [a, b]\n: {port: 1}\n", line: 1, "service name must be a plain string, not a list")
        expectProblem("{}\n", line: 1, "defines no services")
    }

    @Test func namesInMessagesAreEscaped() {
        let found = problems("svc:\n  port: 1000\n  \"evil\\nkey\": 1\n")
        #expect(found.count == 1)
        #expect(found.first.map { !$0.message.contains("\n") && $0.message.contains("evil\\nkey") } == true)
    }

    @Test func everyProblemIsReportedInSourceOrder() {
        let found = problems("b1:\n  port: 0\na1:\n  porrt: 1\n  port: 70000\n")
        #expect(found.map(\.location.line) == [2, 4, 5])
    }

    @Test func environments() {
        expectProblem("_environments:\n  ci: lots\nsvc:\n  port: 1000\n", line: 2, "offset of environment 'ci' must be an integer")
        expectProblem("_environments:\n  ci: 70000\nsvc:\n  port: 1000\n", line: 2, "outside -65535..65535")
        expectProblem("_environments:\n  ci: 1\n  ci: 2\nsvc:\n  port: 1000\n", line: 3, "duplicate environment 'ci'")
        expectProblem("_environments: [ci]\nsvc:\n  port: 1000\n", line: 1, "_environments must be a mapping")
    }
}

@Suite("Ports of one service may not coincide")
struct SelfCollisionTests {
    @Test func incrementSmallerThanTheDistanceBetweenPorts() {
        expectProblem("svc:\n  a_port: 5000\n  b_port: 5010\n  instance_increment: 5\n  max_instances: 3\n", line: 3,
                      "ports 'a_port' of instance 2 (host port 5010) and 'b_port' of instance 0 (host port 5010) of service 'svc' coincide")
    }

    @Test func rangeWiderThanTheIncrement() {
        expectProblem("svc:\n  r_port: \"100-109\"\n  instance_increment: 5\n  max_instances: 2\n", line: 2,
                      "port 'r_port' of instance 0 (host ports 100-109) of service 'svc' overlaps its own instance 1",
                      "10 ports wide but instance_increment is 5")
    }

    @Test func sameBaseTwice() {
        expectProblem("svc:\n  a_port: 5000\n  b_port: 5000\n  max_instances: 1\n", line: 3, "'a_port'", "'b_port'", "coincide")
    }

    @Test func rangeSwallowingAnotherPort() {
        expectProblem("svc:\n  r_port: \"100-110\"\n  x_port: 105\n  max_instances: 1\n", line: 3, "'r_port'", "'x_port'")
    }

    @Test func interleavedPortsAreFine() throws {
        let r = try Registry(yaml: "svc:\n  a_port: 5000\n  b_port: 5001\n  instance_increment: 2\n  max_instances: 100\n")
        #expect(try r.port("svc", instance: 99, name: "b_port") == 5199)
    }
}

@Suite("Documents and bytes")
struct DocumentTests {
    @Test func emptyInputs() {
        for text in ["", "\n\n", "# only a comment\n", "---\n"] {
            #expect(isParseError(text) || problems(text).first?.message.contains("empty") == true || problems(text).first?.message.contains("null") == true)
        }
        #expect(problems("").first?.message == "the registry file is empty")
        #expect(problems("# c\n").first?.message == "the registry file is empty")
    }

    @Test func severalDocuments() {
        expectProblem("a1:\n  port: 1\n---\nb1:\n  port: 2\n", line: 3, "more than one YAML document")
    }

    @Test func binaryAndNonUTF8() {
        let nul: [UInt8] = Array("svc:\n  port: 1".utf8) + [0] + Array("\n".utf8)
        let latin1: [UInt8] = Array("svc:\n  name: caf".utf8) + [0xE9] + Array("\n".utf8)
        let overlong: [UInt8] = [0xC0, 0xAF]
        for (bytes, fragment, line) in [(nul, "NUL byte", 2), (latin1, "not UTF-8", 2), (overlong, "not UTF-8", 1)] {
            #expect {
                try bytes.withUnsafeBytes { _ = try Registry(yaml: $0, source: "reg.yaml") }
            } throws: { error in
                guard case PortManagerError.parse(let d) = error else { return false }
                return d.message.contains(fragment) && d.location.line == line
            }
        }
    }

    @Test func aliasesAndTagsAreRefused() {
        expectProblem("base: &b\n  port: 1000\ncopy: *b\n", line: 3, "aliases")
        expectProblem("svc:\n  port: !!int 1000\n", line: 2, "tags")
    }

    @Test func deepNestingIsRefusedNotRecursed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        expectProblem(deep, line: 1, "nesting deeper than 32 levels")
        let deepMaps = (0..<50).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"
        #expect(problems(deepMaps).first?.message.contains("nesting deeper") == true)
    }

    @Test func oneMegabyteOfJunkIsRefused() {
        var generator = SplitMix(seed: 42)
        let junk = (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 255 + 1) }
        #expect(throws: PortManagerError.self) {
            try junk.withUnsafeBytes { _ = try Registry(yaml: $0, source: "junk") }
        }
        let asciiJunk = (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: 0x20 + generator.next() % 95) }
        #expect(throws: PortManagerError.self) {
            try asciiJunk.withUnsafeBytes { _ = try Registry(yaml: $0, source: "junk") }
        }
    }

    @Test func tooLargeIsRefused() {
        let big = [UInt8](repeating: 0x20, count: YAMLReader.maximumSize + 1)
        #expect(throws: PortManagerError.self) { try big.withUnsafeBytes { _ = try Registry(yaml: $0) } }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Testing
@testable import PortManagerCore

/// Builds the original spec's Kafka, MongoDB and MongoExpress in memory: no files, no YAML.
private func seedRegistry() -> Registry {
    let here = SourceLocation(file: "<test>", line: 1, column: 1)
    return Registry(source: "<test>", services: [
        ServiceDefinition(name: "kafka", ports: [
            PortDefinition(name: "broker_port", base: 9092, location: here),
            PortDefinition(name: "controller_port", base: 19093, location: here),
        ], containerStem: "kafka-development", volumeStem: "kafka-data", location: here),
        ServiceDefinition(name: "mongodb", ports: [PortDefinition(name: "port", base: 27017, location: here)], location: here),
        ServiceDefinition(name: "mongo_express", ports: [PortDefinition(name: "port", base: 8081, location: here)], location: here),
        ServiceDefinition(name: "traefik", ports: [
            PortDefinition(name: "web_port", base: 80, location: here),
            PortDefinition(name: "entrypoint_port", base: 31001, count: 3, location: here),
            PortDefinition(name: "admin_port", base: 8088, container: .fixed(8080), location: here),
        ], maxInstances: 3, location: here),
    ], environments: [EnvironmentDefinition(name: "ci", offset: 20000, location: here)])
}

@Suite("Allocation arithmetic: base + instance * increment")
struct AllocationTests {
    let registry = seedRegistry()

    @Test("The original spec's examples", arguments: [
        ("kafka", 0, "broker_port", 9092), ("kafka", 1, "broker_port", 9192), ("kafka", 2, "broker_port", 9292),
        ("kafka", 0, "controller_port", 19093), ("kafka", 1, "controller_port", 19193), ("kafka", 2, "controller_port", 19293),
        ("mongodb", 0, "port", 27017), ("mongodb", 1, "port", 27117), ("mongodb", 2, "port", 27217),
        ("mongo_express", 0, "port", 8081), ("mongo_express", 1, "port", 8181), ("kafka", 9, "broker_port", 9992),
    ])
    func seedExamples(service: String, instance: Int, port: String, expected: Int) throws {
        #expect(try registry.port(service, instance: instance, name: port) == expected)
    }

    @Test func defaultsArePortAndInstanceZero() throws {
        #expect(try registry.port("mongodb") == 27017)
    }

    @Test func instanceRangeIsChecked() {
        #expect(throws: PortManagerError.instanceOutOfRange(service: "kafka", instance: 10, maxInstances: 10)) {
            try registry.port("kafka", instance: 10, name: "broker_port")
        }
        #expect(throws: PortManagerError.instanceOutOfRange(service: "kafka", instance: -1, maxInstances: 10)) {
            try registry.port("kafka", instance: -1, name: "broker_port")
        }
        let message = PortManagerError.instanceOutOfRange(service: "kafka", instance: 10, maxInstances: 10).description
        #expect(message.contains("allowed: 0..9"))
    }

    @Test func unknownNamesSuggestTheNearMiss() {
        #expect(throws: PortManagerError.unknownService("kafak", suggestion: "kafka")) {
            try registry.port("kafak", name: "broker_port")
        }
        #expect(throws: PortManagerError.unknownService("zookeeper", suggestion: nil)) {
            try registry.port("zookeeper")
        }
        #expect(throws: PortManagerError.unknownPort(service: "kafka", port: "port", available: ["broker_port", "controller_port"])) {
            try registry.port("kafka")
        }
    }

    @Test func callerNamesCannotForgeOrFloodMessages() {
        let forged = PortManagerError.unknownService("x\nport_manager_port_allocated service=evil", suggestion: nil).description
        #expect(!forged.contains("\n") && forged.contains("x\\nport_manager"))
        let huge = PortManagerError.unknownPort(service: "kafka", port: String(repeating: "p", count: 100_000),
                                                available: ["broker_port"]).description
        #expect(huge.count < 200)
        #expect(huge.contains("ppp...'"))
    }

    @Test func rangesMoveAsOneBlock() throws {
        let a = try registry.allocation("traefik", instance: 2, name: "entrypoint_port")
        #expect(a.hostPort == 31201 && a.hostPortLast == 31203)
        #expect(a.mapping == "31201-31203:31001-31003")
    }

    @Test func containerPortIsTheBaseUnlessFixedOrFollowingTheHost() throws {
        #expect(try registry.allocation("kafka", instance: 1, name: "broker_port").mapping == "9192:9092")
        #expect(try registry.allocation("traefik", instance: 1, name: "admin_port").mapping == "8188:8080")
        #expect(try registry.containerPort("traefik", instance: 1, name: "admin_port") == 8080)
        #expect(try registry.containerPort("kafka", instance: 1, name: "broker_port") == 9092)
        let here = SourceLocation(file: "<test>", line: 1, column: 1)
        let follows = Registry(source: "<test>", services: [
            ServiceDefinition(name: "kafka", ports: [
                PortDefinition(name: "broker_port", base: 9092, container: .host, location: here),
                PortDefinition(name: "range_port", base: 31001, count: 3, container: .host, location: here),
            ], location: here),
        ], environments: [EnvironmentDefinition(name: "ci", offset: 20000, location: here)])
        #expect(try follows.allocation("kafka", instance: 1, name: "broker_port").mapping == "9192:9192")
        #expect(try follows.allocation("kafka", instance: 2, name: "range_port").mapping == "31201-31203:31201-31203")
        #expect(try follows.selecting(environment: "ci").containerPort("kafka", instance: 1, name: "broker_port") == 29192)
        #expect(try registry.selecting(environment: "ci").containerPort("kafka", instance: 1, name: "broker_port") == 9092)
        #expect(follows.services[0].ports[0].containerPort == nil)
        #expect(registry.services[0].ports[0].containerPort == 9092)
    }

    @Test func allPortsOfAnInstanceInSourceOrder() throws {
        let ports = try registry.ports("kafka", instance: 1)
        #expect(ports.map(\.portName) == ["broker_port", "controller_port"])
        #expect(ports.map(\.hostPort) == [9192, 19193])
    }

    @Test func everyAllocationIsEnumerated() {
        let all = registry.allAllocations()
        #expect(all.count == 10 * 2 + 10 + 10 + 3 * 3)
        #expect(all.first == Allocation(service: "kafka", instance: 0, portName: "broker_port", hostPort: 9092,
                                        hostPortLast: 9092, containerPort: 9092, containerPortLast: 9092,
                                        base: 9092, increment: 100))
    }

    @Test func environmentOffsetAppliesToEveryCall() throws {
        let ci = try registry.selecting(environment: "ci")
        #expect(try ci.port("kafka", instance: 1, name: "broker_port") == 29192)
        #expect(try ci.allocation("traefik", instance: 0, name: "admin_port").mapping == "28088:8080")
        #expect(ci.offset == 20000)
        #expect(try ci.selecting(environment: nil).port("kafka", name: "broker_port") == 9092)
        #expect(throws: PortManagerError.unknownEnvironment("prod", available: ["ci"])) {
            try registry.selecting(environment: "prod")
        }
    }

    @Test func offsetsThatLeaveTheRangeAreRefused() {
        let here = SourceLocation(file: "<test>", line: 7, column: 3)
        let r = Registry(source: "<test>", services: [
            ServiceDefinition(name: "big", ports: [PortDefinition(name: "port", base: 60000, location: here)], location: here),
        ], environments: [EnvironmentDefinition(name: "up", offset: 6000, location: here)])
        #expect {
            try r.selecting(environment: "up")
        } throws: { error in
            guard case PortManagerError.invalidRegistry(let d) = error else { return false }
            return d.count == 1 && d[0].message.contains("'up'") && d[0].message.contains("66900") && d[0].location.line == 7
        }
    }

    @Test func byteLookupMatchesStringLookup() {
        for service in registry.services {
            let viaBytes = Array(service.name.utf8).withUnsafeBytes { registry.serviceIndex(utf8: $0) }
            #expect(viaBytes == registry.serviceIndex(named: service.name))
            #expect(viaBytes != nil)
        }
        #expect(Array("kafk".utf8).withUnsafeBytes { registry.serviceIndex(utf8: $0) } == nil)
        #expect(Array("".utf8).withUnsafeBytes { registry.serviceIndex(utf8: $0) } == nil)
    }
}

@Suite("Container and volume names")
struct NamingTests {
    let registry = seedRegistry()

    @Test func seedNames() throws {
        #expect(try registry.containerName("kafka") == "kafka-development")
        #expect(try registry.containerName("kafka", instance: 1) == "kafka-development-1")
        #expect(try registry.volumeName("kafka") == "kafka-data")
        #expect(try registry.volumeName("kafka", instance: 1) == "kafka-data-1")
        #expect(try registry.volumeName("kafka", instance: 2) == "kafka-data-2")
    }

    @Test func defaultStemsDeriveFromTheServiceName() throws {
        #expect(try registry.containerName("mongo_express") == "mongo-express")
        #expect(try registry.containerName("mongo_express", instance: 3) == "mongo-express-3")
        #expect(try registry.volumeName("mongo_express", instance: 3) == "mongo-express-data-3")
    }

    @Test func namesCheckTheInstance() {
        #expect(throws: PortManagerError.instanceOutOfRange(service: "traefik", instance: 3, maxInstances: 3)) {
            try registry.containerName("traefik", instance: 3)
        }
    }

    @Test("Docker name rule", arguments: [
        ("kafka", true), ("a1", true), ("my_service.v2-x", true), ("a", false), ("-kafka", false),
        ("_env", false), ("kafka dev", false), ("käfka", false), ("", false), (String(repeating: "a", count: 254), false),
    ])
    func dockerNames(name: String, valid: Bool) {
        #expect(Naming.isValidDockerName(name) == valid)
    }
}

@Suite("Did-you-mean")
struct SuggestTests {
    @Test func transpositionCountsAsOneEdit() {
        #expect(Suggest.distance("instance_incremnet", "instance_increment") == 1)
        #expect(Suggest.closest(to: "instance_incremnet", among: RegistryBuilder.serviceKeys) == "instance_increment")
        #expect(Suggest.closest(to: "max_instance", among: RegistryBuilder.serviceKeys) == "max_instances")
    }

    @Test func farWordsGetNoSuggestion() {
        #expect(Suggest.closest(to: "colour", among: RegistryBuilder.serviceKeys) == nil)
        #expect(Suggest.closest(to: "ab", among: ["xy"]) == nil)
    }

    /// The bounded search (length filter, rows that stop early) picks exactly the
    /// candidate the full distance picks: the first one at the least distance
    /// within the limit. Random words over a small alphabet (with a non-ASCII
    /// letter) make near misses, transpositions and ties common.
    @Test func theBoundedSearchAgreesWithTheFullDistance() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet: [Character] = ["a", "b", "c", "-", "é"]
        func word() -> String { String((0..<next(9)).map { _ in alphabet[next(alphabet.count)] }) }
        var suggested = 0
        for _ in 0..<3000 {
            let target = word()
            let candidates = (0..<next(12)).map { _ in word() }
            let limit = min(2, max(1, target.count / 2))
            var expected: (String, Int)?
            for candidate in candidates where candidate != target {
                let d = Suggest.distance(target, candidate)
                if d <= limit, expected == nil || d < expected!.1 { expected = (candidate, d) }
            }
            let got = Suggest.closest(to: target, among: candidates)
            #expect(got == expected?.0, "word '\(target)' among \(candidates)")
            if got != nil { suggested += 1 }
        }
        #expect(suggested > 500)  // the comparison covered many suggestions, not only nil == nil
    }
}

import Testing
@testable import PortManagerCore

/// Kafka as the original spec has it, a range, a fixed container port, a UDP
/// port on one address, and an environment: in memory, no files.
private func makeRegistry() -> Registry {
    let here = SourceLocation(file: "<test>", line: 1, column: 1)
    return Registry(source: "<test>", services: [
        ServiceDefinition(name: "kafka", ports: [
            PortDefinition(name: "broker_port", base: 9092, location: here),
            PortDefinition(name: "controller_port", base: 19093, location: here),
        ], containerStem: "kafka-development", volumeStem: "kafka-data", location: here),
        ServiceDefinition(name: "traefik", ports: [
            PortDefinition(name: "entrypoint_port", base: 31001, count: 3, location: here),
            PortDefinition(name: "admin_port", base: 8088, container: .fixed(8080), location: here),
            PortDefinition(name: "agent_port", base: 6831, location: here, protocols: .udp,
                           hostIP: IPAddress("127.0.0.1")),
        ], maxInstances: 3, location: here),
    ], environments: [EnvironmentDefinition(name: "ci", offset: 20000, location: here)])
}

@Suite("ServiceInstance: an instance resolved once")
struct ServiceInstanceTests {
    let registry = makeRegistry()

    @Test func portsNamesAndLabelsOfOneInstance() throws {
        let kafka = try registry.instance("kafka", 1)
        #expect(kafka.service == "kafka" && kafka.instance == 1 && kafka.environment == nil)
        #expect(kafka.ports.map(\.portName) == ["broker_port", "controller_port"])
        #expect(kafka.ports.map(\.hostPort) == [9192, 19193])
        #expect(kafka.containerName == "kafka-development-1" && kafka.volumeName == "kafka-data-1")
        #expect(kafka.labels.map(\.assignment)
                == ["io.portmanager.service=kafka", "io.portmanager.instance=1", "io.portmanager.environment="])
        #expect(kafka.labels.map(\.key) == InstanceLabel.keys)
        let traefik = try registry.instance("traefik", 2)
        let range = try traefik.port(named: "entrypoint_port")
        #expect(range.hostPort == 31201 && range.hostPortLast == 31203)
        let agent = try traefik.port(named: "agent_port")
        #expect(agent.protocols == .udp && agent.hostIP?.text == "127.0.0.1")
    }

    @Test func everyAccessorAgreesWithTheInstance() throws {
        for environment in [nil, "ci"] {
            let selected = try registry.selecting(environment: environment)
            for definition in selected.services {
                for id in 0..<definition.maxInstances {
                    let resolved = try selected.instance(definition.name, id)
                    #expect(try selected.ports(definition.name, instance: id) == resolved.ports)
                    #expect(try selected.containerName(definition.name, instance: id) == resolved.containerName)
                    #expect(try selected.volumeName(definition.name, instance: id) == resolved.volumeName)
                    for port in resolved.ports {
                        #expect(try selected.allocation(definition.name, instance: id, name: port.portName) == port)
                        #expect(try selected.port(definition.name, instance: id, name: port.portName) == port.hostPort)
                        let formula: Int = port.base + id * definition.increment + selected.offset
                        #expect(port.hostPort == formula)
                    }
                }
            }
        }
    }

    @Test func environmentOffsetMovesHostPortsAndNamesTheEnvironment() throws {
        let ci = try registry.selecting(environment: "ci").instance("kafka", 1)
        #expect(ci.ports.map(\.hostPort) == [29192, 39193])
        #expect(ci.environmentName == "ci")
        #expect(ci.containerName == "kafka-development-ci-1" && ci.volumeName == "kafka-data-ci-1")
        #expect(ci.labels.map(\.value) == ["kafka", "1", "ci"])
        let zero = try registry.selecting(environment: "ci").instance("kafka", 0)
        #expect(zero.containerName == "kafka-development-ci" && zero.volumeName == "kafka-data-ci")
        // No environment: the original spec's names.
        #expect(try registry.instance("kafka", 0).containerName == "kafka-development")
        #expect(try registry.instance("kafka", 0).volumeName == "kafka-data")
    }

    @Test func dockerDocumentAndRunArguments() throws {
        let traefik = try registry.instance("traefik", 1)
        #expect(traefik.bindings.map(\.publishText) == ["31101-31103:31001-31003/tcp", "8188:8080/tcp", "127.0.0.1:6931:6831/udp"])
        #expect(traefik.dockerRunArguments(volumePath: "/data") == [
            "--name", "traefik-1", "-p", "31101-31103:31001-31003/tcp", "-p", "8188:8080/tcp",
            "-p", "127.0.0.1:6931:6831/udp", "-v", "traefik-data-1:/data",
            "--label", "io.portmanager.service=traefik", "--label", "io.portmanager.instance=1",
            "--label", "io.portmanager.environment=",
        ])
        #expect(try registry.instance("kafka", 0).dockerJSON.compact() == """
            {"name":"kafka-development","volume":"kafka-data","image":null,"labels":{"io.portmanager.service":"kafka",\
            "io.portmanager.instance":"0","io.portmanager.environment":""},"ports":[{"name":"broker_port","protocol":"tcp",\
            "host_ip":null,"host_port":9092,"host_port_last":9092,"container_port":9092,"container_port_last":9092},\
            {"name":"controller_port","protocol":"tcp","host_ip":null,"host_port":19093,"host_port_last":19093,\
            "container_port":19093,"container_port_last":19093}]}
            """)
        #expect(ServiceInstance.isVolumePath("/var/lib/data") && !ServiceInstance.isVolumePath("data")
                && !ServiceInstance.isVolumePath("/a:b") && !ServiceInstance.isVolumePath("/a/../b"))
        #expect(traefik.dockerRunArguments(volumePath: nil).allSatisfy(ShellWord.isPlain))
    }

    @Test func environmentVariablesAreTheOneVocabulary() throws {
        let traefik = try registry.instance("traefik", 1)
        #expect(try traefik.environmentText() == """
            TRAEFIK_ENTRYPOINT_PORT=31101-31103
            TRAEFIK_ENTRYPOINT_PORT_FIRST=31101
            TRAEFIK_ENTRYPOINT_PORT_LAST=31103
            TRAEFIK_ENTRYPOINT_PORT_CONTAINER=31001-31003
            TRAEFIK_ADMIN_PORT=8188
            TRAEFIK_ADMIN_PORT_CONTAINER=8080
            TRAEFIK_AGENT_PORT=6931
            TRAEFIK_AGENT_PORT_CONTAINER=6831
            TRAEFIK_CONTAINER_NAME=traefik-1
            TRAEFIK_VOLUME_NAME=traefik-data-1

            """)
        #expect(try registry.instance("kafka", 0).environmentVariables(prefix: "K").map(\.key)
                == ["K_BROKER_PORT", "K_CONTROLLER_PORT", "K_CONTAINER_NAME", "K_VOLUME_NAME"])
        for bad in ["", "1K", "K-1", "K\n"] {
            #expect(throws: PortManagerError.self) { try registry.instance("kafka", 0).environmentVariables(prefix: bad) }
        }
        #expect(EnvironmentKey.key("mongo-express.v2") == "MONGO_EXPRESS_V2" && EnvironmentKey.key("9_port") == "_9_PORT")
        // Every value is a plain shell word, in every instance and environment.
        for environment in [nil, "ci"] {
            let selected = try registry.selecting(environment: environment)
            for definition in selected.services {
                for resolved in selected.instances(of: definition) {
                    #expect(try resolved.environmentVariables().allSatisfy { ShellWord.isPlain($0.value) })
                }
            }
        }
    }

    @Test func composeDocumentAndProject() throws {
        let kafka = try registry.selecting(environment: "ci").instance("kafka", 1)
        #expect(kafka.projectName == "kafka-ci-1")
        var composer = ComposeDocument()
        #expect(throws: PortManagerError.self) { try composer.lines(for: kafka) }  // no image anywhere
        composer.image = "apache/kafka"
        composer.command = "run $HOME"
        composer.environment = [ServiceInstance.Variable("A", "x$y")]
        composer.format = .v2
        let lines = try composer.lines(for: kafka)
        #expect(lines.first == "name: \"kafka-ci-1\"")
        #expect(lines.contains("    command: \"run $$HOME\"") && lines.contains("      \"A\": \"x$$y\""))
        #expect(lines.contains("      \"io.portmanager.environment\": \"ci\""))
        #expect(lines.contains("      - \"29192:9092\""))
        #expect(lines.contains("      - \"kafka-data-ci-1:/data\""))
        composer.format = .portable
        #expect(try composer.lines(for: kafka) == Array(lines.dropFirst()))
        composer.volumePath = "/a:b"
        #expect(throws: PortManagerError.self) { try composer.lines(for: kafka) }
        composer.volumePath = "/data"
        composer.environment = [ServiceInstance.Variable("1A", "x")]
        #expect(throws: PortManagerError.self) { try composer.lines(for: kafka) }
    }

    @Test func badQueriesNameTheCulprit() throws {
        #expect(throws: PortManagerError.instanceOutOfRange(service: "kafka", instance: 10, maxInstances: 10)) {
            try registry.instance("kafka", 10)
        }
        #expect(throws: PortManagerError.unknownService("kafak", suggestion: "kafka")) {
            try registry.instance("kafak", 0)
        }
        #expect(throws: PortManagerError.unknownPort(service: "kafka", port: "port",
                                                     available: ["broker_port", "controller_port"])) {
            try registry.instance("kafka", 0).port(named: "port")
        }
    }
}

@Suite("Name collisions across services, instances and environments")
struct NameCollisionTests {
    private func registry(_ yaml: [(String, String?, Int)], environments: [String] = []) -> Registry {
        let here = SourceLocation(file: "<test>", line: 1, column: 1)
        let services = yaml.enumerated().map { index, entry in
            ServiceDefinition(name: entry.0, ports: [PortDefinition(name: "port", base: 1000 + index * 10, location: here)],
                              increment: 1, maxInstances: entry.2, containerStem: entry.1, location: here)
        }
        return Registry(source: "<test>", services: services,
                        environments: environments.map { EnvironmentDefinition(name: $0, offset: 0, location: here) })
    }

    @Test func webInstanceOneAndWebUnderscoreOneInstanceZero() {
        let found = NameCollision.find(in: registry([("web", nil, 3), ("web_1", nil, 3)]))
        #expect(found == [NameCollision(kind: .container, name: "web-1",
                                        first: .init(service: 0, instance: 1, environment: nil),
                                        second: .init(service: 1, instance: 0, environment: nil))])
    }

    @Test func environmentsAndInstancesThatSpellTheSameSuffix() {
        // Environment "1" instance 0 is web-1, as instance 1 with none is.
        let found = NameCollision.find(in: registry([("web", nil, 2)], environments: ["1"]))
        #expect(found.map(\.name) == ["web-1", "web-data-1", "web-1"])
        #expect(found.map(\.kind) == [.container, .volume, .project])
        #expect(Set(found.map(\.second)) == [.init(service: 0, instance: 0, environment: 0)])
        // Environments "a" and "a-1": web-a-1 twice.
        #expect(NameCollision.find(in: registry([("web", nil, 2)], environments: ["a", "a-1"])).map(\.name)
                == ["web-a-1", "web-data-a-1", "web-a-1"])
    }

    @Test func sharedStemsCollideInEveryInstanceAndEnvironment() {
        let found = NameCollision.find(in: registry([("a", "same", 2), ("b", "same", 2)], environments: ["ci"]))
        #expect(found.filter { $0.kind == .container }.map(\.name) == ["same", "same-1", "same-ci", "same-ci-1"])
        #expect(found.filter { $0.kind == .volume }.isEmpty)  // a-data, b-data
        // Project names come from the service name, in lower case with '.' as '-'.
        #expect(NameCollision.find(in: registry([("Web", nil, 1), ("web", "w2", 1)])).map(\.kind) == [.project])
        #expect(NameCollision.find(in: registry([("web.1", nil, 1), ("web", "w2", 2)])).map(\.name) == ["web-1"])
    }

    @Test func unrelatedStemsAndTheShippedNamesDoNotCollide() {
        #expect(NameCollision.find(in: registry([("kafka", "kafka-development", 10), ("kafka_dev", nil, 10),
                                                 ("redis", nil, 10)], environments: ["ci", "dev"])).isEmpty)
        #expect(NameCollision.related(["web", "web-1", "webx", "w", "web-a-b"]) == [0, 1, 4])
    }
}

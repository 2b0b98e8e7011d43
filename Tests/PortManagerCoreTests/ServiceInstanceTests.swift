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

    @Test func environmentOffsetMovesHostPorts() throws {
        let ci = try registry.selecting(environment: "ci").instance("kafka", 1)
        #expect(ci.ports.map(\.hostPort) == [29192, 39193])
        #expect(ci.environmentName == "ci")
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

import Testing
@testable import PortManagerCore

/// Collects the lines of the process-wide ``Log`` that mention `marker`, so
/// that other suites running in parallel cannot disturb the count. Tests that
/// touch the global sink run serialized in one suite.
private final class Collector: @unchecked Sendable {
    let marker: String
    let lines = Locked<[(LogLevel, String)]>([])
    init(marker: String) { self.marker = marker }
    var sink: LogSink {
        { level, message in
            if message.contains(self.marker) { self.lines.withLock { $0.append((level, message)) } }
        }
    }
}

@Suite("Logging", .serialized)
struct LogTests {
    let allocation = Allocation(service: "logcheck", instance: 1, portName: "broker_port", hostPort: 9192,
                                hostPortLast: 9192, containerPort: 9192, containerPortLast: 9192,
                                base: 9092, increment: 100)

    @Test func seedFormat() {
        #expect(Log.allocationMessage(allocation)
            == "port_manager_port_allocated service=logcheck instance=1 type=broker_port port=9192 base=9092 increment=100")
    }

    @Test func rangesContainersAndOffsetsAddFields() {
        let a = Allocation(service: "traefik", instance: 0, portName: "entrypoint_port", hostPort: 51001,
                           hostPortLast: 51003, containerPort: 31001, containerPortLast: 31003, base: 31001, increment: 100)
        #expect(Log.allocationMessage(a)
            == "port_manager_port_allocated service=traefik instance=0 type=entrypoint_port port=51001 base=31001 increment=100 last=51003 container=31001 offset=20000")
    }

    @Test("Values cannot forge a line or a field", arguments: [
        ("plain-value_1.2", "plain-value_1.2"),
        ("a b", "\"a b\""),
        ("x\nport_manager_port_allocated service=evil", "\"x\\nport_manager_port_allocated service=evil\""),
        ("k=v", "\"k=v\""),
        ("quote\"back\\slash", "\"quote\\\"back\\\\slash\""),
        ("bell\u{7}", "\"bell\\u0007\""),
        ("next\u{85}line\u{2028}", "\"next\\u0085line\\u2028\""),
        ("", "\"\""),
    ])
    func escaping(value: String, expected: String) {
        #expect(Log.escape(value) == expected)
        #expect(!Log.escape(value).contains("\n"))
    }

    @Test func thresholdGatesDeliveryAndTheSinkIsReplaceable() throws {
        let collector = Collector(marker: "logcheck")
        let saved = Log.level
        defer { try? Log.setSink(nil); Log.level = saved }
        try Log.setSink(collector.sink)

        Log.level = LogLevel.warning.rawValue
        #expect(!Log.isEnabled(.info))
        Log.allocated(allocation)
        #expect(collector.lines.withLock { $0.count } == 0)

        Log.level = LogLevel.info.rawValue
        Log.allocated(allocation)
        Log.emit(.debug, "logcheck dropped")
        let lines = collector.lines.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?.0 == .info)
        #expect(lines.first?.1.hasPrefix("port_manager_port_allocated service=logcheck instance=1") == true)

        Log.level = LogLevel.offThreshold
        Log.emit(.error, "logcheck dropped too")
        #expect(collector.lines.withLock { $0.count } == 1)
    }

    @Test func replacingTheSinkFromInsideASinkIsRefusedAndNestedLoggingWorks() throws {
        let saved = Log.level
        let outcome = Locked<[String]>([])
        defer { try? Log.setSink(nil); Log.level = saved }
        try Log.setSink { _, message in
            if message == "logcheck-nested" { outcome.withLock { $0.append("nested") } }
            guard message == "logcheck-reentry" else { return }
            Log.emit(.warning, "logcheck-nested")  // a sink may log
            do {
                try Log.setSink(nil)
                outcome.withLock { $0.append("replaced") }
            } catch {
                outcome.withLock { $0.append("\(error)") }
            }
        }
        Log.level = LogLevel.info.rawValue
        Log.emit(.warning, "logcheck-reentry")
        let seen = outcome.read()
        #expect(seen.count == 2)
        #expect(seen.first == "nested")
        #expect(seen.last?.contains("cannot be replaced from inside a log sink") == true)
        // Refused means unchanged: the same sink still receives messages.
        Log.emit(.warning, "logcheck-nested")
        #expect(outcome.read().count == 3)
    }

    @Test func registryCallsLogEveryAllocation() throws {
        let collector = Collector(marker: "service=logged")
        let saved = Log.level
        defer { try? Log.setSink(nil); Log.level = saved }
        try Log.setSink(collector.sink)
        Log.level = LogLevel.info.rawValue
        let here = SourceLocation(file: "<test>", line: 1, column: 1)
        let registry = Registry(source: "<test>", services: [
            ServiceDefinition(name: "logged", ports: [
                PortDefinition(name: "broker_port", base: 9092, location: here),
                PortDefinition(name: "controller_port", base: 19093, location: here),
            ], location: here),
        ])
        _ = try registry.port("logged", instance: 1, name: "broker_port")
        _ = try registry.ports("logged", instance: 2)
        _ = registry.allAllocations()  // enumeration is not allocation
        #expect(throws: PortManagerError.self) { try registry.port("logged", instance: 99, name: "broker_port") }
        let messages = collector.lines.withLock { $0.map { $0.1 } }
        #expect(messages == [
            "port_manager_port_allocated service=logged instance=1 type=broker_port port=9192 base=9092 increment=100",
            "port_manager_port_allocated service=logged instance=2 type=broker_port port=9292 base=9092 increment=100",
            "port_manager_port_allocated service=logged instance=2 type=controller_port port=19293 base=19093 increment=100",
        ])
    }

    @Test func levelNames() {
        #expect(LogLevel.threshold(named: "INFO") == 20)
        #expect(LogLevel.threshold(named: "warn") == 30)
        #expect(LogLevel.threshold(named: "off") == LogLevel.offThreshold)
        #expect(LogLevel.threshold(named: "loud") == nil)
    }
}

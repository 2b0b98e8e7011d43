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
                           hostPortLast: 51003, containerPort: 8001, containerPortLast: 8003, base: 31001, increment: 100)
        #expect(Log.allocationMessage(a)
            == "port_manager_port_allocated service=traefik instance=0 type=entrypoint_port port=51001 base=31001 increment=100 last=51003 container=8001 offset=20000")
        // The container port is the base (the default) or the host port (`container: host`): not written.
        for inside in [31001, 51001] {
            let b = Allocation(service: "traefik", instance: 0, portName: "entrypoint_port", hostPort: 51001,
                               hostPortLast: 51003, containerPort: inside, containerPortLast: inside + 2, base: 31001,
                               increment: 100)
            #expect(!Log.allocationMessage(b).contains("container="))
        }
    }

    /// The line as the original spec's field list reads, built the plain way: the one-buffer
    /// writer must give exactly this, for any names and any numbers.
    private func reference(_ a: Allocation) -> String {
        var fields: [(String, String)] = [
            ("service", a.service), ("instance", String(a.instance)), ("type", a.portName),
            ("port", String(a.hostPort)), ("base", String(a.base)), ("increment", String(a.increment)),
        ]
        if a.hostPortLast != a.hostPort { fields.append(("last", String(a.hostPortLast))) }
        if a.containerPort != a.hostPort && a.containerPort != a.base { fields.append(("container", String(a.containerPort))) }
        let offset = a.hostPort - (a.base + a.instance * a.increment)
        if offset != 0 { fields.append(("offset", String(offset))) }
        return "port_manager_port_allocated" + fields.map { " \($0.0)=\(Log.escape($0.1))" }.joined()
    }

    @Test("The one-buffer line equals the plain one at the extremes", arguments: [
        Allocation(service: "k", instance: 0, portName: "p", hostPort: -1, hostPortLast: Int.min,
                   containerPort: Int.max, containerPortLast: 0, base: 0, increment: Int.min),
        Allocation(service: String(repeating: "\u{1}\"", count: 300), instance: Int.min, portName: "é x",
                   hostPort: Int.min, hostPortLast: Int.max, containerPort: -123, containerPortLast: 0, base: 0,
                   increment: 1),
        Allocation(service: "", instance: 9, portName: String(repeating: "port_", count: 1000), hostPort: 0,
                   hostPortLast: 0, containerPort: 0, containerPortLast: 0, base: 0, increment: 0),
    ])
    func extremes(allocation: Allocation) {
        #expect(Log.allocationMessage(allocation) == reference(allocation))
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
        // Moved from the Python binding's test of its former copy of this escaper.
        ("a-b_c.d:e/f@g+h", "a-b_c.d:e/f@g+h"),
        ("a\\b\n\r\t", "\"a\\\\b\\n\\r\\t\""),
        ("x\u{1}\u{7f}\u{85}\u{2028}é", "\"x\\u0001\\u007f\\u0085\\u2028é\""),
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

        Log.level = .warning
        #expect(!Log.isEnabled(.info))
        Log.allocated(allocation)
        #expect(collector.lines.withLock { $0.count } == 0)

        Log.level = .info
        Log.allocated(allocation)
        Log.emit(.debug, "logcheck dropped")
        let lines = collector.lines.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?.0 == .info)
        #expect(lines.first?.1.hasPrefix("port_manager_port_allocated service=logcheck instance=1") == true)

        Log.level = .off
        Log.emit(.error, "logcheck dropped too")
        #expect(collector.lines.withLock { $0.count } == 1)
    }

    /// Messages logged inside `Log.deferring` reach the sink when it returns
    /// (after the caller's locks), in order; a rolled-back part is dropped;
    /// nested, the outermost delivers; outside it, at once.
    @Test func deferringHoldsMessagesBackUntilItReturns() throws {
        let collector = Collector(marker: "defercheck")
        let saved = Log.level
        defer { try? Log.setSink(nil); Log.level = saved }
        try Log.setSink(collector.sink)
        Log.level = .info
        #expect(Log.heldBackCount() == nil)
        Log.deferring {
            Log.emit(.info, "defercheck 1")
            #expect(Log.heldBackCount() == 1)
            Log.deferring { Log.emit(.warning, "defercheck 2") }
            let mark = Log.heldBackCount() ?? -1
            Log.emit(.info, "defercheck rolled back")
            Log.dropHeldBack(after: mark)
            Log.emit(.debug, "defercheck below the threshold")
            #expect(collector.lines.withLock { $0.count } == 0)
        }
        #expect(Log.heldBackCount() == nil)
        #expect(collector.lines.withLock { $0.map(\.1) } == ["defercheck 1", "defercheck 2"])
        #expect(collector.lines.withLock { $0.map(\.0) } == [.info, .warning])
        struct Failed: Error {}
        #expect(throws: Failed.self) { try Log.deferring { Log.emit(.error, "defercheck thrown"); throw Failed() } }
        #expect(collector.lines.withLock { $0.last?.1 } == "defercheck thrown")
        Log.emit(.info, "defercheck at once")
        #expect(collector.lines.withLock { $0.last?.1 } == "defercheck at once")
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
        Log.level = .info
        Log.emit(.warning, "logcheck-reentry")
        let seen = outcome.read()
        #expect(seen.count == 2)
        #expect(seen.first == "nested")
        #expect(seen.last?.contains("cannot be replaced from inside a log sink") == true)
        // Refused means unchanged: the same sink still receives messages.
        Log.emit(.warning, "logcheck-nested")
        #expect(outcome.read().count == 3)
    }

    @Test func onlyAllocationForACallerIsLogged() throws {
        let collector = Collector(marker: "service=logged")
        let saved = Log.level
        defer { try? Log.setSink(nil); Log.level = saved }
        try Log.setSink(collector.sink)
        Log.level = .info
        let here = SourceLocation(file: "<test>", line: 1, column: 1)
        let registry = Registry(source: "<test>", services: [
            ServiceDefinition(name: "logged", ports: [
                PortDefinition(name: "broker_port", base: 9092, location: here),
                PortDefinition(name: "controller_port", base: 19093, location: here),
            ], location: here),
        ])
        // Reading is not allocating: none of these logs.
        _ = try registry.port("logged", instance: 3, name: "broker_port")
        _ = try registry.ports("logged", instance: 3)
        _ = try registry.allocation("logged", instance: 3, name: "broker_port")
        _ = try registry.instance("logged", 3)
        _ = try registry.containerName("logged", instance: 3)
        _ = try registry.containerPort("logged", instance: 3, name: "broker_port")
        _ = registry.allAllocations()
        // Allocating for a caller logs each port.
        _ = try registry.allocate("logged", instance: 1, name: "broker_port")
        _ = try registry.allocateAll("logged", instance: 2)
        #expect(throws: PortManagerError.self) { try registry.allocate("logged", instance: 99, name: "broker_port") }
        let messages = collector.lines.withLock { $0.map { $0.1 } }
        #expect(messages == [
            "port_manager_port_allocated service=logged instance=1 type=broker_port port=9192 base=9092 increment=100",
            "port_manager_port_allocated service=logged instance=2 type=broker_port port=9292 base=9092 increment=100",
            "port_manager_port_allocated service=logged instance=2 type=controller_port port=19293 base=19093 increment=100",
        ])
    }

    @Test func levelNames() {
        #expect(LogThreshold(named: "INFO")?.rawValue == 20)
        #expect(LogThreshold(named: "warn")?.rawValue == 30)
        #expect(LogThreshold(named: "off") == .off)
        #expect(LogThreshold(named: "loud") == nil)
    }

    @Test func thresholdsAreZeroToOneHundred() {
        #expect(LogThreshold(rawValue: 21)?.rawValue == 21)  // logging.disable(INFO) asks for 21
        #expect(LogThreshold(rawValue: 0) != nil && LogThreshold(rawValue: 100) == .off)
        #expect(LogThreshold(rawValue: -1) == nil && LogThreshold(rawValue: 101) == nil)
        #expect(LogThreshold(.info) < .warning && LogThreshold.off > .error)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PortManager
@testable import PortManagerCore

// Container reservations reaped through the Docker engine (ContainerLookup.engine)
// against a fake engine: one list per call, the start grace, and never a reap
// when the engine cannot be reached, answers 500, garbage, or stalls.

/// A container as one entry of `GET /containers/json?all=1`.
struct ListedContainer {
    var name: String
    var state = "running"
    var labels: [String: String] = [:]
    /// (host IP, host port, container port, protocol)
    var ports: [(String, Int, Int, String)] = []

    var json: String {
        let labelText = labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        let portText = ports.map { "{\"IP\":\"\($0.0)\",\"PrivatePort\":\($0.2),\"PublicPort\":\($0.1),\"Type\":\"\($0.3)\"}" }
            .joined(separator: ",")
        return "{\"Id\":\"id-\(name)\",\"Names\":[\"/\(name)\"],\"State\":\"\(state)\",\"Labels\":{\(labelText)},\"Ports\":[\(portText)]}"
    }

    /// The labels of `instance` of `service` in `environment`.
    static func labels(_ service: String, _ instance: Int, _ environment: String = "") -> [String: String] {
        [InstanceLabel.serviceKey: service, InstanceLabel.instanceKey: String(instance), InstanceLabel.environmentKey: environment]
    }
}

/// A fake engine's reply: `list` for the container list, 404 otherwise.
func listing(_ list: @escaping @Sendable () -> [ListedContainer]) -> @Sendable (String) -> FakeReply {
    { line in
        line.hasPrefix("GET /containers/json")
            ? .http(200, "OK", "[" + list().map(\.json).joined(separator: ",") + "]")
            : .http(404, "Not Found", "{\"message\":\"no such container\"}")
    }
}

/// A registry whose ports nothing else on the host uses, and a private state directory (removed by `cleanup`).
func dockerFixture(_ yaml: String = "svc:\n  a_port: 41700\n  max_instances: 3\n") throws -> (Registry, String) {
    var template = Array("/tmp/portmanager-docker-store-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw PortManagerError.invalidArgument("mkdtemp failed") }
    return (try Registry(yaml: yaml), String(cString: made) + "/state")
}

func cleanup(_ dir: String) { removeTree(String(dir.dropLast(6))) }

@Suite("Container reservations reaped through the Docker engine")
struct DockerReapingTests {
    @Test func oneListPerCallAndOnlyAbsentContainersAreReaped() throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        try withFakeEngine(listing { [ListedContainer(name: "here-1")] }) { fake, engine in
            let lookup = { ContainerLookup.engine(engine, startGrace: 0) }
            _ = try registry.reserve("svc", instance: 0, owner: .container("gone-0"), probe: false, stateDirectory: dir, containers: .unknown)
            _ = try registry.reserve("svc", instance: 1, owner: .container("here-1"), probe: false, stateDirectory: dir, containers: .unknown)
            _ = try registry.reserve("svc", instance: 2, owner: .name("wf"), probe: false, stateDirectory: dir, containers: .unknown)
            let before = fake.requests.count
            #expect(try registry.reservations(stateDirectory: dir, containers: lookup()).map(\.instance) == [1, 2])
            #expect(fake.requests.count == before + 1)  // two container rows, one list
            #expect(fake.requests.last == "GET /containers/json?all=1 HTTP/1.1")
            let again = fake.requests.count
            _ = try registry.renew("svc", instance: 2, ttl: 60, owner: .name("wf"), stateDirectory: dir, containers: lookup())
            #expect(fake.requests.count <= again + 1)
        }
    }

    @Test func aReservationWhoseContainerWasNeverSeenIsKeptForTheStartGrace() throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        let running = Locked(false)
        try withFakeEngine(listing { running.read() ? [ListedContainer(name: "svc-1")] : [] }) { _, engine in
            // Reserved for its container before `docker run` made it: kept.
            let made = try registry.reserve("svc", instance: 1, owner: .containerName, probe: false, stateDirectory: dir,
                                            containers: .engine(engine))
            #expect(made.owner == .container("svc-1"))
            #expect(try registry.reservations(stateDirectory: dir, containers: .engine(engine)).count == 1)
            #expect(throws: PortManagerError.self) {
                try registry.reserve("svc", instance: 1, owner: .name("other"), probe: false, stateDirectory: dir, containers: .engine(engine))
            }
            // The container runs: the listing sees it and records it.
            running.withLock { $0 = true }
            #expect(try registry.reservations(stateDirectory: dir, containers: .engine(engine)).count == 1)
            // Removed: reaped at once, grace or not.
            running.withLock { $0 = false }
            #expect(try registry.reservations(stateDirectory: dir, containers: .engine(engine)).isEmpty)
        }
    }

    @Test(arguments: [FakeReply.http(500, "Internal Server Error", "{\"message\":\"boom\"}"),
                      .http(200, "OK", "not json"), .http(200, "OK", "{\"not\":\"a list\"}"), .stall])
    func nothingIsReapedWhenTheEngineDoesNotAnswer(_ reply: FakeReply) throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        _ = try registry.reserve("svc", instance: 0, owner: .container("gone-0"), probe: false, stateDirectory: dir, containers: .unknown)
        let fake = try FakeDockerEngine { _ in reply }
        defer { fake.stop() }
        let engine = DockerEngine(socketPath: fake.socketPath, timeoutMilliseconds: 300)
        let lookup = ContainerLookup.engine(engine, startGrace: 0)
        #expect(try registry.reservations(stateDirectory: dir, containers: lookup).map(\.instance) == [0])
        #expect(lookup.unavailableReason != nil)
        // A take of the instance is refused: its reservation holds.
        #expect(throws: PortManagerError.self) {
            try registry.reserve("svc", instance: 0, owner: .name("other"), probe: false, stateDirectory: dir,
                                 containers: .engine(engine, startGrace: 0))
        }
    }

    @Test func nothingIsReapedWithoutAnEngine() throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        _ = try registry.reserve("svc", instance: 0, owner: .container("gone-0"), probe: false, stateDirectory: dir, containers: .unknown)
        let lookup = ContainerLookup.engine(DockerEngine(socketPath: dir + "-no-such.sock"), startGrace: 0)
        #expect(try registry.reservations(stateDirectory: dir, containers: lookup).count == 1)
        #expect(lookup.unavailableReason?.hasPrefix(DockerError.unavailablePrefix + "no socket at ") == true)
    }
}

@Suite("Instances whose container runs without a reservation: refused, skipped, adopted")
struct DockerAdoptionTests {
    @Test func anInstanceWhoseContainerExistsIsRefusedNamingItAndAdoptedWhenAsked() throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        // Instance 1 by its labels (named apart), instance 2 by its registry name, stopped.
        let containers = [ListedContainer(name: "custom_1", labels: ListedContainer.labels("svc", 1)),
                          ListedContainer(name: "svc-2", state: "exited")]
        try withFakeEngine(listing { containers }) { _, engine in
            do {
                _ = try registry.reserve("svc", instance: 1, owner: .name("wf"), probe: false, stateDirectory: dir,
                                         containers: .engine(engine))
                Issue.record("an instance whose container runs was reserved")
            } catch let PortManagerError.reserved(service, instance, reason) {
                #expect(service == "svc" && instance == 1)
                #expect(reason.hasPrefix("instance 1 has container 'custom_1' (running, found by its labels) without a reservation; adopt it"))
            }
            #expect(throws: PortManagerError.self) {
                try registry.reserve("svc", instance: 2, owner: .name("wf"), probe: false, stateDirectory: dir, containers: .engine(engine))
            }
            // Without an instance: both are skipped.
            let picked = try registry.reserve("svc", owner: .name("wf"), probe: false, stateDirectory: dir, containers: .engine(engine))
            #expect(picked.instance == 0 && picked.fresh)
            // Adopted: the container owns it, whoever asked.
            let adopted = try registry.reserve("svc", instance: 1, owner: .name("wf"), probe: false, adopt: true, stateDirectory: dir,
                                               containers: .engine(engine))
            #expect(adopted.owner == .container("custom_1") && adopted.fresh && adopted.instance == 1)
            let byName = try registry.reserve("svc", instance: 2, owner: .thisProcess, probe: false, adopt: true, stateDirectory: dir,
                                              containers: .engine(engine))
            #expect(byName.owner == .container("svc-2"))
            // Adopted again by the same container: a retry, not fresh.
            let again = try registry.reserve("svc", instance: 2, owner: .container("svc-2"), probe: false, adopt: true,
                                             stateDirectory: dir, containers: .engine(engine))
            #expect(!again.fresh)
            #expect(try registry.reservations(stateDirectory: dir, containers: .engine(engine)).map(\.ownerText) == ["wf", "custom_1", "svc-2"])
        }
        #expect(throws: PortManagerError.invalidArgument("adopting a container needs an instance: without one, instances whose container exists are skipped")) {
            try registry.reserve("svc", adopt: true, stateDirectory: dir, containers: .unknown)
        }
    }

    @Test func aPortAnotherContainerPublishesTakesTheInstance() throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        let containers = [ListedContainer(name: "squatter", ports: [("0.0.0.0", 41700, 80, "tcp")])]
        try withFakeEngine(listing { containers }) { _, engine in
            do {
                _ = try registry.reserve("svc", instance: 0, owner: .name("wf"), probe: false, stateDirectory: dir,
                                         containers: .engine(engine))
                Issue.record("an instance whose port a container publishes was reserved")
            } catch let PortManagerError.reserved(_, _, reason) {
                #expect(reason == "port 41700 of instance 0 is published by container 'squatter' (running)")
            }
            #expect(try registry.reserve("svc", owner: .name("wf"), probe: false, stateDirectory: dir, containers: .engine(engine)).instance == 1)
        }
    }

    @Test func withoutAnEngineReserveGoesOnAsBefore() throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        let fake = try FakeDockerEngine { _ in .http(500, "Internal Server Error", "{\"message\":\"boom\"}") }
        defer { fake.stop() }
        let made = try registry.reserve("svc", instance: 1, owner: .name("wf"), probe: false, adopt: true, stateDirectory: dir,
                                        containers: .engine(DockerEngine(socketPath: fake.socketPath)))
        #expect(made.owner == .name("wf") && made.fresh)
    }
}

@Suite("reconcile: reap the reservations of gone containers, adopt the containers without one")
struct DockerReconcileTests {
    @Test func reapsAdoptsAndSkipsAndADryRunChangesNothing() throws {
        let (registry, dir) = try dockerFixture("svc:\n  a_port: 41800\n  instance_increment: 1\n  max_instances: 3\nother:\n  b_port: 41802\nthird:\n  c_port: 41810\n")
        defer { cleanup(dir) }
        let containers = [ListedContainer(name: "svc-1", state: "exited"),
                          ListedContainer(name: "labelled", labels: ListedContainer.labels("svc", 2)),
                          ListedContainer(name: "elsewhere", labels: ListedContainer.labels("svc", 0, "ci")),
                          ListedContainer(name: "kept-0")]
        try withFakeEngine(listing { containers }) { _, engine in
            let lookup = { ContainerLookup.engine(engine, startGrace: 0) }
            _ = try registry.reserve("svc", instance: 0, owner: .container("kept-0"), probe: false, stateDirectory: dir, containers: .unknown)
            _ = try registry.reserve("svc", instance: 1, owner: .name("wf"), probe: false, stateDirectory: dir, containers: .unknown)
            _ = try registry.reserve("other", instance: 0, owner: .name("holder"), probe: false, stateDirectory: dir, containers: .unknown)
            _ = try registry.reserve("third", instance: 0, owner: .container("gone"), probe: false, stateDirectory: dir, containers: .unknown)
            let expected = [
                ReconcileAction(kind: .reap, service: "third", environment: "", instance: 0, container: "gone",
                                containerState: nil, reason: "the container is gone"),
                ReconcileAction(kind: .skip, service: "svc", environment: "", instance: 2, container: "labelled",
                                containerState: "running",
                                reason: "port 41802 is reserved by 'holder' for instance 0 of service 'other'"),
            ]
            // Instance 1 is reserved (by a name), so its container is left alone; 'elsewhere' is another environment's.
            let dry = try registry.reconcile(dryRun: true, stateDirectory: dir, containers: lookup())
            #expect(dry == expected)
            #expect(try registry.reservations(stateDirectory: dir, containers: .unknown).count == 4)
            #expect(try registry.reconcile(stateDirectory: dir, containers: lookup()) == expected)
            #expect(try registry.reservations(stateDirectory: dir, containers: .unknown).count == 3)
            // The port is given back: instance 2 is adopted on the next run.
            #expect(try registry.release("other", instance: 0, owner: .name("holder"), stateDirectory: dir, containers: .unknown))
            let next = try registry.reconcile(stateDirectory: dir, containers: lookup())
            #expect(next == [ReconcileAction(kind: .adopt, service: "svc", environment: "", instance: 2, container: "labelled",
                                             containerState: "running", reason: "found by its labels")])
            #expect(next.first?.json == #"{"action":"adopt","service":"svc","environment":"","instance":2,"container":"labelled","container_state":"running","reason":"found by its labels"}"#)
            let rows = try registry.reservations(stateDirectory: dir, containers: .unknown)
            #expect(rows.map(\.ownerText) == ["kept-0", "wf", "labelled"] && rows.last?.owner == .container("labelled"))
            #expect(try registry.reconcile(stateDirectory: dir, containers: lookup()).isEmpty)
        }
    }

    @Test(arguments: [FakeReply.http(500, "Internal Server Error", "{\"message\":\"boom\"}"), .http(200, "OK", "[{]"), .stall])
    func anEngineThatDoesNotAnswerChangesNothing(_ reply: FakeReply) throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        _ = try registry.reserve("svc", instance: 0, owner: .container("gone-0"), probe: false, stateDirectory: dir, containers: .unknown)
        let fake = try FakeDockerEngine { _ in reply }
        defer { fake.stop() }
        let engine = DockerEngine(socketPath: fake.socketPath, timeoutMilliseconds: 300)
        do {
            _ = try registry.reconcile(stateDirectory: dir, containers: .engine(engine, startGrace: 0))
            Issue.record("reconcile went on without the engine")
        } catch let PortManagerError.docker(message) {
            #expect(message.hasPrefix("cannot reconcile: "))
            #expect(message.contains(fake.socketPath) || message.contains("GET /containers/json"))
        }
        #expect(try registry.reservations(stateDirectory: dir, containers: .unknown).count == 1)
    }

    @Test func withoutAnEngineReconcileNamesTheSocket() throws {
        let (registry, dir) = try dockerFixture()
        defer { cleanup(dir) }
        #expect(throws: PortManagerError.docker("cannot reconcile: Docker not available: no socket at \(dir)-none.sock (is the engine running?)")) {
            try registry.reconcile(stateDirectory: dir, containers: .engine(DockerEngine(socketPath: dir + "-none.sock")))
        }
        #expect(throws: PortManagerError.docker("cannot reconcile: the Docker engine was not asked")) {
            try registry.reconcile(stateDirectory: dir, containers: .unknown)
        }
    }
}

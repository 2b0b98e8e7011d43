#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import Testing
@testable import PortManager

@Suite("Exclusive reservations: fresh, container owners, bind, schema 4")
struct ExclusiveReservationTests {
    /// A registry whose ports nothing else on the host uses, and a private state directory.
    private func fixture() throws -> (Registry, String) {
        var template = Array("/tmp/portmanager-exclusive-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PortManagerError.invalidArgument("mkdtemp failed") }
        let registry = try Registry(yaml: "svc:\n  a_port: 41600\n  max_instances: 3\n")
        return (registry, String(cString: made) + "/state")
    }

    @Test func anotherOwnerIsRefusedAndTheSameOwnerRetriesNotFresh() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(String(dir.dropLast(6))) }
        let first = try registry.reserve("svc", instance: 0, owner: .name("a"), probe: false, stateDirectory: dir)
        #expect(first.fresh)
        #expect(throws: PortManagerError.self) {
            try registry.reserve("svc", instance: 0, owner: .name("b"), probe: false, stateDirectory: dir)
        }
        do {
            _ = try registry.reserve("svc", instance: 0, owner: .container("b-1"), probe: false, stateDirectory: dir)
            Issue.record("a container took an instance a name holds")
        } catch let PortManagerError.reserved(service, instance, reason) {
            #expect(service == "svc" && instance == 0 && reason.hasPrefix("instance 0 is reserved by 'a' since "))
        }
        let retry = try registry.reserve("svc", instance: 0, owner: .name("a"), ttl: 60, probe: false, stateDirectory: dir)
        #expect(!retry.fresh && retry.since == first.since && retry.expires != nil)
        // Without an instance, the same owner gets another one: an owner may hold several.
        let second = try registry.reserve("svc", owner: .name("a"), probe: false, stateDirectory: dir)
        #expect(second.fresh && second.instance == 1)
        #expect(try registry.reservations(stateDirectory: dir).allSatisfy { !$0.fresh })
    }

    @Test func containerOwnersAreTheirOwnKind() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(String(dir.dropLast(6))) }
        let made = try registry.reserve("svc", instance: 1, owner: .container("/svc-web.1"), probe: false, stateDirectory: dir)
        #expect(made.owner == .container("svc-web.1") && made.owner.kind == "container" && made.fresh)
        #expect(made.json.contains("\"owner\":\"svc-web.1\",\"owner_kind\":\"container\",\"pid\":null"))
        #expect(made.ownerDescription == "container 'svc-web.1'")
        // A name with the same text is another owner.
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 1,
                                                  reason: "reserved by container 'svc-web.1', not by 'svc-web.1'; release it as its owner, or force it (--force in the CLI)")) {
            try registry.release("svc", instance: 1, owner: .name("svc-web.1"), stateDirectory: dir)
        }
        #expect(try registry.release("svc", instance: 1, owner: .container("svc-web.1"), stateDirectory: dir))
        // The instance's container name, as a container owner.
        let named = try registry.reserve("svc", instance: 2, owner: .containerName, probe: false, stateDirectory: dir)
        #expect(named.owner == .container("svc-2"))
        #expect(try !registry.reserve("svc", instance: 2, owner: .container("svc-2"), probe: false, stateDirectory: dir).fresh)
        for bad in ["a", "-svc", "svc 1", "svc/1", ""] {
            #expect(throws: PortManagerError.self, "container name '\(bad)'") {
                try registry.reserve("svc", owner: .container(OwnerName(bad)), probe: false, stateDirectory: dir)
            }
        }
        #expect(throws: PortManagerError.invalidArgument("the container name 'svc 1' is not a Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)")) {
            try registry.reserve("svc", owner: .container("svc 1"), probe: false, stateDirectory: dir)
        }
    }

    @Test func bindHandsAReservationToItsContainer() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(String(dir.dropLast(6))) }
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 1,
                                                  reason: "is not reserved (released or expired); reserve it again")) {
            try registry.bind("svc", instance: 1, owner: .name("wf"), stateDirectory: dir)
        }
        _ = try registry.reserve("svc", instance: 1, owner: .name("wf"), ttl: 600, probe: false, stateDirectory: dir)
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 1, reason: "reserved by 'wf', not by 'other'")) {
            try registry.bind("svc", instance: 1, owner: .name("other"), stateDirectory: dir)
        }
        let bound = try registry.bind("svc", instance: 1, owner: .name("wf"), stateDirectory: dir)
        #expect(bound.owner == .container("svc-1") && bound.expires == nil)
        // Again, whoever asks: it is that container's already.
        #expect(try registry.bind("svc", instance: 1, container: "svc-1", owner: .name("other"), stateDirectory: dir).owner == .container("svc-1"))
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 1, reason: "reserved by container 'svc-1', not by 'wf'")) {
            try registry.bind("svc", instance: 1, container: "elsewhere", owner: .name("wf"), stateDirectory: dir)
        }
        #expect(try registry.reservations(stateDirectory: dir).map(\.owner) == [.container("svc-1")])
        // Bound by this process, to a container named apart from the registry's name.
        _ = try registry.reserve("svc", instance: 0, probe: false, stateDirectory: dir)
        #expect(try registry.bind("svc", instance: 0, container: "/custom_0", stateDirectory: dir).owner == .container("custom_0"))
        #expect(throws: PortManagerError.self) { try registry.bind("svc", instance: 0, container: "x", stateDirectory: dir) }
        #expect(try registry.release("svc", instance: 1, owner: .containerName, stateDirectory: dir))
    }

    @Test func containerReservationsAreReapedOnlyWhenTheEngineSaysTheyAreGone() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(String(dir.dropLast(6))) }
        _ = try registry.reserve("svc", instance: 0, owner: .container("gone-0"), probe: false, stateDirectory: dir)
        _ = try registry.reserve("svc", instance: 1, owner: .container("here-1"), probe: false, stateDirectory: dir)
        let asked = Locked<[String]>([])
        let unreachable = ContainerLookup { name in asked.withLock { $0.append(name) }; return nil }
        #expect(try registry.reservations(stateDirectory: dir, containers: unreachable).count == 2)
        #expect(try registry.reservations(stateDirectory: dir, containers: .unknown).count == 2)
        #expect(Set(asked.read()) == ["gone-0", "here-1"])
        // The engine answers: one exists, the other does not (404).
        let engine = ContainerLookup(startGrace: 0) { $0 == "here-1" }  // no grace: made a moment ago
        #expect(try registry.reservations(stateDirectory: dir, containers: engine).map(\.instance) == [1])
        // An instance in the way of a take is judged too.
        _ = try registry.reserve("svc", instance: 2, owner: .container("gone-2"), probe: false, stateDirectory: dir)
        let taken = try registry.reserve("svc", instance: 2, owner: .name("next"), probe: false, stateDirectory: dir, containers: engine)
        #expect(taken.fresh && taken.owner == .name("next"))
    }

    @Test func theParentProcessIsAnOwner() throws {
        let parent = try ProcessIdentity.parent()
        let me = try ProcessIdentity.current()
        #expect(parent.pid == Int(getppid()) && parent.liveness == .alive)
        #expect(parent.pidNamespace == me.pidNamespace && parent.bootID == me.bootID)
        let (registry, dir) = try fixture()
        defer { removeTree(String(dir.dropLast(6))) }
        let made = try registry.reserve("svc", instance: 0, owner: .process(parent), probe: false, stateDirectory: dir)
        #expect(made.pid == parent.pid && made.command == ProcessIdentity.command(of: parent.pid))
        #expect(throws: PortManagerError.self) { try registry.release("svc", instance: 0, stateDirectory: dir) }
        #expect(try registry.release("svc", instance: 0, owner: .process(parent), stateDirectory: dir))
    }

    @Test func aVersion2StoreIsMigratedAndANewerOneRefused() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(String(dir.dropLast(6))) }
        #expect(mkdir(dir, 0o700) == 0)
        try sql(dir, ReservationStore.migrations[0] + ReservationStore.migrations[1] + """
            INSERT INTO reservation(id, service, environment, instance, owner_kind, owner, since) VALUES(7, 'svc', '', 0, 'name', 'wf-old', 1);
            INSERT INTO port(protocol, port, reservation, name) VALUES('tcp', 41600, 7, 'a_port');
            PRAGMA user_version = 2;
            """)
        let rows = try registry.reservations(stateDirectory: dir)
        #expect(rows.map(\.owner) == [.name("wf-old")] && rows.first?.ports.map(\.port) == [41600])
        #expect(try scalar(dir, "PRAGMA user_version") == Int64(ReservationStore.schemaVersion) && ReservationStore.schemaVersion == 4)
        #expect(try scalar(dir, "SELECT count(*) FROM port WHERE reservation = 7") == 1)
        #expect(throws: PortManagerError.self) {
            try registry.reserve("svc", instance: 0, owner: .container("svc"), probe: false, stateDirectory: dir)
        }
        _ = try registry.reserve("svc", instance: 1, owner: .container("svc-1"), probe: false, stateDirectory: dir)
        #expect(try registry.release("svc", instance: 0, owner: .name("wf-old"), stateDirectory: dir))
        #expect(try scalar(dir, "SELECT count(*) FROM port") == 1)  // the cascade still works

        let (_, newer) = try fixture()
        defer { removeTree(String(newer.dropLast(6))) }
        #expect(mkdir(newer, 0o700) == 0)
        try sql(newer, "CREATE TABLE t(x); PRAGMA user_version = 5;")
        #expect(throws: PortManagerError.state(path: newer + "/reservations.db",
                                               reason: "the database has schema version 5, newer than this library's 4; use a newer portmanager")) {
            try registry.reservations(stateDirectory: newer)
        }
    }

    /// Runs `text` on `DIR/reservations.db` (created 0600).
    private func sql(_ dir: String, _ text: String) throws {
        var db: OpaquePointer?
        defer { sqlite3_close(db) }
        guard sqlite3_open(dir + "/reservations.db", &db) == SQLITE_OK,
              sqlite3_exec(db, text, nil, nil, nil) == SQLITE_OK else {
            throw PortManagerError.invalidArgument("sqlite: " + String(cString: sqlite3_errmsg(db)))
        }
        chmod(dir + "/reservations.db", 0o600)
    }

    private func scalar(_ dir: String, _ query: String) throws -> Int64 {
        var db: OpaquePointer?
        var s: OpaquePointer?
        defer { sqlite3_finalize(s); sqlite3_close(db) }
        guard sqlite3_open(dir + "/reservations.db", &db) == SQLITE_OK, sqlite3_prepare_v2(db, query, -1, &s, nil) == SQLITE_OK,
              sqlite3_step(s) == SQLITE_ROW else {
            throw PortManagerError.invalidArgument("sqlite: " + String(cString: sqlite3_errmsg(db)))
        }
        return sqlite3_column_int64(s, 0)
    }
}

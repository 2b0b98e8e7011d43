#if canImport(Glibc)
import Glibc
#endif
import Testing
import PortManager

@Suite("Reservations in the SQLite store")
struct ReservationTests {
    /// A registry whose ports nothing else on the host uses, and a private state directory.
    private func fixture() throws -> (Registry, String) {
        var template = Array("/tmp/portmanager-reservations-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PortManagerError.invalidArgument("mkdtemp failed") }
        let registry = try Registry(yaml: "svc:\n  a_port: 41100\n  r_port: \"41150-41152\"\n  max_instances: 2\n")
        return (registry, String(cString: made) + "/state")
    }

    @Test func aReservationHoldsEveryPortUntilReleased() throws {
        let (registry, dir) = try fixture()
        let reservation = try registry.reserve("svc", instance: 1, owner: .name("job"), probe: false, stateDirectory: dir)
        #expect(reservation.instance == 1 && reservation.owner == .name("job"))
        #expect(reservation.ports.map(\.port) == [41200, 41250, 41251, 41252])
        #expect(reservation.portsByName.map(\.name) == ["a_port", "r_port"])
        #expect(throws: PortManagerError.self) {
            try registry.reserve("svc", instance: 1, owner: .name("other"), probe: false, stateDirectory: dir)
        }
        #expect(try registry.release("svc", instance: 1, owner: .name("job"), stateDirectory: dir))
        #expect(try !registry.release("svc", instance: 1, owner: .name("job"), stateDirectory: dir))
        #expect(try registry.reservations(stateDirectory: dir).isEmpty)
    }

    @Test func theLowestFreeInstanceAndAFullService() throws {
        let (registry, dir) = try fixture()
        let first = try registry.reserve("svc", probe: false, stateDirectory: dir)
        let second = try registry.reserve("svc", probe: false, stateDirectory: dir)
        #expect([first.instance, second.instance] == [0, 1])
        #expect(throws: PortManagerError.self) { try registry.reserve("svc", probe: false, stateDirectory: dir) }
        do {
            _ = try registry.reserve("svc", owner: .name("x"), probe: false, stateDirectory: dir)
        } catch let PortManagerError.reserved(service, instance, reason) {
            #expect(service == "svc" && instance == nil)
            #expect(reason.hasPrefix("all 2 instances are taken (instance 0 is reserved by process \(getpid())"))
        }
        try registry.release("svc", instance: 0, stateDirectory: dir)
        #expect(try registry.reserve("svc", probe: false, stateDirectory: dir).instance == 0)
    }

    @Test func onlyTheOwnerReleasesOrRenewsUnlessForced() throws {
        let (registry, dir) = try fixture()
        // .containerName owns as the container of that name (kind container), not as a name with its text.
        _ = try registry.reserve("svc", instance: 0, owner: .containerName, ttl: 60, probe: false, stateDirectory: dir)
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 0,
                                                  reason: "reserved by container 'svc', not by 'me'; release it as its owner, or force it (--force in the CLI)")) {
            try registry.release("svc", instance: 0, owner: .name("me"), stateDirectory: dir)
        }
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 0, reason: "reserved by container 'svc', not by 'svc'")) {
            try registry.renew("svc", instance: 0, ttl: 7200, owner: .name("svc"), stateDirectory: dir)
        }
        let renewed = try registry.renew("svc", instance: 0, ttl: 7200, owner: .container("svc"), stateDirectory: dir)
        #expect((renewed.expires ?? 0) >= renewed.since + 7200 - 60)
        #expect(try registry.release("svc", instance: 0, owner: .name("me"), force: true, stateDirectory: dir))
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 0,
                                                  reason: "is not reserved (released or expired); reserve it again")) {
            try registry.renew("svc", instance: 0, ttl: 5, owner: .containerName, stateDirectory: dir)
        }
    }

    @Test func environmentOffsetsReserveTheMovedPorts() throws {
        let (_, dir) = try fixture()
        let registry = try Registry(yaml: "svc:\n  port: 41300\n_environments:\n  ci: 100\n").selecting(environment: "ci")
        let reservation = try registry.reserve("svc", instance: 0, probe: false, stateDirectory: dir)
        #expect(reservation.ports.map(\.port) == [41400] && reservation.environment == "ci")
    }

    @Test func badArguments() throws {
        let (registry, dir) = try fixture()
        #expect(throws: PortManagerError.instanceOutOfRange(service: "svc", instance: 2, maxInstances: 2)) {
            try registry.reserve("svc", instance: 2, stateDirectory: dir)
        }
        #expect(throws: PortManagerError.unknownService("nope", suggestion: nil)) { try registry.reserve("nope", stateDirectory: dir) }
        #expect(throws: PortManagerError.invalidArgument("the owner name is empty")) {
            try registry.reserve("svc", owner: .name(""), stateDirectory: dir)
        }
        #expect(throws: PortManagerError.invalidArgument("the TTL 0 is outside 1..3153600000 seconds")) {
            try registry.reserve("svc", ttl: 0, stateDirectory: dir)
        }
        #expect(throws: PortManagerError.invalidArgument("the state directory is empty")) {
            try registry.reserve("svc", stateDirectory: "")
        }
        #expect(throws: PortManagerError.state(path: "/proc/no-state-here",
                                               reason: "cannot create the state directory: No such file or directory")) {
            try registry.reserve("svc", stateDirectory: "/proc/no-state-here")
        }
    }

    @Test func aSymlinkedStateDirectoryIsRefused() throws {
        let (registry, dir) = try fixture()
        _ = try registry.reservations(stateDirectory: dir)
        let link = dir + "-link"
        #expect(symlink(dir, link) == 0)
        #expect(throws: PortManagerError.state(path: link, reason: "the state directory is a symbolic link; refusing to follow it")) {
            try registry.reservations(stateDirectory: link)
        }
    }

    @Test func processIdentityOfThisProcess() throws {
        let me = try ProcessIdentity.current()
        #expect(me.pid == Int(getpid()) && me.isAlive && me.bootID.count == 36)
        #expect(!ProcessIdentity(pid: me.pid, startTime: me.startTime + 1, bootID: me.bootID).isAlive)
        #expect(!ProcessIdentity(pid: me.pid, startTime: me.startTime, bootID: "another-boot").isAlive)
        #expect(me.pidNamespace != nil && me.liveness == .alive)
    }

    @Test func anOwnerInAnotherPIDNamespaceIsNeverJudgedByItsPid() throws {
        let me = try ProcessIdentity.current()
        let namespace = try #require(me.pidNamespace)
        // A pid that names nothing here, or another process: in another namespace it says nothing.
        let elsewhere = ProcessIdentity(pid: 1, startTime: me.startTime + 12_345, bootID: me.bootID, pidNamespace: namespace + 1)
        #expect(elsewhere.liveness == .unknown && elsewhere.isAlive)
        // ... unless the boot changed: then it ended with everything else.
        var rebooted = elsewhere
        rebooted.bootID = "another-boot"
        #expect(rebooted.liveness == .ended)
        // A store written before schema 2 has no namespace: judged here, as that library did.
        #expect(ProcessIdentity(pid: me.pid, startTime: me.startTime + 1, bootID: me.bootID).liveness == .ended)
    }

    @Test func ownerNamesAreComparedAsBytes() throws {
        let (registry, dir) = try fixture()
        let ff = OwnerName(bytes: Array("wf-".utf8) + [0xff]), fe = OwnerName(bytes: Array("wf-".utf8) + [0xfe])
        _ = try registry.reserve("svc", instance: 0, owner: .name(ff), probe: false, stateDirectory: dir)
        #expect(throws: PortManagerError.notOwner(service: "svc", instance: 0,
                                                  reason: "reserved by 'wf-\\\\xff', not by 'wf-\\\\xfe'; release it as its owner, or force it (--force in the CLI)")) {
            try registry.release("svc", instance: 0, owner: .name(fe), stateDirectory: dir)
        }
        #expect(try registry.reservations(stateDirectory: dir).map(\.owner) == [.name(ff)])
        #expect(try registry.release("svc", instance: 0, owner: .name(ff), stateDirectory: dir))
    }

    @Test func aHugeStateDirectoryIsCutInMessages() throws {
        let (registry, dir) = try fixture()
        _ = try registry.reservations(stateDirectory: dir)
        let huge = dir + "/" + String(repeating: "d/", count: 512 * 1024)  // 1 MiB below a directory that exists
        do {
            _ = try registry.reservations(stateDirectory: huge)
            Issue.record("a missing 1 MiB path was accepted")
        } catch let error as PortManagerError {
            #expect(error.status == .state)
            #expect(error.description.utf8.count < 1024, "\(error.description.utf8.count) bytes")
        }
    }
}

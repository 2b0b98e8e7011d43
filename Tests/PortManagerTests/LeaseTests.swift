import Glibc
import Testing
@testable import PortManager

@Suite("Cross-process port leases", .serialized)
struct LeaseTests {
    /// A registry whose ports nothing else on the host uses, and a private lease directory.
    private func fixture() throws -> (Registry, String) {
        var template = Array("/tmp/portmanager-lease-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let registry = try Registry(yaml: """
            svc:
              a_port: 41000
              r_port: "41050-41052"
              max_instances: 3
            """)
        return (registry, dir)
    }

    @Test func aLeaseHoldsEveryPortUntilReleased() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(dir) }
        let lease = try registry.lease("svc", instance: 1, directory: dir, probe: false)
        #expect(lease.instance == 1 && lease.isHeld)
        #expect(lease.ports == [41100, 41150, 41151, 41152])

        // flock(2) locks belong to the open file, so a second claim in this
        // process conflicts exactly as one from another process would.
        #expect {
            try registry.lease("svc", instance: 1, directory: dir, probe: false)
        } throws: { error in
            guard case PortManagerError.leased(let service, let instance, let reason) = error else { return false }
            return service == "svc" && instance == 1 && reason.contains("port 41100 is leased by pid=\(getpid())")
        }
        lease.release()
        #expect(!lease.isHeld)
        lease.release()  // a second release is a no-op
        let again = try registry.lease("svc", instance: 1, directory: dir, probe: false)
        #expect(again.isHeld)
    }

    /// A child forked by another thread (as `system()` or `posix_spawn` fallbacks do)
    /// shares the lock files' open file descriptions until it execs or exits.
    /// Releasing must free the ports anyway, at once.
    @Test func releaseFreesThePortsWhileAForkedChildHoldsTheDescriptors() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(dir) }
        let lease = try registry.lease("svc", instance: 2, directory: dir, probe: false)
        var pipeEnds: [Int32] = [-1, -1]
        try #require(pipe(&pipeEnds) == 0)
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let child = fork()
        if child == 0 {
            // The child keeps every descriptor of the parent and waits, without
            // exec, until the parent closes the pipe. Only async-signal-safe calls here.
            close(writeEnd)
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) < 0 && errno == EINTR {}
            _exit(0)
        }
        close(readEnd)
        defer {
            close(writeEnd)
            var status: Int32 = 0
            while child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR {}
        }
        try #require(child > 0)
        lease.release()
        let again = try registry.lease("svc", instance: 2, directory: dir, probe: false)
        #expect(again.isHeld && again.ports == [41200, 41250, 41251, 41252])
    }

    @Test func withoutAnInstanceTheLowestFreeOneIsTaken() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(dir) }
        let first = try registry.lease("svc", directory: dir, probe: false)
        let second = try registry.lease("svc", directory: dir, probe: false)
        #expect(first.instance == 0 && second.instance == 1)
        first.release()
        let third = try registry.lease("svc", directory: dir, probe: false)
        #expect(third.instance == 0)
        let fourth = try registry.lease("svc", directory: dir, probe: false)
        #expect(fourth.instance == 2)
        #expect {
            try registry.lease("svc", directory: dir, probe: false)
        } throws: { error in
            guard case PortManagerError.leased(_, nil, let reason) = error else { return false }
            return reason.hasPrefix("all 3 instances are taken")
        }
        withExtendedLifetime([second, third, fourth]) {}
    }

    @Test func portsBoundByOthersAreSkippedWhenProbing() throws {
        let (_, dir) = try fixture()
        defer { removeTree(dir) }
        // Something without a lease listens on instance 0's port. The kernel picks
        // the port, so no other process on the host can hold it too.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(listening)
        let port = Int(UInt16(bigEndian: address.sin_port))
        try #require(port > 0 && port <= 65000)
        let registry = try Registry(yaml: "svc:\n  port: \(port)\n  instance_increment: 100\n  max_instances: 3\n")
        let lease = try registry.lease("svc", directory: dir)
        #expect(lease.instance != 0)
        #expect(throws: PortManagerError.self) { try registry.lease("svc", instance: 0, directory: dir) }
        let unprobed = try registry.lease("svc", instance: 0, directory: dir, probe: false)
        #expect(unprobed.instance == 0 && unprobed.ports == [port])
    }

    @Test func environmentOffsetsLeaseTheMovedPorts() throws {
        let (_, dir) = try fixture()
        defer { removeTree(dir) }
        let registry = try Registry(yaml: "svc:\n  port: 41200\n_environments:\n  ci: 100\n").selecting(environment: "ci")
        #expect(try registry.lease("svc", instance: 0, directory: dir, probe: false).ports == [41300])
    }

    @Test func badRequestsAreRefused() throws {
        let (registry, dir) = try fixture()
        defer { removeTree(dir) }
        #expect(throws: PortManagerError.instanceOutOfRange(service: "svc", instance: 3, maxInstances: 3)) {
            try registry.lease("svc", instance: 3, directory: dir)
        }
        #expect(throws: PortManagerError.unknownService("nope", suggestion: nil)) { try registry.lease("nope", directory: dir) }
        #expect(throws: PortManagerError.invalidArgument("the lease directory is empty")) {
            try registry.lease("svc", directory: "")
        }
        #expect {
            try registry.lease("svc", directory: "/proc/forbidden-lease-dir")
        } throws: { error in
            guard case PortManagerError.io(let path, let reason) = error else { return false }
            return path == "/proc/forbidden-lease-dir" && reason.contains("cannot create the lease directory")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// A claim on every host port of one service instance, shared by all processes
/// on the host, so that two orchestrators never start the same instance.
///
/// Each host port is a lock file, `port-PORT.lock` (`port-9192.lock`), in the lease directory
/// (`$PORTMANAGER_LEASE_DIR`, default `/tmp/portmanager-leases`), held with
/// `flock(2)`. Locking by port rather than by service name means two registries
/// that disagree about names still cannot hand out the same port. The kernel
/// drops the locks when the lease is released, when it is deinitialised, or
/// when the holding process exits or crashes, so a lease is never left stale.
public final class PortLease: @unchecked Sendable {
    /// The service leased.
    public let service: String
    /// The instance leased.
    public let instance: Int
    /// Every host port held, ascending (a range contributes each of its ports).
    public let ports: [Int]
    private let state: Locked<[Int32]>

    init(service: String, instance: Int, ports: [Int], descriptors: [Int32]) {
        self.service = service
        self.instance = instance
        self.ports = ports
        self.state = Locked(descriptors)
    }

    /// True until ``release()``.
    public var isHeld: Bool { state.withLock { !$0.isEmpty } }

    /// Gives the ports back. Calling it again does nothing.
    public func release() {
        let descriptors = state.withLock { fds -> [Int32] in
            defer { fds = [] }
            return fds
        }
        descriptors.forEach(LeaseFiles.unlockAndClose)
    }

    deinit { release() }

    /// Lets the lease outlive this program image: the lock descriptors stay open
    /// across `exec`, so a command started with `execvp` holds the lease until it
    /// exits. Used by `portmanager run`.
    public func keepAcrossExec() {
        state.withLock { fds in
            for fd in fds {
                let flags = fcntl(fd, F_GETFD)
                if flags >= 0 { _ = fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) }
            }
        }
    }

    /// The environment variable naming the lease directory.
    public static let directoryVariable = "PORTMANAGER_LEASE_DIR"
    /// The lease directory used when the variable is unset.
    public static let defaultDirectory = "/tmp/portmanager-leases"

    /// The lease directory in force.
    public static var directory: String {
        String(decoding: directoryPath, as: UTF8.self)
    }

    /// The lease directory in force, as the bytes `$PORTMANAGER_LEASE_DIR` holds.
    public static var directoryPath: [UInt8] {
        Registry.nonEmptyVariableBytes(directoryVariable) ?? Array(defaultDirectory.utf8)
    }
}

extension Registry {
    /// Leases every host port of one instance of `service` for this process.
    ///
    /// - Parameters:
    ///   - instance: the instance to lease, or nil for the lowest instance that is
    ///     free (its ports neither leased nor, with `probe`, bound by anyone).
    ///   - directory: the lease directory; nil for ``PortLease/directory``.
    ///   - probe: also require every port to be bindable on 127.0.0.1 now, so that
    ///     ports taken by processes that do not use leases are avoided. Ports whose
    ///     state cannot be checked (for example privileged ports without root) do
    ///     not block.
    /// - Throws: ``PortManagerError/leased(service:instance:reason:)`` when the
    ///   instance (or, with nil, every instance) is taken; unknown service,
    ///   instance out of range, or ``PortManagerError/io(path:reason:)`` when the
    ///   lease directory cannot be used.
    public func lease(_ service: String, instance: Int? = nil, directory: String? = nil,
                      probe: Bool = true) throws -> PortLease {
        try lease(service, instance: instance, directoryPath: directory.map { Array($0.utf8) }, probe: probe)
    }

    /// ``lease(_:instance:directory:probe:)`` with the directory as bytes (a C
    /// string, an argv entry), so that a name that is not UTF-8 is that directory.
    public func lease(_ service: String, instance: Int?, directoryPath: [UInt8]?, probe: Bool) throws -> PortLease {
        let definition = try self.service(named: service)
        let folder = directoryPath ?? PortLease.directoryPath
        try LeaseFiles.prepare(folder)
        if let instance {
            try checkInstance(definition, instance)
            return try LeaseFiles.acquire(self, definition, instance, folder, probe: probe)
        }
        var reasons: [String] = []
        for candidate in 0..<definition.maxInstances {
            do {
                return try LeaseFiles.acquire(self, definition, candidate, folder, probe: probe)
            } catch PortManagerError.leased(_, _, let reason) {
                if reasons.count < 3 { reasons.append("instance \(candidate): \(reason)") }
            }
        }
        let shown = reasons.joined(separator: "; ") + (definition.maxInstances > 3 ? "; ..." : "")
        throw PortManagerError.leased(service: definition.name, instance: nil,
                                      reason: "all \(definition.maxInstances) instances are taken (\(shown))")
    }
}

/// The lock files behind ``PortLease``.
enum LeaseFiles {
    static func prepare(_ folder: [UInt8]) throws {
        guard !folder.isEmpty else { throw PortManagerError.invalidArgument("the lease directory is empty") }
        try withCPath(folder) { path in
            if mkdir(path, 0o777) == 0 {
                // Shared by every user of the host, like /tmp: world-writable and sticky.
                _ = chmod(path, 0o1777)
            } else if errno != EEXIST {
                let code = errno
                throw PortManagerError.io(path: PathText.shown(folder),
                                          reason: "cannot create the lease directory: " + describe(errno: code))
            }
        }
    }

    static func acquire(_ registry: Registry, _ service: ServiceDefinition, _ instance: Int,
                        _ folder: [UInt8], probe: Bool) throws -> PortLease {
        var ports: [Int] = []
        for port in service.ports {
            let first = port.base + instance * service.increment + registry.offset
            ports.append(contentsOf: first..<(first + port.count))
        }
        ports.sort()
        var held: [Int32] = []
        func giveBack() { held.forEach(unlockAndClose) }
        for port in ports {
            let path = folder + Array("/port-\(port).lock".utf8)
            var fd = try withCPath(path) { open($0, O_RDWR | O_CREAT | O_CLOEXEC, 0o666) }
            var code = fd < 0 ? errno : 0
            if fd < 0 && code == EACCES {
                fd = try withCPath(path) { open($0, O_RDONLY | O_CLOEXEC) }
                // A lock file we may not create that does not exist yet: the cause is EACCES, not ENOENT.
                if fd < 0 && errno != ENOENT { code = errno }
            }
            guard fd >= 0 else {
                let reason = "cannot open: " + describe(errno: code)
                giveBack()
                throw PortManagerError.io(path: PathText.shown(path), reason: reason)
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = describeHolder(fd)
                close(fd)
                giveBack()
                if code == EWOULDBLOCK {
                    throw PortManagerError.leased(service: service.name, instance: instance,
                                                  reason: "port \(port) is leased" + (holder.map { " by \($0)" } ?? ""))
                }
                throw PortManagerError.io(path: PathText.shown(path), reason: "cannot lock (flock): " + describe(errno: code))
            }
            held.append(fd)
            recordHolder(fd, service: service.name, instance: instance)
        }
        if probe {
            for port in ports {
                if (try? PortProbe.check(port: port)) == .inUse {
                    giveBack()
                    throw PortManagerError.leased(service: service.name, instance: instance,
                                                  reason: "port \(port) is in use by a process that holds no lease")
                }
            }
        }
        return PortLease(service: service.name, instance: instance, ports: ports, descriptors: held)
    }

    /// Drops the lock, then the descriptor. `flock(2)` locks belong to the open
    /// file description, which a child forked by another thread shares until it
    /// execs or exits: `close` alone would leave the port locked for that long.
    /// `LOCK_UN` releases it for every copy at once.
    static func unlockAndClose(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
        _ = close(fd)
    }

    /// Writes `pid=N service=S instance=I` into a lock file we hold, for the
    /// message another process shows when it finds the port leased.
    private static func recordHolder(_ fd: Int32, service: String, instance: Int) {
        let text = Log.event("leased", [("pid", String(getpid())), ("service", service), ("instance", String(instance))]) + "\n"
        guard ftruncate(fd, 0) == 0 else { return }
        _ = Array(text.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func describeHolder(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        var text = String(decoding: buffer[0..<n], as: UTF8.self)
        guard text.hasPrefix("leased ") else { return nil }
        text.removeFirst("leased ".count)
        while text.last == "\n" { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}

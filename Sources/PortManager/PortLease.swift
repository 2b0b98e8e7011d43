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
        descriptors.forEach { _ = close($0) }
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
        Registry.nonEmptyVariable(directoryVariable) ?? defaultDirectory
    }
}

extension Registry {
    /// Leases every host port of one instance of `service` for this process.
    ///
    /// - Parameters:
    ///   - instance: the instance to lease, or nil for the lowest instance that is
    ///     free (its ports neither leased nor, with `probe`, bound by anyone).
    ///   - directory: the lease directory; nil for ``PortLease/directory``.
    ///   - probe: also require every port to be free now as Docker would publish it
    ///     (``Registry/probe(_:instance:holders:)``: per its protocols, on both
    ///     wildcards or its host IP), so that ports taken by processes that do not
    ///     use leases are avoided. Ports whose state cannot be told (for example a
    ///     privileged port without root that no socket holds) do not block.
    /// - Throws: ``PortManagerError/leased(service:instance:reason:)`` when the
    ///   instance (or, with nil, every instance) is taken; unknown service,
    ///   instance out of range, or ``PortManagerError/io(path:reason:)`` when the
    ///   lease directory cannot be used.
    public func lease(_ service: String, instance: Int? = nil, directory: String? = nil,
                      probe: Bool = true) throws -> PortLease {
        let definition = try self.service(named: service)
        let folder = directory ?? PortLease.directory
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
    static func prepare(_ folder: String) throws {
        guard !folder.isEmpty else { throw PortManagerError.invalidArgument("the lease directory is empty") }
        if mkdir(folder, 0o777) == 0 {
            // Shared by every user of the host, like /tmp: world-writable and sticky.
            _ = chmod(folder, 0o1777)
        } else if errno != EEXIST {
            throw PortManagerError.io(path: folder, reason: "cannot create the lease directory: " + String(cString: strerror(errno)))
        }
    }

    static func acquire(_ registry: Registry, _ service: ServiceDefinition, _ instance: Int,
                        _ folder: String, probe: Bool) throws -> PortLease {
        var ports: [Int] = []
        for port in service.ports {
            let first = port.base + instance * service.increment + registry.offset
            ports.append(contentsOf: first..<(first + port.count))
        }
        ports.sort()
        var held: [Int32] = []
        func giveBack() { held.forEach { _ = close($0) } }
        for port in ports {
            let path = "\(folder)/port-\(port).lock"
            var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            if fd < 0 && errno == EACCES { fd = open(path, O_RDONLY | O_CLOEXEC) }
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                giveBack()
                throw PortManagerError.io(path: path, reason: reason)
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
                throw PortManagerError.io(path: path, reason: "flock: " + String(cString: strerror(code)))
            }
            held.append(fd)
            recordHolder(fd, service: service.name, instance: instance)
        }
        if probe {
            // Ports that cannot be checked never block, nor does an unreadable /proc.
            if let taken = (try? registry.portInUse(service.name, instance: instance)) ?? nil {
                giveBack()
                let by = taken.holders.isEmpty ? "a process that holds no lease"
                    : taken.holders.prefix(3).map(\.description).joined(separator: ", ")
                throw PortManagerError.leased(service: service.name, instance: instance,
                                              reason: "port \(taken.port)/\(taken.request.protocols.name) is in use by \(by)")
            }
        }
        return PortLease(service: service.name, instance: instance, ports: ports, descriptors: held)
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

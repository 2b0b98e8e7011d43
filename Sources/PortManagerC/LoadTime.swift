#if canImport(Glibc)
import Glibc
#endif
import CPortManagerHeader
import PortManager
import Synchronization

// Fork safety of the Swift runtime's lazy initialisation (`ForkPreparation`):
// every path a C caller takes is run once while no fork can interleave.
//
// - At load, an ELF constructor (an entry of .init_array) runs the cheap paths
//   (pm_registry_open_string, pm_get_port logged at INFO to a callback, the
//   other allocations and names, a failure and its message); no other thread
//   can be inside the library yet.
// - `FirstUse` runs the paths that touch files inside a fork-gate section (a
//   fork in another thread waits for it, so no child inherits it half done), in
//   a scratch directory in /dev/shm, else $TMPDIR: a registry file at the first
//   pm_registry_open*, a store (reserve, renew, list, release, their refusals)
//   at the first reservation call.

/// The constructor. `@section` puts the pointer in .init_array; `@used` keeps it.
@used @section(".init_array")
private let libraryConstructor: @convention(c) () -> Void = { prepareAtLoad() }

/// The cheap paths, then puts back everything it changed: the threshold, the
/// sink (none) and this thread's last error ("").
private func prepareAtLoad() {
    ForkPreparation.run()
    FirstUse.touch()
    let yaml: StaticString = "warm:\n  port: 40000\n  range_port: \"40010-40011\"\n  max_instances: 2\n"
    var handle: OpaquePointer?
    let opened = yaml.withUTF8Buffer { bytes in
        bytes.withMemoryRebound(to: CChar.self) {
            pm_registry_open_string($0.baseAddress, $0.count, staticCString("<load>"), &handle)
        }
    }
    guard Status(opened) == .ok, let handle else { LastError.clear(); return }
    defer { pm_registry_close(handle); LastError.clear() }
    let level = pm_get_log_level()
    _ = pm_set_log_level(LogLevel.info.rawValue)
    _ = pm_set_log_callback({ _, _, _ in }, nil)
    var port: UInt16 = 0, last: UInt16 = 0, needed = 0
    var ports = [UInt16](repeating: 0, count: 4)
    var name = [CChar](repeating: 0, count: 64)
    _ = pm_get_port(handle, staticCString("warm"), 1, staticCString("port"), &port)
    _ = pm_get_port_range(handle, staticCString("warm"), 1, staticCString("range_port"), &port, &last)
    _ = pm_get_container_port(handle, staticCString("warm"), 1, staticCString("port"), &port)
    _ = pm_get_ports(handle, staticCString("warm"), 1, &ports, ports.count, &needed)
    _ = pm_container_name(handle, staticCString("warm"), 1, &name, name.count, &needed)
    _ = pm_instance_docker_json(handle, staticCString("warm"), 1, &name, name.count, &needed)
    _ = pm_instance_env(handle, staticCString("warm"), 1, nil, &name, name.count, &needed)
    _ = pm_get_port(handle, staticCString("warn"), 1, staticCString("port"), &port)  // unknown: the failure path
    _ = pm_last_error()
    _ = pm_set_log_callback(nil, nil)
    _ = pm_set_log_level(level)
}

/// The paths that touch files, each group run once per process at the first
/// call that needs it (``prepare(_:)``), on a thread of its own (the caller's
/// last error stays as it was), with their log messages dropped.
enum FirstUse {
    /// A group of paths, and its state.
    final class Group: Sendable {
        let done = Atomic<Bool>(false)
        /// The thread that runs the paths (its own calls must not wait for it).
        let runner = Atomic<UInt>(0)
        let paths: @Sendable () -> Void
        init(_ paths: @escaping @Sendable () -> Void) { self.paths = paths }

        /// Runs `paths` on a new thread and waits for it.
        func run() {
            let box = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            if pthread_create(&thread, nil, { raw in
                let group = Unmanaged<Group>.fromOpaque(raw!).takeRetainedValue()
                group.runner.store(UInt(pthread_self()), ordering: .sequentiallyConsistent)
                group.paths()
                return nil
            }, box) == 0 {
                pthread_join(thread, nil)
            } else {
                Unmanaged<Group>.fromOpaque(box).release()
            }
        }
    }

    /// pm_registry_open of a file, its environment and a missing file: at the first pm_registry_open*.
    static let registryFile = Group { inScratchDirectory(registryFilePaths) }
    /// Reserve (fresh and not), renew, bind, list, release and their refusals: at the first reservation call.
    /// Its reservations ask no Docker engine: they read a canned container list
    /// (``ForkPreparation/cannedContainers()``, ``ContainerLookup/substituted(by:_:)``).
    static let store = Group {
        ContainerLookup.substituted(by: ForkPreparation.cannedContainers) { inScratchDirectory(storePaths) }
    }
    /// The Docker side (a canned list read and indexed, a probe answer named, an
    /// engine without a socket asked): at the first pm_probe (and within `store`).
    static let docker = Group { inScratchDirectory { ForkPreparation.runDocker(in: $0) } }

    private static let registryFileRan: Void = registryFile.run()
    private static let storeRan: Void = store.run()
    private static let dockerRan: Void = docker.run()

    /// Creates the groups (the constructor calls it: the first call must not initialise them).
    static func touch() {
        _ = registryFile.done.load(ordering: .acquiring)
        _ = store.done.load(ordering: .acquiring)
        _ = docker.done.load(ordering: .acquiring)
    }

    /// Runs `group`'s paths once, inside a fork-gate section; later calls cost one atomic load.
    @inline(__always)
    static func prepare(_ group: Group) {
        if group.done.load(ordering: .acquiring) { return }
        if group.runner.load(ordering: .sequentiallyConsistent) == UInt(pthread_self()) { return }
        ForkGate.enter()
        if group === registryFile { _ = registryFileRan } else if group === docker { _ = dockerRan } else { _ = storeRan }
        group.done.store(true, ordering: .releasing)
        ForkGate.leave()
    }

    /// Runs `body` with a new private directory, then removes it. A memory file
    /// system first: the store's syncs cost nothing there (about 100 ms on a disk).
    private static func inScratchDirectory(_ body: (String) -> Void) {
        let temporary = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        var made: String?
        for base in ["/dev/shm", temporary] where made == nil {
            var template = Array((base + "/portmanager-prepare-XXXXXX").utf8CString)
            if template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil {
                made = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            }
        }
        guard let directory = made else { return }
        defer { removeTree(directory) }
        Log.deferring {
            body(directory)
            Log.dropHeldBack(after: 0)  // not the caller's events
        }
    }

    private static let yaml = "warm:\n  port: 40020\n  range_port: \"40030-40031\"\n  max_instances: 3\n"
        + "_environments:\n  warmenv: 100\n"

    private static func registryFilePaths(_ directory: String) {
        let path = directory + "/registry.yaml"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let written = yaml.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        guard written == yaml.utf8.count else { return }
        var handle: OpaquePointer?
        if Status(pm_registry_open(path, &handle)) == .ok { pm_registry_close(handle) }
        handle = nil
        if Status(pm_registry_open_env(path, "warmenv", &handle)) == .ok { pm_registry_close(handle) }
        handle = nil
        _ = pm_registry_open(directory + "/missing.yaml", &handle)  // the not-found failure
        _ = pm_last_error()
    }

    private static func storePaths(_ directory: String) {
        ForkPreparation.runDocker(in: directory)
        var handle: OpaquePointer?
        let opened = yaml.withCString { pm_registry_open_string($0, strlen($0), "<prepare>", &handle) }
        guard Status(opened) == .ok, let handle else { return }
        defer { pm_registry_close(handle) }
        var instance: Int32 = -1, released: Int32 = 0, fresh: Int32 = 0, needed = 0
        var buffer = [CChar](repeating: 0, count: 4096)
        let service = staticCString("warm")
        _ = pm_reserve(handle, directory, service, -1, nil, 0, 1, &instance)
        _ = pm_reserve_instance(handle, directory, service, 1, "prepare", 60, 0, &instance, &fresh)
        _ = pm_reserve_instance(handle, directory, service, 1, "prepare", 60, 0, &instance, &fresh)  // again: not fresh
        _ = pm_reserve(handle, directory, service, 0, "other", 0, 1, &instance)  // taken: refused
        _ = pm_last_error()
        _ = pm_renew(handle, directory, service, 1, "prepare", 120, 0)
        _ = pm_reservation_bind_container(handle, directory, service, 1, "prepare", nil, 0)  // to its container
        _ = pm_reservations_json(handle, directory, nil, nil, 0, &needed)
        _ = pm_reservations_json(handle, directory, nil, &buffer, buffer.count, &needed)
        _ = pm_reserve_instance(handle, directory, service, 2, "prepare", 0, ReserveFlag.noProbe, &instance, &fresh)  // its container: refused
        _ = pm_last_error()
        _ = pm_reserve_instance(handle, directory, service, 2, nil, 0, ReserveFlag.noProbe | ReserveFlag.adopt, &instance, &fresh)
        _ = pm_reconcile(handle, directory, ReconcileFlag.dryRun, &buffer, buffer.count, &needed)
        _ = pm_reconcile(handle, directory, 0, nil, 0, &needed)  // too small: rolled back
        _ = pm_instance_states_json(handle, directory, nil, StatesFlag.all, &buffer, buffer.count, &needed)
        _ = pm_release(handle, directory, service, 2, nil, ReserveFlag.force, &released)
        _ = pm_last_error()
        _ = pm_release(handle, directory, service, 0, "other", 0, &released)  // not the owner: refused
        _ = pm_last_error()
        _ = pm_release(handle, directory, service, 0, nil, 0, &released)
        _ = pm_release(handle, directory, service, 1, nil, ReserveFlag.containerOwner, &released)
        ForkPreparation.closeStore(directory)
    }

    /// Removes `directory` and the files in it.
    private static func removeTree(_ directory: String) {
        if let listing = opendir(directory) {
            while let entry = readdir(listing) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(listing)
        }
        rmdir(directory)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import PortManager
import Synchronization

// Fork safety of the Swift runtime's lazy initialisation (`ForkPreparation`):
// every path a C caller takes is run once while no fork can interleave.
//
// - At load, an ELF constructor (an entry of .init_array) runs the cheap paths
//   (pm_registry_open_string, pm_get_port logged at INFO to a callback, the
//   other allocations and names, a failure and its message); no other thread
//   can be inside the library yet.
// - At the first pm_registry_open* or reservation call, `FirstUse` runs the
//   paths that touch files (a registry file, a scratch store in $TMPDIR: reserve,
//   renew, list, release, their refusals) inside a fork-gate section: a fork in
//   another thread waits for it, so no child inherits it half done.

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
    guard opened == 0, let handle else { LastError.clear(); return }
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
    _ = pm_get_ports(handle, staticCString("warm"), 1, &ports, UInt(ports.count), &needed)
    _ = pm_container_name(handle, staticCString("warm"), 1, &name, UInt(name.count), &needed)
    _ = pm_get_port(handle, staticCString("warn"), 1, staticCString("port"), &port)  // unknown: the failure path
    _ = pm_last_error()
    _ = pm_set_log_callback(nil, nil)
    _ = pm_set_log_level(level)
}

/// The paths that touch files, run once per process at the first call that
/// needs them (``prepare()``), on a thread of their own (the caller's last
/// error stays as it was), with their log messages dropped.
enum FirstUse {
    private static let done = Atomic<Bool>(false)
    /// The thread that runs the paths (its own calls must not wait for it).
    private static let runner = Atomic<UInt>(0)
    private static let ran: Void = {
        var thread = pthread_t()
        if pthread_create(&thread, nil, { _ in
            FirstUse.runner.store(UInt(pthread_self()), ordering: .sequentiallyConsistent)
            FirstUse.runFilePaths()
            return nil
        }, nil) == 0 {
            pthread_join(thread, nil)
        }
    }()

    /// Initialises the flag (the constructor calls it).
    static func touch() { _ = done.load(ordering: .acquiring); _ = runner.load(ordering: .acquiring) }

    /// Runs the file paths once, inside a fork-gate section; later calls cost one atomic load.
    @inline(__always)
    static func prepare() {
        if done.load(ordering: .acquiring) { return }
        if runner.load(ordering: .sequentiallyConsistent) == UInt(pthread_self()) { return }
        ForkGate.enter()
        _ = ran
        done.store(true, ordering: .releasing)
        ForkGate.leave()
    }

    private static func runFilePaths() {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        var template = Array((base + "/portmanager-prepare-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else { return }
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { removeTree(directory) }
        let registryPath = directory + "/registry.yaml"
        let yaml = "warm:\n  port: 40020\n  range_port: \"40030-40031\"\n  max_instances: 3\n"
        let fd = open(registryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let written = yaml.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        guard written == yaml.utf8.count else { return }
        Log.deferring {
            defer { Log.dropHeldBack(after: 0) }  // not the caller's events
            var handle: OpaquePointer?
            guard pm_registry_open(registryPath, &handle) == 0, let handle else { return }
            defer { pm_registry_close(handle) }
            var instance: Int32 = -1, released: Int32 = 0, needed = 0
            var buffer = [CChar](repeating: 0, count: 4096)
            let service = staticCString("warm")
            _ = pm_reserve(handle, directory, service, -1, nil, 0, 1, &instance)
            _ = pm_reserve(handle, directory, service, 1, "prepare", 60, 0, &instance)
            _ = pm_reserve(handle, directory, service, 0, "other", 0, 1, &instance)  // taken: refused
            _ = pm_last_error()
            _ = pm_renew(handle, directory, service, 1, "prepare", 120, 0)
            _ = pm_reservations_json(handle, directory, nil, nil, 0, &needed)
            _ = pm_reservations_json(handle, directory, nil, &buffer, UInt(buffer.count), &needed)
            _ = pm_release(handle, directory, service, 0, "other", 0, &released)  // not the owner: refused
            _ = pm_last_error()
            _ = pm_release(handle, directory, service, 0, nil, 0, &released)
            _ = pm_release(handle, directory, service, 1, "prepare", 0, &released)
        }
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

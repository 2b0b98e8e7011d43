#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// A process, told apart from any later process that reuses its pid, from
/// processes of another boot and from processes of another PID namespace: its
/// pid, its start time (field 22 of `/proc/PID/stat`, clock ticks since boot),
/// the boot id (`/proc/sys/kernel/random/boot_id`) and the inode of its PID
/// namespace (`/proc/PID/ns/pid`, which reads `pid:[INODE]`).
///
/// The start time does not change across `exec`, so a process that owns a
/// reservation keeps it when it replaces its image (`portmanager run`).
///
/// A pid means something only in its own PID namespace: pid 1 in a container is
/// not the host's pid 1. A process whose namespace differs from the asking
/// process's is therefore never judged by its pid (``liveness`` is
/// ``Liveness/unknown``) and its reservation is never reaped from outside.
public struct ProcessIdentity: Sendable, Hashable {
    /// The process id, in the process's own PID namespace.
    public var pid: Int
    /// Clock ticks from boot to the start of the process.
    public var startTime: UInt64
    /// The kernel's boot id, a UUID that changes on every boot.
    public var bootID: String
    /// The inode of the process's PID namespace; nil when not known (a
    /// reservation written by a library before schema 2, taken to be of the
    /// asking process's namespace, as that library assumed).
    public var pidNamespace: UInt64?

    /// Creates an identity from its parts (tests use it to simulate a reused
    /// pid, a reboot or another PID namespace).
    public init(pid: Int, startTime: UInt64, bootID: String, pidNamespace: UInt64? = nil) {
        self.pid = pid
        self.startTime = startTime
        self.bootID = bootID
        self.pidNamespace = pidNamespace
    }

    /// What can be told about whether a process still runs.
    public enum Liveness: String, Sendable, Hashable {
        /// It runs (same boot, namespace, pid and start time).
        case alive
        /// It ended: another boot, its pid is gone or reused, or it is a zombie.
        case ended
        /// It is in another PID namespace, whose pids this process cannot look
        /// up: it counts as running.
        case unknown
    }

    /// The calling process.
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` when `/proc` cannot be read.
    public static func current() throws -> ProcessIdentity {
        let pid = Int(getpid())
        if let known = selfCache.read(), known.pid == pid { return known }  // a forked child has another pid
        // /proc/self, not /proc/PID: a /proc mounted for another PID namespace
        // (unshare -p without --mount-proc) numbers this process differently.
        guard let stat = readSmall("/proc/self/stat"), let start = parseStat(stat)?.startTime else {
            throw PortManagerError.io(path: "/proc/self/stat", reason: "cannot read the start time of this process")
        }
        let identity = ProcessIdentity(pid: pid, startTime: start, bootID: try currentBootID(),
                                       pidNamespace: ownNamespace().inode)
        selfCache.withLock { $0 = identity }
        return identity
    }

    private static let selfCache = Locked<ProcessIdentity?>(nil)

    /// Whether this process has not ended as far as can be told: true for
    /// ``Liveness/alive`` and ``Liveness/unknown``.
    public var isAlive: Bool { liveness != .ended }

    /// Whether this process still runs, as the calling process can tell. When
    /// `/proc/PID/stat` cannot be read (hidepid), or `/proc` is mounted for
    /// another namespace, a pid that exists counts as alive.
    public var liveness: Liveness {
        guard let boot = try? ProcessIdentity.currentBootID(), boot == bootID else { return .ended }
        guard pid > 0, let pid32 = Int32(exactly: pid) else { return .ended }
        let own = ProcessIdentity.ownNamespace()
        if let pidNamespace, let mine = own.inode, pidNamespace != mine { return .unknown }
        if own.procIsOwn, let text = ProcessIdentity.readSmall("/proc/\(pid)/stat") {
            guard let parsed = ProcessIdentity.parseStat(text) else { return .ended }
            // A zombie has ended: only its parent's wait() is missing.
            if parsed.state == "Z" || parsed.state == "X" { return .ended }
            return parsed.startTime == startTime ? .alive : .ended
        }
        return kill(pid32, 0) == 0 || errno == EPERM ? .alive : .ended
    }

    /// The inode of the calling process's PID namespace, and whether `/proc`
    /// shows this namespace's pids (`/proc/self` names `getpid()`); read once per process.
    static func ownNamespace() -> (inode: UInt64?, procIsOwn: Bool) {
        let pid = getpid()
        if let known = namespaceCache.read(), known.pid == pid { return (known.inode, known.procIsOwn) }
        let inode = namespaceInode(readLink("/proc/self/ns/pid"))
        let procIsOwn = readLink("/proc/self") == String(pid)
        namespaceCache.withLock { $0 = (pid, inode, procIsOwn) }
        return (inode, procIsOwn)
    }

    private static let namespaceCache = Locked<(pid: pid_t, inode: UInt64?, procIsOwn: Bool)?>(nil)

    /// `pid:[4026531836]` -> 4026531836; nil for anything else.
    static func namespaceInode(_ link: String?) -> UInt64? {
        guard let link, link.hasPrefix("pid:["), link.hasSuffix("]") else { return nil }
        return UInt64(link.dropFirst(5).dropLast())
    }

    /// The boot id, read once per process.
    public static func currentBootID() throws -> String {
        if let id = bootIDCache.read() { return id }
        guard let text = readSmall("/proc/sys/kernel/random/boot_id") else {
            throw PortManagerError.io(path: "/proc/sys/kernel/random/boot_id", reason: "cannot read the boot id")
        }
        let id = String(text.filter { !$0.isWhitespace })
        bootIDCache.withLock { $0 = id }
        return id
    }

    private static let bootIDCache = Locked<String?>(nil)

    /// Field 22 of `/proc/PID/stat`, or nil when the process does not exist or
    /// cannot be read, or `/proc` numbers another PID namespace's processes.
    public static func startTime(of pid: Int) -> UInt64? {
        guard ownNamespace().procIsOwn else { return nil }
        return readSmall("/proc/\(pid)/stat").flatMap(parseStat)?.startTime
    }

    /// Fields 3 (state: `R`, `S`, `Z` ...) and 22 (start time) of a `/proc/PID/stat` text.
    static func parseStat(_ text: String) -> (state: Character, startTime: UInt64)? {
        // The command (field 2) is in parentheses and may hold spaces and ')':
        // the fields that follow start after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19, let state = fields[0].first, let start = UInt64(fields[19]) else { return nil }
        return (state, start)
    }

    /// The command name of a process (`/proc/PID/comm`), or nil (also when
    /// `/proc` numbers another PID namespace's processes).
    public static func command(of pid: Int) -> String? {
        guard ownNamespace().procIsOwn else { return nil }
        return command(at: "/proc/\(pid)/comm")
    }

    /// The command name of the calling process (`/proc/self/comm`), or nil.
    public static func currentCommand() -> String? { command(at: "/proc/self/comm") }

    private static func command(at path: String) -> String? {
        guard let text = readSmall(path) else { return nil }
        var name = text
        while name.last == "\n" { name.removeLast() }
        return name
    }

    /// The target of a symbolic link in /proc, or nil.
    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads a small /proc file (at most 4 KiB), or nil.
    private static func readSmall(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            total += n
        }
        guard total > 0 else { return nil }
        return String(decoding: buffer[0..<total], as: UTF8.self)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// A process, told apart from any later process that reuses its pid and from
/// processes of another boot: its pid, its start time (field 22 of
/// `/proc/PID/stat`, clock ticks since boot) and the boot id
/// (`/proc/sys/kernel/random/boot_id`).
///
/// The start time does not change across `exec`, so a process that owns a
/// reservation keeps it when it replaces its image (`portmanager run`).
public struct ProcessIdentity: Sendable, Hashable {
    /// The process id.
    public var pid: Int
    /// Clock ticks from boot to the start of the process.
    public var startTime: UInt64
    /// The kernel's boot id, a UUID that changes on every boot.
    public var bootID: String

    /// Creates an identity from its parts (tests use it to simulate a reused pid or a reboot).
    public init(pid: Int, startTime: UInt64, bootID: String) {
        self.pid = pid
        self.startTime = startTime
        self.bootID = bootID
    }

    /// The calling process.
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` when `/proc` cannot be read.
    public static func current() throws -> ProcessIdentity {
        let pid = Int(getpid())
        if let known = selfCache.read(), known.pid == pid { return known }  // a forked child has another pid
        guard let start = startTime(of: pid) else {
            throw PortManagerError.io(path: "/proc/self/stat", reason: "cannot read the start time of this process")
        }
        let identity = ProcessIdentity(pid: pid, startTime: start, bootID: try currentBootID())
        selfCache.withLock { $0 = identity }
        return identity
    }

    private static let selfCache = Locked<ProcessIdentity?>(nil)

    /// Whether this process still runs: same boot, and the pid is alive with the
    /// same start time. When `/proc/PID/stat` cannot be read (hidepid), a pid
    /// that exists counts as alive.
    public var isAlive: Bool {
        guard let boot = try? ProcessIdentity.currentBootID(), boot == bootID else { return false }
        guard pid > 0, let pid32 = Int32(exactly: pid) else { return false }
        if let start = ProcessIdentity.startTime(of: pid) { return start == startTime }
        return kill(pid32, 0) == 0 || errno == EPERM
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

    /// Field 22 of `/proc/PID/stat`, or nil when the process does not exist or cannot be read.
    public static func startTime(of pid: Int) -> UInt64? {
        guard let text = readSmall("/proc/\(pid)/stat") else { return nil }
        // The command (field 2) is in parentheses and may hold spaces and ')':
        // the fields that follow start after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// The command name of a process (`/proc/PID/comm`), or nil.
    public static func command(of pid: Int) -> String? {
        guard let text = readSmall("/proc/\(pid)/comm") else { return nil }
        var name = text
        while name.last == "\n" { name.removeLast() }
        return name
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

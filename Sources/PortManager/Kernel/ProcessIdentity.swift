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
        guard let start = readStat(path: "/proc/self/stat")?.startTime else {
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
        var probe = Probe()
        return probe.liveness(of: self)
    }

    /// Liveness for one call: the boot id and this process's namespace are
    /// looked up once, and each pid's `/proc/PID/stat` is read at most once,
    /// however many reservations that pid owns. A pid read as ended stays
    /// ended (its start time can only move on); one read as running may have
    /// ended since, which counts it as running a moment longer: never a take
    /// of a live owner's reservation.
    struct Probe {
        private let boot: String?
        private let own: (inode: UInt64?, procIsOwn: Bool)
        /// pid -> (state, start time) of `/proc/PID/stat`, or nil when it could not be read.
        private var seen: [Int: (state: UInt8, startTime: UInt64)?] = [:]
        /// Handles of processes found running by earlier calls (a store's), if any.
        private let watch: ProcessWatch?

        /// A probe for one call; `watch` keeps process handles from one call to the next.
        init(watching watch: ProcessWatch? = nil) {
            boot = try? ProcessIdentity.currentBootID()
            own = ProcessIdentity.ownNamespace()
            self.watch = watch
        }

        mutating func liveness(of process: ProcessIdentity) -> Liveness {
            guard let boot, boot == process.bootID else { return .ended }
            guard process.pid > 0, let pid32 = Int32(exactly: process.pid) else { return .ended }
            if let pidNamespace = process.pidNamespace, let mine = own.inode, pidNamespace != mine { return .unknown }
            if own.procIsOwn {
                if let watch, let running = watch.isRunning(pid: pid32, startTime: process.startTime) {
                    return running ? .alive : .ended
                }
                let stat: (state: UInt8, startTime: UInt64)?
                if let known = seen[process.pid] {
                    stat = known
                } else {
                    stat = ProcessIdentity.readStat(pid: pid32)
                    seen[process.pid] = .some(stat)
                }
                if let stat {
                    // A zombie has ended: only its parent's wait() is missing.
                    if stat.state == UInt8(ascii: "Z") || stat.state == UInt8(ascii: "X") { return .ended }
                    return stat.startTime == process.startTime ? .alive : .ended
                }
            }
            return kill(pid32, 0) == 0 || errno == EPERM ? .alive : .ended
        }
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
        guard ownNamespace().procIsOwn, let pid32 = Int32(exactly: pid), pid32 > 0 else { return nil }
        return readStat(pid: pid32)?.startTime
    }

    /// Fields 3 (state) and 22 (start time) of `/proc/PID/stat`, or nil. The
    /// path is written and the file read into stack buffers, without a String.
    static func readStat(pid: Int32) -> (state: UInt8, startTime: UInt64)? {
        withProcPath(pid, "stat") { readStat(path: $0) }
    }

    /// Runs `body` with `/proc/PID/NAME` as a C string in a stack buffer; nil
    /// for a pid that is not positive or a name longer than 16 bytes.
    private static func withProcPath<R>(_ pid: Int32, _ name: StaticString, _ body: (UnsafePointer<CChar>) -> R?) -> R? {
        guard pid > 0, name.utf8CodeUnitCount <= 16 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 40) { path in
            var n = 0
            for byte in "/proc/".utf8 { path[n] = CChar(bitPattern: byte); n += 1 }
            var digits = 0
            var rest = pid
            repeat { digits += 1; rest /= 10 } while rest > 0
            rest = pid
            for index in stride(from: n + digits - 1, through: n, by: -1) {
                path[index] = CChar(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
            }
            n += digits
            path[n] = CChar(UInt8(ascii: "/"))
            n += 1
            name.withUTF8Buffer { for byte in $0 { path[n] = CChar(bitPattern: byte); n += 1 } }
            path[n] = 0
            return body(path.baseAddress!)
        }
    }

    /// Reads at most `capacity` bytes of a /proc file into a stack buffer and
    /// runs `body` on them; nil when the file cannot be opened (``FileReader``).
    private static func withProcFile<R>(_ path: UnsafePointer<CChar>, capacity: Int,
                                        _ body: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        FileReader.withPrefix(path, options: [.noFollow, .nonBlocking], capacity: capacity, body)
    }

    /// ``readStat(pid:)`` of a path.
    static func readStat(path: UnsafePointer<CChar>) -> (state: UInt8, startTime: UInt64)? {
        withProcFile(path, capacity: 1024) { parseStat($0) }  // 52 fields and a 16-byte command fit
    }

    /// Fields 3 (state: `R`, `S`, `Z` ...) and 22 (start time) of the bytes of a `/proc/PID/stat`.
    static func parseStat(_ bytes: UnsafeBufferPointer<UInt8>) -> (state: UInt8, startTime: UInt64)? {
        // The command (field 2) is in parentheses and may hold spaces and ')':
        // the fields that follow start after the last ')', each after one space.
        var index = bytes.count
        repeat { index -= 1 } while index >= 0 && bytes[index] != UInt8(ascii: ")")
        guard index >= 0, index + 3 < bytes.count, bytes[index + 1] == UInt8(ascii: " ") else { return nil }
        let state = bytes[index + 2]
        index += 3
        // Past field 3: skip to the 19th space after it, where field 22 starts.
        var spaces = 0
        while index < bytes.count && spaces < 19 {
            if bytes[index] == UInt8(ascii: " ") { spaces += 1 }
            index += 1
        }
        guard spaces == 19 else { return nil }
        var start: UInt64 = 0
        var digits = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times, o1) = start.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            start = sum
            digits += 1
            index += 1
        }
        guard digits > 0, index == bytes.count || bytes[index] == UInt8(ascii: " ") else { return nil }
        return (state, start)
    }

    /// ``parseStat(_:)`` of text (tests).
    static func parseStat(_ text: String) -> (state: UInt8, startTime: UInt64)? {
        Array(text.utf8).withUnsafeBufferPointer { parseStat($0) }
    }

    /// The command name of a process (`/proc/PID/comm`), or nil (also when
    /// `/proc` numbers another PID namespace's processes).
    public static func command(of pid: Int) -> String? {
        guard ownNamespace().procIsOwn, let pid32 = Int32(exactly: pid) else { return nil }
        return withProcPath(pid32, "comm") { path in
            withProcFile(path, capacity: 64) { bytes in
                var end = bytes.count
                while end > 0 && bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
                return bytes.isEmpty ? nil : String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
            }
        }
    }

    /// The parent of process `pid` (field 4 of `/proc/PID/stat`), or nil when
    /// it cannot be read (also when `/proc` numbers another PID namespace's processes).
    static func parentPID(of pid: Int) -> Int? {
        guard ownNamespace().procIsOwn, let pid32 = Int32(exactly: pid) else { return nil }
        return withProcPath(pid32, "stat") { path in
            withProcFile(path, capacity: 1024) { bytes -> Int? in
                // After the command's last ')': " S PPID ...".
                var index = bytes.count
                repeat { index -= 1 } while index >= 0 && bytes[index] != UInt8(ascii: ")")
                guard index >= 0, index + 4 < bytes.count else { return nil }
                var value = 0, digits = 0
                index += 4
                while index < bytes.count, digits < 10, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                    value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                    digits += 1
                    index += 1
                }
                return digits > 0 ? value : nil
            }
        }
    }

    /// Whether process `pid` is `ancestor` or one of its descendants (its
    /// parents followed at most 64 levels up).
    static func isDescendant(_ pid: Int, of ancestor: Int) -> Bool {
        var current = pid
        for _ in 0..<64 {
            if current == ancestor { return true }
            guard current > 1, let parent = parentPID(of: current) else { return false }
            current = parent
        }
        return false
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

    /// Reads a small /proc file (at most 4 KiB), or nil when it cannot be opened or is empty.
    private static func readSmall(_ path: String) -> String? {
        path.withCString { path in
            withProcFile(path, capacity: 4096) { $0.isEmpty ? nil : String(decoding: $0, as: UTF8.self) }
        }
    }
}

/// Handles (pidfds) of the process owners a store found running, kept from one
/// call to the next, so that telling whether such an owner still runs is one
/// `poll` instead of reading and parsing its `/proc/PID/stat`.
///
/// Why a handle may be kept: a pidfd names one process, never a pid number, so
/// nobody can swap what it refers to; it becomes readable when that process
/// ends (a zombie included) and stays so. It is opened *before* the
/// `/proc/PID/stat` read that confirms the start time: a process that held the
/// pid at the read, with that start time, existed since before the pidfd was
/// opened, so the pidfd is that process's.
///
/// Used only where pids are judged at all (the owner is in the caller's PID
/// namespace and `/proc` is its own); `pidfd_open` is looked up at run time
/// (glibc 2.36 and later), and without it every check reads `/proc`. One per
/// store, used with the store's locks held; at most ``limit`` handles.
final class ProcessWatch {
    /// The most handles kept open.
    static let limit = 64
    private typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    private let pidfdOpen: PidfdOpen?
    /// pid -> the start time of the process that held it when its handle was opened, and the handle.
    private var handles: [Int32: (startTime: UInt64, fd: Int32)] = [:]

    init() {
        pidfdOpen = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open").map { unsafeBitCast($0, to: PidfdOpen.self) }
    }

    deinit { closeAll() }

    /// Closes every handle (a store that is closed, or left behind by a fork).
    func closeAll() {
        for handle in handles.values { close(handle.fd) }
        handles = [:]
    }

    /// Whether the process `pid` that started at `startTime` (clock ticks
    /// after boot) runs; nil when this cannot be told here (no pidfd, no
    /// handle to spare, `/proc/PID/stat` unreadable): the caller reads `/proc`.
    func isRunning(pid: Int32, startTime: UInt64) -> Bool? {
        if let known = handles[pid] {
            if !ended(known.fd) { return known.startTime == startTime }  // the pid is that process's still
            close(known.fd)
            handles[pid] = nil
        }
        guard let pidfdOpen else { return nil }
        let fd = pidfdOpen(pid, 0)
        guard fd >= 0 else { return errno == ESRCH ? false : nil }
        guard let stat = ProcessIdentity.readStat(pid: pid) else { close(fd); return nil }
        // A zombie has ended: only its parent's wait() is missing.
        if stat.state == UInt8(ascii: "Z") || stat.state == UInt8(ascii: "X") { close(fd); return false }
        if handles.count >= Self.limit, let evicted = handles.first {
            close(evicted.value.fd)
            handles[evicted.key] = nil
        }
        handles[pid] = (stat.startTime, fd)
        return stat.startTime == startTime
    }

    /// Whether the process of a pidfd has ended (its pidfd is readable).
    private func ended(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&entry, 1, 0)
        return n != 0  // readable, or an error: look again from scratch
    }
}

#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// Where the reservation store lives, and the checks that make it safe to use
/// in a directory other users can reach.
///
/// Location: `$PORTMANAGER_STATE_DIR` when set and not empty; else
/// `/var/lib/portmanager` for root and `$XDG_STATE_HOME/portmanager` (default
/// `~/.local/state/portmanager`) for other users. A path is bytes, used as
/// given (never decoded), so two paths that differ in a byte that is not
/// UTF-8 are two stores.
///
/// Opening (``open(_:createParents:)``): the directory is reached by a walk from
/// `/`, one `openat(O_PATH|O_DIRECTORY|O_NOFOLLOW)` per component, each checked
/// on its handle (`fstat`), and the database is then opened through the final
/// handle, so no directory can be swapped between the check and the use.
///
/// Trust:
/// - every directory above the state directory must be owned by root or the
///   caller, and not writable by every user unless sticky (like /tmp): whoever
///   else may rename its entries could swap what is below;
/// - a symbolic link above the state directory is followed only when the
///   directory holding it passed that check and is not writable by every user
///   (even sticky); its target is walked and checked the same way;
/// - the state directory itself must be a real directory (not a symbolic link,
///   with or without a trailing `/`), owned by the caller or by root, and not
///   writable by others (world). A group-writable directory is the *shared*
///   setup: every member of its group is trusted, and files in it owned by other
///   users are accepted when they belong to the directory's group;
/// - every file of the store (the database and SQLite's `-wal`, `-shm` and
///   `-journal` files) must be a regular file, not a symbolic link, neither
///   readable nor writable by others (any process that may read the database
///   may hold a read lock and block every writer), and owned by the caller, by
///   root or (shared) by the directory's group. The directory itself may be
///   readable by others: that alone opens nothing.
///
/// All of this is checked before anything in the directory is opened or
/// created, so a planted symlink or FIFO is refused, never followed.
public enum StateDirectory {
    /// The environment variable that names the state directory.
    public static let variable = "PORTMANAGER_STATE_DIR"
    /// The state directory of root.
    public static let rootDefault = "/var/lib/portmanager"
    /// The database file, inside the state directory.
    public static let databaseName = "reservations.db"
    /// SQLite's companion files, created next to the database.
    static let companionSuffixes = ["-wal", "-shm", "-journal"]
    /// The most symbolic links one walk follows, as the kernel's own limit.
    static let maxLinks = 40

    /// The directory in force when none is given: see the type's documentation.
    public static func resolve(_ explicit: String? = nil) throws -> (path: String, isDefault: Bool) {
        let (path, isDefault) = try resolve(bytes: explicit.map { Array($0.utf8) })
        return (PathText.text(path), isDefault)
    }

    /// ``resolve(_:)`` with paths as bytes (a C string, an argv entry, the environment's value).
    public static func resolve(bytes explicit: [UInt8]?) throws -> (path: [UInt8], isDefault: Bool) {
        if let explicit {
            guard !explicit.isEmpty else { throw PortManagerError.invalidArgument("the state directory is empty") }
            return (explicit, false)
        }
        if let fromEnvironment = Registry.nonEmptyVariableBytes(variable) { return (fromEnvironment, false) }
        if geteuid() == 0 { return (Array(rootDefault.utf8), true) }
        if let xdg = Registry.nonEmptyVariableBytes("XDG_STATE_HOME"), xdg.first == UInt8(ascii: "/") {
            return (xdg + Array("/portmanager".utf8), true)
        }
        guard let home = Registry.nonEmptyVariableBytes("HOME") ?? passwordHome() else {
            throw PortManagerError.invalidArgument("no state directory: set $\(variable) (neither $XDG_STATE_HOME nor $HOME is set)")
        }
        return (home + Array("/.local/state/portmanager".utf8), true)
    }

    private static func passwordHome() -> [UInt8]? {
        guard let entry = getpwuid(geteuid()), let dir = entry.pointee.pw_dir else { return nil }
        let home = Array(UnsafeRawBufferPointer(start: dir, count: strlen(dir)))
        return home.isEmpty ? nil : home
    }

    /// A state directory that passed the checks, held open (`O_PATH`,
    /// `O_CLOEXEC`) for as long as this object lives: the store opens its files
    /// through ``procPath(_:)``, which reaches this very directory whatever
    /// happens to its path.
    final class Handle: Sendable {
        /// The path as given.
        let path: [UInt8]
        /// The open directory.
        let fd: Int32
        /// Its `fstat` when it was checked.
        let status: stat
        /// Group-writable: files of other members of the directory's group are accepted.
        var shared: Bool { status.st_mode & S_IWGRP != 0 }

        init(path: [UInt8], fd: Int32, status: stat) {
            self.path = path
            self.fd = fd
            self.status = status
        }

        deinit { close(fd) }

        /// The path as errors carry it (``PortManagerError/state(path:reason:)`` cuts it for messages).
        var text: String { PathText.text(path) }

        /// `name` in this directory as a path through the handle: `/proc/self/fd/N/name`.
        func procPath(_ name: String) -> String { "/proc/self/fd/\(fd)/" + name }

        /// The path of `name` in this directory, for messages.
        func shown(_ name: String) -> String { PathText.text(path + [UInt8(ascii: "/")] + Array(name.utf8)) }
    }

    /// Walks to the directory `path` from `/`, checking every directory on the way
    /// and the directory itself (see the type's documentation), creating it if
    /// missing (0700) and, when `createParents` (a default location), its missing
    /// parents too (0700). Nothing is created before every existing directory
    /// above it has passed.
    static func open(_ path: [UInt8], createParents: Bool) throws -> Handle {
        let shownPath = PathText.text(path)
        func refuse(_ reason: String) -> PortManagerError { .state(path: shownPath, reason: reason) }
        guard !path.contains(0) else { throw PortManagerError.invalidArgument("the state directory \(PathText.shown(path)) holds a NUL byte") }
        var absolute = path
        if path.first != UInt8(ascii: "/") {
            guard let cwd = currentDirectory() else { throw refuse("cannot find the working directory: " + describe(errno: errno)) }
            absolute = cwd + [UInt8(ascii: "/")] + path
        }
        // Components still to walk, the next one last.
        var pending = Array(components(of: absolute).reversed())
        // The directory reached so far, its path (for messages) and its fstat.
        var current = try openRoot(refuse)
        defer { if current.fd >= 0 { close(current.fd) } }
        var links = 0
        while let name = pending.popLast() {
            if name == [UInt8(ascii: ".")] { continue }
            let isLast = pending.allSatisfy { $0 == [UInt8(ascii: ".")] }
            if name == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                // The parent of what was reached, as the kernel takes `..`; checked like any other.
                let parentPath = current.path.count > 1 ? Array(current.path[..<(current.path.lastIndex(of: UInt8(ascii: "/")) ?? 0)]) : []
                let next = try step(into: current, name: name, path: parentPath.isEmpty ? [UInt8(ascii: "/")] : parentPath,
                                    isLast: isLast, refuse)
                close(current.fd)
                current = next
                continue
            }
            let childPath = (current.path == [UInt8(ascii: "/")] ? [] : current.path) + [UInt8(ascii: "/")] + name
            var info = stat()
            if try withCPath(name, { fstatat(current.fd, $0, &info, AT_SYMLINK_NOFOLLOW) }) != 0 {
                let code = errno
                guard code == ENOENT else {
                    throw refuse(isLast ? "cannot inspect: " + describe(errno: code)
                                        : "cannot inspect \(PathText.shown(childPath)): " + describe(errno: code))
                }
                guard isLast || createParents else {
                    throw refuse("cannot create the state directory: \(PathText.shown(childPath)) does not exist")
                }
                if try withCPath(name, { mkdirat(current.fd, $0, 0o700) }) != 0 && errno != EEXIST {
                    throw refuse(isLast ? "cannot create the state directory: " + describe(errno: errno)
                                        : "cannot create the directory \(PathText.shown(childPath)): " + describe(errno: errno))
                }
                pending.append(name)  // inspect what is there now
                continue
            }
            if info.st_mode & S_IFMT == S_IFLNK {
                if isLast { throw refuse("the state directory is a symbolic link; refusing to follow it") }
                // Anyone who may write the directory holding the link may change where it points.
                guard current.status.st_mode & S_IWOTH == 0 else {
                    throw refuse("the symbolic link \(PathText.shown(childPath)) is in a directory every user may write; refusing to follow it")
                }
                links += 1
                guard links <= maxLinks else { throw refuse("more than \(maxLinks) symbolic links above it, the last \(PathText.shown(childPath))") }
                guard let target = try withCPath(name, { readLink(at: current.fd, $0) }), !target.isEmpty else {
                    throw refuse("cannot read the symbolic link \(PathText.shown(childPath)): " + describe(errno: errno))
                }
                pending += components(of: target).reversed()
                if target.first == UInt8(ascii: "/") {
                    close(current.fd)
                    current.fd = -1
                    current = try openRoot(refuse)
                }
                continue
            }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw refuse(isLast ? "the state directory is not a directory" : "\(PathText.shown(childPath)) is not a directory")
            }
            let next = try step(into: current, name: name, path: childPath, isLast: isLast, refuse)
            close(current.fd)
            current = next
        }
        // The walk ended on the directory itself (a path of only `/`, `.` or `..` ends on a checked ancestor).
        try checkDirectory(shownPath, current.status)
        let handle = Handle(path: path, fd: current.fd, status: current.status)
        current.fd = -1
        return handle
    }

    /// `path` opened again with one lookup by the kernel, when it reaches the
    /// very directory `known` (a handle from an earlier ``open(_:createParents:)``
    /// that is still held open) and that directory, checked on the new handle,
    /// still passes ``checkDirectory(_:_:)``; else nil, and the caller walks.
    ///
    /// What this trusts from the earlier walk is only the directory's identity
    /// (device and inode), which cannot be swapped: `known` holds the directory
    /// open, so its inode cannot be freed and given to another, and whatever
    /// happens to the directories above (a rename, a planted link) the lookup
    /// either reaches that same directory, which passed every check by handle,
    /// or another, which is walked and checked from `/`. The directory's own
    /// owner and mode are checked on every call, on the new handle; so are the
    /// store's files (``checkFiles(_:)``). An ancestor whose owner or mode
    /// changes without anything being moved is refused by the next walk (a new
    /// process, or a path that reaches another directory), not by this one.
    static func reopen(_ path: [UInt8], sameAs known: Handle) -> Handle? {
        guard let fd = try? withCPath(path, { Glibc.open($0, openFlags) }), fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_dev == known.status.st_dev, info.st_ino == known.status.st_ino,
              (try? checkDirectory("", info)) != nil else {
            close(fd)
            return nil
        }
        return Handle(path: path, fd: fd, status: info)
    }

    /// A directory reached by the walk.
    private struct Reached {
        var fd: Int32
        var path: [UInt8]
        var status: stat
    }

    private static func openRoot(_ refuse: (String) -> PortManagerError) throws -> Reached {
        let fd = Glibc.open("/", openFlags)
        guard fd >= 0 else { throw refuse("cannot open /: " + describe(errno: errno)) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { close(fd); throw refuse("cannot inspect /: " + describe(errno: errno)) }
        let root = Reached(fd: fd, path: [UInt8(ascii: "/")], status: info)
        do { try checkAncestor(root, refuse) } catch { close(fd); throw error }
        return root
    }

    /// Opens `name` in `from`, checks it on its handle as an
    /// ancestor (or, `isLast`, leaves it to ``checkDirectory(_:_:)``).
    private static func step(into from: Reached, name: [UInt8], path: [UInt8], isLast: Bool,
                             _ refuse: (String) -> PortManagerError) throws -> Reached {
        let fd = try withCPath(name) { openat(from.fd, $0, openFlags) }
        guard fd >= 0 else {
            let code = errno
            throw refuse(code == ELOOP || code == ENOTDIR
                ? "\(PathText.shown(path)) was replaced while it was checked"
                : "cannot open \(PathText.shown(path)): " + describe(errno: code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw refuse("cannot inspect \(PathText.shown(path)): " + describe(errno: code))
        }
        let reached = Reached(fd: fd, path: path, status: info)
        if !isLast {
            do { try checkAncestor(reached, refuse) } catch { close(fd); throw error }
        }
        return reached
    }

    /// `O_PATH`: the walk needs only search permission on each directory, never read.
    private static let openFlags: Int32 = oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

    /// Linux's `O_PATH` (`<fcntl.h>` with `_GNU_SOURCE`), which the Glibc module
    /// does not export: 010000000 on x86, ARM, AArch64, RISC-V and PowerPC.
    private static let oPath: Int32 = 0o10000000

    /// Whoever may rename entries of a directory above the state directory could
    /// swap what is below it: it must belong to the caller or root, and be
    /// writable by every user only when sticky (like /tmp).
    private static func checkAncestor(_ directory: Reached, _ refuse: (String) -> PortManagerError) throws {
        let me = geteuid()
        let info = directory.status
        guard info.st_uid == me || info.st_uid == 0 else {
            throw refuse("the directory \(PathText.shown(directory.path)) above it is owned by uid \(info.st_uid), who could replace what is below it")
        }
        guard info.st_mode & S_IWOTH == 0 || info.st_mode & S_ISVTX != 0 else {
            throw refuse("the directory \(PathText.shown(directory.path)) above it is writable by every user and not sticky")
        }
    }

    static func checkDirectory(_ path: String, _ info: stat) throws {
        let kind = info.st_mode & S_IFMT
        if kind == S_IFLNK { throw refusal(path, "the state directory is a symbolic link; refusing to follow it") }
        guard kind == S_IFDIR else { throw refusal(path, "the state directory is not a directory") }
        let me = geteuid()
        guard info.st_uid == me || info.st_uid == 0 else {
            throw refusal(path, "the state directory is owned by uid \(info.st_uid), not by uid \(me) or root")
        }
        guard info.st_mode & S_IWOTH == 0 else {
            throw refusal(path, "the state directory is writable by every user (mode \(octal(info.st_mode)))")
        }
    }

    /// Checks every file of the store that exists (`fstatat` in the handle,
    /// never following a link); returns whether the database exists.
    static func checkFiles(_ directory: Handle) throws -> Bool {
        var databaseExists = false
        for suffix in [""] + companionSuffixes {
            let name = databaseName + suffix
            var info = stat()
            if fstatat(directory.fd, name, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT else { throw refusal(directory.shown(name), "cannot inspect: " + describe(errno: errno)) }
                continue
            }
            if suffix.isEmpty { databaseExists = true }
            try checkFile(directory.shown(name), info, in: directory)
        }
        return databaseExists
    }

    static func checkFile(_ path: String, _ info: stat, in directory: Handle) throws {
        let kind = info.st_mode & S_IFMT
        if kind == S_IFLNK { throw refusal(path, "is a symbolic link; refusing to follow it") }
        guard kind == S_IFREG else { throw refusal(path, "is not a regular file (a FIFO, device or directory?)") }
        let me = geteuid()
        let trusted = info.st_uid == me || info.st_uid == 0
            || (directory.shared && info.st_gid == directory.status.st_gid)
        guard trusted else {
            throw refusal(path, "is owned by uid \(info.st_uid), not by uid \(me) or root"
                + (directory.shared ? " nor by the directory's group" : ""))
        }
        guard info.st_mode & S_IWOTH == 0 else {
            throw refusal(path, "is writable by every user (mode \(octal(info.st_mode)))")
        }
        guard info.st_mode & S_IROTH == 0 else {
            throw refusal(path, "is readable by every user (mode \(octal(info.st_mode))): any user could hold a read lock and block every writer; chmod o-rwx it")
        }
    }

    /// Creates the database file (0600, or 0660 in a shared directory) in the
    /// handle if it is missing, without following links and without blocking, then checks it.
    static func createDatabase(_ directory: Handle) throws {
        let mode: mode_t = directory.shared ? 0o660 : 0o600
        let fd = openat(directory.fd, databaseName, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        if fd < 0 {
            guard errno == EEXIST else {
                throw refusal(directory.shown(databaseName), "cannot create the database: " + describe(errno: errno))
            }
        } else {
            _ = fchmod(fd, mode)  // the umask may have removed group bits
            close(fd)
        }
        var info = stat()
        guard fstatat(directory.fd, databaseName, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw refusal(directory.shown(databaseName), "cannot inspect: " + describe(errno: errno))
        }
        try checkFile(directory.shown(databaseName), info, in: directory)
    }

    static func refusal(_ path: String, _ reason: String) -> PortManagerError {
        .state(path: path, reason: reason)
    }

    static func octal(_ mode: mode_t) -> String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }

    /// The non-empty components of a path.
    private static func components(of path: [UInt8]) -> [[UInt8]] {
        path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
    }

    /// The working directory as the kernel names it (no symbolic links), or nil.
    private static func currentDirectory() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let found = buffer.withUnsafeMutableBytes { getcwd($0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) != nil }
        guard found, let end = buffer.firstIndex(of: 0) else { return nil }
        return Array(buffer[..<end])
    }

    /// The target of the symbolic link `name` in `fd`, or nil (errno set).
    private static func readLink(at fd: Int32, _ name: UnsafePointer<CChar>) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buffer.withUnsafeMutableBytes { readlinkat(fd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        guard n >= 0, n < buffer.count else { return nil }
        return Array(buffer[0..<n])
    }
}

#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// Where the reservation store lives, and the checks that make it safe to use
/// in a directory other users can reach.
///
/// Location: `$PORTMANAGER_STATE_DIR` when set and not empty; else
/// `/var/lib/portmanager` for root and `$XDG_STATE_HOME/portmanager` (default
/// `~/.local/state/portmanager`) for other users.
///
/// Trust: the directory must be a real directory (not a symbolic link), owned by
/// the caller or by root, and not writable by others (world). A group-writable
/// directory is the *shared* setup: every member of its group is trusted, and
/// files in it owned by other users are accepted when they belong to the
/// directory's group. Every file of the store (the database and SQLite's
/// `-wal`, `-shm` and `-journal` files) must be a regular file, not a symbolic
/// link, not writable by others, and owned by the caller, by root or (shared)
/// by the directory's group. All of this is checked before anything in the
/// directory is opened, so a planted symlink or FIFO is refused, never followed.
public enum StateDirectory {
    /// The environment variable that names the state directory.
    public static let variable = "PORTMANAGER_STATE_DIR"
    /// The state directory of root.
    public static let rootDefault = "/var/lib/portmanager"
    /// The database file, inside the state directory.
    public static let databaseName = "reservations.db"
    /// SQLite's companion files, created next to the database.
    static let companionSuffixes = ["-wal", "-shm", "-journal"]

    /// The directory in force when none is given: see the type's documentation.
    public static func resolve(_ explicit: String? = nil) throws -> (path: String, isDefault: Bool) {
        if let explicit {
            guard !explicit.isEmpty else { throw PortManagerError.invalidArgument("the state directory is empty") }
            return (explicit, false)
        }
        if let fromEnvironment = Registry.nonEmptyVariable(variable) { return (fromEnvironment, false) }
        if geteuid() == 0 { return (rootDefault, true) }
        if let xdg = Registry.nonEmptyVariable("XDG_STATE_HOME"), xdg.hasPrefix("/") {
            return (xdg + "/portmanager", true)
        }
        guard let home = Registry.nonEmptyVariable("HOME") ?? passwordHome() else {
            throw PortManagerError.invalidArgument("no state directory: set $\(variable) (neither $XDG_STATE_HOME nor $HOME is set)")
        }
        return (home + "/.local/state/portmanager", true)
    }

    private static func passwordHome() -> String? {
        guard let entry = getpwuid(geteuid()), let dir = entry.pointee.pw_dir else { return nil }
        let home = String(cString: dir)
        return home.isEmpty ? nil : home
    }

    /// A directory that passed the checks.
    struct Checked {
        var path: String
        var status: stat
        /// Group-writable: files of other members of the directory's group are accepted.
        var shared: Bool { status.st_mode & S_IWGRP != 0 }
        var databasePath: String { path + "/" + StateDirectory.databaseName }
    }

    /// Creates the directory if missing (0700; for a default location, its
    /// missing parents too, 0700), then checks it.
    static func prepare(_ path: String, createParents: Bool) throws -> Checked {
        var info = stat()
        if lstat(path, &info) != 0 {
            let code = errno
            guard code == ENOENT else { throw refusal(path, "cannot inspect: " + String(cString: strerror(code))) }
            if createParents { try makeParents(of: path) }
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw refusal(path, "cannot create the state directory: " + String(cString: strerror(errno)))
            }
            guard lstat(path, &info) == 0 else {
                throw refusal(path, "cannot inspect: " + String(cString: strerror(errno)))
            }
        }
        try checkDirectory(path, info)
        try checkParent(of: path)
        return Checked(path: path, status: info)
    }

    /// Whoever may rename entries of the parent could swap the checked directory
    /// for another after the check: the parent must belong to the caller or root,
    /// and be writable by every user only when sticky (like /tmp).
    static func checkParent(of path: String) throws {
        let parent = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var info = stat()
        guard stat(parent, &info) == 0 else {
            throw refusal(parent, "cannot inspect the parent of the state directory: " + String(cString: strerror(errno)))
        }
        let me = geteuid()
        guard info.st_uid == me || info.st_uid == 0 else {
            throw refusal(path, "its parent directory \(parent) is owned by uid \(info.st_uid), who could replace it")
        }
        guard info.st_mode & S_IWOTH == 0 || info.st_mode & S_ISVTX != 0 else {
            throw refusal(path, "its parent directory \(parent) is writable by every user and not sticky")
        }
    }

    private static func makeParents(of path: String) throws {
        var prefix = ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).dropLast()
        for part in parts {
            prefix += "/" + part
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw refusal(prefix, "cannot create the directory: " + String(cString: strerror(errno)))
            }
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

    /// Checks every file of the store that exists; returns whether the database exists.
    static func checkFiles(_ directory: Checked) throws -> Bool {
        var databaseExists = false
        for suffix in [""] + companionSuffixes {
            let path = directory.databasePath + suffix
            var info = stat()
            if lstat(path, &info) != 0 {
                guard errno == ENOENT else { throw refusal(path, "cannot inspect: " + String(cString: strerror(errno))) }
                continue
            }
            if suffix.isEmpty { databaseExists = true }
            try checkFile(path, info, in: directory)
        }
        return databaseExists
    }

    static func checkFile(_ path: String, _ info: stat, in directory: Checked) throws {
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
    }

    /// Creates the database file (0600, or 0660 in a shared directory) if it is
    /// missing, without following links and without blocking, then checks it.
    static func createDatabase(_ directory: Checked) throws {
        let path = directory.databasePath
        let mode: mode_t = directory.shared ? 0o660 : 0o600
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        if fd < 0 {
            guard errno == EEXIST else { throw refusal(path, "cannot create the database: " + String(cString: strerror(errno))) }
        } else {
            _ = fchmod(fd, mode)  // the umask may have removed group bits
            close(fd)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw refusal(path, "cannot inspect: " + String(cString: strerror(errno))) }
        try checkFile(path, info, in: directory)
    }

    static func refusal(_ path: String, _ reason: String) -> PortManagerError {
        .state(path: path, reason: reason)
    }

    static func octal(_ mode: mode_t) -> String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}

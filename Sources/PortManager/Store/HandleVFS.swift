#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import PortManagerCore

// SQLite's file-descriptor VFS: the store's database is opened through the
// checked directory handle (`/proc/self/fd/N/reservations.db`), never by path.

/// The name of the VFS that opens `/proc/self/fd/N/...` paths as they are;
/// nil when SQLite has no "unix" VFS to wrap. Registered once per process.
nonisolated(unsafe) let handleVFSName: UnsafePointer<CChar>? = {
    guard let unix = sqlite3_vfs_find("unix"), let name = strdup("portmanager-fd") else { return nil }
    let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)  // lives as long as the process
    vfs.initialize(to: unix.pointee)
    vfs.pointee.zName = UnsafePointer(name)
    vfs.pointee.pNext = nil
    vfs.pointee.xFullPathname = fullPathnameThroughHandle
    guard sqlite3_vfs_register(vfs, 0) == SQLITE_OK else { return nil }
    return UnsafePointer(name)
}()

/// The unix VFS's xFullPathname, except that a path through an open directory
/// (`/proc/self/fd/N/NAME`) stays as it is: the unix VFS would replace
/// `/proc/self/fd/N` with the directory's path name, and open that name later.
private func fullPathnameThroughHandle(_ vfs: UnsafeMutablePointer<sqlite3_vfs>?, _ name: UnsafePointer<CChar>?,
                                       _ size: Int32, _ out: UnsafeMutablePointer<CChar>?) -> Int32 {
    guard let name, let out, size > 0 else { return SQLITE_CANTOPEN }
    if strncmp(name, "/proc/self/fd/", 14) == 0 {
        let length = strlen(name)
        guard length < Int(size) else { return SQLITE_CANTOPEN }
        memcpy(out, name, length + 1)
        return SQLITE_OK
    }
    guard let unix = sqlite3_vfs_find("unix"), let full = unix.pointee.xFullPathname else { return SQLITE_CANTOPEN }
    return full(unix, name, size, out)
}

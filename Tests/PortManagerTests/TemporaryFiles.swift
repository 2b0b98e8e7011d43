import Glibc

/// Removes `path` and everything below it, in this process: no `system("rm -rf")`,
/// whose fork would hold copies of every descriptor of the test process (lease
/// locks among them) while other tests run in parallel. Symlinks are removed, not followed.
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    guard info.st_mode & S_IFMT == S_IFDIR, let dir = opendir(path) else {
        _ = unlink(path)
        return
    }
    var children: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { children.append(path + "/" + name) }
    }
    closedir(dir)
    children.forEach(removeTree)
    _ = rmdir(path)
}

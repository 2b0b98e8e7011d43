#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortManagerCore

/// One place where the registry is looked for. The order of the cases is the
/// search order, written here once: ``Registry/resolvePath(_:)`` walks
/// ``allCases`` in order, and `portmanager --help` (hence the man page and the
/// generated list in docs/registry.md) prints ``summary`` of each.
///
/// Paths are bytes throughout, as the system gives them (a working directory,
/// `$HOME` or an installation prefix need not be UTF-8); messages show them
/// through ``PathText/shown(_:)``.
///
/// A file found in ``project`` or later is used only when it, and the link to
/// it if it is a symlink, belong to the user or to root and are not writable by
/// others: a registry another user planted in a shared directory such as /tmp is
/// skipped, and the error says why.
public enum RegistrySearchPlace: CaseIterable, Sendable {
    /// The path the caller gives (`--registry`, `pm_registry_open(path)`, `PortManager(path)`).
    case explicit
    /// `$PORTMANAGER_REGISTRY`.
    case variable
    /// `dynamicconfig/port_registry.yaml` in the current directory, then in each
    /// parent up to `/` (the nearest wins, as git finds `.git`).
    case project
    /// `$XDG_CONFIG_HOME/portmanager/port_registry.yaml` (`~/.config` when
    /// `XDG_CONFIG_HOME` is unset, empty or relative, as the XDG spec says).
    case userConfig
    /// `/etc/portmanager/port_registry.yaml`.
    case system
    /// `PREFIX/share/portmanager/port_registry.yaml`, where PREFIX is the
    /// installation this code runs from: the file mapped at the address of this
    /// module's code (what `dladdr` would say, read from /proc/self/maps: Swift's
    /// Glibc module hides `dladdr`), the library `PREFIX/lib/libportmanager.so.1`
    /// (also `PREFIX/lib/<multiarch>/`) or the executable `PREFIX/bin/portmanager`,
    /// so a relocated tarball works too.
    case installation

    /// The place in one short line (it fits an 80-column `--help`), as `--help`
    /// and the documentation list it; the cases' comments say more.
    public var summary: String {
        switch self {
        case .explicit: return "--registry PATH (pm_registry_open(PATH), PortManager(PATH))"
        case .variable: return "$\(Registry.registryVariable)"
        case .project:
            return "\(RegistrySearch.projectPath) here or in the nearest parent"
        case .userConfig: return "$XDG_CONFIG_HOME/\(RegistrySearch.configPath) (~/.config when unset)"
        case .system: return RegistrySearch.systemPath
        case .installation:
            return "PREFIX/\(RegistrySearch.sharePath) of the installation"
        }
    }

    /// Every place in order, one numbered line each (`  1. ...`), for help texts.
    public static var numberedList: String {
        allCases.enumerated().map { "  \($0.offset + 1). \($0.element.summary)" }.joined(separator: "\n")
    }
}

/// The search of the places after ``RegistrySearchPlace/variable``.
enum RegistrySearch {
    typealias Path = [UInt8]
    /// The registry file relative to a project directory.
    static let projectPath = Registry.conventionalPath
    /// The registry file relative to a configuration directory.
    static let configPath = "portmanager/port_registry.yaml"
    /// The system-wide registry.
    static let systemPath = "/etc/portmanager/port_registry.yaml"
    /// The registry relative to an installation prefix.
    static let sharePath = "share/portmanager/port_registry.yaml"

    /// The trusted registry file at `place`, or nil; `searched` gets one entry per file tried.
    /// ``RegistrySearchPlace/explicit`` and ``RegistrySearchPlace/variable`` are
    /// ``Registry/resolvePath(_:)``'s own and give nil here.
    static func find(_ place: RegistrySearchPlace, searched: inout [String]) -> Path? {
        switch place {
        case .explicit, .variable:
            return nil
        case .project:
            guard let cwd = currentDirectory() else {
                searched.append("./\(projectPath) (the current directory cannot be determined: \(describe(errno: errno)))")
                return nil
            }
            var directory = cwd
            while true {
                let here = directory == cwd
                let candidate = here ? Array(projectPath.utf8) : join(directory, projectPath)
                if let found = accept(candidate, label: here ? "./" + projectPath : nil, searched: &searched) { return found }
                if directory == [slash] { return nil }
                directory = parent(of: directory)
            }
        case .userConfig:
            guard let config = userConfigDirectory() else {
                searched.append("$XDG_CONFIG_HOME/\(configPath) (neither XDG_CONFIG_HOME nor HOME is an absolute path)")
                return nil
            }
            return accept(join(config, configPath), searched: &searched)
        case .system:
            return accept(Array(systemPath.utf8), searched: &searched)
        case .installation:
            guard let prefix = installPrefix() else {
                searched.append("PREFIX/\(sharePath) (the installation prefix cannot be determined)")
                return nil
            }
            return accept(join(prefix, sharePath), searched: &searched)
        }
    }

    /// `path` when it exists and can be trusted; otherwise nil, with the reason
    /// (the errno's name when it cannot be examined) added to `searched`.
    static func accept(_ path: Path, label: String? = nil, searched: inout [String]) -> Path? {
        let shown = label ?? PathText.shown(path)
        var link = stat()
        let linkResult = (try? withCPath(path) { lstat($0, &link) }) ?? -1
        let linkCode = errno
        guard linkResult == 0 else {
            searched.append("\(shown) (\(FileReader.missing(linkCode)))")
            return nil
        }
        var target = stat()
        let targetResult = (try? withCPath(path) { stat($0, &target) }) ?? -1
        let code = errno
        guard targetResult == 0 else {
            searched.append("\(shown) (\(code == ENOENT ? "a dangling symlink" : describe(errno: code)))")
            return nil
        }
        for info in [link, target] {
            if let problem = distrust(info) {
                searched.append("\(shown) (skipped: \(problem))")
                return nil
            }
        }
        return path
    }

    /// Why a file with this status cannot be trusted, or nil.
    static func distrust(_ info: stat) -> String? {
        let me = geteuid()
        if info.st_uid != me && info.st_uid != 0 {
            return "owned by uid \(info.st_uid), neither you nor root"
        }
        if (info.st_mode & S_IFMT) != S_IFLNK && (info.st_mode & S_IWOTH) != 0 {
            return "writable by every user"
        }
        return nil
    }

    /// `$XDG_CONFIG_HOME` when absolute, else `$HOME/.config` when HOME is absolute.
    static func userConfigDirectory() -> Path? {
        if let xdg = Registry.nonEmptyVariableBytes("XDG_CONFIG_HOME"), xdg.first == slash { return xdg }
        if let home = Registry.nonEmptyVariableBytes("HOME"), home.first == slash { return join(home, ".config") }
        return nil
    }

    /// The installation prefix of the code running: the directory above the
    /// `lib` (or `lib/<multiarch>`, `lib64`) or `bin` directory of the shared
    /// object or executable that holds this function.
    static func installPrefix() -> Path? {
        // The address of code of this module: a C function pointer to a closure
        // compiled here lies in the text segment of the image that holds it.
        let anchor: @convention(c) () -> Void = {}
        let address = UInt(bitPattern: unsafeBitCast(anchor, to: UnsafeRawPointer.self))
        guard let image = mappedFile(containing: address).flatMap(realPath) else { return nil }
        var directory = parent(of: image)
        let last = { (path: Path) in Array(path.split(separator: slash).last ?? []) }
        if isMultiarchName(last(directory)) { directory = parent(of: directory) }  // lib/x86_64-linux-gnu
        guard ["lib", "lib64", "bin"].contains(where: { Array($0.utf8) == last(directory) }) else { return nil }
        return parent(of: directory)
    }

    /// The path of the file mapped at `address`, from /proc/self/maps
    /// (`START-END PERMS OFFSET DEV INODE PATH` per line).
    static func mappedFile(containing address: UInt) -> Path? {
        guard let bytes = try? FileReader.read("/proc/self/maps") else { return nil }
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, let dash = fields[0].firstIndex(of: UInt8(ascii: "-")) else { continue }
            let start = UInt(String(decoding: fields[0][..<dash], as: UTF8.self), radix: 16)
            let end = UInt(String(decoding: fields[0][(dash + 1)...], as: UTF8.self), radix: 16)
            guard let start, let end, start <= address, address < end else { continue }
            let trimmed = fields[5].drop(while: { $0 == UInt8(ascii: " ") })
            return trimmed.first == slash ? Array(trimmed) : nil
        }
        return nil
    }

    /// True for a Debian multiarch directory name such as `x86_64-linux-gnu`.
    /// (Compared as bytes: String.contains(String) would link the regex engine in.)
    static func isMultiarchName(_ bytes: Path) -> Bool {
        let needle = Array("-linux-".utf8)
        guard bytes.count > needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    static func currentDirectory() -> Path? {
        guard let buffer = getcwd(nil, 0) else { return nil }
        defer { free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: strlen(buffer)))
    }

    static func realPath(_ path: Path) -> Path? {
        guard let resolved = try? withCPath(path, { realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        return Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }

    static let slash = UInt8(ascii: "/")

    static func parent(of path: Path) -> Path {
        guard let index = path.lastIndex(of: slash) else { return [UInt8(ascii: ".")] }
        return index == path.startIndex ? [slash] : Array(path[..<index])
    }

    static func join(_ directory: Path, _ name: String) -> Path {
        directory.last == slash ? directory + Array(name.utf8) : directory + [slash] + Array(name.utf8)
    }
}

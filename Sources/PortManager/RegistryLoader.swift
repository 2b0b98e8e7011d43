#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortManagerCore

/// Loads registries from YAML text and files, and finds the default registry.
extension Registry {
    /// The environment variable that names the default registry file.
    public static let registryVariable = "PORTMANAGER_REGISTRY"
    /// The environment variable that selects an environment (`_environments`).
    public static let environmentVariable = "PORTMANAGER_ENV"
    /// The path tried last, relative to the working directory.
    public static let conventionalPath = "dynamicconfig/port_registry.yaml"

    /// Parses and validates YAML text; `source` names it in errors.
    ///
    /// No environment is selected; use ``Registry/selecting(environment:)``.
    /// - Throws: ``PortManagerError/parse(_:)`` or ``PortManagerError/invalidRegistry(_:)``.
    public init(yaml bytes: UnsafeRawBufferPointer, source: String = "<memory>") throws {
        LogSetup.ensure()
        let root = try YAMLReader.parse(bytes, source: source)
        self = try RegistryBuilder.build(root, source: source)
    }

    /// Parses and validates YAML text; `source` names it in errors.
    public init(yaml text: String, source: String = "<memory>") throws {
        self = try text.withUTF8Bytes { try Registry(yaml: $0, source: source) }
    }

    /// Reads, parses and validates the file at `path`.
    public init(contentsOf path: String) throws {
        let bytes = try FileReader.read(path)
        self = try bytes.withUnsafeBytes { try Registry(yaml: $0, source: path) }
    }

    /// Opens the registry the way every entry point does: `path` if given, else
    /// ``resolvePath(_:)``'s search; then selects `environment` if given, else
    /// `$PORTMANAGER_ENV` if set and not empty.
    ///
    /// - Throws: ``PortManagerError/registryNotFound(searched:)`` naming every place
    ///   tried, or any loading or environment error.
    public static func open(path: String? = nil, environment: String? = nil) throws -> Registry {
        let registry = try Registry(contentsOf: try resolvePath(path))
        return try registry.selecting(environment: environment ?? nonEmptyVariable(environmentVariable))
    }

    /// The file ``open(path:environment:)`` would read: `explicit` if given, else
    /// `$PORTMANAGER_REGISTRY`, else the first of ``RegistrySearch``'s places
    /// (`dynamicconfig/port_registry.yaml` here or in a parent, the user's and the
    /// system's configuration, the installation's share directory).
    public static func resolvePath(_ explicit: String?) throws -> String {
        if let explicit {
            guard !explicit.isEmpty else { throw PortManagerError.invalidArgument("the registry path is empty") }
            return explicit
        }
        var searched: [String] = []
        if let fromEnvironment = nonEmptyVariable(registryVariable) {
            if FileReader.exists(fromEnvironment) { return fromEnvironment }
            searched.append("$\(registryVariable)=\(fromEnvironment) (no such file)")
        } else {
            searched.append("$\(registryVariable) (not set)")
        }
        if let found = RegistrySearch.find(searched: &searched) { return found }
        throw PortManagerError.registryNotFound(searched: searched)
    }

    static func nonEmptyVariable(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}

/// Whole-file reads with errno-based messages.
enum FileReader {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw PortManagerError.registryNotFound(searched: ["\(path) (no such file)"]) }
            throw PortManagerError.io(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw PortManagerError.io(path: path, reason: String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw PortManagerError.io(path: path, reason: "it is a directory") }
        let size = Int(info.st_size)
        if size > YAMLReader.maximumSize {
            throw PortManagerError.io(path: path, reason: "\(size) bytes is larger than \(YAMLReader.maximumSize); a registry is a small text file")
        }
        // Read exactly the file's size (plus one byte to notice growth), then
        // fall back to chunks for files whose size stat cannot tell (pipes, /proc).
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == bytes.count {
                guard bytes.count <= YAMLReader.maximumSize else {
                    throw PortManagerError.io(path: path, reason: "larger than \(YAMLReader.maximumSize) bytes; a registry is a small text file")
                }
                bytes.append(contentsOf: repeatElement(0, count: max(4096, bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PortManagerError.io(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }
}

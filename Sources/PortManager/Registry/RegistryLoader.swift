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
        try self.init(contentsOfPath: Array(path.utf8))
    }

    /// Reads, parses and validates the file at `path`, a path as the system
    /// takes it: any bytes but NUL, UTF-8 or not. The registry's ``Registry/source``
    /// is ``PathText/text(_:)`` of the path: itself when UTF-8, else escaped.
    public init(contentsOfPath path: [UInt8]) throws {
        let bytes = try FileReader.read(path)
        self = try bytes.withUnsafeBytes { try Registry(yaml: $0, source: PathText.text(path)) }
    }

    /// Opens the registry the way every entry point does: `path` if given, else
    /// ``resolvePath(_:)``'s search; then selects `environment` if given, else
    /// `$PORTMANAGER_ENV` if set and not empty.
    ///
    /// - Throws: ``PortManagerError/registryNotFound(searched:)`` naming every place
    ///   tried, or any loading or environment error.
    public static func open(path: String? = nil, environment: String? = nil) throws -> Registry {
        try open(pathBytes: path.map { Array($0.utf8) }, environment: environment)
    }

    /// ``open(path:environment:)`` with the path as bytes (a C string, an argv
    /// entry), so that a path that is not UTF-8 names the same file.
    public static func open(pathBytes path: [UInt8]?, environment: String? = nil) throws -> Registry {
        let registry = try Registry(contentsOfPath: try resolvePath(path))
        return try registry.selecting(environment: environment ?? nonEmptyVariable(environmentVariable))
    }

    /// The file ``open(pathBytes:environment:)`` would read, as bytes: the first
    /// of ``RegistrySearchPlace``'s places, in their order, that holds one.
    ///
    /// - Throws: ``PortManagerError/registryNotFound(searched:)`` naming every place tried.
    public static func resolvePath(_ explicit: [UInt8]?) throws -> [UInt8] {
        var searched: [String] = []
        for place in RegistrySearchPlace.allCases {
            switch place {
            case .explicit:
                guard let explicit else { continue }
                guard !explicit.isEmpty else { throw PortManagerError.invalidArgument("the registry path is empty") }
                return explicit
            case .variable:
                if let fromEnvironment = nonEmptyVariableBytes(registryVariable) {
                    let code = FileReader.statError(fromEnvironment)
                    if code == 0 { return fromEnvironment }
                    searched.append("$\(registryVariable)=\(PathText.shown(fromEnvironment)) (\(FileReader.missing(code)))")
                } else {
                    searched.append("$\(registryVariable) (not set)")
                }
            case .project, .userConfig, .system, .installation:
                if let found = RegistrySearch.find(place, searched: &searched) { return found }
            }
        }
        throw PortManagerError.registryNotFound(searched: searched)
    }

    static func nonEmptyVariable(_ name: String) -> String? {
        nonEmptyVariableBytes(name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// An environment variable's value as the bytes the environment holds; nil when unset or empty.
    static func nonEmptyVariableBytes(_ name: String) -> [UInt8]? {
        guard let value = getenv(name) else { return nil }
        let bytes = Array(UnsafeRawBufferPointer(start: value, count: strlen(value)))
        return bytes.isEmpty ? nil : bytes
    }
}

/// The registry's file reads, on ``FileReader``, with messages that name the
/// file, the failing call and its errno.
extension FileReader {
    /// 0 when `stat(path)` succeeds, else its errno.
    static func statError(_ path: [UInt8]) -> Int32 {
        var info = stat()
        guard let result = try? withCPath(path, { stat($0, &info) }) else { return EINVAL }
        return result == 0 ? 0 : errno
    }

    /// How a failed lookup reads in a "looked in" list: "no such file", or the errno's text.
    static func missing(_ code: Int32) -> String {
        code == ENOENT ? "no such file" : describe(errno: code)
    }

    /// ``read(_:)-([UInt8])`` for a Swift path string.
    static func read(_ path: String) throws -> [UInt8] { try read(Array(path.utf8)) }

    /// The registry file at `path`, whole.
    ///
    /// Opened with `O_NONBLOCK`, so that a FIFO without a writer cannot block the
    /// open, then refused unless `fstat` shows a regular file: FIFOs, sockets and
    /// devices fail at once with a message that says what they are. At most
    /// ``YAMLReader/maximumSize`` bytes.
    static func read(_ path: [UInt8]) throws -> [UInt8] {
        let shown = PathText.shown(path)
        let limit = YAMLReader.maximumSize
        let result = try withCPath(path) { cPath in
            Result { () throws(FileReadError) in
                try readAll(cPath, options: [.nonBlocking, .regularOnly], limit: limit)
            }
        }
        switch result {
        case .success(let bytes):
            return bytes
        case .failure(.open(ENOENT)):
            throw PortManagerError.registryNotFound(searched: ["\(shown) (no such file)"])
        case .failure(.open(let code)):
            var info = stat()
            if code == ENXIO, (try? withCPath(path, { stat($0, &info) })) == 0, (info.st_mode & S_IFMT) != S_IFREG {
                throw notRegular(shown, info.st_mode)  // a socket, or a device without its driver
            }
            throw PortManagerError.io(path: shown, reason: "cannot open: " + describe(errno: code))
        case .failure(.stat(let code)):
            throw PortManagerError.io(path: shown, reason: "cannot stat: " + describe(errno: code))
        case .failure(.notRegular(let mode)):
            throw notRegular(shown, mode)
        case .failure(.tooLarge(let size?)):
            throw PortManagerError.io(path: shown, reason: "\(size) bytes is larger than \(limit); a registry is a small text file")
        case .failure(.tooLarge(nil)):
            throw PortManagerError.io(path: shown, reason: "larger than \(limit) bytes; a registry is a small text file")
        case .failure(.read(let code)):
            throw PortManagerError.io(path: shown, reason: "cannot read: " + describe(errno: code))
        }
    }

    private static func notRegular(_ shown: String, _ mode: mode_t) -> PortManagerError {
        if mode & S_IFMT == S_IFDIR { return .io(path: shown, reason: "it is a directory") }
        return .io(path: shown, reason: "it is \(kind(mode)), not a regular file; a registry must be a regular file")
    }
}

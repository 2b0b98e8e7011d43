/// Where in a registry source something was found. Lines and columns count from 1.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file path, or a name such as `<memory>` for a registry read from a string.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `FILE:LINE:COLUMN`, the form compilers and editors understand; the file
    /// as messages show paths (``PathText/shown(_:)``: escaped and cut).
    public var description: String { "\(PathText.shown(file)):\(line):\(column)" }
}

/// How serious a finding is.
public enum Severity: String, Sendable, Hashable, Comparable {
    /// Worth knowing; never fails a check.
    case note
    /// Works, but is risky (for example a privileged or ephemeral port).
    case warning
    /// The registry cannot be used as written.
    case error

    private var rank: Int {
        switch self {
        case .note: return 0
        case .warning: return 1
        case .error: return 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One problem found in a registry, with the place it was found.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// Where the culprit is.
    public var location: SourceLocation
    /// How serious it is.
    public var severity: Severity
    /// A sentence that names the culprit (service, key, port).
    public var message: String

    /// Creates a diagnostic.
    public init(_ location: SourceLocation, _ message: String, severity: Severity = .error) {
        self.location = location
        self.message = message
        self.severity = severity
    }

    /// `FILE:LINE:COLUMN: message`.
    public var description: String { "\(location): \(message)" }
}

/// Every failure of the library, as a type a caller can switch on.
///
/// Each case documents the C status (``Status``, `pm_status` in
/// `include/portmanager.h`) it maps to; ``status`` gives it.
public enum PortManagerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An argument was missing or out of range. The C status is ``Status/invalidArgument`` (`PM_ERR_INVALID_ARGUMENT`).
    case invalidArgument(String)
    /// No registry file was found. The C status is ``Status/notFound`` (`PM_ERR_NOT_FOUND`).
    /// `searched` lists every place that was tried, in order, each path as
    /// ``PathText/shown(_:)`` shows it.
    case registryNotFound(searched: [String])
    /// A file could not be used. The C status is ``Status/io`` (`PM_ERR_IO`).
    /// `path` is the path as messages show it (``PathText/shown(_:)``: escaped and
    /// cut); `reason` names the failing call and its errno text, for example
    /// `cannot open: Too many open files`, or what is wrong with the file.
    case io(path: String, reason: String)
    /// The input is not a readable YAML registry document (syntax, encoding,
    /// emptiness, several documents, nesting). The C status is ``Status/parse`` (`PM_ERR_PARSE`).
    case parse(Diagnostic)
    /// The YAML is well formed but the registry is not valid. Holds every finding,
    /// in source order. The C status is ``Status/invalidRegistry`` (`PM_ERR_INVALID_REGISTRY`).
    case invalidRegistry([Diagnostic])
    /// The service is not in the registry. The suggestion (a near-miss name,
    /// or none) is worked out only when it is read, as ``description`` does:
    /// it compares the name with every service name, which would make a miss
    /// cost thousands of hits. The C status is ``Status/unknownService`` (`PM_ERR_UNKNOWN_SERVICE`).
    case unknownService(String, suggestion: DidYouMean)
    /// The service has no port of that name. The C status is ``Status/unknownPort`` (`PM_ERR_UNKNOWN_PORT`).
    case unknownPort(service: String, port: String, available: [String])
    /// The instance ID is outside `0..<maxInstances`. The C status is ``Status/instanceOutOfRange`` (`PM_ERR_INSTANCE_OUT_OF_RANGE`).
    case instanceOutOfRange(service: String, instance: Int, maxInstances: Int)
    /// A caller's buffer is too small; `needed` is the size that fits. The C status is ``Status/bufferTooSmall`` (`PM_ERR_BUFFER_TOO_SMALL`).
    case bufferTooSmall(needed: Int)
    /// Whether a port is free could not be determined (permission, missing address
    /// family, bad host). The C status is ``Status/probeFailed`` (`PM_ERR_PROBE_FAILED`).
    case probeFailed(host: String, port: Int, reason: String)
    /// The named environment is not defined by the registry. The C status is ``Status/unknownEnvironment`` (`PM_ERR_UNKNOWN_ENVIRONMENT`).
    case unknownEnvironment(String, available: [String])
    /// The work asked for is past a documented limit (the analysis's
    /// ``Analysis/maximumLatticePoints``); the message names the numbers and the
    /// largest contributor. The C status is ``Status/tooLarge`` (`PM_ERR_TOO_LARGE`).
    case tooLarge(String)
    /// The instance is reserved by another owner, or one of its ports is reserved
    /// or in use (or, with `instance` nil, every instance is taken). `reason`
    /// names the owner, already quoted. The C status is ``Status/reserved`` (`PM_ERR_RESERVED`).
    /// (``Status/leased`` belonged to the 0.1 leases and is no longer returned.)
    case reserved(service: String, instance: Int?, reason: String)
    /// A release or renewal by someone who does not own the reservation (or of
    /// an instance nobody reserved, for a renewal). `reason` names the owner,
    /// already quoted. The C status is ``Status/notOwner`` (`PM_ERR_NOT_OWNER`).
    case notOwner(service: String, instance: Int, reason: String)
    /// The reservation store cannot be used safely: a refused directory or file
    /// (owner, mode, symbolic link, type), a corrupt database, a newer schema.
    /// `path` names the culprit (the state directory or a file of it, as
    /// ``PathText/text(_:)`` gives it; messages cut it as ``PathText/shown(_:)``
    /// does). The C status is ``Status/state`` (`PM_ERR_STATE`).
    case state(path: String, reason: String)
    /// The Docker engine cannot be reached, or gave no usable answer, where an
    /// answer is needed (`reconcile`). The message is the Docker client's, which
    /// names the engine's socket and why. The C status is ``Status/docker`` (`PM_ERR_DOCKER`).
    case docker(String)

    /// The `pm_status` this error maps to.
    public var status: Status {
        switch self {
        case .invalidArgument: return .invalidArgument
        case .registryNotFound: return .notFound
        case .io: return .io
        case .parse: return .parse
        case .invalidRegistry: return .invalidRegistry
        case .unknownService: return .unknownService
        case .unknownPort: return .unknownPort
        case .instanceOutOfRange: return .instanceOutOfRange
        case .bufferTooSmall: return .bufferTooSmall
        case .probeFailed: return .probeFailed
        case .unknownEnvironment: return .unknownEnvironment
        case .tooLarge: return .tooLarge
        case .reserved: return .reserved
        case .notOwner: return .notOwner
        case .state: return .state
        case .docker: return .docker
        }
    }

    /// A one-paragraph message that names the culprit. Names a caller passed in
    /// are quoted with control characters escaped and cut at 64 characters, so
    /// no argument can forge a line or flood a log.
    public var description: String {
        switch self {
        case .invalidArgument(let message), .tooLarge(let message), .docker(let message):
            return message
        case .registryNotFound(let searched):
            return "no port registry found; looked in: " + searched.joined(separator: ", ")
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .parse(let diagnostic):
            return diagnostic.description
        case .invalidRegistry(let diagnostics):
            guard let first = diagnostics.first else { return "invalid registry" }
            let more = diagnostics.count - 1
            return more == 0 ? first.description
                : "\(first) (and \(more) more problem\(more == 1 ? "" : "s"))"
        case .unknownService(let name, let suggestion):
            var text = "unknown service \(RegistryBuilder.quote(name))"
            if let suggestion = suggestion.value { text += "; did you mean '\(suggestion)'?" }
            return text
        case .unknownPort(let service, let port, let available):
            return "service '\(service)' has no port named \(RegistryBuilder.quote(port)); it has: "
                + available.joined(separator: ", ")
        case .instanceOutOfRange(let service, let instance, let maxInstances):
            return "instance \(instance) of service '\(service)' is out of range; allowed: 0..\(maxInstances - 1) (max_instances=\(maxInstances))"
        case .bufferTooSmall(let needed):
            return "buffer too small; \(needed) needed"
        case .probeFailed(let host, let port, let reason):
            return "cannot check port \(port) on \(RegistryBuilder.quote(host)): \(reason)"
        case .reserved(let service, let instance, let reason):
            let subject = instance.map { "instance \($0) of service '\(service)'" } ?? "service '\(service)'"
            return "cannot reserve \(subject): \(reason)"
        case .notOwner(let service, let instance, let reason):
            return "instance \(instance) of service '\(service)': \(reason)"
        case .state(let path, let reason):
            return "reservation store \(Log.escape(PathText.shown(path))): \(reason)"
        case .unknownEnvironment(let name, let available):
            return "unknown environment \(RegistryBuilder.quote(name)); the registry defines: "
                + (available.isEmpty ? "none" : available.joined(separator: ", "))
        }
    }
}

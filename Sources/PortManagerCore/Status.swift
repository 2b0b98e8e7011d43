public import CPortManagerHeader

/// A `pm_status` of include/portmanager.h: what a call of the library came to.
///
/// The one status vocabulary of the project, as swift-system's `Errno` is for
/// errno: code says ``unknownService``, never a number. The values and their
/// names are the header's (`enum pm_status`), read through the header-only
/// module CPortManagerHeader, so no status number is written in Swift.
/// ``PortManagerError/status``, the lookup table, `pm_status_str` and the tests
/// all derive from this type.
///
/// Values are pinned (never renumbered or reused) and contiguous from ``ok``;
/// later versions may add new ones after the last.
@frozen
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `pm_status` number.
    public var rawValue: Int32

    /// The status numbered `rawValue`, known to the header or not.
    @inlinable
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The status a C `pm_status` holds (a value the header does not define included).
    @inlinable
    public init(_ status: pm_status) { rawValue = Int32(truncatingIfNeeded: status.rawValue) }

    /// This status as the C `pm_status` the header declares: what the `@c
    /// @implementation` shims of module PortManagerC return.
    @inlinable
    public var cValue: pm_status { pm_status(rawValue: pm_status.RawValue(truncatingIfNeeded: rawValue)) }

    /// `PM_OK`: success.
    @inlinable public static var ok: Status { Status(PM_OK) }
    /// `PM_ERR_INVALID_ARGUMENT`: NULL where a pointer is required, or a value out of range.
    @inlinable public static var invalidArgument: Status { Status(PM_ERR_INVALID_ARGUMENT) }
    /// `PM_ERR_NOT_FOUND`: no registry file.
    @inlinable public static var notFound: Status { Status(PM_ERR_NOT_FOUND) }
    /// `PM_ERR_IO`: a file exists but cannot be used.
    @inlinable public static var io: Status { Status(PM_ERR_IO) }
    /// `PM_ERR_PARSE`: not a readable YAML document.
    @inlinable public static var parse: Status { Status(PM_ERR_PARSE) }
    /// `PM_ERR_INVALID_REGISTRY`: well-formed YAML that breaks a registry rule.
    @inlinable public static var invalidRegistry: Status { Status(PM_ERR_INVALID_REGISTRY) }
    /// `PM_ERR_UNKNOWN_SERVICE`: no such service in the registry.
    @inlinable public static var unknownService: Status { Status(PM_ERR_UNKNOWN_SERVICE) }
    /// `PM_ERR_UNKNOWN_PORT`: the service has no port of that name.
    @inlinable public static var unknownPort: Status { Status(PM_ERR_UNKNOWN_PORT) }
    /// `PM_ERR_INSTANCE_OUT_OF_RANGE`: an instance outside `0..<max_instances`.
    @inlinable public static var instanceOutOfRange: Status { Status(PM_ERR_INSTANCE_OUT_OF_RANGE) }
    /// `PM_ERR_BUFFER_TOO_SMALL`: the result does not fit the caller's buffer.
    @inlinable public static var bufferTooSmall: Status { Status(PM_ERR_BUFFER_TOO_SMALL) }
    /// `PM_ERR_PROBE_FAILED`: whether a port is free cannot be known.
    @inlinable public static var probeFailed: Status { Status(PM_ERR_PROBE_FAILED) }
    /// `PM_ERR_UNKNOWN_ENVIRONMENT`: the registry defines no environment of that name.
    @inlinable public static var unknownEnvironment: Status { Status(PM_ERR_UNKNOWN_ENVIRONMENT) }
    /// `PM_ERR_LEASED`: retired with the 0.1 leases; nothing returns it now.
    @inlinable public static var leased: Status { Status(PM_ERR_LEASED) }
    /// `PM_ERR_TOO_LARGE`: the work is past a documented limit.
    @inlinable public static var tooLarge: Status { Status(PM_ERR_TOO_LARGE) }
    /// `PM_ERR_RESERVED`: the instance is reserved by another owner, or in use.
    @inlinable public static var reserved: Status { Status(PM_ERR_RESERVED) }
    /// `PM_ERR_NOT_OWNER`: a release or renewal by someone other than the owner.
    @inlinable public static var notOwner: Status { Status(PM_ERR_NOT_OWNER) }
    /// `PM_ERR_STATE`: the reservation store cannot be used safely.
    @inlinable public static var state: Status { Status(PM_ERR_STATE) }
    /// `PM_ERR_DOCKER`: the Docker engine cannot be reached or gave no usable answer.
    @inlinable public static var docker: Status { Status(PM_ERR_DOCKER) }

    /// Every status the header defines, in order of value (``ok`` first).
    public static let all: [Status] = {
        var result: [Status] = []
        var status = Status.ok
        while status.isDefined {
            result.append(status)
            status.rawValue += 1
        }
        return result
    }()

    /// The name `pm_status_str` gives a status the header does not define.
    public static let unknownName: StaticString = "PM_ERR_UNKNOWN_STATUS"

    /// True when the header defines this value.
    public var isDefined: Bool { portmanager_header_status_name(rawValue) != nil }

    /// The header's name, such as `PM_ERR_UNKNOWN_PORT`, as a static C string
    /// (``unknownName`` for a value the header does not define).
    public var cName: UnsafePointer<CChar> {
        if let name = portmanager_header_status_name(rawValue) { return name }
        return UnsafeRawPointer(Status.unknownName.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    /// The header's name, such as `PM_ERR_UNKNOWN_PORT`.
    public var name: String { String(cString: cName) }

    /// The name.
    public var description: String { name }
}

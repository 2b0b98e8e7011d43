#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

// Who asks: the checks of an owner argument, the owner it stands for in the
// store (a container name once the instance is known), and the parent process
// that the command-line tool reserves for by default.

extension ProcessIdentity {
    /// The parent of the calling process (`getppid()`): the shell or script
    /// that ran it. The command-line tool reserves for it by default, so that
    /// a reservation made by `portmanager reserve` ends when the script that
    /// asked ends, and two scripts never share an owner.
    ///
    /// The parent is in the caller's PID namespace (a parent outside it has
    /// pid 0 here), so its identity carries the caller's namespace.
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` when the parent is
    ///   outside this PID namespace (the process is a namespace's first, as in
    ///   `docker exec`); ``PortManagerError/io(path:reason:)`` when its
    ///   `/proc/PID/stat` cannot be read, or it ended while being read.
    public static func parent() throws -> ProcessIdentity {
        let ppid = getppid()
        guard ppid > 0 else {
            throw PortManagerError.invalidArgument("the parent process is outside this PID namespace (getppid() is 0), so it cannot own a reservation; give an owner name or a container")
        }
        let path = "/proc/\(ppid)/stat"
        guard ownNamespace().procIsOwn, let stat = readStat(pid: ppid) else {
            throw PortManagerError.io(path: path, reason: "cannot read the start time of the parent process \(ppid)")
        }
        // Read after the parent's stat: had the parent ended before, this process
        // would have been handed to another (getppid() changes), and the stat read
        // may be of a new process that reuses the pid.
        guard getppid() == ppid, stat.state != UInt8(ascii: "Z"), stat.state != UInt8(ascii: "X") else {
            throw PortManagerError.io(path: path, reason: "the parent process \(ppid) ended")
        }
        return ProcessIdentity(pid: Int(ppid), startTime: stat.startTime, bootID: try currentBootID(),
                               pidNamespace: ownNamespace().inode)
    }
}

extension ReservationOwner {
    /// Refuses a name or container name that the store cannot keep or Docker
    /// cannot have (``Reservation/Owner/container(_:)``), naming it.
    /// ``containerName`` is checked once resolved (``resolved(container:)``).
    func check() throws {
        switch self {
        case .name(let name): try Self.checkName(name, what: "owner name")
        case .container(let name): _ = try Self.containerOwner(name)
        case .thisProcess, .process, .containerName: return
        }
    }

    /// The owner this stands for in the store; `container` gives the instance's
    /// container name, asked only for ``containerName``.
    func resolved(container: () throws -> String) throws -> Reservation.Owner {
        switch self {
        case .thisProcess: return .process(try ProcessIdentity.current())
        case .process(let process): return .process(process)
        case .name(let name): return .name(name)
        case .container(let name): return try Self.containerOwner(name)
        case .containerName: return try Self.containerOwner(OwnerName(try container()))
        }
    }

    /// The command of a process owner when it reserves (`/proc/PID/comm`), else nil.
    static func command(of owner: Reservation.Owner) -> String? {
        guard case .process(let process) = owner else { return nil }
        if let me = try? ProcessIdentity.current(), me == process { return ProcessIdentity.currentCommand() }
        return ProcessIdentity.command(of: process.pid)
    }

    /// A container owner from a name as given: a leading `/` (as the Docker
    /// API spells names) is dropped, and the rest must follow Docker's rule
    /// (``containerNamePattern``).
    static func containerOwner(_ given: OwnerName) throws -> Reservation.Owner {
        var name = given
        if name.bytes.first == UInt8(ascii: "/") { name.bytes.removeFirst() }
        try checkName(name, what: "container name")
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                return !first
            default:
                return false
            }
        }
        guard name.bytes.count >= 2, allowed(name.bytes[0], first: true),
              name.bytes.dropFirst().allSatisfy({ allowed($0, first: false) }) else {
            throw PortManagerError.invalidArgument("the container name \(RegistryBuilder.quote(given.text)) is not a Docker container name (\(containerNamePattern))")
        }
        return .container(name)
    }

    private static func checkName(_ name: OwnerName, what: String) throws {
        guard !name.bytes.isEmpty else { throw PortManagerError.invalidArgument("the \(what) is empty") }
        guard name.bytes.count <= maxLength else {
            throw PortManagerError.invalidArgument("the \(what) \(RegistryBuilder.quote(name.text)) is longer than \(maxLength) bytes")
        }
        guard !name.bytes.contains(0) else {
            throw PortManagerError.invalidArgument("the \(what) \(RegistryBuilder.quote(name.text)) holds a NUL byte")
        }
    }
}

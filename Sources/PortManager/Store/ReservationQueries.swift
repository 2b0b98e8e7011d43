#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import PortManagerCore

// The queries of the reservation store (ReservationStore.swift): reaping, what
// holds an instance or a port, listing, inserting and deleting. Each runs inside
// ``ReservationStore/transaction(_:)``.
extension ReservationStore {
    /// How often, at most, a store (in one process) reaps every reservation
    /// when asked to change one (``reapAllIfDue(now:_:)``), in nanoseconds.
    /// A take never waits for it: the rows it is about to take are reaped
    /// first (``heldInstance(service:environment:instance:now:_:)``,
    /// ``heldPort(_:now:_:)``), and a listing judges every row it shows.
    static let fullReapInterval: UInt64 = 1_000_000_000

    /// Deletes expired reservations, those of processes that have ended, and
    /// those of containers the probe's ``ContainerLookup`` says are gone.
    /// An owner in another PID namespace is never judged ended by its pid
    /// (``ProcessIdentity/Liveness/unknown``): only its expiry or a reboot ends it here.
    func reapAll(now: Int64, _ probe: inout OwnerProbe) throws {
        let expired = try statement("DELETE FROM reservation WHERE expires IS NOT NULL AND expires <= ?")
        bind(expired, 1, now)
        try step(expired)
        let owners = try statement("SELECT id, pid, start_time, boot_id, pid_ns FROM reservation WHERE owner_kind = 'process'")
        var dead: [Int64] = []
        while try step(owners) {
            if probe.liveness(of: identity(owners, pid: 1)) == .ended { dead.append(sqlite3_column_int64(owners, 0)) }
        }
        if probe.containers.answers {
            let containers = try statement("SELECT id, owner, since, container_seen FROM reservation WHERE owner_kind = 'container'")
            while try step(containers) {
                let id = sqlite3_column_int64(containers, 0)
                if probe.containerEnded(id: id, name: bytes(containers, 1), since: sqlite3_column_int64(containers, 2),
                                        wasSeen: sqlite3_column_int64(containers, 3) != 0, now: now) {
                    dead.append(id)
                }
            }
        }
        for id in dead { try delete(id) }
        lastFullReap = monotonicNanoseconds()
    }

    /// Marks the container reservations whose container the probe saw for the
    /// first time (``OwnerProbe/sighted``): from now on, their container's
    /// absence reaps them at once (call in ``transaction(_:)``).
    func recordSightings(_ probe: inout OwnerProbe) throws {
        guard !probe.sighted.isEmpty else { return }
        let s = try statement("UPDATE reservation SET container_seen = 1 WHERE id = ?")
        for id in probe.sighted.sorted() {
            bind(s, 1, id)
            try step(s)
        }
        probe.clearSightings()
    }

    /// ``transaction(_:)`` that records the probe's sightings before it commits.
    func transaction<R>(_ probe: inout OwnerProbe, _ body: (inout OwnerProbe) throws -> R) throws -> R {
        try transaction {
            let result = try body(&probe)
            try recordSightings(&probe)
            return result
        }
    }

    /// ``reapAll(now:_:)`` when this store has not run it for ``fullReapInterval``:
    /// reservations nobody asks about are still removed, without every call
    /// reading every owner's `/proc/PID/stat` while it holds the write lock.
    func reapAllIfDue(now: Int64, _ probe: inout OwnerProbe) throws {
        guard lastFullReap == 0 || monotonicNanoseconds() &- lastFullReap >= Self.fullReapInterval else { return }
        try reapAll(now: now, &probe)
    }

    /// The columns ``isHeld(_:now:_:)`` reads, from `reservation r`.
    private static let holding = "r.id, r.owner_kind, r.expires, r.pid, r.start_time, r.boot_id, r.pid_ns, r.owner, r.since, r.container_seen"

    /// Whether the row at `s` (columns ``holding``) still holds: not expired,
    /// not owned by a process that has ended, nor by a container the engine
    /// says is gone.
    private func isHeld(_ s: OpaquePointer, now: Int64, _ probe: inout OwnerProbe) -> Bool {
        if let expires = int(s, 2), expires <= now { return false }
        switch text(s, 1) {
        case "process": return probe.liveness(of: identity(s, pid: 3)) != .ended
        case "container":
            return !probe.containerEnded(id: sqlite3_column_int64(s, 0), name: bytes(s, 7), since: sqlite3_column_int64(s, 8),
                                         wasSeen: sqlite3_column_int64(s, 9) != 0, now: now)
        default: return true
        }
    }

    /// The row id of the reservation of one instance when it still holds
    /// (``isHeld(_:now:_:)``); nil when the instance is free or its
    /// reservation has ended, which is then deleted (call in ``transaction(_:)``).
    func heldInstance(service: String, environment: String, instance: Int, now: Int64,
                      _ probe: inout OwnerProbe) throws -> Int64? {
        let s = try statement("SELECT \(Self.holding) FROM reservation r WHERE r.service = ? AND r.environment = ? AND r.instance = ?")
        bind(s, 1, service)
        bind(s, 2, environment)
        bind(s, 3, Int64(instance))
        guard try step(s) else { return nil }
        let id = sqlite3_column_int64(s, 0)
        let held = isHeld(s, now: now, &probe)
        sqlite3_reset(s)
        if held { return id }
        try delete(id)
        return nil
    }

    /// The first of `ports` (for one of its protocols) held by a reservation
    /// that still holds, and that reservation's row id; holders that have
    /// ended are deleted (call in ``transaction(_:)``).
    func heldPort(_ ports: [ReservedPort], now: Int64, _ probe: inout OwnerProbe) throws -> (port: ReservedPort, id: Int64)? {
        let s = try statement("SELECT \(Self.holding) FROM port p JOIN reservation r ON r.id = p.reservation WHERE p.protocol = ? AND p.port = ?")
        for port in ports {
            for member in port.protocols.members {
                bind(s, 1, member.name)
                bind(s, 2, Int64(port.port))
                guard try step(s) else { continue }
                let id = sqlite3_column_int64(s, 0)
                let held = isHeld(s, now: now, &probe)
                sqlite3_reset(s)
                if held { return (ReservedPort(name: port.name, port: port.port, protocols: member), id) }
                try delete(id)
            }
        }
        return nil
    }

    /// Whether any reservation has ended (expired, its process owner has, its
    /// container is gone), or has a container seen for the first time: a
    /// listing that finds none shows the store as it is, without the write lock.
    func anyEnded(now: Int64, _ probe: inout OwnerProbe) throws -> Bool {
        let containers = probe.containers.answers ? " OR r.owner_kind = 'container'" : ""
        let s = try statement("SELECT \(Self.holding) FROM reservation r WHERE r.owner_kind = 'process' OR r.expires IS NOT NULL" + containers)
        defer { sqlite3_reset(s) }
        while try step(s) {
            if !isHeld(s, now: now, &probe) { return true }
        }
        return !probe.sighted.isEmpty
    }

    /// A container reservation, as ``containerRows()`` lists it.
    struct ContainerRow {
        var id: Int64
        var service: String
        var environment: String
        var instance: Int
        var container: [UInt8]
        var since: Int64
        var seen: Bool
    }

    /// Every container reservation, ordered by service, environment and instance.
    func containerRows() throws -> [ContainerRow] {
        let s = try statement("""
            SELECT id, service, environment, instance, owner, since, container_seen FROM reservation
            WHERE owner_kind = 'container' ORDER BY service, environment, instance
            """)
        var rows: [ContainerRow] = []
        while try step(s) {
            rows.append(ContainerRow(id: sqlite3_column_int64(s, 0), service: text(s, 1) ?? "", environment: text(s, 2) ?? "",
                                     instance: Int(sqlite3_column_int64(s, 3)), container: bytes(s, 4),
                                     since: sqlite3_column_int64(s, 5), seen: sqlite3_column_int64(s, 6) != 0))
        }
        return rows
    }

    /// The process identity in columns `pid`, `pid + 1` (start time), `pid + 2` (boot id) and `pid + 3` (PID namespace).
    private func identity(_ s: OpaquePointer, pid column: Int32) -> ProcessIdentity {
        ProcessIdentity(pid: Int(int(s, column) ?? 0), startTime: UInt64(bitPattern: int(s, column + 1) ?? 0),
                        bootID: text(s, column + 2) ?? "", pidNamespace: int(s, column + 3).map { UInt64(bitPattern: $0) })
    }

    /// The reservation of one instance, with its row id.
    func find(service: String, environment: String, instance: Int,
              _ probe: inout OwnerProbe) throws -> (id: Int64, reservation: Reservation)? {
        let s = try statement(Self.select + " WHERE r.service = ? AND r.environment = ? AND r.instance = ?" + Self.portOrder)
        bind(s, 1, service)
        bind(s, 2, environment)
        bind(s, 3, Int64(instance))
        return try rows(s, &probe).first
    }

    /// The owner of row `id` alone (no ports, no command read from `/proc`).
    func owner(id: Int64) throws -> Reservation.Owner? {
        let s = try statement("SELECT owner_kind, owner, pid, start_time, boot_id, pid_ns FROM reservation WHERE id = ?")
        bind(s, 1, id)
        guard try step(s) else { return nil }
        defer { sqlite3_reset(s) }
        return owner(kind: text(s, 0), name: bytes(s, 1), process: identity(s, pid: 2))
    }

    /// The reservation of row `id`.
    func reservation(id: Int64, _ probe: inout OwnerProbe) throws -> Reservation? {
        let s = try statement(Self.select + " WHERE r.id = ?" + Self.portOrder)
        bind(s, 1, id)
        return try rows(s, &probe).first?.reservation
    }

    /// Every reservation, or those of one service, ordered by service, environment and instance.
    func all(service: String?, _ probe: inout OwnerProbe) throws -> [Reservation] {
        let order = " ORDER BY r.service, r.environment, r.instance, p.port, p.protocol"
        let s = try statement(Self.select + (service == nil ? "" : " WHERE r.service = ?") + order)
        if let service { bind(s, 1, service) }
        return try rows(s, &probe).map(\.reservation)
    }

    /// Inserts `r`; `containerSeen`: its container owner's container exists now.
    func insert(_ r: Reservation, containerSeen: Bool = false) throws {
        let s = try statement("""
            INSERT INTO reservation(service, environment, instance, owner_kind, owner, pid, start_time, boot_id, pid_ns, command, since, expires,
                                    container_seen)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        bind(s, 1, r.service)
        bind(s, 2, r.environment)
        bind(s, 3, Int64(r.instance))
        switch r.owner {
        case .process(let p):
            bind(s, 4, "process")
            bind(s, 5, bytes: [])
            bind(s, 6, Int64(p.pid))
            bind(s, 7, Int64(bitPattern: p.startTime))
            bind(s, 8, p.bootID)
            bind(s, 9, p.pidNamespace.map { Int64(bitPattern: $0) })
        case .name(let name), .container(let name):
            bind(s, 4, r.owner.kind)
            bind(s, 5, bytes: name.bytes)
        }
        bind(s, 10, r.command)
        bind(s, 11, r.since)
        bind(s, 12, r.expires)
        bind(s, 13, Int64(containerSeen ? 1 : 0))
        try step(s)
        let id = sqlite3_last_insert_rowid(db)
        let p = try statement("INSERT INTO port(protocol, port, reservation, name) VALUES(?, ?, ?, ?)")
        for port in r.ports {
            for member in port.protocols.members {
                bind(p, 1, member.name)
                bind(p, 2, Int64(port.port))
                bind(p, 3, id)
                bind(p, 4, port.name)
                try step(p)
            }
        }
    }

    /// The owner of a row from its kind, name and process columns.
    private func owner(kind: String?, name: [UInt8], process: @autoclosure () -> ProcessIdentity) -> Reservation.Owner {
        switch kind {
        case "process": return .process(process())
        case "container": return .container(OwnerName(bytes: name))
        default: return .name(OwnerName(bytes: name))
        }
    }

    /// Makes row `id` the reservation of `owner` (a container, by ``Registry/bind(_:instance:container:owner:stateDirectory:containers:)-([UInt8]?)``)
    /// with the expiry `expires`; `containerSeen`: a container owner's container exists now.
    func setOwner(_ id: Int64, _ owner: Reservation.Owner, expires: Int64?, containerSeen: Bool = false) throws {
        let s = try statement("""
            UPDATE reservation SET owner_kind = ?, owner = ?, pid = ?, start_time = ?, boot_id = ?, pid_ns = ?,
                                   command = NULL, expires = ?, container_seen = ? WHERE id = ?
            """)
        bind(s, 1, owner.kind)
        switch owner {
        case .process(let p):
            bind(s, 2, bytes: [])
            bind(s, 3, Int64(p.pid))
            bind(s, 4, Int64(bitPattern: p.startTime))
            bind(s, 5, p.bootID)
            bind(s, 6, p.pidNamespace.map { Int64(bitPattern: $0) })
        case .name(let name), .container(let name):
            bind(s, 2, bytes: name.bytes)
            for column: Int32 in 3...6 { bind(s, column, nil as Int64?) }
        }
        bind(s, 7, expires)
        bind(s, 8, Int64(containerSeen ? 1 : 0))
        bind(s, 9, id)
        try step(s)
    }

    func delete(_ id: Int64) throws {
        let s = try statement("DELETE FROM reservation WHERE id = ?")
        bind(s, 1, id)
        try step(s)
    }

    func setExpiry(_ id: Int64, _ expires: Int64?) throws {
        let s = try statement("UPDATE reservation SET expires = ? WHERE id = ?")
        bind(s, 1, expires)
        bind(s, 2, id)
        try step(s)
    }

    private static let select = """
        SELECT r.id, r.service, r.environment, r.instance, r.owner_kind, r.owner, r.pid, r.start_time, r.boot_id,
               r.pid_ns, r.command, r.since, r.expires, p.port, p.name, p.protocol
        FROM reservation r JOIN port p ON p.reservation = r.id
        """
    private static let portOrder = " ORDER BY p.port, p.protocol"

    /// Groups the joined rows (ordered by reservation, then port) into
    /// reservations, one ``ReservedPort`` per port number with its protocols.
    private func rows(_ s: OpaquePointer, _ probe: inout OwnerProbe) throws -> [(id: Int64, reservation: Reservation)] {
        var result: [(id: Int64, reservation: Reservation)] = []
        var ids: [Int64: Int] = [:]
        while try step(s) {
            let id = sqlite3_column_int64(s, 0)
            let member = PortProtocols(spelling: text(s, 15) ?? "") ?? .both
            let port = ReservedPort(name: text(s, 14) ?? "", port: Int(sqlite3_column_int64(s, 13)), protocols: member)
            if let index = ids[id] {
                if let last = result[index].reservation.ports.last, last.port == port.port, last.name == port.name {
                    result[index].reservation.ports[result[index].reservation.ports.count - 1].protocols.formUnion(member)
                } else {
                    result[index].reservation.ports.append(port)
                }
                continue
            }
            var liveness: ProcessIdentity.Liveness?
            let owner = self.owner(kind: text(s, 4), name: bytes(s, 5), process: identity(s, pid: 6))
            if case .process(let process) = owner { liveness = probe.liveness(of: process) }
            ids[id] = result.count
            // A live process owner shows what it runs now (it may have exec'd since it reserved);
            // the pid of one in another PID namespace names another process here.
            var command = text(s, 10)
            if case .process(let p) = owner, liveness == .alive, let now = ProcessIdentity.command(of: p.pid) { command = now }
            var reservation = Reservation(service: text(s, 1) ?? "", environment: text(s, 2) ?? "",
                                          instance: Int(sqlite3_column_int64(s, 3)), owner: owner,
                                          command: command, since: sqlite3_column_int64(s, 11),
                                          expires: int(s, 12), ports: [port])
            reservation.liveness = liveness
            result.append((id, reservation))
        }
        return result
    }
}

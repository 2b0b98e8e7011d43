#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import PortManagerCore
import Synchronization

/// The reservation store: one SQLite database, `reservations.db`, in the state
/// directory (``StateDirectory``). Every SQLite call of the project is in this file.
///
/// Schema (version 2, kept in `PRAGMA user_version`):
///
///     reservation(id, service, environment, instance, owner_kind, owner,
///                 pid, start_time, boot_id, command, since, expires, pid_ns)
///                 UNIQUE(service, environment, instance)
///     port(protocol, port, reservation -> reservation.id ON DELETE CASCADE, name)
///          PRIMARY KEY(protocol, port)
///
/// `(protocol, port)` is the primary key, so two reservations can never hold
/// one host port of one protocol, even when registries disagree about service
/// names, while a UDP and a TCP port of one number are two ports. `owner` holds
/// the owner name's bytes (a BLOB: a name need not be UTF-8); `pid_ns` the
/// inode of a process owner's PID namespace (``ProcessIdentity``).
///
/// Migrations (``migrations``) run in one transaction when the store is opened:
/// version 1 (ports keyed by number alone, no `pid_ns`) becomes version 2 with
/// each of its ports held for both TCP and UDP, as version 1 held them, and
/// `pid_ns` NULL (the process owner is then taken to be in the asking
/// process's PID namespace, as version 1 assumed).
///
/// Opening: the state directory is walked and checked by handle
/// (``StateDirectory/open(_:createParents:)``) and SQLite opens
/// `/proc/self/fd/N/reservations.db` through that handle, with a VFS that keeps
/// the path as it is (SQLite's own resolves `/proc/self/fd/N` back to a path
/// name, which another user could have swapped) and opens every file
/// `O_NOFOLLOW`.
///
/// Durability: WAL journal with `synchronous=NORMAL`. A committed reservation
/// survives the crash of any process (SIGKILL included) and the store is never
/// left corrupt; after a power loss or kernel crash the last transactions
/// before it may be rolled back (so a reservation taken just before may be
/// gone, together with the containers the crash stopped). Every change runs in
/// a `BEGIN IMMEDIATE` transaction; a writer waits up to ``busyTimeout`` ms for
/// another.
final class ReservationStore: @unchecked Sendable {
    /// The schema version this library writes and reads.
    static var schemaVersion: Int32 { Int32(migrations.count) }
    /// How long a transaction waits for another process's, in milliseconds.
    static let busyTimeout: Int32 = 10_000

    let path: String
    fileprivate let directory: StateDirectory.Handle
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let openedBy: pid_t
    /// When the statement being run started (``monotonicNanoseconds()``): the
    /// busy handler's wait and the lock-wait message count from it.
    fileprivate var operationStarted: UInt64 = 0
    private let device: dev_t
    private let inode: ino_t
    /// Handles of the process owners found running (``ProcessWatch``).
    private let watch = ProcessWatch()

    /// A liveness probe for one call, with this store's process handles.
    func probe() -> ProcessIdentity.Probe { ProcessIdentity.Probe(watching: watch) }

    private init(directory: StateDirectory.Handle) throws {
        self.directory = directory
        path = directory.shown(StateDirectory.databaseName)
        openedBy = getpid()
        if try !StateDirectory.checkFiles(directory) { try StateDirectory.createDatabase(directory) }
        var info = stat()
        guard fstatat(directory.fd, StateDirectory.databaseName, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw StateDirectory.refusal(path, "cannot inspect: " + String(cString: strerror(errno)))
        }
        device = info.st_dev
        inode = info.st_ino
        guard let vfs = handleVFSName else {
            throw StateDirectory.refusal(path, "cannot register SQLite's file-descriptor VFS (no \"unix\" VFS)")
        }
        var probe = stat()
        guard stat(directory.procPath(StateDirectory.databaseName), &probe) == 0, probe.st_ino == inode, probe.st_dev == device else {
            throw StateDirectory.refusal(path, "cannot reach the database through \(directory.procPath(StateDirectory.databaseName)) (is /proc mounted?)")
        }
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(directory.procPath(StateDirectory.databaseName), &handle,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, vfs)
        db = handle
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            close()
            throw StateDirectory.refusal(path, "cannot open the database: " + message)
        }
        sqlite3_busy_handler(handle, waitForLock, Unmanaged.passUnretained(self).toOpaque())
        do { try prepareSchema() } catch { close(); throw error }
    }

    deinit { close() }

    private func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        if let db { sqlite3_close_v2(db) }
        db = nil
        watch.closeAll()
    }

    // MARK: - Opening, once per process and directory

    /// Runs `body` with the store of `directory` (nil: the default location),
    /// opening it, or reopening it when its directory or database file was
    /// replaced or this process forked since. One caller at a time per process.
    ///
    /// The directory is walked and checked when the store is first opened in
    /// this process; later calls reach it with one lookup and check it on the
    /// new handle (``StateDirectory/reopen(_:sameAs:)``, which says what that
    /// trusts and why), and walk again whenever the path reaches another
    /// directory. The store's files are checked on every call (a file made a
    /// link or readable by others is refused at once); the connection is kept
    /// while the path reaches the same directory and database file.
    ///
    /// Locking, from the outside in:
    /// - Log messages are held back (``Log/deferring(_:)``) and delivered after
    ///   the transaction has committed and both locks below are released: a log
    ///   callback may reserve, fork, or take its time.
    /// - ``StoreLock``, a plain mutex, is waited for outside the ``ForkGate``:
    ///   threads queueing for the store hold nothing a `fork()` waits for.
    /// - The ``ForkGate`` is held while the store is used, so no child inherits
    ///   SQLite's own mutexes half-taken, except while the busy handler sleeps
    ///   (``waitForLock``): a fork waits for the one transaction in progress
    ///   (its own I/O), never for queued threads or another process.
    static func with<R>(_ directory: [UInt8]?, _ body: (ReservationStore) throws -> R) throws -> R {
        let (path, isDefault) = try StateDirectory.resolve(bytes: directory)
        // The walk from `/` once per store; later calls prove with one lookup that
        // the path still reaches the directory it checked (``StateDirectory/reopen(_:sameAs:)``).
        let known = StoreLock.held { stores in stores[path]?.directory }
        let checked = try known.flatMap { StateDirectory.reopen(path, sameAs: $0) }
            ?? StateDirectory.open(path, createParents: isDefault)
        _ = try StateDirectory.checkFiles(checked)  // on every call: a file made a link or readable by others since is refused
        return try Log.deferring {
            try StoreLock.held { stores in
                ForkGate.enter()
                defer { ForkGate.leave() }
                if let store = stores[path], store.isCurrent(checked) { return try body(store) }
                if let stale = stores.removeValue(forKey: path), stale.openedBy != getpid() {
                    stale.abandon()  // a connection must not cross fork(); leave it unclosed
                }
                let store = try ReservationStore(directory: checked)
                stores[path] = store
                return try body(store)
            }
        }
    }

    /// Closes the store of `directory` and forgets it (the scratch store of
    /// ``ForkPreparation``, whose directory is then removed).
    static func forget(_ directory: String) {
        guard let (path, _) = try? StateDirectory.resolve(bytes: Array(directory.utf8)) else { return }
        let store = StoreLock.held { stores in stores.removeValue(forKey: path) }
        ForkGate.enter()
        store?.close()  // inside the gate: a SQLite call
        ForkGate.leave()
    }

    /// Touches the globals ``with(_:_:)`` needs before it first runs (a constructor
    /// of the library does, so no fork can happen in the middle of their lazy
    /// initialisation in another thread).
    static func prepareForFork() {
        Log.deferring { StoreLock.held { _ in ForkGate.enter(); ForkGate.leave() } }
    }

    /// Whether the open connection still belongs to this process and to what
    /// the walk reached now: the same directory, unchanged, and database file.
    private func isCurrent(_ now: StateDirectory.Handle) -> Bool {
        guard openedBy == getpid(), db != nil else { return false }
        let was = directory.status
        var file = stat()
        guard now.status.st_dev == was.st_dev, now.status.st_ino == was.st_ino, now.status.st_uid == was.st_uid,
              now.status.st_mode == was.st_mode,
              fstatat(now.fd, StateDirectory.databaseName, &file, AT_SYMLINK_NOFOLLOW) == 0,
              file.st_dev == device, file.st_ino == inode else { return false }
        return true
    }

    private func abandon() {
        statements = [:]
        db = nil
        watch.closeAll()  // this process's copies of the handles: closing them touches no lock of the parent's
    }

    /// The schema's history: entry `n` turns version `n` into version `n + 1`
    /// (entry 0 makes a new store). The last version is ``schemaVersion``.
    static let migrations = [
        """
        CREATE TABLE reservation(
          id INTEGER PRIMARY KEY,
          service TEXT NOT NULL,
          environment TEXT NOT NULL,
          instance INTEGER NOT NULL,
          owner_kind TEXT NOT NULL CHECK(owner_kind IN ('process', 'name')),
          owner TEXT NOT NULL,
          pid INTEGER, start_time INTEGER, boot_id TEXT, command TEXT,
          since INTEGER NOT NULL,
          expires INTEGER,
          UNIQUE(service, environment, instance));
        CREATE TABLE port(
          port INTEGER PRIMARY KEY CHECK(port BETWEEN 1 AND 65535),
          reservation INTEGER NOT NULL REFERENCES reservation(id) ON DELETE CASCADE,
          name TEXT NOT NULL);
        CREATE INDEX port_by_reservation ON port(reservation);
        """,
        """
        ALTER TABLE reservation ADD COLUMN pid_ns INTEGER;
        CREATE TABLE port_by_protocol(
          protocol TEXT NOT NULL CHECK(protocol IN ('tcp', 'udp')),
          port INTEGER NOT NULL CHECK(port BETWEEN 1 AND 65535),
          reservation INTEGER NOT NULL REFERENCES reservation(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          PRIMARY KEY(protocol, port));
        INSERT INTO port_by_protocol(protocol, port, reservation, name) SELECT 'tcp', port, reservation, name FROM port;
        INSERT INTO port_by_protocol(protocol, port, reservation, name) SELECT 'udp', port, reservation, name FROM port;
        DROP TABLE port;
        ALTER TABLE port_by_protocol RENAME TO port;
        CREATE INDEX port_by_reservation ON port(reservation);
        """,
    ]

    private func prepareSchema() throws {
        let version = try scalarInt("PRAGMA user_version")
        if version > Int64(Self.schemaVersion) {
            throw StateDirectory.refusal(path, "the database has schema version \(version), newer than this library's \(Self.schemaVersion); use a newer portmanager")
        }
        try enableWAL()
        try execute("PRAGMA synchronous=NORMAL")
        try execute("PRAGMA foreign_keys=ON")
        if version == Int64(Self.schemaVersion) { return }
        try transaction {
            let again = try scalarInt("PRAGMA user_version")
            if again == Int64(Self.schemaVersion) { return }
            let tables = try scalarInt("SELECT count(*) FROM sqlite_master")
            guard again > 0 || tables == 0 else {
                throw StateDirectory.refusal(path, "the database is not a portmanager reservation store (schema version \(again), \(tables) objects); it was left as it is")
            }
            for step in Self.migrations[Int(again)...] { try execute(step) }
            try execute("PRAGMA user_version = \(Self.schemaVersion)")
        }
    }

    /// `PRAGMA journal_mode=WAL`. While another connection switches a new
    /// database to WAL, SQLite answers SQLITE_BUSY at once, without calling the
    /// busy handler: five processes making the first reservation in an empty
    /// directory failed here. Retried on the busy handler's schedule.
    private func enableWAL() throws {
        let s = try statement("PRAGMA journal_mode=WAL")
        operationStarted = monotonicNanoseconds()
        var tries: Int32 = 0
        while true {
            let rc = sqlite3_step(s)
            sqlite3_reset(s)
            if rc == SQLITE_ROW || rc == SQLITE_DONE { return }
            guard rc & 0xff == SQLITE_BUSY, waitForLock(Unmanaged.passUnretained(self).toOpaque(), tries) != 0 else {
                throw failure(rc)
            }
            tries += 1
        }
    }

    // MARK: - Transactions and statements

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns,
    /// rolled back when it throws. Log messages held back during a rolled-back
    /// transaction are dropped: they told of changes it undid.
    func transaction<R>(_ body: () throws -> R) throws -> R {
        try step(statement("BEGIN IMMEDIATE"))
        let logged = Log.heldBackCount()
        do {
            let result = try body()
            try step(statement("COMMIT"))
            return result
        } catch {
            sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            if let logged { Log.dropHeldBack(after: logged) }
            throw error
        }
    }

    /// Runs `body` in a read transaction (`BEGIN DEFERRED` and SELECTs only):
    /// one snapshot of the store, taken without SQLite's write lock, so it
    /// never waits for a writer nor makes one wait (WAL). A listing with
    /// nothing to reap shows it as it is. (A refused reserve does not use it:
    /// under contention every reader that saw an instance freed then queued
    /// for the write lock at once, and a releaser starved for 10 s.)
    func reading<R>(_ body: () throws -> R) throws -> R {
        try step(statement("BEGIN DEFERRED"))
        do {
            let result = try body()
            try step(statement("COMMIT"))
            return result
        } catch {
            sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    private func statement(_ sql: String) throws -> OpaquePointer {
        if let cached = statements[sql] {
            sqlite3_reset(cached)
            sqlite3_clear_bindings(cached)
            return cached
        }
        var prepared: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard rc == SQLITE_OK, let prepared else { throw failure(rc) }
        statements[sql] = prepared
        return prepared
    }

    private func failure(_ rc: Int32) -> PortManagerError {
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        switch rc & 0xff {
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return StateDirectory.refusal(path, "the database is corrupt or not an SQLite database (\(message)); it was left as it is: move it away to start an empty store")
        case SQLITE_BUSY, SQLITE_LOCKED:
            let waited = (monotonicNanoseconds() &- operationStarted) / 1_000_000  // ms
            return StateDirectory.refusal(path, "the store stayed locked by another process; gave up after \(waited / 1000).\(waited % 1000 / 100) s (\(message))")
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN, SQLITE_AUTH:
            return StateDirectory.refusal(path, "cannot write the database (\(message))")
        default:
            return StateDirectory.refusal(path, message)
        }
    }

    /// Steps a statement to completion; returns whether it produced a row.
    @discardableResult
    private func step(_ statement: OpaquePointer) throws -> Bool {
        operationStarted = monotonicNanoseconds()
        let rc = sqlite3_step(statement)
        if rc == SQLITE_ROW { return true }
        defer { sqlite3_reset(statement) }
        guard rc == SQLITE_DONE else { throw failure(rc) }
        return false
    }

    private func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        operationStarted = monotonicNanoseconds()
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        sqlite3_free(error)
        guard rc == SQLITE_OK else { throw failure(rc) }
    }

    private func scalarInt(_ sql: String) throws -> Int64 {
        let s = try statement(sql)
        defer { sqlite3_reset(s) }
        guard try step(s) else { return 0 }
        return sqlite3_column_int64(s, 0)
    }

    private func scalarText(_ sql: String) throws -> String? {
        let s = try statement(sql)
        defer { sqlite3_reset(s) }
        guard try step(s) else { return nil }
        return text(s, 0)
    }

    private func bind(_ s: OpaquePointer, _ index: Int32, _ value: String?) {
        guard let value else { sqlite3_bind_null(s, index); return }
        sqlite3_bind_text(s, index, value, -1, transient)
    }

    private func bind(_ s: OpaquePointer, _ index: Int32, bytes value: [UInt8]) {
        guard !value.isEmpty else { sqlite3_bind_zeroblob(s, index, 0); return }
        _ = value.withUnsafeBytes { sqlite3_bind_blob(s, index, $0.baseAddress, Int32($0.count), transient) }
    }

    private func bind(_ s: OpaquePointer, _ index: Int32, _ value: Int64?) {
        guard let value else { sqlite3_bind_null(s, index); return }
        sqlite3_bind_int64(s, index, value)
    }

    private func text(_ s: OpaquePointer, _ column: Int32) -> String? {
        guard sqlite3_column_type(s, column) != SQLITE_NULL, let raw = sqlite3_column_text(s, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: raw, count: Int(sqlite3_column_bytes(s, column))), as: UTF8.self)
    }

    /// A column's bytes as stored (a BLOB, or the TEXT a version-1 store holds).
    private func bytes(_ s: OpaquePointer, _ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(s, column))
        guard count > 0, let raw = sqlite3_column_blob(s, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    private func int(_ s: OpaquePointer, _ column: Int32) -> Int64? {
        sqlite3_column_type(s, column) == SQLITE_NULL ? nil : sqlite3_column_int64(s, column)
    }

    // MARK: - Queries (call inside ``transaction(_:)``)

    /// How often, at most, a store (in one process) reaps every reservation
    /// when asked to change one (``reapAllIfDue(now:_:)``), in nanoseconds.
    /// A take never waits for it: the rows it is about to take are reaped
    /// first (``heldInstance(service:environment:instance:now:_:)``,
    /// ``heldPort(_:now:_:)``), and a listing judges every row it shows.
    static let fullReapInterval: UInt64 = 1_000_000_000
    /// When this store last reaped everything (``monotonicNanoseconds()``); 0: never.
    private var lastFullReap: UInt64 = 0

    /// Deletes expired reservations and those of processes that have ended.
    /// An owner in another PID namespace is never judged ended by its pid
    /// (``ProcessIdentity/Liveness/unknown``): only its expiry or a reboot ends it here.
    func reapAll(now: Int64, _ probe: inout ProcessIdentity.Probe) throws {
        let expired = try statement("DELETE FROM reservation WHERE expires IS NOT NULL AND expires <= ?")
        bind(expired, 1, now)
        try step(expired)
        let owners = try statement("SELECT id, pid, start_time, boot_id, pid_ns FROM reservation WHERE owner_kind = 'process'")
        var dead: [Int64] = []
        while try step(owners) {
            if probe.liveness(of: identity(owners, pid: 1)) == .ended { dead.append(sqlite3_column_int64(owners, 0)) }
        }
        for id in dead { try delete(id) }
        lastFullReap = monotonicNanoseconds()
    }

    /// ``reapAll(now:_:)`` when this store has not run it for ``fullReapInterval``:
    /// reservations nobody asks about are still removed, without every call
    /// reading every owner's `/proc/PID/stat` while it holds the write lock.
    func reapAllIfDue(now: Int64, _ probe: inout ProcessIdentity.Probe) throws {
        guard lastFullReap == 0 || monotonicNanoseconds() &- lastFullReap >= Self.fullReapInterval else { return }
        try reapAll(now: now, &probe)
    }

    /// The columns ``isHeld(_:now:_:)`` reads, from `reservation r`.
    private static let holding = "r.id, r.owner_kind, r.expires, r.pid, r.start_time, r.boot_id, r.pid_ns"

    /// Whether the row at `s` (columns ``holding``) still holds: not expired,
    /// and not owned by a process that has ended.
    private func isHeld(_ s: OpaquePointer, now: Int64, _ probe: inout ProcessIdentity.Probe) -> Bool {
        if let expires = int(s, 2), expires <= now { return false }
        guard text(s, 1) == "process" else { return true }
        return probe.liveness(of: identity(s, pid: 3)) != .ended
    }

    /// The row id of the reservation of one instance when it still holds
    /// (``isHeld(_:now:_:)``); nil when the instance is free or its
    /// reservation has ended, which is then deleted (call in ``transaction(_:)``).
    func heldInstance(service: String, environment: String, instance: Int, now: Int64,
                      _ probe: inout ProcessIdentity.Probe) throws -> Int64? {
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
    func heldPort(_ ports: [ReservedPort], now: Int64, _ probe: inout ProcessIdentity.Probe) throws -> (port: ReservedPort, id: Int64)? {
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

    /// Whether any reservation has ended (expired, or its process owner has):
    /// a listing that finds none shows the store as it is, without the write lock.
    func anyEnded(now: Int64, _ probe: inout ProcessIdentity.Probe) throws -> Bool {
        let s = try statement("SELECT \(Self.holding) FROM reservation r WHERE r.owner_kind = 'process' OR r.expires IS NOT NULL")
        defer { sqlite3_reset(s) }
        while try step(s) {
            if !isHeld(s, now: now, &probe) { return true }
        }
        return false
    }

    /// The process identity in columns `pid`, `pid + 1` (start time), `pid + 2` (boot id) and `pid + 3` (PID namespace).
    private func identity(_ s: OpaquePointer, pid column: Int32) -> ProcessIdentity {
        ProcessIdentity(pid: Int(int(s, column) ?? 0), startTime: UInt64(bitPattern: int(s, column + 1) ?? 0),
                        bootID: text(s, column + 2) ?? "", pidNamespace: int(s, column + 3).map { UInt64(bitPattern: $0) })
    }

    /// The reservation of one instance, with its row id.
    func find(service: String, environment: String, instance: Int,
              _ probe: inout ProcessIdentity.Probe) throws -> (id: Int64, reservation: Reservation)? {
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
        return text(s, 0) == "process" ? .process(identity(s, pid: 2)) : .name(OwnerName(bytes: bytes(s, 1)))
    }

    /// The reservation of row `id`.
    func reservation(id: Int64, _ probe: inout ProcessIdentity.Probe) throws -> Reservation? {
        let s = try statement(Self.select + " WHERE r.id = ?" + Self.portOrder)
        bind(s, 1, id)
        return try rows(s, &probe).first?.reservation
    }

    /// Every reservation, or those of one service, ordered by service, environment and instance.
    func all(service: String?, _ probe: inout ProcessIdentity.Probe) throws -> [Reservation] {
        let order = " ORDER BY r.service, r.environment, r.instance, p.port, p.protocol"
        let s = try statement(Self.select + (service == nil ? "" : " WHERE r.service = ?") + order)
        if let service { bind(s, 1, service) }
        return try rows(s, &probe).map(\.reservation)
    }

    func insert(_ r: Reservation) throws {
        let s = try statement("""
            INSERT INTO reservation(service, environment, instance, owner_kind, owner, pid, start_time, boot_id, pid_ns, command, since, expires)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
        case .name(let name):
            bind(s, 4, "name")
            bind(s, 5, bytes: name.bytes)
        }
        bind(s, 10, r.command)
        bind(s, 11, r.since)
        bind(s, 12, r.expires)
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
    private func rows(_ s: OpaquePointer, _ probe: inout ProcessIdentity.Probe) throws -> [(id: Int64, reservation: Reservation)] {
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
            let owner: Reservation.Owner
            if text(s, 4) == "process" {
                let process = identity(s, pid: 6)
                owner = .process(process)
                liveness = probe.liveness(of: process)
            } else {
                owner = .name(OwnerName(bytes: bytes(s, 5)))
            }
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

/// The busy handler: SQLite's own (`sqlite3_busy_timeout`) sleeps 1, 2, 5, 10 ...
/// 100 ms between tries, so under contention a writer sleeps long after the lock
/// was freed. This one waits 50 µs, doubling up to 2 ms (200 µs once it has
/// waited 100 ms, so that newcomers do not starve it), and gives up once
/// ``ReservationStore/busyTimeout`` ms have passed on the clock since the
/// statement started (SQLITE_BUSY: PM_ERR_STATE, whose message states the wait).
/// `context` is the store, unretained (it outlives its connection).
private func waitForLock(_ context: UnsafeMutableRawPointer?, _ count: Int32) -> Int32 {
    guard let context else { return 0 }
    let store = Unmanaged<ReservationStore>.fromOpaque(context).takeUnretainedValue()
    let waited = monotonicNanoseconds() &- store.operationStarted
    guard waited < UInt64(ReservationStore.busyTimeout) * 1_000_000 else { return 0 }
    // A waiter that has waited long tries often again: one sleeping 2 ms lost the lock to
    // newcomers (which try after 50 µs) for 10 s on a loaded 2-core machine with 50 processes.
    let step = waited > 100_000_000 ? 200 : min(50 << min(Int(count), 6), 2000)  // µs
    // SQLite holds none of its mutexes here: a fork may happen while this thread sleeps.
    ForkGate.leave()
    usleep(useconds_t(step))
    ForkGate.enter()
    return 1
}

/// CLOCK_MONOTONIC in nanoseconds.
private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// The lock of the reservation stores in this process: one caller at a time
/// uses them. A plain mutex, not a ``Locked``: it is waited for outside the
/// ``ForkGate`` (see ``ReservationStore/with(_:_:)``), and the child of a fork
/// re-initialises it (the threads that held or waited for it are not there).
/// The table of open stores is the child's own too: the parent's may have been
/// half-changed by another thread at the fork, so the child never reads it.
private enum StoreLock {
    /// The open stores of one process.
    final class Table {
        let pid = getpid()
        var stores: [[UInt8]: ReservationStore] = [:]
    }

    /// The mutex, published for the fork handler (which must not run a lazy initializer).
    private static let published = Atomic<UInt>(0)
    nonisolated(unsafe) private static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        published.store(UInt(bitPattern: mutex), ordering: .sequentiallyConsistent)
        pthread_atfork(nil, nil, {
            if let mutex = UnsafeMutablePointer<pthread_mutex_t>(bitPattern: StoreLock.published.load(ordering: .sequentiallyConsistent)) {
                pthread_mutex_init(mutex, nil)
            }
        })
        return mutex
    }()
    /// Read and written with `mutex` held. A table of another process (the
    /// parent) is left as it is, never released: its connections must not be closed here.
    nonisolated(unsafe) private static var table: Unmanaged<Table>?

    static func held<R>(_ body: (inout [[UInt8]: ReservationStore]) throws -> R) rethrows -> R {
        let mutex = self.mutex
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if table == nil || table!.takeUnretainedValue().pid != getpid() {
            table = Unmanaged.passRetained(Table())
        }
        return try body(&table!.takeUnretainedValue().stores)
    }
}

/// SQLite's `SQLITE_TRANSIENT`: bound text is copied.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

// MARK: - The file-descriptor VFS

/// The name of the VFS that opens `/proc/self/fd/N/...` paths as they are;
/// nil when SQLite has no "unix" VFS to wrap. Registered once per process.
nonisolated(unsafe) private let handleVFSName: UnsafePointer<CChar>? = {
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

#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import PortManagerCore
import Synchronization

/// The reservation store: one SQLite database, `reservations.db`, in the state
/// directory (``StateDirectory``). Every SQLite call of the project is in this file and its
/// companions: ReservationQueries.swift (the queries), StoreLock.swift (the
/// process lock and the busy handler) and HandleVFS.swift (opening by handle).
///
/// Schema (version 4, kept in `PRAGMA user_version`):
///
///     reservation(id, service, environment, instance, owner_kind, owner,
///                 pid, start_time, boot_id, command, since, expires, pid_ns,
///                 container_seen)
///                 UNIQUE(service, environment, instance)
///     port(protocol, port, reservation -> reservation.id ON DELETE CASCADE, name)
///          PRIMARY KEY(protocol, port)
///
/// `owner_kind` is `process`, `name` or `container`. `(protocol, port)` is the primary key, so two reservations can never hold
/// one host port of one protocol, even when registries disagree about service
/// names, while a UDP and a TCP port of one number are two ports. `owner` holds
/// the owner name's or container name's bytes (a BLOB: a name need not be UTF-8); `pid_ns` the
/// inode of a process owner's PID namespace (``ProcessIdentity``);
/// `container_seen` is 1 once the Docker engine has listed a container owner's
/// container (before that, its absence reaps the reservation only after the
/// start grace, ``ContainerLookup/startGraceSeconds``).
///
/// Migrations (``migrations``) run in one transaction when the store is opened:
/// version 1 (ports keyed by number alone, no `pid_ns`) becomes version 2 with
/// each of its ports held for both TCP and UDP, as version 1 held them, and
/// `pid_ns` NULL (the process owner is then taken to be in the asking
/// process's PID namespace, as version 1 assumed). Version 2 becomes version 3,
/// whose `owner_kind` may also be `container`, with every row as it was (the
/// tables are rebuilt: SQLite cannot change a CHECK constraint in place).
/// Version 3 becomes version 4 with `container_seen` 0 on every row (a
/// container reservation made more than the grace ago is then reaped as soon
/// as the engine does not list its container, as version 3 would have).
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
///
/// Not `Sendable` (it holds a SQLite connection and mutable state): one thread
/// at a time uses a store, inside ``with(_:_:)`` with ``StoreLock`` held.
final class ReservationStore {
    /// The schema version this library writes and reads.
    static var schemaVersion: Int32 { Int32(migrations.count) }
    /// How long a transaction waits for another process's, in milliseconds.
    static let busyTimeout: Int32 = 10_000

    let path: String
    let directory: StateDirectory.Handle
    private(set) var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let openedBy: pid_t
    /// When the statement being run started (``monotonicNanoseconds()``): the
    /// busy handler's wait and the lock-wait message count from it.
    var operationStarted: UInt64 = 0
    private let device: dev_t
    private let inode: ino_t
    /// Handles of the process owners found running (``ProcessWatch``).
    let watch = ProcessWatch()

    /// A liveness probe for one call, with this store's process handles and the container lookup.
    func probe(_ containers: ContainerLookup) -> OwnerProbe {
        OwnerProbe(processes: ProcessIdentity.Probe(watching: watch), containers: containers)
    }

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
        // The ports move to a copy first (dropping `reservation` while they refer
        // to it would delete them, foreign keys being on); renaming the new
        // `reservation` then makes the ports' copy refer to it by name.
        """
        CREATE TABLE reservation_3(
          id INTEGER PRIMARY KEY,
          service TEXT NOT NULL,
          environment TEXT NOT NULL,
          instance INTEGER NOT NULL,
          owner_kind TEXT NOT NULL CHECK(owner_kind IN ('process', 'name', 'container')),
          owner TEXT NOT NULL,
          pid INTEGER, start_time INTEGER, boot_id TEXT, command TEXT,
          since INTEGER NOT NULL,
          expires INTEGER,
          pid_ns INTEGER,
          UNIQUE(service, environment, instance));
        INSERT INTO reservation_3(id, service, environment, instance, owner_kind, owner, pid, start_time, boot_id,
                                  command, since, expires, pid_ns)
          SELECT id, service, environment, instance, owner_kind, owner, pid, start_time, boot_id,
                 command, since, expires, pid_ns FROM reservation;
        CREATE TABLE port_3(
          protocol TEXT NOT NULL CHECK(protocol IN ('tcp', 'udp')),
          port INTEGER NOT NULL CHECK(port BETWEEN 1 AND 65535),
          reservation INTEGER NOT NULL REFERENCES reservation_3(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          PRIMARY KEY(protocol, port));
        INSERT INTO port_3(protocol, port, reservation, name) SELECT protocol, port, reservation, name FROM port;
        DROP TABLE port;
        DROP TABLE reservation;
        ALTER TABLE reservation_3 RENAME TO reservation;
        ALTER TABLE port_3 RENAME TO port;
        CREATE INDEX port_by_reservation ON port(reservation);
        """,
        """
        ALTER TABLE reservation ADD COLUMN container_seen INTEGER NOT NULL DEFAULT 0;
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
        let logged = Log.heldBackCount()
        return try within("BEGIN IMMEDIATE", body) { if let logged { Log.dropHeldBack(after: logged) } }
    }

    /// Runs `body` in a read transaction (`BEGIN DEFERRED` and SELECTs only):
    /// one snapshot of the store, taken without SQLite's write lock, so it
    /// never waits for a writer nor makes one wait (WAL). A listing with
    /// nothing to reap shows it as it is. (A refused reserve does not use it:
    /// under contention every reader that saw an instance freed then queued
    /// for the write lock at once, and a releaser starved for 10 s.)
    func reading<R>(_ body: () throws -> R) throws -> R {
        try within("BEGIN DEFERRED", body) {}
    }

    /// Runs `body` between `begin` and COMMIT; on a throw, rolls back, calls
    /// `rolledBack` and rethrows.
    private func within<R>(_ begin: String, _ body: () throws -> R, rolledBack: () -> Void) throws -> R {
        try step(statement(begin))
        do {
            let result = try body()
            try step(statement("COMMIT"))
            return result
        } catch {
            sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            rolledBack()
            throw error
        }
    }

    func statement(_ sql: String) throws -> OpaquePointer {
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

    func failure(_ rc: Int32) -> PortManagerError {
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
    func step(_ statement: OpaquePointer) throws -> Bool {
        operationStarted = monotonicNanoseconds()
        let rc = sqlite3_step(statement)
        if rc == SQLITE_ROW { return true }
        defer { sqlite3_reset(statement) }
        guard rc == SQLITE_DONE else { throw failure(rc) }
        return false
    }

    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        operationStarted = monotonicNanoseconds()
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        sqlite3_free(error)
        guard rc == SQLITE_OK else { throw failure(rc) }
    }

    func scalarInt(_ sql: String) throws -> Int64 {
        let s = try statement(sql)
        defer { sqlite3_reset(s) }
        guard try step(s) else { return 0 }
        return sqlite3_column_int64(s, 0)
    }

    func scalarText(_ sql: String) throws -> String? {
        let s = try statement(sql)
        defer { sqlite3_reset(s) }
        guard try step(s) else { return nil }
        return text(s, 0)
    }

    func bind(_ s: OpaquePointer, _ index: Int32, _ value: String?) {
        guard let value else { sqlite3_bind_null(s, index); return }
        sqlite3_bind_text(s, index, value, -1, transient)
    }

    func bind(_ s: OpaquePointer, _ index: Int32, bytes value: [UInt8]) {
        guard !value.isEmpty else { sqlite3_bind_zeroblob(s, index, 0); return }
        _ = value.withUnsafeBytes { sqlite3_bind_blob(s, index, $0.baseAddress, Int32($0.count), transient) }
    }

    func bind(_ s: OpaquePointer, _ index: Int32, _ value: Int64?) {
        guard let value else { sqlite3_bind_null(s, index); return }
        sqlite3_bind_int64(s, index, value)
    }

    func text(_ s: OpaquePointer, _ column: Int32) -> String? {
        guard sqlite3_column_type(s, column) != SQLITE_NULL, let raw = sqlite3_column_text(s, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: raw, count: Int(sqlite3_column_bytes(s, column))), as: UTF8.self)
    }

    /// A column's bytes as stored (a BLOB, or the TEXT a version-1 store holds).
    func bytes(_ s: OpaquePointer, _ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(s, column))
        guard count > 0, let raw = sqlite3_column_blob(s, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    func int(_ s: OpaquePointer, _ column: Int32) -> Int64? {
        sqlite3_column_type(s, column) == SQLITE_NULL ? nil : sqlite3_column_int64(s, column)
    }

    // MARK: - Reaping state

    /// When this store last reaped everything (``monotonicNanoseconds()``); 0: never.
    var lastFullReap: UInt64 = 0
}

/// SQLite's `SQLITE_TRANSIENT`: bound text is copied.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import PortManagerCore
import Synchronization

/// The busy handler: SQLite's own (`sqlite3_busy_timeout`) sleeps 1, 2, 5, 10 ...
/// 100 ms between tries, so under contention a writer sleeps long after the lock
/// was freed. This one waits 50 µs, doubling up to 2 ms (200 µs once it has
/// waited 100 ms, so that newcomers do not starve it), and gives up once
/// ``ReservationStore/busyTimeout`` ms have passed on the clock since the
/// statement started (SQLITE_BUSY: PM_ERR_STATE, whose message states the wait).
/// `context` is the store, unretained (it outlives its connection).
func waitForLock(_ context: UnsafeMutableRawPointer?, _ count: Int32) -> Int32 {
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
func monotonicNanoseconds() -> UInt64 {
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
enum StoreLock {
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

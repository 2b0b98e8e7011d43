#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// A value guarded by a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex`: on Linux, `swift test
/// --sanitize=thread` reports races inside `Mutex` that are not there, while
/// this wrapper of a `pthread_mutex_t` is clean.
///
/// Fork-safe: `fork()` waits until no thread is inside `read()` or `withLock`
/// (``ForkGate``), so the child never inherits a held lock or a half-written
/// value. Hence a body must not fork, and should be short: a fork in another
/// thread waits for it.
///
/// `@unchecked Sendable`: the compiler cannot see that the `pthread_mutex_t`
/// guards `value`; every access to `value` is inside `read()` or `withLock`,
/// which hold it.
package final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Guards `value`.
    package init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        ForkGate.install()
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// A copy of the value, taken with the lock held. Unlike `withLock { $0 }`
    /// it writes nothing back, so reading never reassigns the stored value.
    package func read() -> Value {
        ForkGate.enter()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex); ForkGate.leave() }
        return value
    }

    /// Runs `body` with the lock held.
    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        ForkGate.enter()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex); ForkGate.leave() }
        return try body(&value)
    }
}

/// Keeps `fork()` out of every ``Locked`` section: each section holds a
/// process-wide read-write lock for reading; a `pthread_atfork` prepare handler
/// takes it for writing (waiting for the sections in progress, holding off new
/// ones), the parent handler releases it, and the child re-initialises it (the
/// child's only thread holds it, under a new thread id). glibc's default
/// read-write lock prefers readers, so a section nested in another never waits
/// behind a pending fork; the other side of that preference is that a fork
/// waits until no section at all is open. So a section must stay short and
/// never wait, inside the gate, for another thread or process: the reservation
/// store waits for its process lock before it enters, and leaves the gate while
/// SQLite's busy handler sleeps (StoreLock.swift).
package enum ForkGate {
    /// The lock, published for the fork handlers (which must not run a lazy initializer).
    private static let published = Atomic<UInt>(0)
    nonisolated(unsafe) private static let gate: UnsafeMutablePointer<pthread_rwlock_t> = {
        let gate = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        gate.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(gate, nil)
        published.store(UInt(bitPattern: gate), ordering: .sequentiallyConsistent)
        pthread_atfork({ if let gate = ForkGate.handler() { pthread_rwlock_wrlock(gate) } },
                       { if let gate = ForkGate.handler() { pthread_rwlock_unlock(gate) } },
                       { if let gate = ForkGate.handler() { pthread_rwlock_init(gate, nil) } })
        return gate
    }()

    /// Registers the handlers; every `Locked` does it before it can be held.
    @inline(__always)
    package static func install() { _ = gate }

    /// Opens a section: a fork waits until it is closed. Sections nest.
    @inline(__always)
    package static func enter() { pthread_rwlock_rdlock(gate) }

    /// Closes the section ``enter()`` opened.
    @inline(__always)
    package static func leave() { pthread_rwlock_unlock(gate) }

    fileprivate static func handler() -> UnsafeMutablePointer<pthread_rwlock_t>? {
        UnsafeMutablePointer(bitPattern: published.load(ordering: .sequentiallyConsistent))
    }
}


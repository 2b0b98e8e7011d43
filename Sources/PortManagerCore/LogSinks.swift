#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// The sinks in force. Never mutated: a replacement publishes a new object.
final class SinkPair: Sendable {
    let custom: LogSink?
    let fallback: LogSink?
    init(custom: LogSink?, fallback: LogSink?) {
        self.custom = custom
        self.fallback = fallback
    }
}

/// Where ``Log`` keeps its sinks, and how a replacement waits for the calls of
/// the sink it replaced (a two-counter scheme, as in SRCU):
///
/// - A delivery counts itself in `readers[epoch & 1]`, then loads `current`,
///   calls the sink and uncounts itself. No lock: a thread forked in the middle
///   of a delivery leaves nothing held (the child handler below resets the
///   counts to the forking thread's own).
/// - A replacement publishes the new pair in `current`, then twice flips
///   `epoch` and waits for the counter it flipped away from to drain. Every
///   delivery that may have loaded the old pair counted itself before the new
///   pair was published, in one of the two counters, so both drains together
///   wait for all of them; deliveries that start later go to the other counter
///   and see the new pair, so a steady stream of messages cannot starve it.
///   Only then is the old pair released.
/// - Each thread keeps its own counts (in a pthread key), so a replacement from
///   inside a sink is refused instead of waiting for itself, and a fork child
///   knows which counts are its own.
///
/// All operations are sequentially consistent: the argument above needs the
/// reader's count-then-load and the writer's publish-then-check to be ordered.
enum SinkSlots {
    /// `Unmanaged<SinkPair>` bits (holding one retain), or 0 before the first set.
    private static let current = Atomic<UInt>(0)
    private static let epoch = Atomic<UInt>(0)
    private static let readers0 = Atomic<Int>(0)
    private static let readers1 = Atomic<Int>(0)
    /// One replacement at a time. A flag, not a mutex: the child of a fork
    /// clears it (a replacement in another thread of the parent never ends there).
    private static let replacing = Atomic<Bool>(false)

    /// This thread's deliveries in progress: counter 0 in the low half of the
    /// word, counter 1 in the high half. Created, with the fork handler, before
    /// the first delivery or replacement can count anything.
    private static let ownCounts: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        keyForChild.store(UInt64(key) | keyIsSet, ordering: .sequentiallyConsistent)
        pthread_atfork(nil, nil, { SinkSlots.afterForkInChild() })
        return key
    }()
    /// `ownCounts` for the fork handler, which must not run a lazy initializer.
    private static let keyForChild = Atomic<UInt64>(0)
    private static let keyIsSet: UInt64 = 1 << 40
    private static let half = UInt.bitWidth / 2

    @inline(__always)
    private static func counts(_ key: pthread_key_t) -> UInt {
        UInt(bitPattern: pthread_getspecific(key))
    }

    @inline(__always)
    private static func setCounts(_ key: pthread_key_t, _ value: UInt) {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: value))
    }

    /// Calls the sink in force with `message`, counted as a reader of it. The
    /// message is formatted before: the counted stretch is only the sink's own
    /// call, which is all a replacement has to wait for.
    @inline(never)
    static func deliver(_ level: LogLevel, _ message: String) {
        let key = ownCounts
        let mine = counts(key)
        let slot = epoch.load(ordering: .sequentiallyConsistent) & 1
        if slot == 0 {
            readers0.wrappingAdd(1, ordering: .sequentiallyConsistent)
        } else {
            readers1.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
        setCounts(key, mine &+ (1 << (slot * UInt(half))))
        defer {
            setCounts(key, mine)
            if slot == 0 {
                readers0.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            } else {
                readers1.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            }
        }
        guard let raw = UnsafeRawPointer(bitPattern: current.load(ordering: .sequentiallyConsistent)) else { return }
        // No retain needed: the pair lives until every counted reader is gone.
        Unmanaged<SinkPair>.fromOpaque(raw)._withUnsafeGuaranteedRef { pair in
            if let sink = pair.custom ?? pair.fallback { sink(level, message) }
        }
    }

    /// Publishes `make(old)` and returns once no thread runs or will run the old sinks.
    static func replace(_ make: (SinkPair) -> (custom: LogSink?, fallback: LogSink?)) throws {
        let key = ownCounts
        guard counts(key) == 0 else {
            throw PortManagerError.invalidArgument(
                "the log sink cannot be replaced from inside a log sink call on the same thread"
                + " (the replacement waits until the old sink has returned)")
        }
        var spins = 0
        while !replacing.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            pause(&spins)
        }
        let oldBits = current.load(ordering: .sequentiallyConsistent)
        let old = UnsafeRawPointer(bitPattern: oldBits).map { Unmanaged<SinkPair>.fromOpaque($0) }
        let next = make(old?.takeUnretainedValue() ?? SinkPair(custom: nil, fallback: nil))
        let pair = Unmanaged.passRetained(SinkPair(custom: next.custom, fallback: next.fallback))
        current.store(UInt(bitPattern: pair.toOpaque()), ordering: .sequentiallyConsistent)
        for _ in 0..<2 {
            let drained = epoch.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue & 1
            spins = 0
            while readerCount(drained) != 0 { pause(&spins) }
        }
        old?.release()
        replacing.store(false, ordering: .sequentiallyConsistent)
    }

    private static func readerCount(_ slot: UInt) -> Int {
        slot == 0 ? readers0.load(ordering: .sequentiallyConsistent) : readers1.load(ordering: .sequentiallyConsistent)
    }

    /// Waits politely: a few yields (a sink call is usually short), then sleeps
    /// growing to 1 ms (a sink may write to a slow file or wait for Python's GIL).
    private static func pause(_ spins: inout Int) {
        spins += 1
        if spins <= 64 {
            sched_yield()
        } else {
            var delay = timespec(tv_sec: 0, tv_nsec: min(1_000_000, 1_000 * (spins - 64)))
            nanosleep(&delay, nil)
        }
    }

    /// In the child of a fork only the forking thread exists: the counts are its
    /// own, and a replacement running in another thread of the parent is gone.
    private static func afterForkInChild() {
        let stored = keyForChild.load(ordering: .sequentiallyConsistent)
        let mine = stored & keyIsSet == 0 ? 0 : counts(pthread_key_t(truncatingIfNeeded: stored))
        readers0.store(Int(mine & ((1 << UInt(half)) - 1)), ordering: .sequentiallyConsistent)
        readers1.store(Int(mine >> UInt(half)), ordering: .sequentiallyConsistent)
        replacing.store(false, ordering: .sequentiallyConsistent)
    }
}

/// The messages one thread holds back inside ``Log/deferring(_:)``, found
/// through a pthread key (no lock: only its own thread touches it).
final class HeldLines {
    var lines: [(LogLevel, String)] = []

    /// Created before the first message can be held back.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// This thread's held-back messages, or nil when it is not inside ``Log/deferring(_:)``.
    @inline(__always)
    static func current() -> HeldLines? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<HeldLines>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Makes `held` this thread's (retained while set), or clears it.
    static func set(_ held: HeldLines?) {
        if let old = pthread_getspecific(key) { Unmanaged<HeldLines>.fromOpaque(old).release() }
        pthread_setspecific(key, held.map { UnsafeRawPointer(Unmanaged.passRetained($0).toOpaque()) })
    }
}

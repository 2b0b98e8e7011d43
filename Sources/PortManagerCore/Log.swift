import Synchronization

/// Log levels. The numbers equal Python's `logging` levels, so bindings can pass them through.
public enum LogLevel: Int32, Sendable, CaseIterable, Comparable {
    /// Detail for debugging.
    case debug = 10
    /// Normal events, such as every port allocation.
    case info = 20
    /// Something surprising that did not fail.
    case warning = 30
    /// A failure.
    case error = 40

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `debug`, `info`, `warning`, `error`.
    public var name: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }
}

/// The log's threshold: messages at a level below it are dropped before they
/// are formatted. Any number in ``range`` (Python's `logging.disable(INFO)`
/// asks for 21), so it is not a ``LogLevel``; each level is one, and ``off``
/// is above them all.
public struct LogThreshold: RawRepresentable, Sendable, Hashable, Comparable {
    /// The number, as `pm_set_log_level` takes it.
    public let rawValue: Int

    /// Every threshold there is: 0 lets everything through, 100 nothing.
    public static let range: ClosedRange<Int> = 0...100
    /// Above every level: nothing is logged.
    public static let off = LogThreshold(checked: range.upperBound)
    /// Lets `level` and the levels above it through.
    public static let debug = LogThreshold(.debug)
    /// Lets INFO (every allocation) and above through.
    public static let info = LogThreshold(.info)
    /// The default: warnings and errors only.
    public static let warning = LogThreshold(.warning)
    /// Errors only.
    public static let error = LogThreshold(.error)

    /// Nil outside ``range``.
    public init?(rawValue: Int) {
        guard LogThreshold.range.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The threshold that lets `level` and the levels above it through.
    public init(_ level: LogLevel) { rawValue = Int(level.rawValue) }

    fileprivate init(checked value: Int) { rawValue = value }

    /// Parses a level name as `PORTMANAGER_LOG` spells it (case-insensitive):
    /// `debug`, `info`, `warning`/`warn`, `error`, or `off`/`none`/`quiet`.
    public init?(named text: String) {
        switch text.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error": self = .error
        case "off", "none", "quiet": self = .off
        default: return nil
        }
    }

    public static func < (lhs: LogThreshold, rhs: LogThreshold) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Receives every log message at or above the threshold.
public typealias LogSink = @Sendable (LogLevel, String) -> Void

/// The library's process-wide log: a level threshold and a replaceable sink.
///
/// The core formats messages but performs no I/O; the sink decides where they go.
/// Until a sink is set, messages go to ``fallbackSink`` (which the `PortManager`
/// module points at standard error) or nowhere.
///
/// Replacing a sink is final: once ``setSink(_:)`` returns, no thread is inside
/// the previous sink or will enter it again (so a C caller may free the old
/// callback's context, and Python may free the old ctypes thunk). Delivery
/// takes no lock, so a `fork()` in another thread never leaves one held; see
/// ``SinkSlots`` (LogSinks.swift) for how the wait works.
public enum Log {
    private static let threshold = Atomic<Int>(LogThreshold.warning.rawValue)

    /// True when a message at `level` would be delivered. Cheap: one atomic load.
    @inline(__always)
    public static func isEnabled(_ level: LogLevel) -> Bool {
        Int(level.rawValue) >= threshold.load(ordering: .relaxed)
    }

    /// The current threshold: messages below it are dropped before they are formatted.
    public static var level: LogThreshold {
        get { LogThreshold(checked: threshold.load(ordering: .relaxed)) }
        set { threshold.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Replaces the sink; `nil` restores the fallback. When it returns, no thread
    /// is running the previous sink and none will call it again.
    ///
    /// Throws ``PortManagerError/invalidArgument(_:)`` when called from inside a
    /// sink on the same thread: the replacement would have to wait for that very
    /// call to return. A sink may log (the nested message goes to whichever sink
    /// is then in force); it must not wait for a thread that is replacing the sink.
    public static func setSink(_ sink: LogSink?) throws {
        try SinkSlots.replace { old in (custom: sink, fallback: old.fallback) }
    }

    /// Sets the sink used when no custom sink is set (the `PortManager` module's
    /// stderr writer). Same guarantee and same refusal as ``setSink(_:)``.
    public static func setFallbackSink(_ sink: LogSink?) throws {
        try SinkSlots.replace { old in (custom: old.custom, fallback: sink) }
    }

    /// Delivers `message` if `level` passes the threshold: at once, or, inside
    /// ``deferring(_:)`` on this thread, when that returns.
    @inline(__always)
    public static func emit(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        if let held = HeldLines.current() {
            held.lines.append((level, message()))
            return
        }
        SinkSlots.deliver(level, message())
    }

    /// Runs `body`, holding back the messages this thread logs meanwhile, and
    /// delivers them in order once it has returned or thrown.
    ///
    /// For code that holds a lock or a transaction a sink must not run inside:
    /// a sink may call the library (and take that lock again), fork, or take its
    /// time while other threads and processes wait for the lock. Put it outside
    /// every lock. Nested, the outermost delivers.
    public static func deferring<R>(_ body: () throws -> R) rethrows -> R {
        if HeldLines.current() != nil { return try body() }
        let held = HeldLines()
        HeldLines.set(held)
        defer {
            HeldLines.set(nil)
            for (level, message) in held.lines { SinkSlots.deliver(level, message) }
        }
        return try body()
    }

    /// How many messages this thread holds back (``deferring(_:)``); nil outside it.
    public static func heldBackCount() -> Int? {
        HeldLines.current()?.lines.count
    }

    /// Drops the messages this thread held back after the first `count`: they
    /// told of changes that were rolled back.
    public static func dropHeldBack(after count: Int) {
        guard let held = HeldLines.current(), held.lines.count > count else { return }
        held.lines.removeSubrange(count...)
    }

    /// Logs an allocation in the original spec's format.
    public static func allocated(_ allocation: Allocation) {
        emit(.info, allocationMessage(allocation))
    }

    /// The event that starts every allocation line.
    public static let allocationEvent: StaticString = "port_manager_port_allocated"

    /// The original spec's line: `port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100`.
    /// A range adds `last=`; a port inside the container that is neither the
    /// host port nor the base port (a fixed `container:`) adds `container=`; an
    /// environment `offset=`. Every value is escaped (``escape(_:)``).
    ///
    /// Written into one buffer sized before the first byte: every allocation
    /// is logged at INFO, so this is the logged path's main cost.
    public static func allocationMessage(_ a: Allocation) -> String {
        let service = escape(a.service), port = escape(a.portName)
        let offset = a.hostPort - instancePort(base: a.base, instance: a.instance, increment: a.increment)
        // The nine ` key=` literals take 73 bytes; each of the seven numbers at
        // most 20 (Int.min: a sign and 19 digits).
        let capacity = allocationEvent.utf8CodeUnitCount + 73 + 7 * LineWriter.maxIntegerDigits
            + service.utf8.count + port.utf8.count
        return String(unsafeUninitializedCapacity: capacity) { buffer in
            var line = LineWriter(buffer)
            line.append(allocationEvent)
            line.append(" service="); line.append(service)
            line.append(" instance="); line.append(a.instance)
            line.append(" type="); line.append(port)
            line.append(" port="); line.append(a.hostPort)
            line.append(" base="); line.append(a.base)
            line.append(" increment="); line.append(a.increment)
            if a.hostPortLast != a.hostPort { line.append(" last="); line.append(a.hostPortLast) }
            if a.containerIsNotable {
                line.append(" container="); line.append(a.containerPort)
            }
            if offset != 0 { line.append(" offset="); line.append(offset) }
            return line.count
        }
    }

    /// `name key=value key=value`, each value escaped by ``escape(_:)``.
    public static func event(_ name: String, _ fields: [(String, String)]) -> String {
        var line = name
        for (key, value) in fields {
            line += " "
            line += key
            line += "="
            line += escape(value)
        }
        return line
    }

    /// A logfmt value: bare when it holds only `[A-Za-z0-9_.:/@+-]`, otherwise a
    /// JSON string literal (``JSONText``), as logfmt readers expect, so no value
    /// can end a line or forge a field. A bare value is returned as is (no copy).
    public static func escape(_ value: String) -> String {
        var bytes = value
        let bare = bytes.withUTF8 { utf8 in !utf8.isEmpty && utf8.allSatisfy(isBare) }
        return bare ? value : JSONText.string(value)
    }

    @inline(__always)
    private static func isBare(_ b: UInt8) -> Bool {
        Naming.isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
            || b == UInt8(ascii: "/") || b == UInt8(ascii: "@") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
    }
}

/// Appends bytes to a buffer its caller sized for everything appended.
struct LineWriter {
    /// The most bytes one `Int` takes in decimal: `-9223372036854775808`.
    static let maxIntegerDigits = 20

    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { copy($0) }
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { copy($0) }
    }

    mutating func append(_ value: Int) {
        // Digits from the right into a scratch of maxIntegerDigits, then copied.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                start -= 1
                scratch[start] = UInt8(ascii: "-")
            }
            copy(UnsafeBufferPointer(rebasing: scratch.assumingMemoryBound(to: UInt8.self)[start...]))
        }
    }

    private mutating func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(count + bytes.count <= capacity, "LineWriter: the buffer was sized too small")
        if let source = bytes.baseAddress { (base + count).update(from: source, count: bytes.count) }
        count += bytes.count
    }
}

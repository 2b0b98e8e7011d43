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

    /// A threshold above every level: nothing is logged.
    public static let offThreshold: Int32 = 100

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

    /// Parses a level name as `PORTMANAGER_LOG` spells it (case-insensitive):
    /// `debug`, `info`, `warning`/`warn`, `error`, or `off`/`none`. Returns the threshold.
    public static func threshold(named text: String) -> Int32? {
        switch text.lowercased() {
        case "debug": return LogLevel.debug.rawValue
        case "info": return LogLevel.info.rawValue
        case "warning", "warn": return LogLevel.warning.rawValue
        case "error": return LogLevel.error.rawValue
        case "off", "none", "quiet": return offThreshold
        default: return nil
        }
    }
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
    private static let threshold = Atomic<Int32>(LogLevel.warning.rawValue)

    /// True when a message at `level` would be delivered. Cheap: one atomic load.
    @inline(__always)
    public static func isEnabled(_ level: LogLevel) -> Bool {
        level.rawValue >= threshold.load(ordering: .relaxed)
    }

    /// The current threshold: messages below it are dropped before they are formatted.
    public static var level: Int32 {
        get { threshold.load(ordering: .relaxed) }
        set { threshold.store(newValue, ordering: .relaxed) }
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

    /// Delivers `message` if `level` passes the threshold.
    @inline(__always)
    public static func emit(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        SinkSlots.deliver(level, message())
    }

    /// Logs an allocation in the seed's format.
    public static func allocated(_ allocation: Allocation) {
        emit(.info, allocationMessage(allocation))
    }

    /// The seed's line: `port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100`.
    /// A range adds `last=`, a fixed container port adds `container=`; every value is escaped.
    public static func allocationMessage(_ a: Allocation) -> String {
        var fields: [(String, String)] = [
            ("service", a.service), ("instance", String(a.instance)), ("type", a.portName),
            ("port", String(a.hostPort)), ("base", String(a.base)), ("increment", String(a.increment)),
        ]
        if a.hostPortLast != a.hostPort { fields.append(("last", String(a.hostPortLast))) }
        if a.containerPort != a.hostPort { fields.append(("container", String(a.containerPort))) }
        if a.hostPort != a.base + a.instance * a.increment {
            fields.append(("offset", String(a.hostPort - a.base - a.instance * a.increment)))
        }
        return event("port_manager_port_allocated", fields)
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
    /// can end a line or forge a field.
    public static func escape(_ value: String) -> String {
        let bare = !value.isEmpty && value.utf8.allSatisfy { b in
            Naming.isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
                || b == UInt8(ascii: "/") || b == UInt8(ascii: "@") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
        }
        return bare ? value : JSONText.string(value)
    }
}

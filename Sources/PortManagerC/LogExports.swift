import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "logging": the process-wide sink
// and threshold. Marshalling only: the logging is PortManagerCore's `Log`.

/// A C log callback and its context pointer.
///
/// `@unchecked Sendable`: a raw `void *` is not Sendable to the compiler. The
/// header's contract for pm_set_log_callback has the caller accept calls from
/// any thread with this context, so the library may carry it to any thread; it
/// never reads or writes through it.
private struct CallbackSink: @unchecked Sendable {
    let function: pm_log_fn
    let context: UnsafeMutableRawPointer?
}

/// See portmanager.h.
@c @implementation
public func pm_set_log_callback(_ callback: pm_log_fn?, _ context: UnsafeMutableRawPointer?) -> pm_status {
    LogSetup.ensure()
    return guarded {
        guard let callback else { return try Log.setSink(nil) }
        let sink = CallbackSink(function: callback, context: context)
        try Log.setSink { level, message in
            message.withCString { sink.function(level.rawValue, $0, sink.context) }
        }
    }
}

/// See portmanager.h.
@c @implementation
public func pm_set_log_level(_ level: Int32) -> pm_status {
    LogSetup.ensure()
    guard let threshold = LogThreshold(rawValue: Int(level)) else {
        return fail(.invalidArgument("log level \(level) is outside \(LogThreshold.range.lowerBound)..\(LogThreshold.range.upperBound) (PM_LOG_DEBUG=10 ... PM_LOG_OFF=100)"))
    }
    Log.level = threshold
    return Status.ok.cValue
}

/// See portmanager.h.
@c @implementation
public func pm_get_log_level() -> Int32 {
    LogSetup.ensure()
    return Int32(truncatingIfNeeded: Log.level.rawValue)  // 0...100
}

/// See portmanager.h.
@c @implementation
public func pm_allocation_line(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int64, _ portName: CString?,
                               _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_allocation_line", "registry") }
    guard let service else { return missing("pm_allocation_line", "service") }
    guard let portName else { return missing("pm_allocation_line", "port_name") }
    guard let id = Int(exactly: instanceID) else {
        return fail(.invalidArgument("instance_id \(instanceID) does not fit this platform's Int"))
    }
    return guarded {
        let allocation = try r.registry.allocation(text(service), instance: id, name: text(portName))
        try output(Log.allocationMessage(allocation), buffer, capacity, needed)
    }
}

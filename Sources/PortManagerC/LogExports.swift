import PortManager

// The C ABI of include/portmanager.h, section "logging": the process-wide sink
// and threshold. Marshalling only: the logging is PortManagerCore's `Log`.

/// A C log callback and its context pointer.
private struct CallbackSink: @unchecked Sendable {
    let function: @convention(c) (Int32, CString?, UnsafeMutableRawPointer?) -> Void
    let context: UnsafeMutableRawPointer?
}

/// See portmanager.h.
@_cdecl("pm_set_log_callback")
public func pm_set_log_callback(_ callback: (@convention(c) (Int32, CString?, UnsafeMutableRawPointer?) -> Void)?,
                                _ context: UnsafeMutableRawPointer?) -> Int32 {
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
@_cdecl("pm_set_log_level")
public func pm_set_log_level(_ level: Int32) -> Int32 {
    LogSetup.ensure()
    guard let threshold = LogThreshold(rawValue: Int(level)) else {
        return fail(.invalidArgument("log level \(level) is outside \(LogThreshold.range.lowerBound)..\(LogThreshold.range.upperBound) (PM_LOG_DEBUG=10 ... PM_LOG_OFF=100)"))
    }
    Log.level = threshold
    return Status.ok.rawValue
}

/// See portmanager.h.
@_cdecl("pm_get_log_level")
public func pm_get_log_level() -> Int32 {
    LogSetup.ensure()
    return Int32(truncatingIfNeeded: Log.level.rawValue)  // 0...100
}

/// See portmanager.h.
@_cdecl("pm_allocation_line")
public func pm_allocation_line(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int64, _ portName: CString?,
                               _ buffer: CBuffer?, _ capacity: UInt, _ needed: CSizePointer?) -> Int32 {
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

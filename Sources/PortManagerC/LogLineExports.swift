import PortManager

// The C shims of the header's logging section that format without logging.

/// See portmanager.h.
@_cdecl("pm_allocation_line")
public func pm_allocation_line(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int64, _ portName: CString?,
                               _ buffer: CBuffer?, _ capacity: UInt, _ needed: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_allocation_line", "registry") }
    guard let service else { return missing("pm_allocation_line", "service") }
    guard let portName else { return missing("pm_allocation_line", "port_name") }
    if let status = unknownService(r, service) { return status }
    guard let id = Int(exactly: instanceID) else {
        return fail(.invalidArgument("instance_id \(instanceID) does not fit this platform's Int"))
    }
    return guarded {
        let allocation = try r.registry.allocation(text(service), instance: id, name: text(portName), logged: false)
        try output(Log.allocationMessage(allocation), buffer, capacity, needed)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import PortManager

// The C ABI. Each function here only marshals: it checks pointers, converts C
// values to Swift, calls the PortManager module, and maps errors to pm_status.
// Documentation of each function is in include/portmanager.h.

public typealias CString = UnsafePointer<CChar>
public typealias CBuffer = UnsafeMutablePointer<CChar>
public typealias CSize = UnsafeMutablePointer<Int>

// MARK: Versions

/// `PM_VERSION_NUMBER` of the library. See portmanager.h.
@_cdecl("pm_version_number")
public func pm_version_number() -> UInt32 { Version.number }

/// `PM_VERSION_STRING` of the library. See portmanager.h.
@_cdecl("pm_version_string")
public func pm_version_string() -> CString { Version.string }

/// `PM_ABI_VERSION` of the library. See portmanager.h.
@_cdecl("pm_abi_version")
public func pm_abi_version() -> UInt32 { Version.abi }

// MARK: Status

/// The static name of a status. See portmanager.h.
@_cdecl("pm_status_str")
public func pm_status_str(_ status: Int32) -> CString {
    switch status {
    case 0: return staticCString("PM_OK")
    case 1: return staticCString("PM_ERR_INVALID_ARGUMENT")
    case 2: return staticCString("PM_ERR_NOT_FOUND")
    case 3: return staticCString("PM_ERR_IO")
    case 4: return staticCString("PM_ERR_PARSE")
    case 5: return staticCString("PM_ERR_INVALID_REGISTRY")
    case 6: return staticCString("PM_ERR_UNKNOWN_SERVICE")
    case 7: return staticCString("PM_ERR_UNKNOWN_PORT")
    case 8: return staticCString("PM_ERR_INSTANCE_OUT_OF_RANGE")
    case 9: return staticCString("PM_ERR_BUFFER_TOO_SMALL")
    case 10: return staticCString("PM_ERR_PROBE_FAILED")
    case 11: return staticCString("PM_ERR_UNKNOWN_ENVIRONMENT")
    case 12: return staticCString("PM_ERR_LEASED")
    case 13: return staticCString("PM_ERR_TOO_LARGE")
    case 14: return staticCString("PM_ERR_RESERVED")
    case 15: return staticCString("PM_ERR_NOT_OWNER")
    case 16: return staticCString("PM_ERR_STATE")
    default: return staticCString("PM_ERR_UNKNOWN_STATUS")
    }
}

/// The calling thread's last error message. See portmanager.h.
@_cdecl("pm_last_error")
public func pm_last_error() -> CString { LastError.get() }

// MARK: Registry

/// See portmanager.h.
@_cdecl("pm_registry_open")
public func pm_registry_open(_ path: CString?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    openRegistry("pm_registry_open", path, nil, out)
}

/// See portmanager.h.
@_cdecl("pm_registry_open_env")
public func pm_registry_open_env(_ path: CString?, _ environment: CString?,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    openRegistry("pm_registry_open_env", path, environment, out)
}

private func openRegistry(_ function: StaticString, _ path: CString?, _ environment: CString?,
                          _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return missing(function, "out") }
    return guarded {
        let registry = try Registry.open(pathBytes: path.map(pathBytes), environment: environment.map(text))
        out.pointee = OpaquePointer(Unmanaged.passRetained(RegistryHandle(registry)).toOpaque())
    }
}

/// See portmanager.h.
@_cdecl("pm_registry_open_string")
public func pm_registry_open_string(_ yaml: CString?, _ length: Int, _ source: CString?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let yaml else { return missing("pm_registry_open_string", "yaml") }
    guard let out else { return missing("pm_registry_open_string", "out") }
    // A size_t above Int.max arrives negative; refuse it rather than build a buffer of negative size.
    guard length >= 0 else {
        return fail(.invalidArgument("pm_registry_open_string: length \(UInt(bitPattern: length)) is larger than any buffer"))
    }
    return guarded {
        let bytes = UnsafeRawBufferPointer(start: yaml, count: length)
        let registry = try Registry(yaml: bytes, source: source.map(text) ?? "<memory>")
        out.pointee = OpaquePointer(Unmanaged.passRetained(RegistryHandle(registry)).toOpaque())
    }
}

/// See portmanager.h.
@_cdecl("pm_registry_close")
public func pm_registry_close(_ registry: OpaquePointer?) {
    guard let registry else { return }
    Unmanaged<RegistryHandle>.fromOpaque(UnsafeRawPointer(registry)).release()
}

/// See portmanager.h.
@_cdecl("pm_registry_source")
public func pm_registry_source(_ registry: OpaquePointer?, _ buffer: CBuffer?, _ capacity: UInt, _ needed: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_registry_source", "registry") }
    return guarded { try output(r.registry.source, buffer, capacity, needed) }
}

/// See portmanager.h.
@_cdecl("pm_registry_environment")
public func pm_registry_environment(_ registry: OpaquePointer?, _ buffer: CBuffer?, _ capacity: UInt, _ needed: CSize?,
                                    _ offset: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_registry_environment", "registry") }
    return guarded {
        try output(r.registry.environment?.name ?? "", buffer, capacity, needed)
        offset?.pointee = Int32(truncatingIfNeeded: r.registry.offset)
    }
}

// MARK: Services

/// See portmanager.h.
@_cdecl("pm_service_count")
public func pm_service_count(_ registry: OpaquePointer?, _ out: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_service_count", "registry") }
    guard let out else { return missing("pm_service_count", "out_count") }
    out.pointee = r.registry.services.count
    return Status.ok
}

/// See portmanager.h.
@_cdecl("pm_service_name")
public func pm_service_name(_ registry: OpaquePointer?, _ index: Int, _ buffer: CBuffer?, _ capacity: UInt,
                            _ needed: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_service_name", "registry") }
    let services = r.registry.services
    guard index >= 0 && index < services.count else {
        return fail(.invalidArgument("service index \(UInt(bitPattern: index)) is out of range; the registry has \(services.count) services (0..\(services.count - 1))"))
    }
    return guarded { try output(services[index].name, buffer, capacity, needed) }
}

/// See portmanager.h.
@_cdecl("pm_service_info")
public func pm_service_info(_ registry: OpaquePointer?, _ service: CString?, _ increment: UnsafeMutablePointer<Int32>?,
                            _ maxInstances: UnsafeMutablePointer<Int32>?, _ portCount: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_service_info", "registry") }
    guard let service else { return missing("pm_service_info", "service") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let definition = try r.registry.service(named: text(service))
        increment?.pointee = Int32(clamping: definition.increment)
        maxInstances?.pointee = Int32(clamping: definition.maxInstances)
        portCount?.pointee = definition.ports.count
    }
}

/// See portmanager.h.
@_cdecl("pm_port_name")
public func pm_port_name(_ registry: OpaquePointer?, _ service: CString?, _ index: Int, _ buffer: CBuffer?,
                         _ capacity: UInt, _ needed: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_port_name", "registry") }
    guard let service else { return missing("pm_port_name", "service") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let definition = try r.registry.service(named: text(service))
        guard index >= 0 && index < definition.ports.count else {
            throw PortManagerError.invalidArgument("port index \(UInt(bitPattern: index)) is out of range; service '\(definition.name)' has \(definition.ports.count) ports")
        }
        try output(definition.ports[index].name, buffer, capacity, needed)
    }
}

/// See portmanager.h.
@_cdecl("pm_port_definition")
public func pm_port_definition(_ registry: OpaquePointer?, _ service: CString?, _ portName: CString?,
                               _ base: UnsafeMutablePointer<UInt16>?, _ count: UnsafeMutablePointer<UInt16>?,
                               _ container: UnsafeMutablePointer<UInt16>?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_port_definition", "registry") }
    guard let service else { return missing("pm_port_definition", "service") }
    guard let portName else { return missing("pm_port_definition", "port_name") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let definition = try r.registry.service(named: text(service))
        guard let port = definition.port(named: text(portName)) else {
            throw PortManagerError.unknownPort(service: definition.name, port: text(portName), available: definition.portNames)
        }
        base?.pointee = port16(port.base)
        count?.pointee = port16(port.count)
        container?.pointee = port16(port.containerPort ?? 0)
    }
}

// MARK: Allocation

/// See portmanager.h. The hot path: no Swift strings are built unless it fails.
@_cdecl("pm_get_port")
public func pm_get_port(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32, _ portName: CString?,
                        _ out: UnsafeMutablePointer<UInt16>?) -> Int32 {
    guard let registry else { return missing("pm_get_port", "registry") }
    guard let service else { return missing("pm_get_port", "service") }
    guard let portName else { return missing("pm_get_port", "port_name") }
    guard let out else { return missing("pm_get_port", "out_port") }
    return Unmanaged<RegistryHandle>.fromOpaque(UnsafeRawPointer(registry))._withUnsafeGuaranteedRef { r in
        let s = bytes(service), p = bytes(portName)
        let hit = r.table.lookup(service: s, instance: instanceID, port: p)
        if hit.status == Status.ok && !Log.isEnabled(.info) {
            out.pointee = UInt16(truncatingIfNeeded: hit.port)
            return Status.ok
        }
        if hit.status == Status.unknownService { return LastError.setUnknownService(r, s) }
        // Logging or failing: the slow path builds the log line or the message.
        switch r.registry.hostPort(service: s, instance: instance(instanceID), port: p) {
        case .success(let port):
            out.pointee = port16(port)
            return Status.ok
        case .failure(let error):
            return fail(error)
        }
    }
}

/// See portmanager.h.
@_cdecl("pm_get_port_range")
public func pm_get_port_range(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32, _ portName: CString?,
                              _ first: UnsafeMutablePointer<UInt16>?, _ last: UnsafeMutablePointer<UInt16>?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_get_port_range", "registry") }
    guard let service else { return missing("pm_get_port_range", "service") }
    guard let portName else { return missing("pm_get_port_range", "port_name") }
    guard let first else { return missing("pm_get_port_range", "out_first") }
    guard let last else { return missing("pm_get_port_range", "out_last") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let a = try r.registry.allocation(text(service), instance: instance(instanceID), name: text(portName))
        first.pointee = port16(a.hostPort)
        last.pointee = port16(a.hostPortLast)
    }
}

/// See portmanager.h.
@_cdecl("pm_get_container_port")
public func pm_get_container_port(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                                  _ portName: CString?, _ out: UnsafeMutablePointer<UInt16>?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_get_container_port", "registry") }
    guard let service else { return missing("pm_get_container_port", "service") }
    guard let portName else { return missing("pm_get_container_port", "port_name") }
    guard let out else { return missing("pm_get_container_port", "out_port") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let port = try r.registry.containerPort(text(service), instance: instance(instanceID), name: text(portName))
        out.pointee = port16(port)
    }
}

/// See portmanager.h.
@_cdecl("pm_get_ports")
public func pm_get_ports(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                         _ ports: UnsafeMutablePointer<UInt16>?, _ capacity: UInt, _ needed: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_get_ports", "registry") }
    guard let service else { return missing("pm_get_ports", "service") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let name = text(service), id = instance(instanceID)
        // Validate and size the result before allocating, so a size query logs nothing.
        let definition = try r.registry.service(named: name)
        try r.registry.checkInstance(definition, id)
        if capacity < UInt(definition.ports.count) || ports == nil {
            try output([UInt16](repeating: 0, count: definition.ports.count), ports, capacity, needed)
        }
        let allocations = try r.registry.ports(name, instance: id)
        try output(allocations.map { port16($0.hostPort) }, ports, capacity, needed)
    }
}

// MARK: Names

/// See portmanager.h.
@_cdecl("pm_container_name")
public func pm_container_name(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                              _ buffer: CBuffer?, _ capacity: UInt, _ needed: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_container_name", "registry") }
    guard let service else { return missing("pm_container_name", "service") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let name = try r.registry.containerName(text(service), instance: instance(instanceID))
        try output(name, buffer, capacity, needed)
    }
}

/// See portmanager.h.
@_cdecl("pm_volume_name")
public func pm_volume_name(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                           _ buffer: CBuffer?, _ capacity: UInt, _ needed: CSize?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_volume_name", "registry") }
    guard let service else { return missing("pm_volume_name", "service") }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let name = try r.registry.volumeName(text(service), instance: instance(instanceID))
        try output(name, buffer, capacity, needed)
    }
}

// MARK: Probe

/// See portmanager.h.
@_cdecl("pm_port_probe")
public func pm_port_probe(_ host: CString?, _ port: Int32, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let out else { return missing("pm_port_probe", "out_available") }
    return guarded {
        let answer = try PortProbe.check(port: Int(port), host: host.map(text) ?? "127.0.0.1")
        out.pointee = answer == .available ? 1 : 0
    }
}

// MARK: Logging

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
    return Status.ok
}

/// See portmanager.h.
@_cdecl("pm_get_log_level")
public func pm_get_log_level() -> Int32 {
    LogSetup.ensure()
    return Int32(truncatingIfNeeded: Log.level.rawValue)  // 0...100
}

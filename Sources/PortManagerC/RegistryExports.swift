import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "registry": opening, closing and
// describing a registry. Marshalling only.

/// See portmanager.h.
@c @implementation
public func pm_registry_open(_ path: CString?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> pm_status {
    openRegistry("pm_registry_open", path, nil, out)
}

/// See portmanager.h.
@c @implementation
public func pm_registry_open_env(_ path: CString?, _ environment: CString?,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> pm_status {
    openRegistry("pm_registry_open_env", path, environment, out)
}

private func openRegistry(_ function: StaticString, _ path: CString?, _ environment: CString?,
                          _ out: UnsafeMutablePointer<OpaquePointer?>?) -> pm_status {
    guard let out else { return missing(function, "out") }
    FirstUse.prepare(FirstUse.registryFile)
    return guarded {
        let registry = try Registry.open(pathBytes: path.map(pathBytes), environment: environment.map(text))
        out.pointee = OpaquePointer(Unmanaged.passRetained(RegistryHandle(registry)).toOpaque())
    }
}

/// See portmanager.h.
@c @implementation
public func pm_registry_open_string(_ yaml: CString?, _ length: Int, _ source: CString?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> pm_status {
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
@c @implementation
public func pm_registry_close(_ registry: OpaquePointer?) {
    guard let registry else { return }
    Unmanaged<RegistryHandle>.fromOpaque(UnsafeRawPointer(registry)).release()
}

/// See portmanager.h.
@c @implementation
public func pm_registry_source(_ registry: OpaquePointer?, _ buffer: CBuffer?, _ capacity: Int,
                               _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_registry_source", "registry") }
    return guarded { try output(r.registry.source, buffer, capacity, needed) }
}

/// See portmanager.h.
@c @implementation
public func pm_registry_environment(_ registry: OpaquePointer?, _ buffer: CBuffer?, _ capacity: Int,
                                    _ needed: CSizePointer?, _ offset: UnsafeMutablePointer<Int32>?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_registry_environment", "registry") }
    return guarded {
        try output(r.registry.environment?.name ?? "", buffer, capacity, needed)
        offset?.pointee = Int32(truncatingIfNeeded: r.registry.offset)
    }
}

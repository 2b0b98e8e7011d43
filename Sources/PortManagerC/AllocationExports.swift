import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "allocation": the host and
// container ports of an instance. Marshalling only: each shim forwards to one
// `Registry` call.

/// See portmanager.h. The hot path: `Registry.hostPort` builds no Swift string
/// unless it fails, and the handle is borrowed without a reference count.
@c @implementation
public func pm_get_port(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32, _ portName: CString?,
                        _ out: UnsafeMutablePointer<UInt16>?) -> pm_status {
    guard let registry else { return missing("pm_get_port", "registry") }
    guard let service else { return missing("pm_get_port", "service") }
    guard let portName else { return missing("pm_get_port", "port_name") }
    guard let out else { return missing("pm_get_port", "out_port") }
    return Unmanaged<RegistryHandle>.fromOpaque(UnsafeRawPointer(registry))._withUnsafeGuaranteedRef { r in
        do throws(PortManagerError) {
            out.pointee = port16(try r.registry.hostPort(service: bytes(service), instance: instance(instanceID),
                                                         port: bytes(portName)))
            return Status.ok.cValue
        } catch {
            return fail(error)
        }
    }
}

/// See portmanager.h.
@c @implementation
public func pm_get_port_range(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32, _ portName: CString?,
                              _ first: UnsafeMutablePointer<UInt16>?, _ last: UnsafeMutablePointer<UInt16>?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_get_port_range", "registry") }
    guard let service else { return missing("pm_get_port_range", "service") }
    guard let portName else { return missing("pm_get_port_range", "port_name") }
    guard let first else { return missing("pm_get_port_range", "out_first") }
    guard let last else { return missing("pm_get_port_range", "out_last") }
    return guarded {
        let a = try r.registry.allocate(text(service), instance: instance(instanceID), name: text(portName))
        first.pointee = port16(a.hostPort)
        last.pointee = port16(a.hostPortLast)
    }
}

/// See portmanager.h.
@c @implementation
public func pm_get_container_port(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                                  _ portName: CString?, _ out: UnsafeMutablePointer<UInt16>?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_get_container_port", "registry") }
    guard let service else { return missing("pm_get_container_port", "service") }
    guard let portName else { return missing("pm_get_container_port", "port_name") }
    guard let out else { return missing("pm_get_container_port", "out_port") }
    return guarded {
        let port = try r.registry.containerPort(text(service), instance: instance(instanceID), name: text(portName))
        out.pointee = port16(port)
    }
}

/// See portmanager.h. A size query (a buffer too small) allocates and logs nothing.
@c @implementation
public func pm_get_ports(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                         _ ports: UnsafeMutablePointer<UInt16>?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_get_ports", "registry") }
    guard let service else { return missing("pm_get_ports", "service") }
    return guarded {
        let name = text(service), id = instance(instanceID)
        try output(count: try r.registry.portCount(name, instance: id), ports, capacity, needed) {
            try r.registry.allocateAll(name, instance: id).map { port16($0.hostPort) }
        }
    }
}

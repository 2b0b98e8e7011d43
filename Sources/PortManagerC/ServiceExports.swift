import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "services": the services of a
// registry, their settings and their ports. Marshalling only.

/// See portmanager.h.
@c @implementation
public func pm_service_count(_ registry: OpaquePointer?, _ out: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_service_count", "registry") }
    guard let out else { return missing("pm_service_count", "out_count") }
    out.pointee = r.registry.services.count
    return Status.ok.cValue
}

/// See portmanager.h.
@c @implementation
public func pm_service_name(_ registry: OpaquePointer?, _ index: Int, _ buffer: CBuffer?, _ capacity: Int,
                            _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_service_name", "registry") }
    let services = r.registry.services
    guard index >= 0 && index < services.count else {
        return fail(.invalidArgument("service index \(UInt(bitPattern: index)) is out of range; the registry has \(services.count) services (0..\(services.count - 1))"))
    }
    return guarded { try output(services[index].name, buffer, capacity, needed) }
}

/// See portmanager.h.
@c @implementation
public func pm_service_info(_ registry: OpaquePointer?, _ service: CString?, _ increment: UnsafeMutablePointer<Int32>?,
                            _ maxInstances: UnsafeMutablePointer<Int32>?, _ portCount: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_service_info", "registry") }
    guard let service else { return missing("pm_service_info", "service") }
    return guarded {
        let definition = try r.registry.service(named: text(service))
        increment?.pointee = Int32(clamping: definition.increment)
        maxInstances?.pointee = Int32(clamping: definition.maxInstances)
        portCount?.pointee = definition.ports.count
    }
}

/// See portmanager.h.
@c @implementation
public func pm_port_name(_ registry: OpaquePointer?, _ service: CString?, _ index: Int, _ buffer: CBuffer?,
                         _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_port_name", "registry") }
    guard let service else { return missing("pm_port_name", "service") }
    return guarded {
        let definition = try r.registry.service(named: text(service))
        guard index >= 0 && index < definition.ports.count else {
            throw PortManagerError.invalidArgument("port index \(UInt(bitPattern: index)) is out of range; service '\(definition.name)' has \(definition.ports.count) ports")
        }
        try output(definition.ports[index].name, buffer, capacity, needed)
    }
}

/// See portmanager.h.
@c @implementation
public func pm_port_definition(_ registry: OpaquePointer?, _ service: CString?, _ portName: CString?,
                               _ base: UnsafeMutablePointer<UInt16>?, _ count: UnsafeMutablePointer<UInt16>?,
                               _ container: UnsafeMutablePointer<UInt16>?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_port_definition", "registry") }
    guard let service else { return missing("pm_port_definition", "service") }
    guard let portName else { return missing("pm_port_definition", "port_name") }
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

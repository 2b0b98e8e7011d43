import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "names": container and volume
// names of an instance. Marshalling only.

/// See portmanager.h.
@c @implementation
public func pm_container_name(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                              _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_container_name", "registry") }
    guard let service else { return missing("pm_container_name", "service") }
    return guarded {
        let name = try r.registry.containerName(text(service), instance: instance(instanceID))
        try output(name, buffer, capacity, needed)
    }
}

/// See portmanager.h.
@c @implementation
public func pm_volume_name(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                           _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_volume_name", "registry") }
    guard let service else { return missing("pm_volume_name", "service") }
    return guarded {
        let name = try r.registry.volumeName(text(service), instance: instance(instanceID))
        try output(name, buffer, capacity, needed)
    }
}

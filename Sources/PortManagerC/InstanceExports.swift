import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "instances": one service
// instance as Docker runs it, and its environment variables. Marshalling only:
// the documents are the core's (``ServiceInstance``).

/// See portmanager.h.
@c @implementation
public func pm_instance_docker_json(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                                    _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_instance_docker_json", "registry") }
    guard let service else { return missing("pm_instance_docker_json", "service") }
    return guarded {
        let resolved = try r.registry.instance(text(service), instance(instanceID))
        try output(resolved.dockerJSON.compact(), buffer, capacity, needed)
    }
}

/// See portmanager.h.
@c @implementation
public func pm_instance_env(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32, _ prefix: CString?,
                            _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_instance_env", "registry") }
    guard let service else { return missing("pm_instance_env", "service") }
    return guarded {
        let resolved = try r.registry.instance(text(service), instance(instanceID))
        try output(try resolved.environmentText(prefix: prefix.map(text)), buffer, capacity, needed)
    }
}

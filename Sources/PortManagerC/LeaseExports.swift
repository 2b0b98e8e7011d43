#if canImport(Glibc)
import Glibc
#endif
import PortManager

// The C ABI of leases (include/portmanager.h, "leases"). Marshalling only.

/// `PM_LEASE_NO_PROBE`.
private let leaseNoProbe: Int32 = 1

/// See portmanager.h.
@_cdecl("pm_lease_acquire")
public func pm_lease_acquire(_ registry: OpaquePointer?, _ service: CString?, _ instanceID: Int32,
                             _ directory: CString?, _ flags: Int32,
                             _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let r = handle(registry) else { return missing("pm_lease_acquire", "registry") }
    guard let service else { return missing("pm_lease_acquire", "service") }
    guard let out else { return missing("pm_lease_acquire", "out") }
    guard flags & ~leaseNoProbe == 0 else {
        return fail(.invalidArgument("pm_lease_acquire: unknown flags 0x\(String(UInt32(bitPattern: flags), radix: 16))"))
    }
    if let status = unknownService(r, service) { return status }
    return guarded {
        let lease = try r.registry.lease(text(service), instance: instanceID == -1 ? nil : instance(instanceID),
                                         directoryPath: directory.map(pathBytes), probe: flags & leaseNoProbe == 0)
        out.pointee = OpaquePointer(Unmanaged.passRetained(lease).toOpaque())
    }
}

/// The lease behind a `pm_lease *`, or nil for NULL.
private func lease(_ pointer: OpaquePointer?) -> PortLease? {
    guard let pointer else { return nil }
    return Unmanaged<PortLease>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

/// See portmanager.h.
@_cdecl("pm_lease_instance")
public func pm_lease_instance(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let l = lease(handle) else { return missing("pm_lease_instance", "lease") }
    guard let out else { return missing("pm_lease_instance", "out_instance") }
    out.pointee = Int32(clamping: l.instance)
    return Status.ok
}

/// See portmanager.h.
@_cdecl("pm_lease_ports")
public func pm_lease_ports(_ handle: OpaquePointer?, _ ports: UnsafeMutablePointer<UInt16>?, _ capacity: UInt,
                           _ needed: CSize?) -> Int32 {
    guard let l = lease(handle) else { return missing("pm_lease_ports", "lease") }
    return guarded { try output(l.ports.map(port16), ports, capacity, needed) }
}

/// See portmanager.h.
@_cdecl("pm_lease_release")
public func pm_lease_release(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let unmanaged = Unmanaged<PortLease>.fromOpaque(UnsafeRawPointer(handle))
    unmanaged.takeUnretainedValue().release()
    unmanaged.release()
}

import CPortManagerHeader
import PortManager

// The C ABI of reservations (include/portmanager.h, "reservations"). Marshalling only.

/// `pm_reserve_flags` of include/portmanager.h, read from the header.
enum ReserveFlag {
    static let noProbe = Int32(truncatingIfNeeded: PM_RESERVE_NO_PROBE.rawValue)
    static let force = Int32(truncatingIfNeeded: PM_RESERVE_FORCE.rawValue)
    static let containerOwner = Int32(truncatingIfNeeded: PM_RESERVE_CONTAINER_OWNER.rawValue)
    static let adopt = Int32(truncatingIfNeeded: PM_RESERVE_ADOPT.rawValue)
}

/// Refuses flag bits outside `allowed`.
private func checkFlags(_ function: StaticString, _ flags: Int32, _ allowed: Int32) throws {
    guard flags & ~allowed == 0 else {
        throw PortManagerError.invalidArgument("\(function): unknown flags 0x\(String(UInt32(bitPattern: flags & ~allowed), radix: 16))")
    }
}

/// The owner a C caller means: NULL for this process, a name (its bytes, as they are); with
/// PM_RESERVE_CONTAINER_OWNER a container: the one named, or for NULL the instance's container name.
private func owner(_ owner: CString?, _ flags: Int32) -> ReservationOwner {
    let name = owner.map { OwnerName(bytes: Array(bytes($0))) }
    if flags & ReserveFlag.containerOwner != 0 { return name.map { .container($0) } ?? .containerName }
    return name.map { .name($0) } ?? .thisProcess
}

/// A TTL argument: 0 for none, else 1 or more seconds.
private func ttl(_ function: StaticString, _ seconds: Int64, required: Bool) throws -> Int? {
    if seconds == 0 && !required { return nil }
    guard seconds >= 1, let value = Int(exactly: seconds) else {
        throw PortManagerError.invalidArgument("\(function): ttl_seconds \(seconds) must be \(required ? "1 or more" : "0 (none) or 1 or more")")
    }
    return value
}

/// See portmanager.h.
@c @implementation
public func pm_reserve_instance(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?, _ instanceID: Int32,
                                _ ownerName: CString?, _ ttlSeconds: Int64, _ flags: Int32,
                                _ out: UnsafeMutablePointer<Int32>?, _ outFresh: UnsafeMutablePointer<Int32>?) -> pm_status {
    reserve("pm_reserve_instance", registry, stateDirectory, service, instanceID, ownerName, ttlSeconds, flags, out, outFresh)
}

/// See portmanager.h: ``pm_reserve_instance`` without `out_fresh`.
@c @implementation
public func pm_reserve(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?, _ instanceID: Int32,
                       _ ownerName: CString?, _ ttlSeconds: Int64, _ flags: Int32,
                       _ out: UnsafeMutablePointer<Int32>?) -> pm_status {
    reserve("pm_reserve", registry, stateDirectory, service, instanceID, ownerName, ttlSeconds, flags, out, nil)
}

private func reserve(_ function: StaticString, _ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?,
                     _ instanceID: Int32, _ ownerName: CString?, _ ttlSeconds: Int64, _ flags: Int32,
                     _ out: UnsafeMutablePointer<Int32>?, _ outFresh: UnsafeMutablePointer<Int32>?) -> pm_status {
    guard let r = handle(registry) else { return missing(function, "registry") }
    FirstUse.prepare(FirstUse.store)
    guard let service else { return missing(function, "service") }
    return guarded {
        try checkFlags(function, flags, ReserveFlag.noProbe | ReserveFlag.containerOwner | ReserveFlag.adopt)
        let reservation = try r.registry.reserve(
            text(service), instance: instanceID == -1 ? nil : instance(instanceID),
            owner: owner(ownerName, flags), ttl: try ttl(function, ttlSeconds, required: false),
            probe: flags & ReserveFlag.noProbe == 0, adopt: flags & ReserveFlag.adopt != 0,
            stateDirectory: stateDirectory.map(pathBytes))
        out?.pointee = Int32(clamping: reservation.instance)
        outFresh?.pointee = reservation.fresh ? 1 : 0
    }
}

/// See portmanager.h.
@c @implementation
public func pm_release(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?, _ instanceID: Int32,
                       _ ownerName: CString?, _ flags: Int32, _ out: UnsafeMutablePointer<Int32>?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_release", "registry") }
    FirstUse.prepare(FirstUse.store)
    guard let service else { return missing("pm_release", "service") }
    return guarded {
        try checkFlags("pm_release", flags, ReserveFlag.force | ReserveFlag.containerOwner)
        let released = try r.registry.release(
            text(service), instance: instance(instanceID), owner: owner(ownerName, flags),
            force: flags & ReserveFlag.force != 0, stateDirectory: stateDirectory.map(pathBytes))
        out?.pointee = released ? 1 : 0
    }
}

/// See portmanager.h.
@c @implementation
public func pm_renew(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?, _ instanceID: Int32,
                     _ ownerName: CString?, _ ttlSeconds: Int64, _ flags: Int32) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_renew", "registry") }
    FirstUse.prepare(FirstUse.store)
    guard let service else { return missing("pm_renew", "service") }
    return guarded {
        try checkFlags("pm_renew", flags, ReserveFlag.containerOwner)
        _ = try r.registry.renew(
            text(service), instance: instance(instanceID), ttl: try ttl("pm_renew", ttlSeconds, required: true) ?? 0,
            owner: owner(ownerName, flags), stateDirectory: stateDirectory.map(pathBytes))
    }
}

/// See portmanager.h.
@c @implementation
public func pm_reservation_bind_container(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?,
                                          _ instanceID: Int32, _ ownerName: CString?, _ containerName: CString?,
                                          _ flags: Int32) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_reservation_bind_container", "registry") }
    FirstUse.prepare(FirstUse.store)
    guard let service else { return missing("pm_reservation_bind_container", "service") }
    return guarded {
        try checkFlags("pm_reservation_bind_container", flags, ReserveFlag.containerOwner)
        _ = try r.registry.bind(
            text(service), instance: instance(instanceID), container: containerName.map { OwnerName(bytes: Array(bytes($0))) },
            owner: owner(ownerName, flags), stateDirectory: stateDirectory.map(pathBytes))
    }
}

/// See portmanager.h.
@c @implementation
public func pm_reservations_json(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?,
                                 _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_reservations_json", "registry") }
    FirstUse.prepare(FirstUse.store)
    return guarded {
        let list = try r.registry.reservations(service.map(text), stateDirectory: stateDirectory.map(pathBytes))
        try output("[" + list.map(\.json).joined(separator: ",") + "]", buffer, capacity, needed)
    }
}

import CPortManagerHeader
import PortManager

// The C ABI of what reservations learn from the Docker engine
// (include/portmanager.h, "reservations": pm_reconcile, pm_instance_states_json).
// Marshalling only.

/// `pm_reconcile_flags` of include/portmanager.h, read from the header.
enum ReconcileFlag {
    static let dryRun = Int32(truncatingIfNeeded: PM_RECONCILE_DRY_RUN.rawValue)
}

/// `pm_states_flags` of include/portmanager.h, read from the header.
enum StatesFlag {
    static let all = Int32(truncatingIfNeeded: PM_STATES_ALL.rawValue)
}

/// Refuses flag bits outside `allowed`, naming the function.
private func checkFlags(_ function: StaticString, _ flags: Int32, _ allowed: Int32) throws {
    guard flags & ~allowed == 0 else {
        throw PortManagerError.invalidArgument("\(function): unknown flags 0x\(String(UInt32(bitPattern: flags & ~allowed), radix: 16))")
    }
}

/// Refuses a NULL buffer with a capacity before any work is done (``output(_:_:_:_:)`` says the same later).
private func checkBufferArguments(_ buffer: CBuffer?, _ capacity: Int) throws {
    if buffer == nil && capacity != 0 { throw PortManagerError.invalidArgument("buffer is NULL but capacity is \(UInt(bitPattern: capacity))") }
}

/// See portmanager.h.
@c @implementation
public func pm_instance_states_json(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ service: CString?, _ flags: Int32,
                                    _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_instance_states_json", "registry") }
    FirstUse.prepare(FirstUse.store)
    return guarded {
        try checkFlags("pm_instance_states_json", flags, StatesFlag.all)
        try checkBufferArguments(buffer, capacity)
        let states = try r.registry.instanceStates(service.map(text), all: flags & StatesFlag.all != 0,
                                                   stateDirectory: stateDirectory.map(pathBytes))
        try output(states.json, buffer, capacity, needed)
    }
}

/// See portmanager.h.
@c @implementation
public func pm_reconcile(_ registry: OpaquePointer?, _ stateDirectory: CString?, _ flags: Int32,
                         _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_reconcile", "registry") }
    FirstUse.prepare(FirstUse.store)
    return guarded {
        try checkFlags("pm_reconcile", flags, ReconcileFlag.dryRun)
        try checkBufferArguments(buffer, capacity)
        // Written before the transaction commits: an array that does not fit changes nothing.
        _ = try r.registry.reconcile(dryRun: flags & ReconcileFlag.dryRun != 0, stateDirectory: stateDirectory.map(pathBytes),
                                     containers: .standard) { actions in
            try output("[" + actions.map(\.json).joined(separator: ",") + "]", buffer, capacity, needed)
        }
    }
}

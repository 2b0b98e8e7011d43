import PortManager

// What libportmanager does when it is loaded: an ELF constructor (an entry of
// .init_array) that runs every lazy initialisation the hot paths need, while
// no other thread can be inside the library yet. See `ForkPreparation`.

/// The constructor. `@section` puts the pointer in .init_array; `@used` keeps it.
@used @section(".init_array")
private let libraryConstructor: @convention(c) () -> Void = { prepareAtLoad() }

/// Runs the paths of pm_registry_open_string, pm_get_port (logged at INFO to
/// a callback), pm_get_port_range, pm_get_ports, the names, a failure and its
/// message, then puts back everything it changed: the threshold, the sink
/// (none), and this thread's last error ("").
private func prepareAtLoad() {
    ForkPreparation.run()
    let yaml: StaticString = "warm:\n  port: 40000\n  range_port: \"40010-40011\"\n  max_instances: 2\n"
    var handle: OpaquePointer?
    let opened = yaml.withUTF8Buffer { bytes in
        bytes.withMemoryRebound(to: CChar.self) {
            pm_registry_open_string($0.baseAddress, $0.count, staticCString("<load>"), &handle)
        }
    }
    guard opened == 0, let handle else { LastError.clear(); return }
    defer { pm_registry_close(handle); LastError.clear() }
    let level = pm_get_log_level()
    _ = pm_set_log_level(LogLevel.info.rawValue)
    _ = pm_set_log_callback({ _, _, _ in }, nil)
    var port: UInt16 = 0, last: UInt16 = 0, needed = 0
    var ports = [UInt16](repeating: 0, count: 4)
    var name = [CChar](repeating: 0, count: 64)
    _ = pm_get_port(handle, staticCString("warm"), 1, staticCString("port"), &port)
    _ = pm_get_port_range(handle, staticCString("warm"), 1, staticCString("range_port"), &port, &last)
    _ = pm_get_container_port(handle, staticCString("warm"), 1, staticCString("port"), &port)
    _ = pm_get_ports(handle, staticCString("warm"), 1, &ports, UInt(ports.count), &needed)
    _ = pm_container_name(handle, staticCString("warm"), 1, &name, UInt(name.count), &needed)
    _ = pm_get_port(handle, staticCString("warn"), 1, staticCString("port"), &port)  // unknown: the failure path
    _ = pm_last_error()
    _ = pm_set_log_callback(nil, nil)
    _ = pm_set_log_level(level)
}

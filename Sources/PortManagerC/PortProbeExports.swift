import PortManager

// The C ABI of include/portmanager.h, section "probe": pm_port_probe, the
// one-bind check (the full probe, pm_probe and its result, is in
// ProbeExports.swift). Marshalling only.

/// See portmanager.h.
@_cdecl("pm_port_probe")
public func pm_port_probe(_ host: CString?, _ port: Int32, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let out else { return missing("pm_port_probe", "out_available") }
    return guarded {
        let answer = try PortProbe.check(port: Int(port), host: host.map(text) ?? "127.0.0.1")
        out.pointee = answer == .available ? 1 : 0
    }
}

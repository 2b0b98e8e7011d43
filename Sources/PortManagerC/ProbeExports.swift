import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "probe": pm_port_probe (one bind)
// and pm_probe with its result. Marshalling only: the probe is PortManager's
// `PortProbe`.

/// The object behind a `pm_probe_result *`: one answer, fixed when probed,
/// so the two calls of the buffer protocol see the same holders. Its JSON is
/// made only when asked for (most callers read the verdict alone), from the
/// fixed answer, so both calls of the buffer protocol get the same text.
final class ProbeHandle: Sendable {
    let answer: PortProbe.Answer
    init(_ answer: PortProbe.Answer) {
        self.answer = answer
    }
    var json: String { answer.json() }
}

@inline(__always)
private func probeHandle(_ pointer: OpaquePointer?) -> ProbeHandle? {
    guard let pointer else { return nil }
    return Unmanaged<ProbeHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

/// See portmanager.h.
@c @implementation
public func pm_probe(_ port: Int32, _ protocols: Int32, _ host: CString?,
                     _ out: UnsafeMutablePointer<OpaquePointer?>?) -> pm_status {
    guard let out else { return missing("pm_probe", "out") }
    FirstUse.prepare(FirstUse.docker)
    return guarded {
        let answer = try PortProbe.probe(port: Int(port), protocols: PortProtocols(rawValue: protocols),
                                         host: host.map(text), naming: .standard, everyPublishedPort: false)
        out.pointee = OpaquePointer(Unmanaged.passRetained(ProbeHandle(answer)).toOpaque())
    }
}

/// See portmanager.h.
@c @implementation
public func pm_probe_result_free(_ result: OpaquePointer?) {
    guard let result else { return }
    Unmanaged<ProbeHandle>.fromOpaque(UnsafeRawPointer(result)).release()
}

/// See portmanager.h.
@c @implementation
public func pm_probe_result_verdict(_ result: OpaquePointer?, _ verdict: UnsafeMutablePointer<Int32>?,
                                    _ holderCount: CSizePointer?) -> pm_status {
    guard let r = probeHandle(result) else { return missing("pm_probe_result_verdict", "result") }
    verdict?.pointee = r.answer.verdict.cValue
    holderCount?.pointee = r.answer.holders.count
    return Status.ok.cValue
}

/// See portmanager.h.
@c @implementation
public func pm_probe_result_holder(_ result: OpaquePointer?, _ index: Int, _ pid: UnsafeMutablePointer<Int32>?,
                                   _ proto: UnsafeMutablePointer<Int32>?, _ buffer: CBuffer?, _ capacity: Int,
                                   _ needed: CSizePointer?) -> pm_status {
    guard let r = probeHandle(result) else { return missing("pm_probe_result_holder", "result") }
    guard let holder = holder(r, index) else { return holderRange(r, index) }
    return guarded {
        try output(holder.address, buffer, capacity, needed)
        pid?.pointee = holder.pid.flatMap { Int32(exactly: $0) } ?? -1
        proto?.pointee = holder.protocols.rawValue
    }
}

/// See portmanager.h.
@c @implementation
public func pm_probe_result_command(_ result: OpaquePointer?, _ index: Int, _ buffer: CBuffer?, _ capacity: Int,
                                    _ needed: CSizePointer?) -> pm_status {
    guard let r = probeHandle(result) else { return missing("pm_probe_result_command", "result") }
    guard let holder = holder(r, index) else { return holderRange(r, index) }
    return guarded { try output(holder.command ?? "", buffer, capacity, needed) }
}

/// See portmanager.h.
@c @implementation
public func pm_probe_result_json(_ result: OpaquePointer?, _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let r = probeHandle(result) else { return missing("pm_probe_result_json", "result") }
    return guarded { try output(r.json, buffer, capacity, needed) }
}

private func holder(_ r: ProbeHandle, _ index: Int) -> PortProbe.Holder? {
    index >= 0 && index < r.answer.holders.count ? r.answer.holders[index] : nil
}

private func holderRange(_ r: ProbeHandle, _ index: Int) -> pm_status {
    fail(.invalidArgument("holder index \(UInt(bitPattern: index)) is out of range; the result has \(r.answer.holders.count) holders"))
}

/// See portmanager.h.
@c @implementation
public func pm_port_probe(_ host: CString?, _ port: Int32, _ out: UnsafeMutablePointer<Int32>?) -> pm_status {
    guard let out else { return missing("pm_port_probe", "out_available") }
    return guarded {
        let answer = try PortProbe.check(port: Int(port), host: host.map(text) ?? "127.0.0.1")
        out.pointee = answer == .available ? 1 : 0
    }
}

extension PortProbe.Verdict {
    /// The `pm_probe_verdict` value, read from the header.
    var cValue: Int32 {
        let value: pm_probe_verdict
        switch self {
        case .free: value = PM_PROBE_FREE
        case .inUse: value = PM_PROBE_IN_USE
        case .unknown: value = PM_PROBE_UNKNOWN
        }
        return Int32(truncatingIfNeeded: value.rawValue)
    }
}

import CPortManagerHeader
import PortManager

// The C ABI of the whole-lattice analysis. Marshalling only: the analysis is
// PortManagerAnalysis's `Analysis`; the kernel ranges come from `KernelPorts`.
// Documentation of each function is in include/portmanager.h ("analysis").

/// The object behind a `pm_analysis *`.
final class AnalysisHandle: Sendable {
    let analysis: Analysis
    /// The JSON text, built on first request and kept: the two-call buffer
    /// protocol asks for it twice, and for a large registry it is large.
    private let cachedJSON = Locked<String?>(nil)
    init(_ analysis: Analysis) { self.analysis = analysis }

    var json: String {
        cachedJSON.withLock { text in
            if text == nil { text = analysis.json() }
            return text!
        }
    }
}

@inline(__always)
private func analysisHandle(_ pointer: OpaquePointer?) -> AnalysisHandle? {
    guard let pointer else { return nil }
    return Unmanaged<AnalysisHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

/// See portmanager.h.
@c @implementation
public func pm_analyze(_ registry: OpaquePointer?, _ ephemeralLow: Int32, _ ephemeralHigh: Int32,
                       _ reservedPorts: CString?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> pm_status {
    guard let r = handle(registry) else { return missing("pm_analyze", "registry") }
    guard let out else { return missing("pm_analyze", "out") }
    return guarded {
        let options = try KernelPorts.options(ephemeral: .init(cLow: Int(ephemeralLow), cHigh: Int(ephemeralHigh)),
                                              reserved: reservedPorts.map(text))
        let analysis = try Analysis(registry: r.registry, options: options)
        out.pointee = OpaquePointer(Unmanaged.passRetained(AnalysisHandle(analysis)).toOpaque())
    }
}

/// See portmanager.h.
@c @implementation
public func pm_analysis_free(_ analysis: OpaquePointer?) {
    guard let analysis else { return }
    Unmanaged<AnalysisHandle>.fromOpaque(UnsafeRawPointer(analysis)).release()
}

/// See portmanager.h.
@c @implementation
public func pm_analysis_count(_ analysis: OpaquePointer?, _ count: CSizePointer?, _ errors: CSizePointer?, _ warnings: CSizePointer?) -> pm_status {
    guard let a = analysisHandle(analysis) else { return missing("pm_analysis_count", "analysis") }
    count?.pointee = a.analysis.findings.count
    errors?.pointee = a.analysis.errorCount
    warnings?.pointee = a.analysis.warningCount
    return Status.ok.cValue
}

/// See portmanager.h.
@c @implementation
public func pm_analysis_finding(_ analysis: OpaquePointer?, _ index: Int, _ severity: UnsafeMutablePointer<Int32>?,
                                _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let a = analysisHandle(analysis) else { return missing("pm_analysis_finding", "analysis") }
    let findings = a.analysis.findings
    guard index >= 0 && index < findings.count else {
        return fail(.invalidArgument("finding index \(UInt(bitPattern: index)) is out of range; the analysis has \(findings.count) findings"))
    }
    return guarded {
        let finding = findings[index]
        try output(finding.line, buffer, capacity, needed)
        severity?.pointee = finding.severity.cValue
    }
}

/// See portmanager.h.
@c @implementation
public func pm_analysis_json(_ analysis: OpaquePointer?, _ buffer: CBuffer?, _ capacity: Int, _ needed: CSizePointer?) -> pm_status {
    guard let a = analysisHandle(analysis) else { return missing("pm_analysis_json", "analysis") }
    return guarded { try output(a.json, buffer, capacity, needed) }
}

extension Severity {
    /// The `pm_severity` value, read from the header.
    var cValue: Int32 {
        let value: pm_severity
        switch self {
        case .note: value = PM_SEVERITY_NOTE
        case .warning: value = PM_SEVERITY_WARNING
        case .error: value = PM_SEVERITY_ERROR
        }
        return Int32(truncatingIfNeeded: value.rawValue)
    }
}

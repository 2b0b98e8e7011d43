#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortManagerCore
import PortManagerAnalysis

/// The kernel's view of local ports, read from `/proc`: the ephemeral range
/// it hands to outgoing connections, and the ports reserved out of it.
public enum KernelPorts {
    /// The ephemeral range: two numbers, `32768\t60999`.
    public static let ephemeralRangePath = "/proc/sys/net/ipv4/ip_local_port_range"
    /// Ports exempt from ephemeral use: `8080,9000-9100`, or empty.
    public static let reservedPortsPath = "/proc/sys/net/ipv4/ip_local_reserved_ports"

    /// The kernel's ephemeral range.
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` naming the file when it
    ///   cannot be read or does not hold two ports.
    public static func ephemeralRange(path: String = ephemeralRangePath) throws -> ClosedRange<Int> {
        let text = try read(path)
        do {
            return try AnalysisOptions.parseEphemeralRange(text)
        } catch let PortManagerError.invalidArgument(reason) {
            throw PortManagerError.io(path: path, reason: reason)
        }
    }

    /// The kernel's reserved ports.
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` naming the file when it
    ///   cannot be read or parsed.
    public static func reservedPorts(path: String = reservedPortsPath) throws -> PortSet {
        let text = try read(path)
        do {
            return try PortSet(kernelList: text)
        } catch let PortManagerError.invalidArgument(reason) {
            throw PortManagerError.io(path: path, reason: reason)
        }
    }

    /// Where an analysis takes its ephemeral range from.
    public enum EphemeralCheck: Sendable, Hashable {
        /// The kernel's range (``ephemeralRangePath``), less its reserved ports.
        case kernel
        /// No ephemeral check.
        case unchecked
        /// This range; ``KernelPorts/options(ephemeral:reserved:)`` checks that it lies in 1...65535.
        case range(ClosedRange<Int>)

        /// `pm_analyze`'s convention: `low` and `high` both 0 read the kernel,
        /// both -1 skip the check, anything else is the range `low...high`.
        ///
        /// - Throws: ``PortManagerError/invalidArgument(_:)`` naming both numbers
        ///   unless 1 <= low <= high <= 65535 (or one of the two pairs above).
        package init(cLow low: Int, cHigh high: Int) throws {
            switch (low, high) {
            case (0, 0): self = .kernel
            case (-1, -1): self = .unchecked
            default: self = .range(try AnalysisOptions.ephemeralRange(low: low, high: high))
            }
        }
    }

    /// The analysis options for `ephemeral`, and `reserved` in the kernel's
    /// syntax (`8080,9000-9100`); a nil `reserved` reads the kernel's list when
    /// the range is the kernel's, and means none otherwise.
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` for a bad range or list,
    ///   ``PortManagerError/io(path:reason:)`` for an unreadable `/proc` file.
    public static func options(ephemeral: EphemeralCheck, reserved: String?) throws -> AnalysisOptions {
        let range: ClosedRange<Int>?
        switch ephemeral {
        case .kernel: range = try ephemeralRange()
        case .unchecked: range = nil
        case .range(let given): range = try AnalysisOptions.ephemeralRange(low: given.lowerBound, high: given.upperBound)
        }
        let ports: PortSet
        if let reserved {
            ports = try PortSet(kernelList: reserved)
        } else {
            ports = ephemeral == .kernel ? try reservedPorts() : PortSet()
        }
        return AnalysisOptions(ephemeralRange: range, reservedPorts: ports)
    }

    /// A small text file (at most 1 MiB), whole. `/proc` files report size 0,
    /// so read until EOF (``FileReader``).
    static func read(_ path: String) throws -> String {
        do throws(FileReadError) {
            return String(decoding: try FileReader.readAll(path, options: [], limit: 1 << 20), as: UTF8.self)
        } catch {
            let reason: String
            switch error {
            case .open(let code): reason = "cannot open: " + describe(errno: code)
            case .stat(let code), .read(let code): reason = "cannot read: " + describe(errno: code)
            case .tooLarge: reason = "larger than \(1 << 20) bytes"
            case .notRegular(let mode): reason = "it is \(FileReader.kind(mode))"  // not asked for (no .regularOnly)
            }
            throw PortManagerError.io(path: PathText.shown(path), reason: reason)
        }
    }
}

extension Analysis {
    /// Analyzes `registry` under the kernel's ephemeral range and reserved
    /// ports, or under `ephemeralRange` when given (no reserved ports then,
    /// unless `reservedPorts` is given too).
    public init(registry: Registry, ephemeralRange: ClosedRange<Int>?, reservedPorts: PortSet? = nil) throws {
        if let ephemeralRange {
            try self.init(registry: registry, options: AnalysisOptions(ephemeralRange: ephemeralRange,
                                                                      reservedPorts: reservedPorts ?? PortSet()))
        } else {
            var options = try KernelPorts.options(ephemeral: .kernel, reserved: nil)
            if let reservedPorts { options.reservedPorts = reservedPorts }
            try self.init(registry: registry, options: options)
        }
    }
}

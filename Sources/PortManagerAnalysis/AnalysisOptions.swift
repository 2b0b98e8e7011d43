import PortManagerCore

/// A set of ports written as the kernel writes `ip_local_reserved_ports`:
/// `8080,9000-9100`. Kept as sorted, merged ranges.
public struct PortSet: Sendable, Hashable, CustomStringConvertible {
    /// Sorted, non-overlapping, non-adjacent ranges within 1...65535.
    public private(set) var ranges: [ClosedRange<Int>]

    /// The set of the ports in `ranges` (merged; order does not matter).
    public init(_ ranges: [ClosedRange<Int>] = []) {
        var merged: [ClosedRange<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    /// Parses the kernel's list syntax: comma-separated ports and `FIRST-LAST`
    /// ranges, each 1..65535; surrounding white space and an empty list are allowed.
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` naming the bad item.
    public init(kernelList text: String) throws {
        var ranges: [ClosedRange<Int>] = []
        let trimmed = text.split(whereSeparator: { $0 == "\n" || $0 == " " || $0 == "\t" || $0 == "\r" }).joined()
        if !trimmed.isEmpty {
            for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
                ranges.append(try PortSet.parseItem(item, in: text))
            }
        }
        self.init(ranges)
    }

    private static func parseItem(_ item: Substring, in text: String) throws -> ClosedRange<Int> {
        let problem = PortManagerError.invalidArgument(
            "reserved port list \(RegistryBuilder.quote(text)): \(RegistryBuilder.quote(String(item))) is not a port 1..65535 or a range FIRST-LAST of such ports")
        let parts = item.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { throw problem }
        var bounds: [Int] = []
        for part in parts {
            guard part.count <= 5, let value = DecimalInteger(part, allowingSign: false)?.value,
                  (1...65535).contains(value) else { throw problem }
            bounds.append(value)
        }
        guard bounds.first! <= bounds.last! else { throw problem }
        return bounds.first!...bounds.last!
    }

    /// True when `port` is in the set (binary search).
    public func contains(_ port: Int) -> Bool {
        var low = 0, high = ranges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if port < ranges[mid].lowerBound { high = mid - 1 } else if port > ranges[mid].upperBound { low = mid + 1 } else { return true }
        }
        return false
    }

    /// True when the set holds no port.
    public var isEmpty: Bool { ranges.isEmpty }

    /// The kernel's syntax: `8080,9000-9100`; `""` when empty.
    public var description: String {
        ranges.map { $0.count == 1 ? String($0.lowerBound) : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }
}

/// What the analysis assumes about the host: the kernel's ephemeral port range
/// and the ports reserved out of it.
public struct AnalysisOptions: Sendable, Hashable {
    /// The ephemeral range (`ip_local_port_range`); `nil` skips the ephemeral check.
    public var ephemeralRange: ClosedRange<Int>?
    /// Ports exempt from the ephemeral check (`ip_local_reserved_ports`).
    public var reservedPorts: PortSet

    /// Creates options. The default checks no ephemeral range.
    public init(ephemeralRange: ClosedRange<Int>? = nil, reservedPorts: PortSet = PortSet()) {
        self.ephemeralRange = ephemeralRange
        self.reservedPorts = reservedPorts
    }

    /// Linux's default ephemeral range, 32768-60999.
    public static let linuxDefaultEphemeralRange = 32768...60999

    /// `low...high`, checked: 1 <= low <= high <= 65535.
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` naming both numbers.
    public static func ephemeralRange(low: Int, high: Int) throws -> ClosedRange<Int> {
        guard (1...65535).contains(low), (1...65535).contains(high), low <= high else {
            throw PortManagerError.invalidArgument(
                "ephemeral range \(low)-\(high) is invalid; it needs 1 <= LOW <= HIGH <= 65535")
        }
        return low...high
    }

    /// Parses an ephemeral range as a user writes it (`32768-60999`) or as
    /// `ip_local_port_range` holds it (`32768\t60999`).
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` quoting the text.
    public static func parseEphemeralRange(_ text: String) throws -> ClosedRange<Int> {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard parts.count == 2, parts.allSatisfy({ $0.count <= 6 }),
              let low = DecimalInteger(parts[0], allowingSign: false)?.value,
              let high = DecimalInteger(parts[1], allowingSign: false)?.value else {
            throw PortManagerError.invalidArgument(
                "ephemeral range \(RegistryBuilder.quote(text)) is not two port numbers LOW-HIGH, such as 32768-60999")
        }
        return try ephemeralRange(low: low, high: high)
    }
}

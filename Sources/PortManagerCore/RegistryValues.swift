/// The values of a registry, one node each: ports and ranges, protocols,
/// addresses, integers, Docker names and image references. Each decides by the
/// node's ``YAMLKind`` and reads integers through ``DecimalInteger``; each
/// records its problem with the node's position and returns nil.
extension RegistryBuilder {
    /// An integer port or a `"FIRST-LAST"` range, each end in 1..65535.
    mutating func portValue(_ node: YAMLNode, what: @autoclosure () -> String) -> (Int, Int)? {
        if let number = node.integer {
            guard let value = value(of: number, node, what: what()) else { return nil }
            guard (1...65535).contains(value) else {
                fail(node, "\(what()) is \(value), outside 1..65535")
                return nil
            }
            return (value, value)
        }
        if case .scalar(let text, _, _, _) = node, let range = Self.parseRange(text) {
            guard let first = range.0, let last = range.1 else {
                fail(node, "\(what()): the range \(Self.quote(text)) holds a number too large to hold")
                return nil
            }
            guard (1...65535).contains(first), (1...65535).contains(last) else {
                fail(node, "\(what()): the range \(text) is outside 1..65535")
                return nil
            }
            guard first <= last else {
                fail(node, "\(what()): the range \(text) ends before it starts")
                return nil
            }
            return (first, last)
        }
        fail(node, "\(what()) must be an integer 1..65535, a range \"FIRST-LAST\" or a mapping {host: ..., container: ...}, not \(node.kind)")
        return nil
    }

    /// The `container` side of a port mapping other than `host`: an integer
    /// port or a `"FIRST-LAST"` range, each end in 1..65535.
    mutating func containerValue(_ node: YAMLNode, what: @autoclosure () -> String) -> (Int, Int)? {
        if case .scalar(let text, _, _, _) = node, node.kind == .string, Self.parseRange(text) == nil {
            let lowered = text.lowercased()
            let match = lowered == ContainerPort.hostSpelling
                ? lowered : Suggest.closest(to: lowered, among: [ContainerPort.hostSpelling])
            fail(node, "\(what()) is \(Self.quote(text)); it must be an integer 1..65535, a range \"FIRST-LAST\" or "
                 + "\(ContainerPort.hostSpelling) (the host port of each instance)"
                 + (match.map { "; did you mean \(Self.quote($0))?" } ?? ""))
            return nil
        }
        if node.integer == nil, Self.parseRangeNode(node) == nil {
            fail(node, "\(what()) must be an integer 1..65535, a range \"FIRST-LAST\" or \(ContainerPort.hostSpelling), not \(node.kind)")
            return nil
        }
        return portValue(node, what: what())
    }

    /// True when `node` is a string holding a range.
    private static func parseRangeNode(_ node: YAMLNode) -> (Int?, Int?)? {
        guard case .scalar(let text, _, _, _) = node else { return nil }
        return parseRange(text)
    }

    /// `tcp`, `udp` or `tcp+udp`.
    mutating func protocolValue(_ node: YAMLNode, what: @autoclosure () -> String) -> PortProtocols? {
        guard case .scalar(let text, _, _, _) = node, node.kind == .string else {
            fail(node, "\(what()) must be tcp, udp or tcp+udp, not \(node.kind)")
            return nil
        }
        guard let value = PortProtocols(spelling: text) else {
            let lowered = text.lowercased()
            let both = ["udp+tcp", "both", "tcp/udp", "udp/tcp", "tcp,udp", "udp,tcp", "tcp udp", "tcp_udp", "tcpudp"]
            let match = PortProtocols(spelling: lowered)?.name ?? (both.contains(lowered) ? "tcp+udp" : nil)
                ?? Suggest.closest(to: lowered, among: PortProtocols.spellings)
            fail(node, "\(what()) is \(Self.quote(text)); it must be tcp, udp or tcp+udp"
                + (match.map { "; did you mean \(Self.quote($0))?" } ?? ""))
            return nil
        }
        return value
    }

    /// A numeric IPv4 or IPv6 address: `127.0.0.1`, `::1`.
    mutating func hostIP(_ node: YAMLNode, what: @autoclosure () -> String) -> IPAddress? {
        guard case .scalar(let text, _, _, _) = node, node.kind == .string else {
            fail(node, "\(what()) must be an IPv4 or IPv6 address such as 127.0.0.1 or ::1, not \(node.kind)")
            return nil
        }
        guard let address = IPAddress(text) else {
            var advice = ""
            if text.hasPrefix("[") && text.hasSuffix("]") { advice = "; write IPv6 addresses without brackets" }
            else if text.contains("%") { advice = "; zone IDs are not supported" }
            else if text.contains("/") { advice = "; give one address, not a network" }
            fail(node, "\(what()) is \(Self.quote(text)), not a numeric IPv4 or IPv6 address (such as 127.0.0.1 or ::1)" + advice)
            return nil
        }
        return address
    }

    /// A plain decimal integer (see ``DecimalInteger``) without a leading zero.
    mutating func integer(_ node: YAMLNode, what: @autoclosure () -> String) -> Int? {
        guard let number = node.integer else {
            fail(node, "\(what()) must be an integer, not \(node.kind)")
            return nil
        }
        return value(of: number, node, what: what())
    }

    /// The value of `number`, the integer of `node`, unless written with a
    /// leading zero or too large to hold.
    private mutating func value(of number: DecimalInteger, _ node: YAMLNode, what: @autoclosure () -> String) -> Int? {
        guard case .scalar(let text, _, _, _) = node else { return nil }
        if number.hasLeadingZero {
            fail(node, "\(what()) is written \(text) with a leading zero, which YAML 1.1 reads as octal; write it without the zero")
            return nil
        }
        guard let value = number.value else {
            fail(node, "\(what()) is \(Self.truncated(text)), an integer too large to hold")
            return nil
        }
        return value
    }

    mutating func dockerName(_ node: YAMLNode, what: @autoclosure () -> String) -> String? {
        guard case .scalar(let text, _, _, _) = node, node.kind == .string else {
            fail(node, "\(what()) must be a string, not \(node.kind)")
            return nil
        }
        guard Naming.isValidDockerName(text) else {
            fail(node, "\(what()) \(Self.quote(text)) is not a valid Docker name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 253 characters)")
            return nil
        }
        return text
    }

    /// A container image reference (`image`): a string such as `apache/kafka`,
    /// `apache/kafka:3.7.0` or `registry.example.com:5000/team/app@sha256:...`.
    mutating func imageReference(_ node: YAMLNode, what: @autoclosure () -> String) -> String? {
        guard case .scalar(let text, _, _, _) = node, node.kind == .string else {
            fail(node, "\(what()) must be a string, not \(node.kind)")
            return nil
        }
        guard Naming.isValidImageReference(text) else {
            fail(node, "\(what()) \(Self.quote(text)) is not a container image reference "
                 + "([a-zA-Z0-9][a-zA-Z0-9_.:/@+-]*, at most 255 characters, such as apache/kafka:3.7.0)")
            return nil
        }
        return text
    }

    /// `"31001-31003"` → (31001, 31003): two unsigned decimal integers (leading
    /// zeros allowed, spaces around either allowed) joined by `-`; nil for other
    /// text, and a nil end for a number too large to hold.
    static func parseRange(_ text: String) -> (Int?, Int?)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let first = DecimalInteger(parts[0].trimmingSpaces, allowingSign: false),
              let last = DecimalInteger(parts[1].trimmingSpaces, allowingSign: false) else { return nil }
        return (first.value, last.value)
    }
}

extension Substring {
    /// The text without spaces (not other white space) at either end.
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}

/// A numeric IP address, as the registry's `host_ip` and the probe's host take it:
/// dotted-quad IPv4 (`127.0.0.1`) or IPv6 text (`::1`, `fe80::1`, `::ffff:10.0.0.1`).
/// No host names, brackets, zone IDs or prefix lengths. Parsed without I/O.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]
    /// The text it was parsed from.
    public let text: String

    /// True for IPv6.
    public var isIPv6: Bool { bytes.count == 16 }

    /// True for the wildcard (`0.0.0.0` or `::`).
    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }

    /// For an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), the IPv4 bytes.
    public var mappedIPv4: [UInt8]? {
        guard isIPv6, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return Array(bytes[12..<16])
    }

    /// The address as written, as Docker writes a host IP in a port mapping:
    /// IPv6 in brackets (`[::1]`), IPv4 as is.
    public var bracketed: String { isIPv6 ? "[\(text)]" : text }

    public var description: String { text }

    /// Parses `text`; nil when it is not an IPv4 or IPv6 literal.
    public init?(_ text: String) {
        if let v4 = IPAddress.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = IPAddress.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
        self.text = text
    }

    /// An address from its bytes (4 or 16), with its canonical text
    /// (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`).
    public init(bytes: [UInt8]) {
        self.bytes = bytes
        self.text = IPAddress.format(bytes)
    }

    /// `a.b.c.d`, each part 0..255 in decimal without leading zeros.
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard part.count <= 3, let number = DecimalInteger(part, allowingSign: false), !number.hasLeadingZero,
                  let value = number.value, value <= 255 else { return nil }
            out.append(UInt8(value))
        }
        return out
    }

    /// RFC 4291 text: eight groups of 1-4 hex digits, one `::` for a run of
    /// zero groups, optionally ending in a dotted-quad IPv4 address.
    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.utf8.count >= 2, text.utf8.count <= 45, text.contains(":") else { return nil }
        // Split at "::" (at most one).
        var halves: [String] = []
        let utf8 = Array(text.utf8)
        var cut: Int?
        for index in 0..<(utf8.count - 1) where utf8[index] == 0x3A && utf8[index + 1] == 0x3A {
            if cut != nil { return nil }
            cut = index
        }
        if let cut {
            if cut + 2 < utf8.count && utf8[cut + 2] == 0x3A { return nil }
            halves = [String(decoding: utf8[..<cut], as: UTF8.self), String(decoding: utf8[(cut + 2)...], as: UTF8.self)]
        } else {
            halves = [text]
        }
        func groups(_ part: String, allowIPv4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (index, piece) in pieces.enumerated() {
                if allowIPv4 && index == pieces.count - 1 && piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16),
                      piece.utf8.allSatisfy({ Naming.isAlnum($0) }) else { return nil }
                out.append(value)
            }
            return out
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowIPv4: false), let tail = groups(halves[1], allowIPv4: true),
                  head.count + tail.count <= 7 else { return nil }
            all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(text, allowIPv4: true), only.count == 8 else { return nil }
            all = only
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Canonical text of 4 or 16 bytes (RFC 5952: the longest run of two or
    /// more zero groups becomes `::`; IPv4-mapped addresses end in dotted quad).
    static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map { String($0) }.joined(separator: ".") }
        guard bytes.count == 16 else { return "?" }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return "::ffff:" + bytes[12..<16].map { String($0) }.joined(separator: ".")
        }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, start = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if start < 0 { start = index }
            } else if start >= 0 {
                if index - start > bestLength { bestStart = start; bestLength = index - start }
                start = -1
            }
        }
        func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard bestLength >= 2 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

/// Finds ports of one service that coincide across its own instances, for
/// example when the increment is smaller than the distance between two of its
/// ports, or smaller than the width of one of its ranges. Only ports that share
/// a protocol collide (`tcp+udp` shares with both).
enum SelfCollision {
    struct Problem {
        let location: SourceLocation
        let message: String
        /// The two ports (indices) and the instances at which they meet.
        let ports: (Int, Int)
        let instances: (Int, Int)
    }

    /// Every colliding pair of the service's ports, once per pair, by arithmetic:
    /// O(ports²), independent of max_instances, and allocation-free unless
    /// something collides.
    ///
    /// Ports p and q of instances i and j overlap when the distance
    /// `d = (base_q - base_p) + k * increment` (with `k = j - i`) lies in
    /// `-(width_q - 1) ... width_p - 1`. So a collision exists when some integer
    /// `k` in `-(max-1) ... max-1` (not 0 when p == q) falls in that window.
    static func find(in service: ServiceDefinition) -> [Problem] {
        var problems: [Problem] = []
        let ports = service.ports, inc = service.increment, span = service.maxInstances - 1
        for p in ports.indices {
            for q in p..<ports.count {
                // A TCP port and a UDP port of one number do not collide.
                if ports[p].protocols.isDisjoint(with: ports[q].protocols) { continue }
                guard let k = offset(ports[p], ports[q], increment: inc, span: span, samePort: p == q) else { continue }
                let i = max(0, -k), j = i + k
                problems.append(Problem(location: ports[q].location,
                                        message: message(service, ports[p], i, ports[q], j),
                                        ports: (p, q), instances: (i, j)))
            }
        }
        return problems
    }

    /// The instance difference `k` closest to 0 at which the two ports overlap, if any.
    private static func offset(_ a: PortDefinition, _ b: PortDefinition, increment: Int, span: Int,
                               samePort: Bool) -> Int? {
        let distance = b.base - a.base
        let low = -(b.count - 1) - distance, high = (a.count - 1) - distance
        var kLow: Int, kHigh: Int
        if increment == 0 {
            guard low <= 0 && 0 <= high else { return nil }
            (kLow, kHigh) = (-span, span)
        } else {
            kLow = max(-span, ceilDiv(low, increment))
            kHigh = min(span, floorDiv(high, increment))
        }
        guard kLow <= kHigh else { return nil }
        if !samePort { return kLow > 0 ? kLow : (kHigh < 0 ? kHigh : 0) }
        // One port against itself: instance i against instance i + k, k != 0.
        if kHigh >= 1 { return max(1, kLow) }
        if kLow <= -1 { return min(-1, kHigh) }
        return nil
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
    private static func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

    private static func message(_ service: ServiceDefinition, _ a: PortDefinition, _ i: Int,
                                _ b: PortDefinition, _ j: Int) -> String {
        let startA = instancePort(base: a.base, instance: i, increment: service.increment)
        let startB = instancePort(base: b.base, instance: j, increment: service.increment)
        let where1 = "\(RegistryBuilder.quote(a.name)) of instance \(i) (\(text(startA, startA + a.count - 1)))"
        let where2 = "\(RegistryBuilder.quote(b.name)) of instance \(j) (\(text(startB, startB + b.count - 1)))"
        if a.name == b.name {
            return "port \(where1) of service \(RegistryBuilder.quote(service.name)) overlaps its own instance \(j) (\(text(startB, startB + b.count - 1))): the range is \(a.count) ports wide but instance_increment is \(service.increment)"
        }
        return "ports \(where1) and \(where2) of service \(RegistryBuilder.quote(service.name)) coincide; instance_increment \(service.increment) is too small for the distance between them"
    }

    private static func text(_ start: Int, _ end: Int) -> String {
        start == end ? "host port \(start)" : "host ports \(start)-\(end)"
    }
}

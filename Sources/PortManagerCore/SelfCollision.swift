/// Finds ports of one service that coincide across its own instances, for
/// example when the increment is smaller than the distance between two of its
/// ports, or smaller than the width of one of its ranges.
enum SelfCollision {
    struct Problem {
        let location: SourceLocation
        let message: String
    }

    /// Every colliding pair of the service's ports, once per pair, in O(n log n)
    /// over the service's instances × ports.
    static func find(in service: ServiceDefinition) -> [Problem] {
        struct Span { let start: Int; let end: Int; let port: Int; let instance: Int }
        var spans: [Span] = []
        spans.reserveCapacity(service.ports.count * service.maxInstances)
        for instance in 0..<service.maxInstances {
            for (p, port) in service.ports.enumerated() {
                let start = port.base + instance * service.increment
                spans.append(Span(start: start, end: start + port.count - 1, port: p, instance: instance))
            }
        }
        spans.sort { ($0.start, $0.port, $0.instance) < ($1.start, $1.port, $1.instance) }
        var reported = [Bool](repeating: false, count: service.ports.count * service.ports.count)
        var problems: [Problem] = []
        var reach: Span?
        for span in spans {
            if let open = reach, span.start <= open.end {
                let (a, b) = (min(open.port, span.port), max(open.port, span.port))
                if !reported[a * service.ports.count + b] {
                    reported[a * service.ports.count + b] = true
                    let first = service.ports[open.port], second = service.ports[span.port]
                    let where1 = "\(RegistryBuilder.quote(first.name)) of instance \(open.instance) (\(text(open.start, open.end)))"
                    let where2 = "\(RegistryBuilder.quote(second.name)) of instance \(span.instance) (\(text(span.start, span.end)))"
                    let message = a == b
                        ? "port \(where1) of service \(RegistryBuilder.quote(service.name)) overlaps its own instance \(span.instance) (\(text(span.start, span.end))): the range is \(first.count) ports wide but instance_increment is \(service.increment)"
                        : "ports \(where1) and \(where2) of service \(RegistryBuilder.quote(service.name)) coincide; instance_increment \(service.increment) is too small for the distance between them"
                    problems.append(Problem(location: service.ports[b].location, message: message))
                }
            }
            if reach == nil || span.end > reach!.end { reach = span }
        }
        return problems
    }

    private static func text(_ start: Int, _ end: Int) -> String {
        start == end ? "host port \(start)" : "host ports \(start)-\(end)"
    }
}

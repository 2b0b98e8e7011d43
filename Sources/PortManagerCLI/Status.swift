import ArgumentParser
import PortManager

/// `portmanager status`: which instances could start on this host now.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tell which instances have every host port free on this host now.",
        discussion: """
        Probes every host port of every instance (of the services given, or of \
        all), per each port's protocol and host IP, as `probe` does, reading each \
        /proc/net table once for all of them. One line per instance: free, in use \
        (with each port in use and who holds it), or cannot tell (why). A TCP \
        socket bound but not listening is not in /proc/net: `probe PORT` binds \
        and sees it.

        Examples:
          portmanager status
          portmanager status kafka --json

        Exit status: 0 (whatever the ports' state); 2 for bad input or an \
        unreadable /proc/net table.
        """
    )

    @Argument(help: ArgumentHelp("Only these services (default: all).", valueName: "service"))
    var services: [String] = []

    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    func run() throws {
        let registry = try options.open()
        let selected = try services.isEmpty ? registry.services : services.map { try registry.service(named: $0) }
        var slices: [(service: String, instance: Int, range: Range<Int>)] = []
        var requests: [PortProbe.Request] = []
        for service in selected {
            for instance in 0..<service.maxInstances {
                let start = requests.count
                requests += try registry.probeRequests(service.name, instance: instance)
                slices.append((service.name, instance, start..<requests.count))
            }
        }
        let answers = try PortProbe.probe(requests)
        var lines: [String] = []
        var items: [JSON] = []
        for slice in slices {
            let mine = Array(answers[slice.range])
            let verdict: PortProbe.Verdict = mine.contains { $0.verdict == .inUse } ? .inUse
                : (mine.contains { $0.verdict == .unknown } ? .unknown : .free)
            if output.json {
                items.append(.object([
                    ("service", .string(slice.service)),
                    ("instance", .int(slice.instance)),
                    ("available", verdict == .free ? .bool(true) : (verdict == .inUse ? .bool(false) : .null)),
                    ("ports", .array(mine.map { .raw($0.json()) })),
                ]))
            } else {
                lines.append("\(slice.service) \(slice.instance): \(verdict.text)")
                for answer in mine where answer.verdict != .free {
                    lines += answer.lines.map { "  " + $0 }
                }
            }
        }
        if output.json {
            Output.line(JSON.object([("instances", .array(items))]).rendered())
        } else {
            Output.lines(lines)
        }
    }
}

import ArgumentParser
import PortManager

/// `portmanager probe PORT`: is a port free the way Docker would publish it, and who holds it.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tell whether a host port is free, and which process holds it.",
        discussion: """
        Free means free the way Docker publishes a port: for each protocol, a \
        socket can be bound on 0.0.0.0 and on [::] (IPv4 and IPv6 are checked \
        separately), or on --host ADDR only, with SO_REUSEADDR for TCP as Docker \
        binds: a TCP connection (TIME_WAIT included) counts when the bind fails \
        on it, as on the local port of an outgoing connection. A port in use is listed with each socket holding it: protocol, \
        address, and the process (pid and command) when this user may see it, \
        as `ss -p` shows it. The Docker engine's port map names the container \
        behind a docker-proxy holder, and a port a container publishes with \
        no local socket (Docker's iptables-only publishing) is in use by that \
        container; when the engine cannot be reached, the kernel's answer \
        stands alone.

        Examples:
          portmanager probe 9092
          portmanager probe 6831 --udp
          portmanager probe 53 --both --host 127.0.0.1
          portmanager probe 9092 --json

        \(ExitStatus.help(for: "probe"))
        """
    )

    enum Transport: String, EnumerableFlag {
        case tcp, udp, both

        static func help(for value: Transport) -> ArgumentHelp? {
            switch value {
            case .tcp: return "Probe TCP (the default)."
            case .udp: return "Probe UDP."
            case .both: return "Probe TCP and UDP."
            }
        }

        var protocols: PortProtocols {
            switch self {
            case .tcp: return .tcp
            case .udp: return .udp
            case .both: return .both
            }
        }
    }

    @Argument(help: "The host port, 1-65535.")
    var port: Int

    @Flag(exclusivity: .exclusive)
    var transport: Transport = .tcp

    @Option(name: .long, help: ArgumentHelp(
        "Probe this numeric IPv4 or IPv6 address only (a port's host_ip) instead of 0.0.0.0 and [::].",
        valueName: "addr"))
    var host: String?

    @OptionGroup var output: JSONOption

    mutating func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("port \(port) is outside 1-65535.") }
        if let host, IPAddress(host) == nil {
            throw ValidationError("--host \(RegistryBuilder.quote(host)) is not a numeric IPv4 or IPv6 address (such as 127.0.0.1 or ::1).")
        }
    }

    func run() throws {
        LogSetup.ensure()
        let answer = try PortProbe.probe(port: port, protocols: transport.protocols, host: host,
                                         naming: .standard, everyPublishedPort: true)
        if output.json {
            Output.line(answer.json())
        } else {
            Output.lines(answer.lines)
        }
        if answer.verdict != .free { throw ExitCode(answer.verdict.rawValue) }
    }
}

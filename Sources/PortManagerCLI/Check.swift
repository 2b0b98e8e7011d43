import ArgumentParser
import PortManager

/// `portmanager check`: validates the registry.
///
/// Exit statuses: ``ExitStatus/help(for:)`` of "check" (the table in ExitStatus.swift).
///
/// The check runs in stages, each printing its problems the same way,
/// `FILE:LINE:COLUMN: SEVERITY: message` on standard output; the analysis's
/// findings are written as they are described, not gathered first.
/// 1. Loading: everything ``RegistryBuilder`` refuses (types, ranges, unknown
///    keys, duplicates, collisions within one service).
/// 2. Whole-lattice analysis (``Analysis``, docs/analysis.md): collisions across
///    and within services and environments, environment offsets that leave
///    1..65535, instances that share a container or volume name (errors);
///    privileged and ephemeral ports (warnings). `--strict`
///    makes warnings fail too; `--json` prints the analysis as JSON.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the registry.",
        discussion: """
        Loads the registry and reports every problem it finds, one per line, in \
        the form compilers use, so editors can jump to it:

          FILE:LINE:COLUMN: error: message

        Then it analyzes the whole lattice: every port of every instance of every \
        service, with no environment and with each one. Collisions, environment \
        offsets that push a port outside 1..65535, and two instances that get one \
        container or volume name are errors, each with a suggested fix; ports \
        below 1024 and ports inside the kernel's ephemeral range (less \
        ip_local_reserved_ports) are warnings.

        \(ExitStatus.help(for: "check"))

        Examples:
          portmanager check
          portmanager check --registry my_registry.yaml
          portmanager check --strict --ephemeral-range 32768-60999
          portmanager check --json
        """
    )

    @OptionGroup var options: RegistryOptions

    @OptionGroup var output: JSONOption

    @Flag(name: .long, help: "Exit 1 on warnings (privileged or ephemeral ports) too, not only on errors.")
    var strict = false

    @Option(name: .customLong("ephemeral-range"), help: ArgumentHelp(
        "The kernel's ephemeral port range as LOW-HIGH, or 'none' to skip that check.",
        discussion: "Default: read /proc/sys/net/ipv4/ip_local_port_range, less the ports in ip_local_reserved_ports. A range given here has no reserved ports.",
        valueName: "low-high"))
    var ephemeralRange: String?

    func validate() throws {
        if let ephemeralRange, ephemeralRange != "none" {
            do {
                _ = try AnalysisOptions.parseEphemeralRange(ephemeralRange)
            } catch {
                throw ValidationError("--ephemeral-range: \(error)")
            }
        }
    }

    /// The analysis options: `--ephemeral-range`, else the kernel's.
    private func analysisOptions() throws -> AnalysisOptions {
        switch ephemeralRange {
        case "none": return AnalysisOptions()
        case let text?: return AnalysisOptions(ephemeralRange: try AnalysisOptions.parseEphemeralRange(text))
        case nil:
            do {
                return try KernelPorts.options(ephemeral: .kernel, reserved: nil)
            } catch let PortManagerError.io(path, reason) {
                throw PortManagerError.io(path: path, reason: reason + "; give the range with --ephemeral-range LOW-HIGH (or 'none')")
            }
        }
    }

    func run() throws {
        let registry: Registry
        do {
            registry = try options.load()
        } catch PortManagerError.invalidRegistry(let diagnostics) where !diagnostics.isEmpty {
            let source = PathText.text(try Registry.resolvePath(options.registryPath))
            if output.json {
                Output.line(Analysis.json(source: source, options: try analysisOptions(), invalid: diagnostics))
                throw ExitCode(Failure.findings)
            }
            try finish(diagnostics, source: source)
            return
        } catch PortManagerError.parse(let diagnostic) where output.json {
            // Not YAML at all: the same document, its one finding the syntax error; exit 2 as without --json.
            let source = PathText.text(try Registry.resolvePath(options.registryPath))
            Output.line(Analysis.json(source: source, options: try analysisOptions(), invalid: [diagnostic]))
            throw ExitCode(Failure.inputError)
        }
        if let name = options.selectedEnvironment, !registry.environments.contains(where: { $0.name == name }) {
            throw PortManagerError.unknownEnvironment(name, available: registry.environments.map(\.name))
        }
        let analysis = try Analysis(registry: registry, options: analysisOptions())
        // Each finding is written as soon as it is described: the output of a
        // registry with many findings is never held whole in memory.
        var out = StandardOutput()
        if output.json {
            analysis.writeJSON(to: &out)
            out.write("\n")
            out.flush()
            if analysis.errorCount > 0 || (strict && analysis.warningCount > 0) { throw ExitCode(Failure.findings) }
            return
        }
        for finding in analysis.findings {
            out.write(finding.line)
            out.write("\n")
        }
        out.flush()
        try finish(errors: analysis.errorCount, warnings: analysis.warningCount, source: registry.source,
                   registry: (registry, findings: analysis.findings.count))
    }

    /// Prints the load problems, then the verdict as ``finish(errors:warnings:source:registry:)`` does.
    private func finish(_ diagnostics: [Diagnostic], source: String) throws {
        Output.lines(diagnostics.map { "\($0.location): \($0.severity.rawValue): \($0.message)" })
        try finish(errors: diagnostics.count(where: { $0.severity == .error }),
                   warnings: diagnostics.count(where: { $0.severity == .warning }), source: source, registry: nil)
    }

    /// After the findings: exits 1 when any is an error (or a warning, with
    /// --strict), else prints the OK line when the registry loaded (with its
    /// number of findings).
    private func finish(errors: Int, warnings: Int, source: String, registry loaded: (Registry, findings: Int)?) throws {
        if errors > 0 {
            Output.err("portmanager: \(PathText.shown(source)): \(errors) problem\(errors == 1 ? "" : "s") found")
            throw ExitCode(Failure.findings)
        }
        if strict && warnings > 0 {
            Output.err("portmanager: \(PathText.shown(source)): \(warnings) warning\(warnings == 1 ? "" : "s") found (--strict)")
            throw ExitCode(Failure.findings)
        }
        if let (registry, others) = loaded {
            let ports = registry.services.reduce(0) { $0 + $1.ports.count }
            let instances = registry.services.reduce(0) { $0 + $1.maxInstances }
            let verdict = others == 0 ? "no problems found" : "no errors, \(others) warning\(others == 1 ? "" : "s") or note\(others == 1 ? "" : "s")"
            Output.line("OK: \(PathText.shown(source)): \(counted(registry.services.count, "service")), "
                        + "\(counted(ports, "named port")), \(counted(instances, "instance")), "
                        + "\(counted(registry.environments.count, "environment")); \(verdict)")
        }
    }
}

/// Standard output written in blocks of about 64 KiB through ``Output``, so a
/// long stream of findings costs few writes and holds one block at a time.
private struct StandardOutput: TextOutputStream {
    private var buffer = ""

    mutating func write(_ text: String) {
        buffer += text
        if buffer.utf8.count >= 1 << 16 { flush() }
    }

    /// Writes what is buffered.
    mutating func flush() {
        guard !buffer.isEmpty else { return }
        Output.out(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

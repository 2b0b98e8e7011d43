import ArgumentParser
import PortManager

/// `portmanager check`: validates the registry.
///
/// Exit status: 0 when valid, 1 when it has findings of severity error, 2 when
/// it cannot be found, read or parsed (or `--env` names an unknown environment).
///
/// The check runs in stages, each adding ``Diagnostic``s to one list that is
/// printed the same way: `FILE:LINE:COLUMN: SEVERITY: message` on standard output.
/// 1. Loading: everything ``RegistryBuilder`` refuses (types, ranges, unknown
///    keys, duplicates, collisions within one service).
/// 2. Environments: every environment under `_environments` must keep every
///    port of every instance inside 1..65535.
/// 3. Whole-lattice analysis (issue 5): not here yet; see ``findings(_:)``.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the registry.",
        discussion: """
        Loads the registry and reports every problem it finds, one per line, in \
        the form compilers use, so editors can jump to it:

          FILE:LINE:COLUMN: error: message

        Exit status: 0 when the registry is valid (one OK line is printed); 1 when \
        it has problems; 2 when it cannot be found, read or parsed as YAML, or \
        --env names an environment the registry does not define.

        Examples:
          portmanager check
          portmanager check --registry my_registry.yaml
        """
    )

    @OptionGroup var options: RegistryOptions

    // Options of the whole-lattice analysis (--strict, --json, the ephemeral
    // range) belong here.

    func run() throws {
        let registry: Registry
        do {
            registry = try options.load()
        } catch PortManagerError.invalidRegistry(let diagnostics) where !diagnostics.isEmpty {
            try finish(diagnostics, source: try Registry.resolvePath(options.registry), registry: nil)
            return
        }
        if let name = options.selectedEnvironment, !registry.environments.contains(where: { $0.name == name }) {
            throw PortManagerError.unknownEnvironment(name, available: registry.environments.map(\.name))
        }
        try finish(findings(registry), source: registry.source, registry: registry)
    }

    /// Every finding about a registry that loaded.
    private func findings(_ registry: Registry) -> [Diagnostic] {
        var findings: [Diagnostic] = []
        for environment in registry.environments {
            do {
                _ = try registry.selecting(environment: environment.name)
            } catch PortManagerError.invalidRegistry(let diagnostics) {
                findings += diagnostics
            } catch {
                findings.append(Diagnostic(environment.location, "\(error)"))
            }
        }
        // Issue 5's whole-lattice analysis appends its findings here (collisions
        // across services, privileged and ephemeral ports), for the selected
        // environment or every one. If it reports environment offsets that
        // leave 1..65535 itself, the loop above can go.
        return findings
    }

    /// Prints the findings, or the OK line, and exits 1 when any is an error.
    private func finish(_ findings: [Diagnostic], source: String, registry: Registry?) throws {
        let errors = findings.filter { $0.severity == .error }.count
        Output.lines(findings.map { "\($0.location): \($0.severity.rawValue): \($0.message)" })
        if errors > 0 {
            Output.err("portmanager: \(source): \(errors) problem\(errors == 1 ? "" : "s") found")
            throw ExitCode(Failure.findings)
        }
        if let registry {
            let ports = registry.services.reduce(0) { $0 + $1.ports.count }
            let instances = registry.services.reduce(0) { $0 + $1.maxInstances }
            let others = findings.count
            let verdict = others == 0 ? "no problems found" : "no errors, \(others) warning\(others == 1 ? "" : "s") or note\(others == 1 ? "" : "s")"
            Output.line("OK: \(source): \(registry.services.count) services, \(ports) named ports, "
                        + "\(instances) instances, \(registry.environments.count) environments; \(verdict)")
        }
    }
}

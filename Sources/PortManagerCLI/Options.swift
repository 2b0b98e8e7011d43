#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PortManager

/// Options every subcommand takes: which registry, which environment, how chatty.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The port registry YAML file.",
        discussion: """
        Default: $PORTMANAGER_REGISTRY, then dynamicconfig/port_registry.yaml in the current \
        directory or the nearest parent that has one, then $XDG_CONFIG_HOME/portmanager/port_registry.yaml \
        (~/.config by default), /etc/portmanager/port_registry.yaml, and the registry installed \
        with portmanager (PREFIX/share/portmanager/port_registry.yaml).
        """,
        valueName: "path"), completion: .file(extensions: ["yaml", "yml"]))
    var registry: String?

    @Option(name: .long, help: ArgumentHelp(
        "Add the port offset of this environment (defined under _environments in the registry).",
        discussion: "Default: $PORTMANAGER_ENV when set; otherwise no offset.",
        valueName: "name"), completion: RegistryCompletion.environments)
    var env: String?

    @Flag(name: [.short, .long], help: "Log every port allocation to standard error (like PORTMANAGER_LOG=info).")
    var verbose = false

    mutating func validate() throws {
        if let registry, registry.isEmpty {
            throw ValidationError("--registry needs a file path, not an empty string.")
        }
        if let env, env.isEmpty {
            throw ValidationError("--env needs an environment name, not an empty string.")
        }
    }

    /// Opens the registry these options name and selects the environment
    /// (`--env`, else `$PORTMANAGER_ENV`).
    ///
    /// - Throws: any ``PortManagerError`` from finding, loading or selecting.
    func open() throws -> Registry {
        configureLogging()
        return try Registry.open(path: registry, environment: env)
    }

    /// Finds, reads and validates the registry without selecting an environment.
    ///
    /// - Throws: ``PortManagerError/registryNotFound(searched:)``, ``PortManagerError/io(path:reason:)``,
    ///   ``PortManagerError/parse(_:)`` or ``PortManagerError/invalidRegistry(_:)``.
    func load() throws -> Registry {
        configureLogging()
        return try Registry(contentsOf: Registry.resolvePath(registry))
    }

    /// The environment asked for: `--env`, else `$PORTMANAGER_ENV` when set and not empty.
    var selectedEnvironment: String? {
        if let env { return env }
        guard let value = getenv(Registry.environmentVariable) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    private func configureLogging() {
        LogSetup.ensure()
        if verbose { Log.level = LogLevel.info.rawValue }
    }
}

/// `--json`, shared by every subcommand whose output is data.
struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for machines instead of text for people.")
    var json = false
}

/// `--instance N`, defaulting to 0.
struct InstanceOption: ParsableArguments {
    @Option(name: [.short, .long], parsing: .unconditional, help: ArgumentHelp(
        "The instance ID: 0 for the first instance, 1 for the second, and so on below max_instances.",
        valueName: "n"))
    var instance: Int = 0
}

/// `--instance N`, required: for output that goes into configuration files.
struct RequiredInstanceOption: ParsableArguments {
    @Option(name: [.short, .long], parsing: .unconditional, help: ArgumentHelp(
        "The instance ID: 0 for the first instance, 1 for the second, and so on below max_instances.",
        valueName: "n"))
    var instance: Int
}

extension Registry {
    /// `{"name": ..., "offset": ...}` of the environment in force, or `null`.
    var environmentJSON: JSON {
        guard let environment else { return .null }
        return .object([("name", .string(environment.name)), ("offset", .int(environment.offset))])
    }
}

extension Allocation {
    /// The JSON form of one allocated port of one instance.
    var json: JSON {
        .object([
            ("name", .string(portName)),
            ("host", .int(hostPort)),
            ("host_last", .int(hostPortLast)),
            ("container", .int(containerPort)),
            ("container_last", .int(containerPortLast)),
            ("host_text", .string(hostText)),
            ("mapping", .string(mapping)),
        ])
    }

    /// `9192`, `31101-31103`, or `8090->8080` when the container port differs.
    var displayText: String {
        containerPort == hostPort ? hostText : "\(hostText)->\(containerText)"
    }
}

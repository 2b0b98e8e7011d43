#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PortManager

/// Options every subcommand takes: which registry, which environment, how chatty.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The port registry YAML file.",
        discussion: "Default: the first place of the search order that `portmanager --help` lists.",
        valueName: "path"), completion: .file(extensions: ["yaml", "yml"]))
    var registry: String?

    @Option(name: .customLong("env"), help: ArgumentHelp(
        "Add the port offset of this environment (defined under _environments in the registry).",
        discussion: """
        Default: $PORTMANAGER_ENV when set; otherwise no offset. `compose --document` \
        also takes --env KEY=VALUE (repeatable): a variable of the container, told \
        from an environment name by its '='.
        """,
        valueName: "name"), completion: RegistryCompletion.environments)
    var envArguments: [String] = []

    /// The environment `--env` names (the one value without '='), or nil.
    var env: String? { envArguments.last { !$0.contains("=") } }

    /// The container variables given as `--env KEY=VALUE`, in order (only
    /// `compose --document` takes them; ``open(allowingVariables:)`` refuses them elsewhere).
    var variables: [String] { envArguments.filter { $0.contains("=") } }

    @Flag(name: [.short, .long], help: "Log every port allocation to standard error (like PORTMANAGER_LOG=info).")
    var verbose = false

    mutating func validate() throws {
        if let registry, registry.isEmpty {
            throw ValidationError("--registry needs a file path, not an empty string.")
        }
        if envArguments.contains("") {
            throw ValidationError("--env needs an environment name, not an empty string.")
        }
        let names = envArguments.filter { !$0.contains("=") }
        if names.count > 1 {
            throw ValidationError("--env names one environment; got \(names.map { "'\($0)'" }.joined(separator: ", ")).")
        }
    }

    /// Opens the registry these options name and selects the environment
    /// (`--env`, else `$PORTMANAGER_ENV`).
    ///
    /// - Throws: a `ValidationError` for `--env KEY=VALUE` unless `allowingVariables`;
    ///   any ``PortManagerError`` from finding, loading or selecting.
    func open(allowingVariables: Bool = false) throws -> Registry {
        try refuseVariables(unless: allowingVariables)
        configureLogging()
        return try Registry.open(pathBytes: registryPath, environment: env)
    }

    /// `--registry` as the bytes of the command line: the parser decodes
    /// arguments as UTF-8 and would turn other bytes into U+FFFD.
    var registryPath: [UInt8]? {
        registry.map { RawArguments.bytes(of: "--registry", parsed: $0) }
    }

    /// Finds, reads and validates the registry without selecting an environment.
    ///
    /// - Throws: ``PortManagerError/registryNotFound(searched:)``, ``PortManagerError/io(path:reason:)``,
    ///   ``PortManagerError/parse(_:)`` or ``PortManagerError/invalidRegistry(_:)``.
    func load() throws -> Registry {
        try refuseVariables(unless: false)
        configureLogging()
        return try Registry(contentsOfPath: Registry.resolvePath(registryPath))
    }

    /// The environment asked for: `--env`, else `$PORTMANAGER_ENV` when set and not empty.
    var selectedEnvironment: String? {
        if let env { return env }
        guard let value = getenv(Registry.environmentVariable) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    private func refuseVariables(unless allowed: Bool) throws {
        if !allowed, let first = variables.first {
            throw ValidationError("--env '\(first)': KEY=VALUE sets a container variable, which only `compose --document` takes; --env NAME selects an environment.")
        }
    }

    private func configureLogging() {
        LogSetup.ensure()
        if verbose { Log.level = .info }
    }
}

/// The command line as the bytes the process received.
///
/// swift-argument-parser hands options over as `String`s, decoded from UTF-8 with
/// every invalid byte replaced by U+FFFD, so `reg-\xff.yaml` and `reg-\xfe.yaml`
/// would both become `reg-\u{FFFD}.yaml`. Paths are bytes: this finds the argv
/// entry an option's value came from.
enum RawArguments {
    /// The bytes of the value of `option` (`--name VALUE` or `--name=VALUE`, the
    /// last one before `--`) that decodes to `parsed`; `parsed` as UTF-8 when none does.
    static func bytes(of option: String, parsed: String) -> [UInt8] {
        let name = Array(option.utf8)
        var found: [UInt8]?
        var arguments: [[UInt8]] = []
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { break }
            arguments.append(Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))))
        }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == Array("--".utf8) { break }
            var value: [UInt8]?
            if argument == name, index + 1 < arguments.count {
                value = arguments[index + 1]
                index += 1
            } else if argument.count > name.count, Array(argument.prefix(name.count)) == name,
                      argument[name.count] == UInt8(ascii: "=") {
                value = Array(argument.dropFirst(name.count + 1))
            }
            if let value, String(decoding: value, as: UTF8.self) == parsed { found = value }
            index += 1
        }
        return found ?? Array(parsed.utf8)
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

/// `--state-dir DIR`, taken by every command that uses the reservation store.
struct StateOption: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "The reservation store's directory.",
        discussion: "Default: $PORTMANAGER_STATE_DIR, else /var/lib/portmanager for root and $XDG_STATE_HOME/portmanager (~/.local/state/portmanager) for others.",
        valueName: "dir"))
    var stateDirectory: String?

    mutating func validate() throws {
        if let stateDirectory, stateDirectory.isEmpty { throw ValidationError("--state-dir must not be empty.") }
    }

    /// `--state-dir` as the bytes of the command line (a path need not be UTF-8).
    var path: [UInt8]? { stateDirectory.map { RawArguments.bytes(of: "--state-dir", parsed: $0) } }
}

import ArgumentParser
import PortManager

/// The variables that `env` and `compose --env-file` print for one instance.
///
/// Keys are `PREFIX_PORTNAME` in upper case, with every character other than
/// a letter or digit turned into `_` (`kafka` + `broker_port` → `KAFKA_BROKER_PORT`),
/// then `PREFIX_CONTAINER_NAME` and `PREFIX_VOLUME_NAME`. A port whose
/// container side differs adds `KEY_CONTAINER`; a range adds `KEY_FIRST` and `KEY_LAST`.
struct InstanceVariables {
    /// The assignments, in order: ports in source order, then the names.
    let assignments: [(key: String, value: String)]

    /// Collects the variables of `instance` of `service`; each port allocation is logged.
    ///
    /// - Throws: the registry's lookup errors, or ``PortManagerError/invalidArgument(_:)``
    ///   when two ports would give the same variable name.
    init(registry: Registry, service: String, instance: Int, prefix: String?) throws {
        let allocations = try registry.ports(service, instance: instance)
        let serviceName = try registry.service(named: service).name
        let stem = prefix ?? InstanceVariables.key(serviceName)
        var result: [(key: String, value: String)] = []
        for allocation in allocations {
            let key = stem + "_" + InstanceVariables.key(allocation.portName)
            result.append((key, allocation.hostText))
            if allocation.hostPortLast != allocation.hostPort {
                result.append((key + "_FIRST", String(allocation.hostPort)))
                result.append((key + "_LAST", String(allocation.hostPortLast)))
            }
            if allocation.containerPort != allocation.hostPort {
                result.append((key + "_CONTAINER", allocation.containerText))
            }
        }
        result.append((stem + "_CONTAINER_NAME", try registry.containerName(service, instance: instance)))
        result.append((stem + "_VOLUME_NAME", try registry.volumeName(service, instance: instance)))
        var seen: Set<String> = []
        for (key, _) in result where !seen.insert(key).inserted {
            throw PortManagerError.invalidArgument(
                "service '\(service)' gives the variable \(key) twice; its port names differ only in punctuation")
        }
        assignments = result
    }

    /// `text` in upper case with every character other than an ASCII letter or
    /// digit replaced by `_`, and a leading `_` if it would start with a digit.
    static func key(_ text: String) -> String {
        var bytes: [UInt8] = text.utf8.map { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - 32
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return byte
            default: return UInt8(ascii: "_")
            }
        }
        if let first = bytes.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            bytes.insert(UInt8(ascii: "_"), at: 0)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when `text` is a shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    static func isIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else { return false }
        return bytes.allSatisfy { Naming.isAlnumOrUnderscore($0) }
    }

    /// True when `value` needs no quoting in a POSIX shell or an env file.
    static func isPlain(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.allSatisfy { b in
            Naming.isAlnumOrUnderscore(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
                || b == UInt8(ascii: ":") || b == UInt8(ascii: "/") || b == UInt8(ascii: "@")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: ",")
        }
    }

    /// `value` as one POSIX shell word: as is when plain, else single-quoted.
    static func shellQuoted(_ value: String) -> String {
        if isPlain(value) { return value }
        var out = "'"
        for character in value {
            if character == "'" { out += "'\\''" } else { out.append(character) }
        }
        return out + "'"
    }

    /// The assignments as a JSON object, in order.
    var json: JSON { .object(assignments.map { ($0.key, .string($0.value)) }) }
}

extension Naming {
    /// `[A-Za-z0-9_]`.
    static func isAlnumOrUnderscore(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
    }
}

/// `--prefix`, shared by `env` and `compose`.
struct PrefixOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Start every variable name with this instead of the service name in upper case.",
        valueName: "prefix"))
    var prefix: String?

    mutating func validate() throws {
        if let prefix, !InstanceVariables.isIdentifier(prefix) {
            throw ValidationError("--prefix '\(prefix)' is not a shell variable name; use letters, digits and '_', not starting with a digit.")
        }
    }
}

/// `portmanager env SERVICE --instance N`: shell assignments for one instance.
struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print shell variable assignments for one instance.",
        discussion: """
        One NAME=VALUE line per port, then the container and volume names. Names \
        are the service name and the port name in upper case, with anything but \
        letters and digits turned into '_'. Values are quoted when a shell needs it.

          KAFKA_BROKER_PORT=9192
          KAFKA_CONTROLLER_PORT=19193
          KAFKA_CONTAINER_NAME=kafka-development-1
          KAFKA_VOLUME_NAME=kafka-data-1

        A range adds NAME_FIRST and NAME_LAST; a port with a fixed container \
        side adds NAME_CONTAINER.

        Examples:
          eval "$(portmanager env kafka --instance 1)"
          portmanager env kafka -i 1 --export >> .envrc
          portmanager env kafka -i 1 --json
        """
    )

    @Argument(help: "The service, as named in the registry (for example kafka).",
              completion: RegistryCompletion.services)
    var service: String

    @OptionGroup var instanceOption: RequiredInstanceOption
    @OptionGroup var prefixOption: PrefixOption

    @Flag(name: .long, help: "Begin each line with 'export '.")
    var export = false

    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if export && output.json { throw ValidationError("--export and --json cannot be used together.") }
    }

    func run() throws {
        let registry = try options.open()
        let variables = try InstanceVariables(registry: registry, service: service,
                                              instance: instanceOption.instance, prefix: prefixOption.prefix)
        if output.json {
            Output.line(variables.json.rendered())
        } else {
            Output.lines(variables.assignments.map {
                (export ? "export " : "") + "\($0.key)=\(InstanceVariables.shellQuoted($0.value))"
            })
        }
    }
}

/// `portmanager compose SERVICE --instance N`: docker compose `ports:` entries,
/// or with `--document` a whole compose file for the instance.
struct Compose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the docker compose port mappings of one instance, or a whole compose document.",
        discussion: """
        One `- "HOST:CONTAINER"` line per port, ready to paste under a service's \
        `ports:` key. A range maps as a range ("31101-31103:31101-31103"). A UDP \
        port ends in /udp ("6831:6831/udp"); a tcp+udp port gives two lines; a \
        port with a host_ip starts with it ("127.0.0.1:9192:9092").

        With --env-file, prints the variables of `portmanager env` instead, in \
        the NAME=VALUE form `docker compose --env-file` reads, so a compose file \
        can say "${KAFKA_BROKER_PORT}:9092" and container_name: ${KAFKA_CONTAINER_NAME}.

        With --document, prints a whole compose file for the instance: a service \
        named after its container, with image (the registry's `image:` key, or \
        --image), container_name, ports and its volume mounted at --volume-target \
        (default /data), and the volume under the top-level volumes: with its \
        exact name. Without an image from either, it fails with exit status 2.

        Examples:
          portmanager compose kafka --instance 1
          portmanager compose kafka -i 1 --document > kafka-1.yaml
          docker compose -f kafka-1.yaml up -d
          portmanager compose kafka -i 1 --indent 6
          portmanager compose kafka -i 1 --env-file > kafka-1.env
          docker compose --env-file kafka-1.env up -d
        """
    )

    @Argument(help: "The service, as named in the registry (for example kafka).",
              completion: RegistryCompletion.services)
    var service: String

    @OptionGroup var instanceOption: RequiredInstanceOption

    @Option(name: .long, help: ArgumentHelp("Indent each mapping line by this many spaces (0-64).", valueName: "n"))
    var indent = 0

    @Flag(name: .long, help: "Print NAME=VALUE variables for `docker compose --env-file` instead of port mappings.")
    var envFile = false

    @Flag(name: .long, help: "Print a whole compose document (services: and volumes:) for the instance.")
    var document = false

    @Option(name: .long, help: ArgumentHelp(
        "The image of the service in --document (default: the registry's image: key).", valueName: "image"))
    var image: String?

    @Option(name: .long, help: ArgumentHelp(
        "Where the volume is mounted inside the container in --document (default: /data).", valueName: "path"))
    var volumeTarget: String?

    @OptionGroup var prefixOption: PrefixOption
    @OptionGroup var output: JSONOption
    @OptionGroup var options: RegistryOptions

    mutating func validate() throws {
        if service.isEmpty { throw ValidationError("the service name is empty.") }
        if envFile && output.json { throw ValidationError("--env-file and --json cannot be used together.") }
        if !(0...64).contains(indent) { throw ValidationError("--indent \(indent) is outside 0-64.") }
        if prefixOption.prefix != nil && !envFile { throw ValidationError("--prefix applies only with --env-file.") }
        if document && (envFile || output.json) { throw ValidationError("--document cannot be used with --env-file or --json.") }
        if !document && (image != nil || volumeTarget != nil) {
            throw ValidationError("--image and --volume-target apply only with --document.")
        }
        if let image, !Naming.isValidImageReference(image) {
            throw ValidationError("--image '\(image)' is not a container image reference ([a-zA-Z0-9][a-zA-Z0-9_.:/@+-]*, such as apache/kafka:3.7.0).")
        }
        if let volumeTarget, !ComposeDocument.isPlainPath(volumeTarget) {
            throw ValidationError("--volume-target '\(volumeTarget)' is not an absolute path of letters, digits and '_.-/'.")
        }
    }

    func run() throws {
        let registry = try options.open()
        let instance = instanceOption.instance
        if envFile {
            let variables = try InstanceVariables(registry: registry, service: service, instance: instance,
                                                  prefix: prefixOption.prefix)
            for (key, value) in variables.assignments where !InstanceVariables.isPlain(value) {
                throw PortManagerError.invalidArgument("\(key)=\(value) cannot be written to an env file unquoted")
            }
            Output.lines(variables.assignments.map { "\($0.key)=\($0.value)" })
            return
        }
        let allocations = try registry.ports(service, instance: instance)
        if document {
            Output.lines(try ComposeDocument.lines(registry: registry, service: service, instance: instance,
                                                   allocations: allocations, image: image,
                                                   volumeTarget: volumeTarget ?? ComposeDocument.defaultVolumeTarget))
            return
        }
        if output.json {
            Output.line(JSON.object([
                ("service", .string(try registry.service(named: service).name)),
                ("instance", .int(instance)),
                ("environment", registry.environmentJSON),
                ("container_name", .string(try registry.containerName(service, instance: instance))),
                ("volume_name", .string(try registry.volumeName(service, instance: instance))),
                ("ports", .array(allocations.flatMap { $0.composeMappings.map(JSON.string) })),
            ]).rendered())
        } else {
            Output.lines(Compose.portLines(allocations, indent: indent))
        }
    }

    /// The `ports:` entries of one instance, one `- "[HOST_IP:]HOST:CONTAINER[/udp]"`
    /// line per port and protocol (``Allocation/composeMappings``), indented by
    /// `indent` spaces: the fragment form, and the ports of `--document`.
    static func portLines(_ allocations: [Allocation], indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        return allocations.flatMap { $0.composeMappings.map { "\(pad)- \"\($0)\"" } }
    }
}

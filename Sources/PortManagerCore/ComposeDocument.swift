/// The compose document of one instance (`portmanager compose --document`):
/// its own compose project, a service named after its container, with image,
/// container name, labels, `HOST:CONTAINER` ports, its volume, and the
/// command and environment a caller gives.
///
///     services:
///       "kafka-development-1":
///         image: "apache/kafka"
///         container_name: "kafka-development-1"
///         labels:
///           "io.portmanager.service": "kafka"
///           "io.portmanager.instance": "1"
///           "io.portmanager.environment": ""
///         ports:
///           - "9192:9192"
///           - "19193:19193"
///         volumes:
///           - "kafka-data-1:/data"
///     volumes:
///       "kafka-data-1":
///         name: "kafka-data-1"
///
/// Every string, keys included, is written as a JSON string literal, which
/// YAML reads as a double-quoted scalar: a bare `null`, `true`, `yes`, `on`,
/// `0x10` or `2001-12-14` (each a valid container or volume name) would be
/// read as another type, and compose refuses a key that is not a string. The
/// volume's `name:` keeps compose from prefixing it with the project name, so
/// it is the registry's volume name. A `$` in a command or an environment
/// value is written `$$`, so compose does not interpolate it.
public struct ComposeDocument: Sendable {
    /// Which compose implementations the document is written for.
    public enum Format: String, Sendable, CaseIterable {
        /// Read by docker-compose 1.27+ (Debian's 1.29) and Compose v2: no
        /// top-level `name:`, which 1.29's schema refuses; the project is named
        /// on the command line (`docker-compose -p PROJECT`). The default.
        case portable
        /// Compose v2: adds the top-level `name:` (the project name).
        case v2
    }

    /// Where the volume is mounted inside the container unless the caller says otherwise.
    public static let defaultVolumePath = "/data"

    /// The image, overriding the registry's `image:`.
    public var image: String?
    /// The container's command, as compose's string form (split as a shell would).
    public var command: String?
    /// Environment variables of the container, in order.
    public var environment: [ServiceInstance.Variable] = []
    /// Where the volume is mounted inside the container (``ServiceInstance/isVolumePath(_:)``).
    public var volumePath: String = ComposeDocument.defaultVolumePath
    /// The format.
    public var format: Format = .portable

    public init() {}

    /// The document's lines for `instance`.
    ///
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` when neither
    ///   ``image`` nor the registry's `image:` key names an image, or for a
    ///   volume path, image or environment variable name this document cannot
    ///   carry (each named).
    public func lines(for instance: ServiceInstance) throws -> [String] {
        guard let image = image ?? instance.definition.image else {
            throw PortManagerError.invalidArgument(
                "service \(RegistryBuilder.quote(instance.service)) has no image: add 'image: NAME' to it in the registry (\(instance.definition.location.file)) or give one")
        }
        guard Naming.isValidImageReference(image) else {
            throw PortManagerError.invalidArgument("image \(RegistryBuilder.quote(image)) is not a container image reference")
        }
        guard ServiceInstance.isVolumePath(volumePath) else {
            throw PortManagerError.invalidArgument(
                "volume path \(RegistryBuilder.quote(volumePath)) is not an absolute path of letters, digits and '_.-/'")
        }
        for variable in environment where !EnvironmentKey.isIdentifier(variable.key) {
            throw PortManagerError.invalidArgument(
                "environment variable name \(RegistryBuilder.quote(variable.key)) is not a shell variable name")
        }
        let q = JSONText.string
        var out: [String] = []
        if format == .v2 { out.append("name: \(q(instance.projectName))") }
        out += [
            "services:",
            "  \(q(instance.containerName)):",
            "    image: \(q(image))",
            "    container_name: \(q(instance.containerName))",
        ]
        if let command { out.append("    command: \(q(Self.literal(command)))") }
        if !environment.isEmpty {
            out.append("    environment:")
            out += environment.map { "      \(q($0.key)): \(q(Self.literal($0.value)))" }
        }
        out.append("    labels:")
        out += instance.labels.map { "      \(q($0.key)): \(q($0.value))" }
        let ports = instance.composePortLines(indent: 6)
        if !ports.isEmpty {
            out.append("    ports:")
            out += ports
        }
        out += [
            "    volumes:",
            "      - \(q(instance.volumeName + ":" + volumePath))",
            "volumes:",
            "  \(q(instance.volumeName)):",
            "    name: \(q(instance.volumeName))",
        ]
        return out
    }

    /// `text` with each `$` doubled: compose reads `$$` as a literal `$`.
    static func literal(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "$")) else { return text }
        var out = ""
        for character in text { out += character == "$" ? "$$" : String(character) }
        return out
    }
}

extension ServiceInstance {
    /// The instance's own compose project: `STEM[-ENV][-N]` (``Naming``) from
    /// the service name in lower case with every character but a letter, a
    /// digit, `_` and `-` as `-` (compose's rule for project names): `kafka`,
    /// `kafka-1`, `kafka-ci-1`.
    public var projectName: String {
        Naming.instanceName(ServiceInstance.projectStem(service), environment: environment.map { ServiceInstance.projectStem($0.name) },
                            instance: instance)
    }

    /// The project stem of a service (or environment) name.
    public static func projectStem(_ service: String) -> String {
        String(decoding: service.utf8.map { b -> UInt8 in
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return b + 32
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"): return b
            default: return UInt8(ascii: "-")
            }
        }, as: UTF8.self)
    }

    /// The compose `ports:` entries, one `- "[HOST_IP:]HOST:CONTAINER[/udp]"`
    /// line per port and protocol (``Allocation/composeMappings``), indented by
    /// `indent` spaces: the fragment `portmanager compose` prints, and the
    /// ports of the document.
    public func composePortLines(indent: Int) -> [String] {
        let pad = String(repeating: " ", count: max(0, indent))
        return ports.flatMap { $0.composeMappings.map { "\(pad)- \"\($0)\"" } }
    }
}

import PortManager

/// `portmanager compose SERVICE --instance N --document`: a whole compose file
/// for one instance, built around the `ports:` lines of the fragment form.
///
///     services:
///       "kafka-development-1":
///         image: "apache/kafka"
///         container_name: "kafka-development-1"
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
/// read as another type, and compose refuses a key that is not a string. The volume's `name:` keeps compose from prefixing
/// it with the project name, so it is the registry's volume name.
enum ComposeDocument {
    /// Where the volume is mounted inside the container unless --volume-target says otherwise.
    static let defaultVolumeTarget = "/data"

    /// The document's lines.
    ///
    /// - Throws: the registry's lookup errors, or ``PortManagerError/invalidArgument(_:)``
    ///   when neither `image` nor the registry's `image:` key names an image.
    static func lines(registry: Registry, service: String, instance: Int, allocations: [Allocation],
                      image: String?, volumeTarget: String) throws -> [String] {
        let definition = try registry.service(named: service)
        guard let image = image ?? definition.image else {
            throw PortManagerError.invalidArgument(
                "service '\(definition.name)' has no image: add 'image: NAME' to it in the registry (\(registry.source)) or pass --image NAME")
        }
        let container = try registry.containerName(service, instance: instance)
        let volume = try registry.volumeName(service, instance: instance)
        var out = [
            "services:",
            "  \(JSONText.string(container)):",
            "    image: \(JSONText.string(image))",
            "    container_name: \(JSONText.string(container))",
        ]
        if !allocations.isEmpty {
            out.append("    ports:")
            out += Compose.portLines(allocations, indent: 6)
        }
        out += [
            "    volumes:",
            "      - \(JSONText.string(volume + ":" + volumeTarget))",
            "volumes:",
            "  \(JSONText.string(volume)):",
            "    name: \(JSONText.string(volume))",
        ]
        return out
    }
}

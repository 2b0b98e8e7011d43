/// What Docker needs to run one instance, written once for every caller:
/// `pm_instance_docker_json` (and through it Python's `docker_run_kwargs`),
/// `portmanager docker-args` and the compose document.
extension ServiceInstance {
    /// One published port for one protocol: Docker binds each protocol
    /// separately, so a `tcp+udp` port gives two.
    public struct Binding: Sendable, Hashable {
        /// The registry's port name.
        public let name: String
        /// `.tcp` or `.udp`.
        public let protocolName: PortProtocols
        /// The host address, or nil for every address.
        public let hostIP: IPAddress?
        /// The first and last host port (equal for a single port).
        public let hostPort: Int, hostPortLast: Int
        /// The first and last port inside the container.
        public let containerPort: Int, containerPortLast: Int

        /// `9192`, `31101-31103`.
        public var hostText: String { hostPort == hostPortLast ? String(hostPort) : "\(hostPort)-\(hostPortLast)" }
        /// `9092`, `31001-31003`.
        public var containerText: String {
            containerPort == containerPortLast ? String(containerPort) : "\(containerPort)-\(containerPortLast)"
        }

        /// `docker run -p`'s value: `[HOST_IP:]HOST:CONTAINER/PROTOCOL`, such as
        /// `9192:9092/tcp`, `127.0.0.1:9192:9092/tcp`, `[::1]:53:53/udp`.
        public var publishText: String {
            (hostIP.map { $0.bracketed + ":" } ?? "") + hostText + ":" + containerText + "/" + protocolName.name
        }
    }

    /// Every port of the instance, one binding per protocol, in source order (TCP first).
    public var bindings: [Binding] {
        ports.flatMap { port in
            port.protocols.members.map { member in
                Binding(name: port.portName, protocolName: member, hostIP: port.hostIP,
                        hostPort: port.hostPort, hostPortLast: port.hostPortLast,
                        containerPort: port.containerPort, containerPortLast: port.containerPortLast)
            }
        }
    }

    /// The instance as Docker runs it: `pm_instance_docker_json`'s document
    /// (docs/schema/docker.schema.json, docs/json.md):
    ///
    ///     {"name": "kafka-development-1", "volume": "kafka-data-1", "image": "apache/kafka",
    ///      "labels": {"io.portmanager.service": "kafka", "io.portmanager.instance": "1",
    ///                 "io.portmanager.environment": ""},
    ///      "ports": [{"name": "broker_port", "protocol": "tcp", "host_ip": null,
    ///                 "host_port": 9192, "host_port_last": 9192,
    ///                 "container_port": 9192, "container_port_last": 9192}, ...]}
    public var dockerJSON: JSONValue {
        .object([
            ("name", .string(containerName)),
            ("volume", .string(volumeName)),
            ("image", .optional(definition.image)),
            ("labels", .object(labels.map { ($0.key, JSONValue.string($0.value)) })),
            ("ports", .array(bindings.map { binding in
                .object([
                    ("name", .string(binding.name)),
                    ("protocol", .string(binding.protocolName.name)),
                    ("host_ip", .optional(binding.hostIP?.text)),
                    ("host_port", .int(binding.hostPort)),
                    ("host_port_last", .int(binding.hostPortLast)),
                    ("container_port", .int(binding.containerPort)),
                    ("container_port_last", .int(binding.containerPortLast)),
                ])
            })),
        ])
    }

    /// The arguments of `docker run` for the instance, before the image:
    /// `--name NAME`, `-p BINDING` for each binding, `-v VOLUME:PATH` when a
    /// `volumePath` (an absolute path, ``isVolumePath(_:)``) is given, and
    /// `--label KEY=VALUE` for each label.
    public func dockerRunArguments(volumePath: String?) -> [String] {
        var arguments = ["--name", containerName]
        for binding in bindings { arguments += ["-p", binding.publishText] }
        if let volumePath { arguments += ["-v", volumeName + ":" + volumePath] }
        for label in labels { arguments += ["--label", label.assignment] }
        return arguments
    }

    /// True for a path a volume can be mounted at in every form this library
    /// writes (`docker run -v NAME:PATH`, a compose file): absolute, of
    /// `[A-Za-z0-9_.-/]`, without `..` components, at most 4096 bytes.
    public static func isVolumePath(_ path: String) -> Bool {
        guard path.hasPrefix("/"), path.utf8.count <= 4096 else { return false }
        let charactersOK = path.utf8.allSatisfy { b in
            Naming.isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
                || b == UInt8(ascii: "/")
        }
        return charactersOK && !path.split(separator: "/").contains("..")
    }
}

/// POSIX shell words, as the CLI prints commands and assignments.
public enum ShellWord {
    /// True when `text` needs no quoting in a POSIX shell or an env file:
    /// `[A-Za-z0-9_.,:/@+=-]+`.
    public static func isPlain(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { b in
            Naming.isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
                || b == UInt8(ascii: ":") || b == UInt8(ascii: "/") || b == UInt8(ascii: "@")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: ",") || b == UInt8(ascii: "=")
        }
    }

    /// `text` as one shell word: as is when plain, else single-quoted.
    public static func quoted(_ text: String) -> String {
        if isPlain(text) { return text }
        var out = "'"
        for character in text {
            if character == "'" { out += "'\\''" } else { out.append(character) }
        }
        return out + "'"
    }
}

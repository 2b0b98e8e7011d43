/// The project's one environment-variable vocabulary (docs/environment.md):
/// what `portmanager env`, `compose --env-file`, `run`, `pm_instance_env`
/// (and through it `bindings/c/pm-env` and Python's `env()`) give one instance.
///
/// Keys are `PREFIX_PORTNAME` in upper case, with every character other than
/// an ASCII letter or digit turned into `_` (`kafka` + `broker_port` →
/// `KAFKA_BROKER_PORT`), then `PREFIX_CONTAINER_NAME` and `PREFIX_VOLUME_NAME`.
/// A range adds `KEY_FIRST` and `KEY_LAST`; a port whose container side is
/// another number than its host port adds `KEY_CONTAINER`. Values are port
/// numbers, `FIRST-LAST` ranges and Docker names, so none needs quoting in a
/// shell or an env file.
extension ServiceInstance {
    /// One variable.
    public struct Variable: Sendable, Hashable {
        public let key: String
        public let value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The variables, in order: ports in source order, then the names.
    ///
    /// - Parameter prefix: replaces the service part of every key; a shell
    ///   variable name (``EnvironmentKey/isIdentifier(_:)``), or nil for the
    ///   service name made a key.
    /// - Throws: ``PortManagerError/invalidArgument(_:)`` for a prefix that is
    ///   not a shell variable name, or when two ports give one key (port names
    ///   that differ only in case or punctuation).
    public func environmentVariables(prefix: String? = nil) throws -> [Variable] {
        if let prefix, !EnvironmentKey.isIdentifier(prefix) {
            throw PortManagerError.invalidArgument(
                "prefix \(RegistryBuilder.quote(prefix)) is not a shell variable name; use letters, digits and '_', not starting with a digit")
        }
        let stem = prefix ?? EnvironmentKey.key(service)
        var result: [Variable] = []
        for port in ports {
            let key = stem + "_" + EnvironmentKey.key(port.portName)
            result.append(Variable(key, port.hostText))
            if port.hostPortLast != port.hostPort {
                result.append(Variable(key + "_FIRST", String(port.hostPort)))
                result.append(Variable(key + "_LAST", String(port.hostPortLast)))
            }
            if port.containerPort != port.hostPort {
                result.append(Variable(key + "_CONTAINER", port.containerText))
            }
        }
        result.append(Variable(stem + "_CONTAINER_NAME", containerName))
        result.append(Variable(stem + "_VOLUME_NAME", volumeName))
        var seen: Set<String> = []
        for variable in result where !seen.insert(variable.key).inserted {
            throw PortManagerError.invalidArgument(
                "service \(RegistryBuilder.quote(service)) gives the variable \(variable.key) twice; its port names differ only in case or punctuation")
        }
        return result
    }

    /// `KEY=VALUE` lines, each ending in a newline: `pm_instance_env`'s text,
    /// valid as POSIX shell assignments and as a `docker compose --env-file`.
    public func environmentText(prefix: String? = nil) throws -> String {
        try environmentVariables(prefix: prefix).map { $0.key + "=" + $0.value + "\n" }.joined()
    }
}

/// Variable names of the environment vocabulary.
public enum EnvironmentKey {
    /// `text` in upper case with every character other than an ASCII letter or
    /// digit replaced by `_`, and a leading `_` if it would start with a digit.
    public static func key(_ text: String) -> String {
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
    public static func isIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else { return false }
        return bytes.allSatisfy { Naming.isAlnum($0) || $0 == UInt8(ascii: "_") }
    }
}

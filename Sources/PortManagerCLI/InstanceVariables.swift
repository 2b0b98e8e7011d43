import PortManager

/// The variables that `env`, `compose --env-file` and `run` give one instance:
/// the project's one environment-variable vocabulary (README, "Environment
/// variables"; `bindings/c/pm-env` prints the same, and scripts/test-c.sh diffs them).
///
/// Keys are `PREFIX_PORTNAME` in upper case, with every character other than
/// a letter or digit turned into `_` (`kafka` + `broker_port` → `KAFKA_BROKER_PORT`),
/// then `PREFIX_CONTAINER_NAME` and `PREFIX_VOLUME_NAME`. A range adds `KEY_FIRST`
/// and `KEY_LAST`; a port whose container side differs adds `KEY_CONTAINER`.
struct InstanceVariables {
    /// The assignments, in order: ports in source order, then the names.
    let assignments: [(key: String, value: String)]

    /// Collects the variables of `instance` of `service`. Not logged: reading is not allocating.
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
                "service '\(service)' gives the variable \(key) twice; its port names differ only in case or punctuation")
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
}

extension Naming {
    /// `[A-Za-z0-9_]`.
    static func isAlnumOrUnderscore(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
    }
}


import Glibc
import Testing
@testable import PortManager

// Every diagnostic of the registry validation, byte for byte, for each place a
// scalar can stand (a port, a setting, an offset, a protocol, ...) crossed with
// scalars of every YAML kind and every edge of the integer syntax. The expected
// text is Tests/fixtures/registry_messages.txt, one line per case:
//     PLACE <TAB> VALUE <TAB> RESULT
// where RESULT is `ok: ...` (what was loaded) or the diagnostics as
// `LINE:COLUMN: message`, joined by ` | `. Written from the validation as it
// was before scalar kinds replaced the message-text comparisons, so any
// reworded message or changed decision fails here, naming the case.

/// The repository root, from this file's path (Tests/PortManagerTests/...).
private let root: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// A place a scalar can stand in a registry: its name and the YAML around `V`.
private let places: [(String, String)] = [
    ("port", "svc:\n  port: V\n"),
    ("max_instances", "svc:\n  port: 1000\n  max_instances: V\n"),
    ("instance_increment", "svc:\n  port: 1000\n  instance_increment: V\n"),
    ("offset", "_environments:\n  ci: V\nsvc:\n  port: 1000\n"),
    ("host", "svc:\n  port:\n    host: V\n"),
    ("container", "svc:\n  port:\n    host: 80\n    container: V\n"),
    ("protocol", "svc:\n  port:\n    host: 80\n    protocol: V\n"),
    ("port.host_ip", "svc:\n  port:\n    host: 80\n    host_ip: V\n"),
    ("host_ip", "svc:\n  port: 80\n  host_ip: V\n"),
    ("container_name", "svc:\n  port: 80\n  container_name: V\n"),
    ("volume_name", "svc:\n  port: 80\n  volume_name: V\n"),
    ("image", "svc:\n  port: 80\n  image: V\n"),
    ("service", "svc: V\n"),
    ("environments", "_environments: V\nsvc:\n  port: 1000\n"),
    ("registry", "V\n"),
    ("service_key", "svc:\n  port: 80\n  V: 1\n"),
    ("service_name", "V:\n  port: 80\n"),
]

/// Scalars of every kind, and the edges of the integer syntax.
private let values: [String] = [
    // integers, and what is not one
    "8080", "0", "1", "65535", "65536", "70000", "00", "007", "08080", "+7", "-7", "+0", "-0", "-07", "+07", "-5",
    "+-5", "--5", "+", "-", "1+2", "12abc", "0x1F", "0X1F", "0o17", "0b101", "1_000", "1,000",
    "9223372036854775807", "9223372036854775808", "-9223372036854775807", "-9223372036854775808",
    "99999999999999999999999", "0999999999999999999999999", "+99999999999999999999999",
    "\u{0663}", "\u{FF11}\u{FF12}",
    // ranges
    "100-102", "\"100-102\"", "'100-102'", "\"0080-0090\"", "\" 100 - 102 \"", "100-99999999999999999999999",
    "\"5-3\"", "65000-65600", "1-2-3", "\"-5\"", "\"100-\"", "\"100 -102\"", "\"100\t-102\"",
    // strings that look like numbers, floats, booleans, nulls
    "\"80\"", "'80'", "80.0", "1e3", "1E3", "1e", "e5", "1.", ".", ".5", "1_000.5", "+1.5e-3", "1e+", "1.2.3",
    ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "inf", "nan",
    "true", "True", "TRUE", "tRue", "false", "yes", "Yes", "No", "on", "OFF", "Off", "y", "Y", "n", "N",
    "", "~", "null", "Null", "NULL", "nul", "''", "\"\"",
    // strings and collections
    "tcp", "udp", "tcp+udp", "UDP", "both", "tpc", "127.0.0.1", "::1", "\"::1\"", "[::1]", "\"fe80::1%eth0\"",
    "10.0.0.0/8", "host", "Host", "hots", "kafka", "my-app_1.x", "-bad", "apache/kafka:3.7.0", "\"a b\"", "\"ctl\\x01x\"", String(repeating: "k", count: 70), "[1]", "[]", "{a: 1}", "{}",
]

/// What loading `yaml` gives: `ok: ...` or its diagnostics.
private func result(_ yaml: String) -> String {
    do {
        let registry = try Registry(yaml: yaml, source: "reg.yaml")
        let services = registry.services.map { s in
            let ports = s.ports.map { p in
                "\(p.name)=\(p.base)+\(p.count)" + container(p.container) + "/\(p.protocols)"
                    + (p.hostIP.map { "@\($0)" } ?? "")
            }
            return "\(s.name)[\(ports.joined(separator: ","))] inc \(s.increment) max \(s.maxInstances)"
                + " \(s.containerStem)/\(s.volumeStem)" + (s.image.map { " image \($0)" } ?? "")
        }
        let environments = registry.environments.map { "\($0.name)=\($0.offset)" }
        return "ok: " + services.joined(separator: "; ") + (environments.isEmpty ? "" : " env " + environments.joined(separator: ","))
    } catch PortManagerError.invalidRegistry(let diagnostics) {
        return diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }.joined(separator: " | ")
    } catch PortManagerError.parse(let d) {
        return "parse \(d.location.line):\(d.location.column): \(d.message)"
    } catch {
        return "other: \(error)"
    }
}

/// `>8080` for a fixed container port, `>host` for one that follows the host port, nothing for the base (the default).
private func container(_ side: ContainerPort) -> String {
    switch side {
    case .base: return ""
    case .fixed(let port): return ">\(port)"
    case .host: return ">host"
    }
}

/// A line of the fixture: tabs, newlines and backslashes escaped.
private func escaped(_ text: String) -> String {
    text.replacingAll("\\", "\\\\").replacingAll("\t", "\\t").replacingAll("\n", "\\n")
}

private extension String {
    func replacingAll(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}

/// Every case's fixture line, in order.
private func actualLines() -> [String] {
    var lines: [String] = []
    for (name, template) in places {
        for value in values {
            var yaml = ""
            for c in template { if c == "V" { yaml += value } else { yaml.append(c) } }
            lines.append("\(name)\t\(escaped(value))\t\(escaped(result(yaml)))")
        }
    }
    return lines
}

@Suite("Registry messages, byte for byte")
struct RegistryMessageTests {
    @Test("every place crossed with every kind of scalar gives the fixture's text")
    func messagesAreUnchanged() throws {
        let path = root + "/Tests/fixtures/registry_messages.txt"
        let actual = actualLines()
        writeIfAsked(actual)
        let expected = try String(decoding: readAll(path), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        #expect(actual.count == places.count * values.count)
        #expect(expected.count == actual.count, "the fixture has \(expected.count) cases, the test \(actual.count)")
        for (a, e) in zip(actual, expected) where a != e {
            Issue.record("changed:\n  want \(e)\n  got  \(a)")
        }
    }
}

/// The bytes of the file at `path`.
private func readAll(_ path: String) throws -> [UInt8] {
    try FileReader.read(path)
}

/// With REGISTRY_MESSAGES_OUT=FILE set, writes the actual lines to FILE: to
/// rewrite the fixture after a deliberate change of message, then review its diff.
private func writeIfAsked(_ lines: [String]) {
    guard let out = getenv("REGISTRY_MESSAGES_OUT"), let file = fopen(out, "w") else { return }
    for line in lines { fputs(line + "\n", file) }
    fclose(file)
}

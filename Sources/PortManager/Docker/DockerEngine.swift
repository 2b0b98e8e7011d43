#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// The Docker engine of this host, asked over its unix socket with the Engine
/// API (`GET /containers/json`, `GET /containers/{name}/json`), read only.
///
/// Each call is one HTTP request through libcurl, which is loaded with
/// `dlopen("libcurl.so.4")` at the first call (libportmanager.so does not
/// link it): without libcurl every call throws ``DockerError/unavailable(_:)``.
/// A call waits at most ``timeoutMilliseconds`` in all, honours no proxy
/// variable, raises no signal and may be made from any thread. The answer is
/// read with ``JSONReader`` (libyaml). docs/docker.md is the reference.
public struct DockerEngine: Sendable {
    /// The environment variable that names the engine: `unix://PATH` gives
    /// the socket; unset or empty means ``defaultSocketPath``.
    public static let hostVariable = "DOCKER_HOST"
    /// The engine's socket when ``hostVariable`` is unset or empty.
    public static let defaultSocketPath = "/var/run/docker.sock"
    /// The scheme ``hostVariable`` must have.
    public static let unixScheme = "unix://"
    /// How long one call waits in all, unless told otherwise.
    public static let defaultTimeoutMilliseconds = 2000
    /// The longest answer accepted (16 MiB); a longer one is ``DockerError/malformed(_:)``.
    public static let maximumBodySize = 16 << 20

    /// The engine's socket, as bytes (a path need not be UTF-8).
    public let socketPath: [UInt8]
    /// How long one call waits in all (connecting included), at least 1.
    public let timeoutMilliseconds: Int
    /// Why every call fails without asking anything (a `$DOCKER_HOST` of another scheme).
    let refusal: DockerError?
    /// The file name given to dlopen; nil: the C side's default (`libcurl.so.4`).
    /// Tests point it at a library that does not exist.
    var curlLibrary: String?
    /// The longest body accepted; tests make it small.
    var maximumBody = DockerEngine.maximumBodySize

    /// The engine at `socketPath`.
    public init(socketPath: [UInt8], timeoutMilliseconds: Int = DockerEngine.defaultTimeoutMilliseconds) {
        self.socketPath = socketPath
        self.timeoutMilliseconds = max(1, timeoutMilliseconds)
        self.refusal = nil
    }

    /// The engine at `socketPath`.
    public init(socketPath: String, timeoutMilliseconds: Int = DockerEngine.defaultTimeoutMilliseconds) {
        self.init(socketPath: Array(socketPath.utf8), timeoutMilliseconds: timeoutMilliseconds)
    }

    private init(refusal: DockerError) {
        self.socketPath = []
        self.timeoutMilliseconds = DockerEngine.defaultTimeoutMilliseconds
        self.refusal = refusal
    }

    /// The engine `$DOCKER_HOST` names when it is `unix://PATH`, else the one
    /// at ``defaultSocketPath``. A `$DOCKER_HOST` of another scheme (`tcp://`,
    /// `ssh://`, ...) gives an engine whose every call throws
    /// ``DockerError/unavailable(_:)`` naming it.
    public static func fromEnvironment() -> DockerEngine {
        fromEnvironment(dockerHost: getenv(hostVariable).map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) })
    }

    /// ``fromEnvironment()`` with `$DOCKER_HOST` given (nil: unset).
    static func fromEnvironment(dockerHost: [UInt8]?) -> DockerEngine {
        guard let host = dockerHost, !host.isEmpty else { return DockerEngine(socketPath: defaultSocketPath) }
        let scheme = Array(unixScheme.utf8)
        guard host.starts(with: scheme) else {
            return DockerEngine(refusal: .unavailable(because: "$\(hostVariable) is '\(PathText.shown(host))'; "
                + "portmanager reaches only an engine's unix socket (\(unixScheme)PATH)"))
        }
        // `unix://` alone names the default socket, as the docker CLI reads it.
        let path = Array(host.dropFirst(scheme.count))
        return DockerEngine(socketPath: path.isEmpty ? Array(defaultSocketPath.utf8) : path)
    }

    /// Every container, running or not (`GET /containers/json?all=1`), or
    /// only those with the label `label` (`KEY`, or `KEY=VALUE` for that value).
    public func containers(label: String? = nil) throws(DockerError) -> [DockerContainer] {
        var path = "/containers/json?all=1"
        if let label {
            path += "&filters=" + Self.percentEncoded("{\"label\":[" + JSONText.string(label) + "]}")
        }
        let answer = try get(path)
        guard (200..<300).contains(answer.status) else { throw failure(answer, path) }
        return try Self.containerList(answer.body, path: path)
    }

    /// The containers of a `GET /containers/json` answer's body (`path`, for messages).
    static func containerList(_ body: [UInt8], path: String) throws(DockerError) -> [DockerContainer] {
        let value: ParsedJSON
        do throws(JSONError) {
            value = try JSONReader.parse(body)
        } catch {
            throw .malformed("the Docker engine's answer to GET \(path) is \(error)")
        }
        guard case .array(let entries) = value else {
            throw .malformed("the Docker engine's answer to GET \(path) is not a JSON array")
        }
        var containers: [DockerContainer] = []
        containers.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            do throws(DockerContainer.ShapeError) {
                guard case .object = entry else { throw DockerContainer.ShapeError("entry \(index) is \(entry.kind), not an object") }
                containers.append(try DockerContainer(listEntry: entry))
            } catch {
                throw .malformed("the Docker engine's answer to GET \(path) is not a container list: \(error.message)")
            }
        }
        return containers
    }

    /// The container named `name` (or with that ID), running or not
    /// (`GET /containers/{name}/json`); nil when the engine answers 404.
    public func container(named name: String) throws(DockerError) -> DockerContainer? {
        // No container has an empty name; `/containers//json` would ask another question.
        guard !name.isEmpty else { return nil }
        let path = "/containers/" + Self.percentEncoded(name) + "/json"
        let answer = try get(path)
        if answer.status == 404 { return nil }
        guard (200..<300).contains(answer.status) else { throw failure(answer, path) }
        let value = try json(answer, path)
        do throws(DockerContainer.ShapeError) {
            guard case .object = value else { throw DockerContainer.ShapeError("the answer is \(value.kind), not an object") }
            return try DockerContainer(inspection: value)
        } catch {
            throw .malformed("the Docker engine's answer to GET \(path) is not a container: \(error.message)")
        }
    }

    /// The answer's body as JSON.
    private func json(_ answer: DockerAnswer, _ path: String) throws(DockerError) -> ParsedJSON {
        do throws(JSONError) {
            return try JSONReader.parse(answer.body)
        } catch {
            throw .malformed("the Docker engine's answer to GET \(path) is \(error)")
        }
    }

    /// An error status as ``DockerError/failed(status:message:)``, with the
    /// engine's `message` (or the start of its body when that is not JSON).
    private func failure(_ answer: DockerAnswer, _ path: String) -> DockerError {
        let said: String
        if let message = (try? JSONReader.parse(answer.body))?["message"]?.string {
            said = message
        } else {
            said = String(decoding: answer.body.prefix(256), as: UTF8.self)
        }
        return .failed(status: answer.status,
                       message: "the Docker engine answered \(answer.status) to GET \(path): \(RegistryBuilder.quote(said))")
    }

    /// `text` with every byte but the unreserved ones of RFC 3986
    /// (`A-Z a-z 0-9 - . _ ~`) written as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            let alnum = (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
            if alnum || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~") {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

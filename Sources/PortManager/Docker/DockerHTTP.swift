#if canImport(Glibc)
import Glibc
#endif
import CDockerHTTP
import PortManagerCore

/// An HTTP answer of the engine: its status and body.
struct DockerAnswer {
    var status: Int
    var body: [UInt8]
}

/// The one request of ``DockerEngine``: the socket checked, then libcurl
/// (module CDockerHTTP, loaded at first use) asked, and what became of it
/// turned into an answer or a ``DockerError``.
extension DockerEngine {
    /// The longest unix socket path (`sizeof(sun_path) - 1`).
    static let longestSocketPath = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// `GET path` (path and query, ASCII) from the engine: any status.
    func get(_ path: String) throws(DockerError) -> DockerAnswer {
        if let refusal { throw refusal }
        let shown = PathText.shown(socketPath)
        guard !socketPath.isEmpty, !socketPath.contains(0) else {
            throw .unavailable(because: "the socket path \(RegistryBuilder.quote(shown)) is empty or holds a NUL byte")
        }
        guard socketPath.count <= Self.longestSocketPath else {
            throw .unavailable(because: "the socket path \(shown) is longer than \(Self.longestSocketPath) bytes")
        }
        var info = stat()
        let found = (socketPath + [0]).withUnsafeBufferPointer { stat(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), &info) }
        if found != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw .unavailable(because: "no socket at \(shown) (is the engine running?)")
            }
        } else if info.st_mode & S_IFMT != S_IFSOCK {
            throw .unavailable(because: "\(shown) is not a socket")
        }

        var response = docker_http_response()
        defer { docker_http_response_free(&response) }
        let url = "http://localhost" + path
        let outcome = (socketPath + [0]).withUnsafeBufferPointer { socket in
            let socket = UnsafeRawPointer(socket.baseAddress!).assumingMemoryBound(to: CChar.self)
            return withOptionalCString(curlLibrary) { library in
                docker_http_get(library, socket, url, timeoutMilliseconds, maximumBody, &response)
            }
        }
        return try Self.interpret(outcome, response, path: path, shown: shown, timeout: timeoutMilliseconds, maximumBody: maximumBody)
    }

    /// What became of a request, as an answer or a ``DockerError``.
    static func interpret(_ outcome: docker_http_outcome, _ response: docker_http_response, path: String, shown: String,
                          timeout timeoutMilliseconds: Int, maximumBody: Int) throws(DockerError) -> DockerAnswer {
        // libcurl's words, read only for a failure.
        var words: String {
            withUnsafeBytes(of: response.message) { raw in PathText.shown(raw.prefix(while: { $0 != 0 })) }
        }
        switch outcome {
        case DOCKER_HTTP_ANSWERED:
            return DockerAnswer(status: response.status,
                                body: response.length == 0 ? [] : Array(UnsafeBufferPointer(start: response.body, count: response.length)))
        case DOCKER_HTTP_UNLOADABLE:
            throw .unavailable(because: "libcurl, which portmanager loads to reach the engine, cannot be used: \(words)")
        case DOCKER_HTTP_UNREACHABLE:
            let why = response.os_errno != 0 ? String(cString: strerror(response.os_errno)) : words
            throw .unavailable(because: "cannot connect to \(shown): \(why)")
        case DOCKER_HTTP_TIMEOUT:
            throw .timeout("the Docker engine at \(shown) did not answer GET \(path) within \(timeoutMilliseconds) ms")
        case DOCKER_HTTP_TOO_LARGE:
            throw .malformed("the Docker engine's answer to GET \(path) is larger than \(maximumBody) bytes")
        case DOCKER_HTTP_NOT_HTTP:
            throw .malformed("the Docker engine at \(shown) did not answer GET \(path) in HTTP: \(words)")
        default:
            throw .unavailable(because: "GET \(path) from \(shown) failed: \(words)")
        }
    }
}

extension DockerEngine {
    /// Runs ``interpret(_:_:path:shown:timeout:maximumBody:)`` once for each
    /// outcome (``ForkPreparation``): its lazy initialisations (the generic
    /// reading of libcurl's words among them) are done before any fork.
    static func prepareForFork() {
        var response = docker_http_response()
        response.message.0 = CChar(UInt8(ascii: "x"))
        for outcome in [DOCKER_HTTP_ANSWERED, DOCKER_HTTP_UNLOADABLE, DOCKER_HTTP_UNREACHABLE, DOCKER_HTTP_TIMEOUT,
                        DOCKER_HTTP_TOO_LARGE, DOCKER_HTTP_NOT_HTTP, DOCKER_HTTP_FAILED] {
            _ = try? interpret(outcome, response, path: "/", shown: "-", timeout: 1, maximumBody: 1)
        }
    }
}

/// Runs `body` with `text` as a C string, or with NULL when `text` is nil.
private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

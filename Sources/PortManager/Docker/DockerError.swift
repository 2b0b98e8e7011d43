/// Why a question to the Docker engine got no usable answer. Each case carries
/// the whole message, with any text from the engine or the environment quoted,
/// escaped and cut (``RegistryBuilder/quote(_:)``, ``PathText/shown(_:)``).
public enum DockerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No engine to ask: no socket at the path, the connection refused or not
    /// permitted, `$DOCKER_HOST` naming something other than a unix socket, or
    /// libcurl not loadable. The message starts with ``unavailablePrefix``.
    /// Nothing can be concluded about containers (never "gone").
    case unavailable(String)
    /// The engine took longer than the timeout to answer in full.
    case timeout(String)
    /// The engine answered with an error status (not 2xx, nor the 404 that
    /// ``DockerEngine/container(named:)`` turns into nil); the message names
    /// the request, the status and the engine's own message.
    case failed(status: Int, message: String)
    /// The answer is not HTTP, not JSON, larger than
    /// ``DockerEngine/maximumBodySize``, or JSON of an unexpected shape.
    case malformed(String)

    /// How every ``unavailable(_:)`` message starts.
    public static let unavailablePrefix = "Docker not available: "

    /// The message.
    public var description: String {
        switch self {
        case .unavailable(let message), .timeout(let message), .malformed(let message),
             .failed(status: _, message: let message):
            message
        }
    }

    /// `unavailable` with ``unavailablePrefix`` put before `reason`.
    static func unavailable(because reason: String) -> DockerError {
        .unavailable(unavailablePrefix + reason)
    }
}

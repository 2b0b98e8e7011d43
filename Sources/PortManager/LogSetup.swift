#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// Connects the core's ``Log`` to the process: the threshold from
/// `PORTMANAGER_LOG` and a fallback sink that writes to standard error.
public enum LogSetup {
    /// The environment variable holding the default threshold:
    /// `debug`, `info`, `warning` (the default), `error` or `off`.
    public static let variable = "PORTMANAGER_LOG"

    private static let once: Void = {
        // Refused only when first reached from inside a Swift sink set before any
        // entry point ran (it cannot wait for itself); messages then go to that sink.
        try? Log.setFallbackSink(standardError)
        if let value = getenv(variable) {
            let text = String(cString: value)
            if let threshold = LogThreshold(named: text) {
                Log.level = threshold
            } else if !text.isEmpty {
                standardError(.warning, "ignoring \(variable)=\(Log.escape(text)); use debug, info, warning, error or off")
            }
        }
    }()

    /// Applies the environment once per process; every entry point calls it, and
    /// calls after the first cost nothing. An explicit level set later wins.
    public static func ensure() { once }

    /// Writes `portmanager: LEVEL: message` as one line to standard error.
    public static let standardError: LogSink = { level, message in
        let line = "portmanager: \(level.name): \(message)\n"
        Array(line.utf8).withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}

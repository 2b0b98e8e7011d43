import ArgumentParser
import PortManager

/// Shell completion of the registry's names: the shell calls the tool back
/// (`portmanager ---completion ...`) with the words typed so far, and these
/// closures answer from the registry in force: `--registry PATH` when the words
/// hold it, else the default resolution (`Registry.resolvePath(nil)`).
/// A registry that cannot be read completes nothing; completion never prints errors.
enum RegistryCompletion {
    /// The registry's service names.
    static let services = CompletionKind.custom { words, _, _ in
        registry(from: words)?.serviceNames ?? []
    }

    /// The port names of the service named among the words, or of every service
    /// when none is (in registry order, without repeats).
    static let ports = CompletionKind.custom { words, _, _ in
        guard let registry = registry(from: words) else { return [] }
        if let service = registry.services.first(where: { words.contains($0.name) }) {
            return service.portNames
        }
        var seen: Set<String> = []
        return registry.services.flatMap(\.portNames).filter { seen.insert($0).inserted }
    }

    /// The environments the registry defines under `_environments`.
    static let environments = CompletionKind.custom { words, _, _ in
        registry(from: words)?.environments.map(\.name) ?? []
    }

    /// The registry named by `--registry PATH` or `--registry=PATH` among `words`, else the default one.
    static func registry(from words: [String]) -> Registry? {
        var path: String?
        for (index, word) in words.enumerated() {
            if word == "--registry", index + 1 < words.count {
                path = words[index + 1]
            } else if word.hasPrefix("--registry=") {
                path = String(word.dropFirst("--registry=".count))
            }
        }
        if let explicit = path, explicit.isEmpty { path = nil }
        guard let file = try? Registry.resolvePath(path.map { Array($0.utf8) }) else { return nil }
        return try? Registry(contentsOfPath: file)
    }
}

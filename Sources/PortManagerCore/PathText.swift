/// File paths as messages show them.
///
/// A path is bytes (a C string, an argv entry, an environment variable); it
/// need not be UTF-8 and may hold any byte but NUL. Messages and registry
/// sources show it escaped, so that no path can end a line, forge a log field
/// or turn into another path: valid UTF-8 is escaped as names are (the
/// ``JSONText`` escaper behind ``Log/escape(_:)`` and ``RegistryBuilder/quote(_:)``:
/// control characters, quotes and backslashes), and each byte that is not UTF-8
/// becomes `\xHH`. Messages also cut long paths, keeping both ends.
public enum PathText {
    /// The longest path, in bytes, that messages show whole; longer ones keep
    /// their first and last bytes around `...`.
    public static let messageLimit = 256

    /// `bytes` escaped, whole: for example `reg-\xff\xfe.yaml` for a Latin-1 name.
    /// Printable UTF-8 paths without quotes or backslashes come back unchanged.
    public static func display<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = ""
        var run: [UInt8] = []
        func flush() {
            guard !run.isEmpty else { return }
            out += JSONText.string(String(decoding: run, as: UTF8.self)).trimmingQuotes
            run.removeAll(keepingCapacity: true)
        }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var pending = Array(bytes)[...]
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                run.append(contentsOf: pending.prefix(encoded.count))
                pending = pending.dropFirst(encoded.count)
            case .error(let length):
                flush()
                for byte in pending.prefix(length) {
                    let hex = String(byte, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" : "") + hex
                }
                pending = pending.dropFirst(length)
            case .emptyInput:
                flush()
                return out
            }
        }
    }

    /// `bytes` escaped and, past ``messageLimit`` bytes, cut in the middle: the
    /// form every message uses.
    public static func shown<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        guard bytes.count > messageLimit else { return display(bytes) }
        let keep = (messageLimit - 3) / 2
        return display(bytes.prefix(keep)) + "..." + display(bytes.suffix(keep))
    }

    /// A Swift path string as messages show it (see ``shown(_:)``).
    public static func shown(_ path: String) -> String { shown(Array(path.utf8)) }
}

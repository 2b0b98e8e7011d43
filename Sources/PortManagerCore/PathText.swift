/// File paths as text.
///
/// A path is bytes (a C string, an argv entry, an environment variable); it
/// need not be UTF-8 and may hold any byte but NUL. Loaders open the bytes as
/// they are; text keeps them as follows:
/// - ``text(_:)``: the path itself when it is UTF-8 (a registry's ``Registry/source``,
///   JSON output), else ``display(_:)``;
/// - ``display(_:)``: control characters escaped as ``JSONText`` escapes them
///   (`\n`, `\t`, `\u001b`: no path can end a line or forge a log field), and
///   each byte that is not UTF-8 as `\xHH`, so two names never show as one;
/// - ``shown(_:)``: what messages show, ``display(_:)`` cut to ``messageLimit``
///   bytes, keeping both ends, so no path floods a log.
///
/// ``display(_:)`` leaves quotes and backslashes alone, so it is idempotent:
/// showing a path already displayed changes nothing.
public enum PathText {
    /// The longest path, in bytes, that messages show whole; longer ones keep
    /// their first and last bytes around `...`.
    public static let messageLimit = 256

    /// The path as text: itself when it is valid UTF-8, else ``display(_:)``.
    public static func text(_ bytes: [UInt8]) -> String {
        String(validating: bytes, as: UTF8.self) ?? display(bytes)
    }

    /// `bytes` with control characters and bytes that are not UTF-8 escaped,
    /// whole: `reg-\xff\xfe.yaml` for a Latin-1 name, `a\nb` for a newline.
    public static func display<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = ""
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var pending = Array(bytes)[...]
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                JSONText.appendEscapingControls(Unicode.UTF8.decode(encoded), to: &out)
                pending = pending.dropFirst(encoded.count)
            case .error(let length):
                for byte in pending.prefix(length) {
                    let hex = String(byte, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" : "") + hex
                }
                pending = pending.dropFirst(length)
            case .emptyInput:
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

    /// A path held as text (a ``Registry/source``, a Swift path string) as
    /// messages show it (see ``shown(_:)``).
    public static func shown(_ path: String) -> String { shown(Array(path.utf8)) }
}

/// How messages show text that came from a registry, a caller or another
/// process (a service name, a key, a host, an owner): quoted, escaped and
/// shortened, so that crafted text cannot garble a message or a log line.
/// Every target of the package quotes through these two.
extension RegistryBuilder {
    /// `'name'`, with control characters escaped and long names cut, so a
    /// crafted key cannot garble a message.
    package static func quote(_ text: String) -> String {
        "'" + Log.escape(truncated(text)).trimmingQuotes + "'"
    }

    /// `text` cut at 64 characters (61 and `...`), as messages show caller-supplied names.
    package static func truncated(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(61)) + "..." : text
    }
}

extension String {
    /// The text between a leading and a trailing `"`, when it has both.
    var trimmingQuotes: String {
        hasPrefix("\"") && hasSuffix("\"") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}

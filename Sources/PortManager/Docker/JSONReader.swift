import CYaml

/// A JSON value, as ``JSONReader`` reads it (numbers kept as written, objects as
/// dictionaries); PortManagerCore's ``JSONValue`` is the one the library writes.
package enum ParsedJSON: Sendable, Equatable {
    case object([String: ParsedJSON])
    case array([ParsedJSON])
    case string(String)
    /// The number as written (checked against JSON's grammar); ``integer`` reads it.
    case number(String)
    case bool(Bool)
    case null

    /// The member `key` of an object; nil for a missing key or another kind of value.
    package subscript(key: String) -> ParsedJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The text of a string.
    package var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A number that is a whole `Int` (no fraction, no exponent, in range).
    package var integer: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    /// A short name of the kind, for messages: `an object`, `a string`, ...
    package var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Why a text is not JSON, and where (line and column, from 1, in characters).
package struct JSONError: Error, Equatable, CustomStringConvertible {
    package var message: String
    package var line: Int
    package var column: Int
    package var description: String { "\(message) (line \(line), column \(column))" }
}

/// Reads JSON with libyaml: JSON is (nearly) a YAML flow document, and libyaml's
/// events become a ``ParsedJSON`` tree here. This file and
/// `Registry/YAMLReader.swift` hold the library's libyaml calls; the two read
/// different languages with different rules, so they share none.
///
/// Stricter than YAML, so that what is accepted is JSON: every object and array
/// must be a flow collection written with its brackets (no block style, no
/// `["a": 1]` pair), keys and strings double-quoted, plain scalars only
/// `true`, `false`, `null` or a number by JSON's grammar, no tags, anchors,
/// aliases, directives or document markers, one value, nesting at most
/// ``maximumDepth`` deep, duplicate keys refused.
///
/// Limits (libyaml's, documented in docs/docker.md):
/// - an object key longer than 1024 characters is refused (libyaml's limit on
///   a simple key), as is a key and its `:` on two lines;
/// - a `\uD800`-`\uDFFF` escape (a UTF-16 surrogate, so any pair) is refused;
///   raw UTF-8 is read (Go's encoder, Docker's, writes raw UTF-8);
/// - code points libyaml refuses raw or reads as line breaks (DEL, C1 controls
///   with NEL, U+2028, U+2029, U+FFFE, U+FFFF) are turned into `\uXXXX`
///   escapes before libyaml reads the text, so they keep their value;
/// - a few YAML forms beyond JSON pass: `#` comments, a trailing comma, YAML's
///   extra escapes (`\x41`, `\e`, ...) and a tab inside a string.
package enum JSONReader {
    /// Deepest nesting accepted (Docker's answers need about 6).
    package static let maximumDepth = 64

    /// Parses `bytes` as one JSON value.
    package static func parse(_ bytes: [UInt8]) throws(JSONError) -> ParsedJSON {
        let text = escapingUnreadable(bytes) ?? bytes
        return try text.withUnsafeBufferPointer { buffer throws(JSONError) in try parseEvents(buffer) }
    }

    /// An open object or array. Mutated in place through `stack[top]`.
    private struct Frame {
        var isObject: Bool
        var members: [String: ParsedJSON] = [:]
        var items: [ParsedJSON] = []
        var pendingKey: String?
        /// The object's start (a flow pair `["a": 1]` starts where its first key does).
        var start: Int
        var sawKey = false
    }

    private static func parseEvents(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONError) -> ParsedJSON {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw JSONError(message: "cannot initialise libyaml (out of memory)", line: 1, column: 1)
        }
        defer { yaml_parser_delete(&parser) }
        if let base = buffer.baseAddress { yaml_parser_set_input_string(&parser, base, buffer.count) }
        else { yaml_parser_set_input_string(&parser, "", 0) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)

        var stack: [Frame] = []
        var root: ParsedJSON?
        var documents = 0

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let mark = parser.problem_mark
                var message = "not JSON: " + (parser.problem.map { String(cString: $0) } ?? "unknown problem")
                if let context = parser.context { message += " " + String(cString: context) }
                throw JSONError(message: message, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            let index = Int(event.start_mark.index)
            func fail(_ message: String) -> JSONError { JSONError(message: message, line: line, column: column) }

            /// Adds a finished value to the open collection (or makes it the root).
            func add(_ value: ParsedJSON) throws(JSONError) {
                let top = stack.count - 1
                guard top >= 0 else { root = value; return }
                if !stack[top].isObject {
                    stack[top].items.append(value)
                } else if let key = stack[top].pendingKey {
                    guard stack[top].members.updateValue(value, forKey: key) == nil else {
                        throw fail("not JSON: duplicate key \(RegistryBuilder.quote(key)) in an object")
                    }
                    stack[top].pendingKey = nil
                } else {
                    throw fail("not JSON: an object key must be a string, not \(value.kind)")
                }
            }

            switch event.type {
            case YAML_STREAM_START_EVENT:
                break
            case YAML_STREAM_END_EVENT:
                guard let root else { throw fail("not JSON: the text is empty") }
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                guard documents == 1 else { throw fail("not JSON: more than one value") }
                guard event.data.document_start.implicit == 1 else { throw fail("not JSON: a YAML directive or document marker") }
            case YAML_DOCUMENT_END_EVENT:
                guard event.data.document_end.implicit == 1 else { throw fail("not JSON: a YAML document marker") }
            case YAML_ALIAS_EVENT:
                throw fail("not JSON: a YAML alias")
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                guard scalar.tag == nil, scalar.anchor == nil else { throw fail("not JSON: a YAML tag or anchor") }
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
                let top = stack.count - 1
                let isKey = top >= 0 && stack[top].isObject && stack[top].pendingKey == nil
                if isKey && !stack[top].sawKey {
                    stack[top].sawKey = true
                    if index == stack[top].start { throw fail("not JSON: a key and value in an array without braces") }
                }
                switch scalar.style {
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
                    if isKey { stack[top].pendingKey = text } else { try add(.string(text)) }
                case YAML_PLAIN_SCALAR_STYLE:
                    if isKey { throw fail("not JSON: an object key must be a string in double quotes") }
                    try add(plainValue(text, fail: fail))
                default:
                    throw fail("not JSON: a string must be in double quotes")
                }
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isObject = event.type == YAML_MAPPING_START_EVENT
                let (tag, anchor, flow) = isObject
                    ? (event.data.mapping_start.tag, event.data.mapping_start.anchor,
                       event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE)
                    : (event.data.sequence_start.tag, event.data.sequence_start.anchor,
                       event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE)
                guard tag == nil, anchor == nil else { throw fail("not JSON: a YAML tag or anchor") }
                guard flow else { throw fail("not JSON: a YAML block \(isObject ? "mapping" : "sequence")") }
                let top = stack.count - 1
                if top >= 0 && stack[top].isObject && stack[top].pendingKey == nil {
                    throw fail("not JSON: an object key must be a string, not \(isObject ? "an object" : "an array")")
                }
                guard stack.count < maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels") }
                stack.append(Frame(isObject: isObject, start: index))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { throw fail("not JSON: an unbalanced bracket") }
                try add(frame.isObject ? .object(frame.members) : .array(frame.items))
            default:
                break
            }
        }
    }

    /// A plain scalar: `true`, `false`, `null` or a JSON number; anything else is refused.
    private static func plainValue(_ text: String, fail: (String) -> JSONError) throws(JSONError) -> ParsedJSON {
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        case "": throw fail("not JSON: a value is missing (or an object key is longer than libyaml's 1024 characters)")
        default:
            guard isNumber(text.utf8) else {
                throw fail("not JSON: \(RegistryBuilder.quote(text)) is not a value (strings are in double quotes)")
            }
            return .number(text)
        }
    }

    /// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isNumber(_ text: String.UTF8View) -> Bool {
        var i = text.startIndex
        func digits() -> Int {
            var n = 0
            while i < text.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[i]) { n += 1; i = text.index(after: i) }
            return n
        }
        func take(_ c: Character) -> Bool {
            guard i < text.endIndex, text[i] == c.asciiValue else { return false }
            i = text.index(after: i)
            return true
        }
        _ = take("-")
        guard i < text.endIndex else { return false }
        if take("0") {
            // a leading zero stands alone
        } else if digits() == 0 {
            return false
        }
        if take("."), digits() == 0 { return false }
        if take("e") || take("E") {
            if !take("+") { _ = take("-") }
            if digits() == 0 { return false }
        }
        return i == text.endIndex
    }

    /// `bytes` with the code points libyaml refuses raw or reads as line breaks
    /// (U+007F, U+0080-U+009F, U+2028, U+2029, U+FFFE, U+FFFF) written as
    /// `\uXXXX`; nil when there is none (the common case, one scan). JSON allows
    /// them raw only inside strings, where the escape means the same; outside
    /// strings the escape is as invalid as the raw code point was.
    static func escapingUnreadable(_ bytes: [UInt8]) -> [UInt8]? {
        /// The code point at `i` and its length, when it is one to escape.
        func unreadable(_ i: Int) -> (UInt32, Int)? {
            let b = bytes[i]
            if b == 0x7F { return (0x7F, 1) }
            if b == 0xC2, i + 1 < bytes.count, (0x80...0x9F).contains(bytes[i + 1]) { return (UInt32(bytes[i + 1]), 2) }
            if b == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                return (0x2000 | UInt32(bytes[i + 2] & 0x3F), 3)
            }
            if b == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBF, bytes[i + 2] == 0xBE || bytes[i + 2] == 0xBF {
                return (0xFFC0 | UInt32(bytes[i + 2] & 0x3F), 3)
            }
            return nil
        }
        // Every such code point starts with one of these four bytes.
        guard let first = bytes.indices.first(where: { i in
            let b = bytes[i]
            return (b == 0x7F || b == 0xC2 || b == 0xE2 || b == 0xEF) && unreadable(i) != nil
        }) else {
            return nil
        }
        let hex = Array("0123456789abcdef".utf8)
        var out = Array(bytes[..<first])
        out.reserveCapacity(bytes.count + 16)
        var i = first
        while i < bytes.count {
            if let (scalar, length) = unreadable(i) {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u")]
                for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int(scalar >> UInt32(shift) & 0xF)]) }
                i += length
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}

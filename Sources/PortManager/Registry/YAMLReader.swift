import CYaml
import PortManagerCore

/// Every libyaml call of the library lives in this file.
///
/// Reads one YAML document into a ``YAMLNode`` tree with line and column on
/// every node. Hostile input is refused, never followed: non-UTF-8 or binary
/// bytes, aliases, tags, several documents, nesting deeper than
/// ``maximumDepth``, and files larger than ``maximumSize``. The tree is built
/// with an explicit stack, so no input can overflow the call stack.
public enum YAMLReader {
    /// Deepest nesting accepted. A registry needs 3 levels.
    public static let maximumDepth = 32
    /// Largest input accepted, in bytes.
    public static let maximumSize = 16 << 20

    /// Parses `bytes`; `source` names the input in errors.
    ///
    /// - Throws: ``PortManagerError/parse(_:)`` with the line and column of the problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer, source: String) throws -> YAMLNode {
        func fail(_ line: Int, _ column: Int, _ message: String) -> PortManagerError {
            .parse(Diagnostic(SourceLocation(file: source, line: line, column: column), message))
        }
        guard bytes.count <= maximumSize else {
            throw fail(1, 1, "the file is \(bytes.count) bytes; a registry may be at most \(maximumSize) bytes")
        }
        try checkText(bytes, fail: fail)

        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw fail(1, 1, "cannot initialise the YAML parser (out of memory)") }
        defer { yaml_parser_delete(&parser) }
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        if let base { yaml_parser_set_input_string(&parser, base, bytes.count) }
        else { yaml_parser_set_input_string(&parser, "", 0) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)

        /// An open collection. Mutated in place through `stack[top]`, so
        /// appending never copies the entries gathered so far.
        struct Frame {
            var isMapping: Bool
            var entries: [(key: YAMLNode, value: YAMLNode)] = []
            var items: [YAMLNode] = []
            var pendingKey: YAMLNode?
            var line: Int
            var column: Int
        }
        var stack: [Frame] = []
        var root: YAMLNode?
        var documents = 0

        func add(_ node: YAMLNode) {
            let top = stack.count - 1
            guard top >= 0 else { root = node; return }
            if !stack[top].isMapping {
                stack[top].items.append(node)
            } else if let key = stack[top].pendingKey {
                stack[top].entries.append((key, node))
                stack[top].pendingKey = nil
            } else {
                stack[top].pendingKey = node
            }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let mark = parser.problem_mark
                var message = "YAML syntax error: " + (parser.problem.map { String(cString: $0) } ?? "unknown problem")
                if let context = parser.context { message += " " + String(cString: context) }
                throw fail(Int(mark.line) + 1, Int(mark.column) + 1, message)
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1

            switch event.type {
            case YAML_STREAM_END_EVENT:
                guard let root else { throw fail(1, 1, "the registry file is empty") }
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw fail(line, column, "more than one YAML document; a registry is a single document")
                }
            case YAML_ALIAS_EVENT:
                throw fail(line, column, "YAML aliases (*name) are not supported in a registry; write the value out")
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                if scalar.tag != nil {
                    throw fail(line, column, "YAML tags (!tag) are not supported in a registry")
                }
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
                let style: YAMLNode.ScalarStyle = scalar.style == YAML_PLAIN_SCALAR_STYLE ? .plain : .quoted
                add(.scalar(text, style, line: line, column: column))
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let tagged = event.type == YAML_MAPPING_START_EVENT ? event.data.mapping_start.tag : event.data.sequence_start.tag
                if tagged != nil { throw fail(line, column, "YAML tags (!tag) are not supported in a registry") }
                guard stack.count < maximumDepth else {
                    throw fail(line, column, "nesting deeper than \(maximumDepth) levels; a registry needs 3")
                }
                stack.append(Frame(isMapping: event.type == YAML_MAPPING_START_EVENT, line: line, column: column))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { throw fail(line, column, "unbalanced YAML collection") }
                add(frame.isMapping ? .mapping(frame.entries, line: frame.line, column: frame.column)
                                    : .sequence(frame.items, line: frame.line, column: frame.column))
            default:
                break
            }
        }
    }

    /// Refuses NUL bytes and invalid UTF-8 before libyaml sees the input,
    /// naming the line and column of the first bad byte.
    private static func checkText(_ bytes: UnsafeRawBufferPointer,
                                  fail: (Int, Int, String) -> PortManagerError) throws {
        func position(_ offset: Int) -> (Int, Int) {
            var line = 1, lineStart = 0
            for i in 0..<offset where bytes[i] == 0x0A { line += 1; lineStart = i + 1 }
            return (line, offset - lineStart + 1)
        }
        let n = bytes.count
        var i = 0
        while i < n {
            // Eight ASCII bytes at a time: no high bit set and no zero byte.
            if i + 8 <= n {
                let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let hasZero = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
                if word & 0x8080_8080_8080_8080 == 0 && hasZero == 0 { i += 8; continue }
            }
            let b = bytes[i]
            if b < 0x80 {
                if b == 0 {
                    let (line, column) = position(i)
                    throw fail(line, column, "binary input: NUL byte at offset \(i); a registry is UTF-8 text")
                }
                i += 1
                continue
            }
            let width: Int
            let minimum: UInt32
            var scalar: UInt32
            switch b {
            case 0xC2...0xDF: width = 2; scalar = UInt32(b & 0x1F); minimum = 0x80
            case 0xE0...0xEF: width = 3; scalar = UInt32(b & 0x0F); minimum = 0x800
            case 0xF0...0xF4: width = 4; scalar = UInt32(b & 0x07); minimum = 0x10000
            default: width = 0; scalar = 0; minimum = 0
            }
            var ok = width > 0 && i + width <= n
            if ok {
                for k in 1..<width {
                    let c = bytes[i + k]
                    if c & 0xC0 != 0x80 { ok = false; break }
                    scalar = scalar << 6 | UInt32(c & 0x3F)
                }
                ok = ok && scalar >= minimum && scalar <= 0x10FFFF && !(0xD800...0xDFFF).contains(scalar)
            }
            guard ok else {
                let (line, column) = position(i)
                throw fail(line, column, "the input is not UTF-8 text: invalid byte 0x\(String(b, radix: 16)) at offset \(i)")
            }
            i += width
        }
    }
}

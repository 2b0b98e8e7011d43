import Testing
@testable import PortManager

// JSONReader: JSON through libyaml's events. What JSON allows is read; what only
// YAML allows is refused with a line and column; libyaml's limits are pinned.

@Suite("JSON through libyaml")
struct JSONReaderTests {
    private func parse(_ text: String) throws(JSONError) -> ParsedJSON { try JSONReader.parse(Array(text.utf8)) }

    @Test("every kind of value, nested, compact and spaced")
    func values() throws {
        let compact = #"{"s":"x","n":-12.5e+3,"i":42,"t":true,"f":false,"z":null,"a":[1,[],{}],"o":{"k":"v"}}"#
        let expected: ParsedJSON = .object([
            "s": .string("x"), "n": .number("-12.5e+3"), "i": .number("42"), "t": .bool(true), "f": .bool(false),
            "z": .null, "a": .array([.number("1"), .array([]), .object([:])]), "o": .object(["k": .string("v")]),
        ])
        #expect(try parse(compact) == expected)
        #expect(try parse("{\n  \"s\": \"x\", \"n\" : -12.5e+3, \"i\":42,\n\"t\":true,\"f\":false,\"z\":null,\n\"a\":[ 1, [ ], { } ], \"o\":{\"k\":\"v\"}\n}\n") == expected)
        #expect(try parse("[]") == .array([]))
        #expect(try parse("\"alone\"") == .string("alone"))
        #expect(try parse("7") == .number("7"))
        #expect(try parse(#"{"i":42}"#)["i"]?.integer == 42)
        #expect(try parse(#"{"i":4.2}"#)["i"]?.integer == nil)
    }

    @Test("escapes, raw UTF-8, and the code points libyaml would refuse or fold keep their value")
    func strings() throws {
        #expect(try parse(#"["a\"b\\c\/d\n\t\u00e9\u2028\u0000"]"#) == .array([.string("a\"b\\c/d\n\té\u{2028}\u{0}")]))
        #expect(try parse("[\"😀 é ✓\"]") == .array([.string("😀 é ✓")]))
        // DEL and C1 controls (libyaml refuses them raw), NEL, LS, PS (libyaml
        // would fold them into spaces), U+FFFE and U+FFFF: escaped before libyaml reads.
        let raw = "x\u{7F}\u{80}\u{85}\u{9F}\u{2028}\u{2029}\u{FFFE}\u{FFFF}y"
        #expect(try parse("{\"k\u{85}\":\"\(raw)\"}") == .object(["k\u{85}": .string(raw)]))
        #expect(JSONReader.escapingUnreadable(Array(#"{"plain":"ascii é"}"#.utf8)) == nil)
    }

    @Test("YAML that is not JSON is refused, naming the line and column",
          arguments: [
              ("{'a': 1}", "double quotes"),
              ("{a: 1}", "key must be a string"),
              (#"{"a": yes}"#, "'yes' is not a value"),
              (#"["a": 1]"#, "without braces"),
              ("a: 1", "block mapping"),
              (#""a": 1"#, "block mapping"),
              ("- 1", "block sequence"),
              ("hello", "'hello' is not a value"),
              ("--- {}", "document marker"),
              ("%YAML 1.1\n--- {}", "directive"),
              ("&x [1]", "tag or anchor"),
              ("!!str \"a\"", "tag or anchor"),
              ("[1, *x]", "not JSON"),
              (#"{"a":1}{"b":2}"#, "not JSON"),
              ("", "empty"),
              ("   \n", "empty"),
              (#"{"a"}"#, "value is missing"),
              (#"{"a":}"#, "value is missing"),
              (#"{"a":1,"a":2}"#, "duplicate key 'a'"),
              (#"{[1]: 2}"#, "key must be a string"),
              (#"{"a": |\n x}"#, "not JSON"),
              ("[1, 2", "not JSON"),
              (#"["\ud83d\ude00"]"#, "not JSON"),
              ("[01]", "'01' is not a value"),
          ] as [(String, String)])
    func refused(text: String, words: String) {
        do {
            let value = try parse(text)
            Issue.record("\(text.debugDescription) was read as \(value)")
        } catch {
            #expect(error.description.contains(words), "\(text.debugDescription): \(error)")
            #expect(error.description.contains("(line ") && error.line >= 1 && error.column >= 1)
        }
    }

    @Test("libyaml's limit: an object key longer than 1024 characters is refused, never misread")
    func longKey() throws {
        let fits = String(repeating: "k", count: 1000)
        #expect(try parse("{\"\(fits)\":1}") == .object([fits: .number("1")]))
        let long = String(repeating: "k", count: 1100)
        #expect(throws: JSONError.self) { try parse("{\"\(long)\":1}") }
        #expect(throws: JSONError.self) { try parse("{\"\(long)\":\"v\",\"b\":2}") }
    }

    @Test("nesting is refused past maximumDepth")
    func depth() throws {
        let deepest = JSONReader.maximumDepth
        let fits = String(repeating: "[", count: deepest) + String(repeating: "]", count: deepest)
        #expect(throws: Never.self) { try parse(fits) }
        let deeper = String(repeating: "[", count: deepest + 1) + String(repeating: "]", count: deepest + 1)
        let error = #expect(throws: JSONError.self) { try parse(deeper) }
        #expect(error?.message.contains("deeper than \(deepest)") == true)
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONError.self) { try parse(hostile) }
    }

    @Test("YAML's leniencies that pass (documented): a trailing comma, a comment")
    func lenient() throws {
        #expect(try parse("[1, 2,]") == .array([.number("1"), .number("2")]))
        #expect(try parse("{\"a\": 1} # comment") == .object(["a": .number("1")]))
    }

    @Test("JSON's number grammar", arguments: [
        ("0", true), ("-0", true), ("12", true), ("1.5", true), ("1e9", true), ("1E-9", true), ("-0.0e+0", true),
        ("01", false), ("1.", false), (".5", false), ("-", false), ("+1", false), ("1e", false), ("0x10", false),
        ("1_000", false), ("Infinity", false), ("NaN", false), ("1.5.2", false), ("", false),
    ] as [(String, Bool)])
    func numbers(text: String, valid: Bool) {
        #expect(JSONReader.isNumber(text.utf8) == valid, "\(text)")
    }
}

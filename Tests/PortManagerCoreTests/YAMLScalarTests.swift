import Testing
import PortManagerCore

// The scalar kinds (YAML 1.1 resolution as the registry applies it) and the one
// integer parser, pinned at every edge the validation depends on.

private func plain(_ text: String) -> YAMLKind { YAMLKind(scalar: text, style: .plain) }

@Suite("YAML scalar kinds")
struct YAMLKindTests {
    @Test("plain integers: an optional sign and ASCII digits, leading zeros and overflow included",
          arguments: ["0", "7", "8080", "+7", "-7", "+0", "-0", "00", "007", "-07", "+07",
                      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999"])
    func integers(text: String) {
        #expect(plain(text) == .integer)
    }

    @Test("what looks like an integer but is a string: other bases, separators, signs, spaces, non-ASCII digits",
          arguments: ["0x1F", "0X1F", "0o17", "0b101", "1_000", "1,000", "+", "-", "+-5", "--5", "1+2", "12abc",
                      " 80", "80 ", "8 0", "\u{0663}", "\u{FF11}\u{FF12}", "1-2", "100-102", "inf", "nan", "e5", ".", "1.2.3"])
    func stringsThatLookNumeric(text: String) {
        #expect(plain(text) == .string)
    }

    @Test("floats: a dot or an exponent, underscores allowed, and the special values in any case",
          arguments: ["80.0", "1e3", "1E3", "1e", "1.", ".5", "1_000.5", "+1.5e-3", "1e+", "-2.5",
                      ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"])
    func floats(text: String) {
        #expect(plain(text) == .float)
    }

    @Test("booleans of YAML 1.1, in three cases each; other casings are strings")
    func booleans() {
        for word in ["true", "false", "yes", "no", "on", "off", "y", "n"] {
            let capitalised = word.prefix(1).uppercased() + word.dropFirst()
            for form in [word, capitalised, word.uppercased()] {
                #expect(plain(form) == .boolean, "\(form)")
            }
        }
        for text in ["tRue", "yES", "oN", "nO", "Nope", "t", "f"] {
            #expect(plain(text) == .string, "\(text)")
        }
    }

    @Test("nulls: empty, ~ and null in three casings")
    func nulls() {
        for text in ["", "~", "null", "Null", "NULL"] { #expect(plain(text) == .null, "\(text)") }
        for text in ["nul", "nULL", "none", "None"] { #expect(plain(text) == .string, "\(text)") }
    }

    @Test("a quoted or block scalar is a string whatever it holds")
    func quotedIsString() {
        for text in ["80", "-7", "1e3", ".inf", "true", "yes", "~", "null", ""] {
            #expect(YAMLKind(scalar: text, style: .quoted) == .string, "\(text)")
        }
    }

    @Test("a node's kind, and how messages name each kind")
    func nodeKinds() {
        let scalar = YAMLNode.scalar("80", .plain, line: 1, column: 1)
        let mapping = YAMLNode.mapping([(scalar, scalar)], line: 1, column: 1)
        let list = YAMLNode.sequence([scalar], line: 1, column: 1)
        #expect(scalar.kind == .integer)
        #expect(mapping.kind == .mapping)
        #expect(list.kind == .list)
        #expect(YAMLNode.scalar("80", .quoted, line: 1, column: 1).kind == .string)
        let names: [(YAMLKind, String)] = [(.mapping, "a mapping"), (.list, "a list"), (.string, "a string"),
                                           (.integer, "an integer"), (.float, "a float"), (.boolean, "a boolean"), (.null, "null")]
        for (kind, name) in names { #expect("\(kind)" == name) }
    }

    @Test("a node has an integer exactly when its kind is integer")
    func nodeInteger() {
        for text in ["80", "-7", "007", "99999999999999999999999", "0x1F", "1e3", "true", "~", "", "tcp"] {
            for style in [YAMLNode.ScalarStyle.plain, .quoted] {
                let node = YAMLNode.scalar(text, style, line: 1, column: 1)
                #expect((node.integer != nil) == (node.kind == .integer), "\(text) \(style)")
                if let number = node.integer { #expect(number == DecimalInteger(text)) }
            }
        }
        #expect(YAMLNode.scalar("80", .plain, line: 1, column: 1).integer?.value == 80)
        #expect(YAMLNode.scalar("80", .quoted, line: 1, column: 1).integer == nil)
        #expect(YAMLNode.sequence([], line: 1, column: 1).integer == nil)
    }
}

@Suite("The integer parser")
struct DecimalIntegerTests {
    /// (value, signed, leading zero) of `text`, or nil when it is not an integer.
    private func parse(_ text: String, allowingSign: Bool = true) -> (Int?, Bool, Bool)? {
        DecimalInteger(text, allowingSign: allowingSign).map { ($0.value, $0.isSigned, $0.hasLeadingZero) }
    }

    @Test func plainValues() {
        #expect(parse("0")! == (0, false, false))
        #expect(parse("7")! == (7, false, false))
        #expect(parse("65535")! == (65535, false, false))
        #expect(parse("1234567890")! == (1234567890, false, false))
    }

    @Test func signs() {
        #expect(parse("+7")! == (7, true, false))
        #expect(parse("-7")! == (-7, true, false))
        #expect(parse("-0")! == (0, true, false))
        #expect(parse("+0")! == (0, true, false))
        #expect(parse("+") == nil)
        #expect(parse("-") == nil)
        #expect(parse("+-5") == nil)
        #expect(parse("--5") == nil)
        #expect(parse("5-") == nil)
        #expect(parse("5+") == nil)
    }

    @Test("without signs, as port lists and range ends take it")
    func unsigned() {
        #expect(parse("80", allowingSign: false)! == (80, false, false))
        #expect(parse("0080", allowingSign: false)! == (80, false, true))
        #expect(parse("+80", allowingSign: false) == nil)
        #expect(parse("-80", allowingSign: false) == nil)
    }

    @Test("leading zeros keep their value and are flagged; a lone 0 is not")
    func leadingZeros() {
        #expect(parse("00")! == (0, false, true))
        #expect(parse("007")! == (7, false, true))
        #expect(parse("08080")! == (8080, false, true))
        #expect(parse("-07")! == (-7, true, true))
        #expect(parse("+07")! == (7, true, true))
        #expect(parse("0999999999999999999999999")! == (nil, false, true))
    }

    @Test("overflow: the magnitude must fit Int, so Int.min has no value")
    func overflow() {
        #expect(parse("9223372036854775807")! == (Int.max, false, false))
        #expect(parse("-9223372036854775807")! == (-Int.max, true, false))
        #expect(parse("9223372036854775808")! == (nil, false, false))
        #expect(parse("-9223372036854775808")! == (nil, true, false))
        #expect(parse("99999999999999999999999")! == (nil, false, false))
        #expect(parse("+99999999999999999999999")! == (nil, true, false))
        #expect(parse("92233720368547758070")! == (nil, false, false))
    }

    @Test("nothing but digits: no other base, separator, space or non-ASCII digit",
          arguments: ["", "0x1F", "0X1F", "0o17", "0b101", "1_000", "1,000", "1.0", "1e3", " 80", "80 ", "8 0",
                      "\t80", "80\n", "12abc", "\u{0663}", "\u{FF11}\u{FF12}", "1-2"])
    func rejects(text: String) {
        #expect(DecimalInteger(text) == nil)
    }

    @Test("Substrings parse alike, as range ends and list items are")
    func substrings() {
        let text = "x8080y"
        let inner = text.dropFirst().dropLast()
        #expect(DecimalInteger(inner)?.value == 8080)
        #expect(DecimalInteger(text.dropFirst()) == nil)
    }
}

import Testing
@testable import PortManagerCore

@Suite("JSONText")
struct JSONTextTests {
    @Test("printable ASCII passes whole; quotes, backslashes, DEL, C0, C1 and U+2028 are escaped")
    func escaping() {
        #expect(JSONText.string("kafka port 'broker_port' 9092-9093, ok ~") == "\"kafka port 'broker_port' 9092-9093, ok ~\"")
        #expect(JSONText.string("") == "\"\"")
        #expect(JSONText.string("a\u{7F}b") == "\"a\\u007fb\"")
        #expect(JSONText.string("say \"hi\"") == "\"say \\\"hi\\\"\"")
        #expect(JSONText.string("C:\\x") == "\"C:\\\\x\"")
        #expect(JSONText.string("tab\there") == "\"tab\\there\"")
        #expect(JSONText.string("é\u{85}\u{2028}") == "\"é\\u0085\\u2028\"")
        var out = "["
        JSONText.quote("x", into: &out)
        #expect(out == "[\"x\"")
    }
}

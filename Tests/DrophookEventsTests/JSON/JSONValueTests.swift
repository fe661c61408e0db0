import DrophookEvents
import Testing

@Suite("Deterministic JSON")
struct JSONValueTests {
    @Test func compactOutputKeepsKeyOrder() {
        let value = JSONValue.object([
            ("b", .int(1)), ("a", .array([.null, .bool(true), .bool(false), .int(-9_223_372_036_854_775_808)])),
            ("e", .object([])), ("f", .array([])),
        ])
        #expect(value.serializedString == #"{"b":1,"a":[null,true,false,-9223372036854775808],"e":{},"f":[]}"#)
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() {
        let value = JSONValue.string("a\"b\\c\n\t\r\u{0}\u{1F}\u{7F}/d")
        #expect(value.serializedString == #""a\"b\\c\u000a\u0009\u000d\u0000\u001f"# + "\u{7F}" + #"/d""#)
    }

    @Test func nonASCIIIsWrittenAsUTF8() {
        let value = JSONValue.string("Überweisung €.csv 📄")
        let bytes = value.serialized()
        #expect(bytes == Array("\"Überweisung €.csv 📄\"".utf8))
        #expect(bytes.count == "Überweisung €.csv 📄".utf8.count + 2)
    }

    @Test func parsingRoundTripsEscapedText() throws {
        let original = JSONValue.object([
            ("name", .string("tab\there \"quoted\" \\ Überweisung €.csv \u{1}")),
            ("size", .int(357_464)),
            ("nested", .array([.object([("k", .null)])])),
        ])
        #expect(try JSONValue(parsing: original.serialized()) == original)
    }

    @Test func parserAcceptsWhitespaceAndStandardEscapes() throws {
        let parsed = try JSONValue(parsing: " { \"a\" : [ 1 , \"\\u00dc\\/\\ud83d\\udcc4\\n\" ] } ")
        #expect(parsed == .object([("a", .array([.int(1), .string("Ü/📄\n")]))]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\"}", "tru", "1.5", "\"\\ud800\"", "{} x", "\"a\u{1}\""])
    func parserRejectsInvalidInput(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func parserRefusesDeepNesting() {
        let text = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }
}

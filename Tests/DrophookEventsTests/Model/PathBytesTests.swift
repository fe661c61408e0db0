import DrophookEvents
import Foundation
import Testing

/// File names are bytes: every name the kernel allows survives the agent and reaches the
/// receiver losslessly, while UTF-8 names stay exactly as they are.
@Suite("File names as bytes")
struct PathBytesTests {
    /// Names a partner can upload (no NUL; `/` only as a separator).
    static let oddNames: [[UInt8]] = [
        Array("report\u{FF}.csv".utf8), // valid UTF-8 ÿ
        [0x72, 0x65, 0x70, 0x6F, 0x72, 0x74, 0xFF, 0x2E, 0x63, 0x73, 0x76], // report\xff.csv (Latin-1)
        [0xC3, 0x28], // broken two-byte sequence
        [0xED, 0xA0, 0x80], // an encoded surrogate
        [0xC0, 0xAF], // overlong '/'
        [0xF4, 0x90, 0x80, 0x80], // past U+10FFFF
        Array("a\u{FFFD}b".utf8), // a literal U+FFFD, valid
        Array("a\u{FFFD}".utf8) + [0x46, 0x46], // U+FFFD followed by "FF", valid
        Array("tab\tnew\nline\r\u{1B}]52;c;\u{07}".utf8), // control characters, OSC 52
        Array("quote\"back\\slash%41%".utf8), // JSON and percent specials
        Array("rtl\u{202E}gpj.exe".utf8), // right-to-left override
        Array(repeating: UInt8(ascii: "n"), count: 255), // the longest name
        Array(repeating: 0xFF, count: 255), // the longest name, all invalid
    ]

    @Test(arguments: oddNames)
    func everyNameRoundTrips(_ name: [UInt8]) {
        let text = PathBytes.string(from: name)
        #expect(PathBytes.bytes(text) == name)
        #expect(!text.utf8.contains(0), "escaped text never holds NUL")
        let viaC = PathBytes.withCString(text) { pointer in
            Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer))).map { UInt8(bitPattern: $0) }
        }
        #expect(viaC == name)
    }

    @Test func utf8NamesWithoutTheMarkerAreThemselves() {
        for name in ["plain.csv", "dir/sub/ünïcødé 名前.pdf", "quote\"back\\slash%", "tab\tnew\nline"] {
            #expect(PathBytes.string(from: Array(name.utf8)) == name)
            #expect(!PathBytes.isEscaped(name))
            #expect(PathBytes.payloadText(name) == (name, nil))
        }
    }

    @Test func randomByteNamesNeverCollide() {
        var generator = SeededGenerator(seed: 0x5EED)
        var seen: [String: [UInt8]] = [:]
        for _ in 0..<20_000 {
            let length = Int.random(in: 1...12, using: &generator)
            // Few distinct byte values, so that collisions would be likely if the escape were lossy.
            let alphabet: [UInt8] = [0x41, 0x46, 0x2F, 0x80, 0xBD, 0xBF, 0xC3, 0xEF, 0xFF]
            let name = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            let text = PathBytes.string(from: name)
            if let earlier = seen[text] { #expect(earlier == name, "two names share \(text)") }
            seen[text] = name
            #expect(PathBytes.bytes(text) == name)
            let payload = PathBytes.payloadText(text)
            if let exact = payload.exactBase64 {
                #expect(Data(base64Encoded: exact).map(Array.init) == name)
                #expect(String(validating: name, as: UTF8.self) == nil)
            } else {
                #expect(Array(payload.text.utf8) == name)
            }
        }
    }

    @Test(arguments: oddNames)
    func everyFormatSendsValidJSONThatRecoversTheName(_ name: [UInt8]) throws {
        let path = PathBytes.string(from: Array("in/".utf8) + name)
        let event = FileEvent(
            id: "36cd78bc-0662-43b1-a7aa-0cde4876ab2a", kind: .created, watch: "w", path: path,
            size: 3, actor: "alice", occurredAtMillis: 1)
        let context = DeliveryContext(webhookID: "w", deliveryID: "d", attemptID: "a", organizationID: nil, pipeID: "p")

        let hub = SFTPToGoFormat().message(for: event, context: context)
        let hubJSON = try #require(try JSONSerialization.jsonObject(with: Data(hub.body)) as? [String: Any])
        let data = try #require(hubJSON["Data"] as? [String: Any])
        let hubPath = try #require(data["Path"] as? String)
        let recovered =
            (data["PathBase64"] as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init)
            ?? Array(hubPath.utf8)
        #expect(recovered == Array("in/".utf8) + name)
        #expect((data["PathBase64"] == nil) == (String(validating: name, as: UTF8.self) != nil))

        let rilavek = RilavekFormat().message(for: event, context: context)
        let rilavekJSON = try #require(try JSONSerialization.jsonObject(with: Data(rilavek.body)) as? [String: Any])
        let rilavekData = try #require(rilavekJSON["data"] as? [String: Any])
        let filename = try #require(rilavekData["filename"] as? String)
        let recoveredName =
            (rilavekData["filename_base64"] as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init)
            ?? Array(filename.utf8)
        #expect(recoveredName == name)
    }

    @Test func latin1NameGetsItsBytesBesideAReadablePath() {
        let path = PathBytes.string(from: Array("report".utf8) + [0xFF] + Array(".csv".utf8))
        let event = FileEvent(
            id: "36cd78bc-0662-43b1-a7aa-0cde4876ab2a", kind: .created, watch: "w", path: path,
            size: 3, actor: "alice", occurredAtMillis: 1)
        let context = DeliveryContext(webhookID: "w", deliveryID: "d", attemptID: "a", organizationID: nil, pipeID: "p")
        let body = String(decoding: SFTPToGoFormat().message(for: event, context: context).body, as: UTF8.self)
        #expect(body.contains(#""Data":{"Path":"report\#u{FFFD}.csv","Size":3,"PathBase64":"cmVwb3J0/y5jc3Y="}"#))
        let rilavek = String(decoding: RilavekFormat().message(for: event, context: context).body, as: UTF8.self)
        #expect(rilavek.contains(#""filename":"report\#u{FFFD}.csv","#))
        #expect(rilavek.contains(#""destinations":[],"filename_base64":"cmVwb3J0/y5jc3Y="}"#))
    }
}

/// A small deterministic generator (SplitMix64), so the property test is repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import DrophookEvents
import Testing

@Suite("Encodings, ids and timestamps")
struct EncodingTests {
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64MatchesRFC4648(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func base64CoversTheWholeAlphabet() {
        let bytes = (0...255).map(UInt8.init)
        let text = Base64.encode(bytes)
        #expect(text.contains("+") && text.contains("/"))
        #expect(Base64.decode(text) == bytes)
    }

    @Test(arguments: ["Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm 9"])
    func base64RejectsMalformedText(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func hexRoundTripsAndRejectsBadDigits() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func idsAreCanonicalTimeOrderedVersion7AndDistinct() {
        let ids = (0..<1000).map { _ in EventID.timeOrdered() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(EventID.isCanonical(id))
            let characters = Array(id)
            #expect(characters[14] == "7")
            #expect("89ab".contains(characters[19]))
        }
        // The first 48 bits are the Unix time in milliseconds, so later ids sort after earlier ones.
        #expect(EventID.timeOrdered(unixMillis: 0x0123_4567_89ab).hasPrefix("01234567-89ab-7"))
        #expect(EventID.timeOrdered(unixMillis: 1_000) < EventID.timeOrdered(unixMillis: 1_001))
        let now = WallClock.milliseconds()
        #expect(EventID.timeOrdered(unixMillis: now - 1) < EventID.timeOrdered())
        #expect(EventID.compactHex("36CD78BC-0662-43b1-a7aa-0cde4876ab2a") == "36cd78bc066243b1a7aa0cde4876ab2a")
        #expect(!EventID.isCanonical("36CD78BC-0662-43b1-a7aa-0cde4876ab2a"))
    }

    @Test func rilavekFileIDMapsBackToTheEventID() {
        let id = "36cd78bc-0662-43b1-a7aa-0cde4876ab2a"
        #expect(EventID.fromRilavekFileID(EventID.rilavekFileID(id)) == id)
        #expect(EventID.fromRilavekFileID("fil_987654321") == nil)
        #expect(EventID.fromRilavekFileID(id) == nil)
    }

    @Test func rilavekFileIDIsPrefixedCompactHex() {
        #expect(EventID.rilavekFileID("98765432-10AB-cdef-9876-543210abcdef") == "fil_9876543210abcdef9876543210abcdef")
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_710_498_600_000, "2024-03-15T10:30:00.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_709_164_800_999, "2024-02-29T00:00:00.999Z"),
        (1_583_020_799_999, "2020-02-29T23:59:59.999Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"), // 2100 is not a leap year
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
    ])
    func isoTimestamps(millis: Int64, expected: String) {
        #expect(ISO8601Timestamp.string(fromMillis: millis) == expected)
    }

    @Test func ed25519SignsAndVerifiesWithDerivedPublicKey() throws {
        let seed = LibCrypto.randomBytes(32)
        let publicKey = try #require(LibCrypto.ed25519PublicKey(seed: seed))
        let message = Array("drop".utf8)
        let signature = try #require(LibCrypto.ed25519Sign(seed: seed, message: message))
        #expect(LibCrypto.ed25519Verify(publicKey: publicKey, message: message, signature: signature))
        #expect(!LibCrypto.ed25519Verify(publicKey: publicKey, message: Array("drip".utf8), signature: signature))
        #expect(LibCrypto.ed25519Sign(seed: [1, 2, 3], message: message) == nil)
        let empty = try #require(LibCrypto.ed25519Sign(seed: seed, message: []))
        #expect(LibCrypto.ed25519Verify(publicKey: publicKey, message: [], signature: empty))
    }
}

@Suite("Header names")
struct HeaderNameTests {
    @Test("a header is found by its name in any case, and only by its whole name")
    func lookUpIgnoresCase() {
        let headers = [HTTPHeader("Content-Type", "application/json"), HTTPHeader("X-Hub-Signature", "abc=")]
        #expect(headers.value(named: "x-hub-signature") == "abc=")
        #expect(headers.value(named: "CONTENT-TYPE") == "application/json")
        #expect(headers.value(named: "X-Hub-Signatur") == nil)
        #expect(headers.value(named: "X-Hub-Signature-256") == nil)
        #expect(!HTTPHeader("Ä-Name", "v").isNamed("ä-name"), "field names are ASCII; nothing else is folded")
    }
}

import DrophookEvents
import Foundation
import Testing

@Suite("Signature vectors and verification")
struct SignatureVectorTests {
    static let body = Array(#"{"test": 2432232314}"#.utf8)
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1_614_265_330

    @Test func standardWebhooksSymmetricVector() throws {
        let signer = try StandardWebhooksSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signature = signer.signature(id: Self.id, timestamp: Self.timestamp, body: Self.body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(signer.verify(id: Self.id, timestamp: Self.timestamp, body: Self.body, signatureHeader: "v1,bogus= " + signature))
        #expect(!signer.verify(id: Self.id, timestamp: Self.timestamp + 1, body: Self.body, signatureHeader: signature))
    }

    @Test func standardWebhooksAsymmetricVector() throws {
        let signer = try StandardWebhooksSigner(
            secret: "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==")
        let expected = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="
        #expect(signer.signature(id: Self.id, timestamp: Self.timestamp, body: Self.body) == expected)
        #expect(signer.publicKeyText == "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=")
        let publicKey = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
        #expect(
            StandardWebhooksSigner.verify(
                publicKey: publicKey, id: Self.id, timestamp: Self.timestamp, body: Self.body, signatureHeader: expected))
        var tampered = Self.body
        tampered[2] ^= 1
        #expect(
            !StandardWebhooksSigner.verify(
                publicKey: publicKey, id: Self.id, timestamp: Self.timestamp, body: tampered, signatureHeader: expected))
    }

    @Test func unusableSecretsAreRejectedWithACode() {
        #expect(throws: SigningKeyError.self) { try StandardWebhooksSigner(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }
        #expect(throws: SigningKeyError.self) { try StandardWebhooksSigner(secret: "whsec_not base64!") }
        // 64 bytes whose second half is not the seed's public key.
        let mismatched = "whsk_" + Base64.encode([UInt8](repeating: 7, count: 64))
        do {
            _ = try StandardWebhooksSigner(secret: mismatched)
            Issue.record("a corrupted whsk_ key was accepted")
        } catch {
            #expect(error.code == .keyMismatch)
        }
    }

    @Test func githubStyleVector() {
        let secret = Array("It's a Secret to Everybody".utf8)
        let body = Array("Hello, World!".utf8)
        let value = BodySignature.github.value(secret: secret, body: body)
        #expect(value == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        #expect(BodySignature.github.verify(value: value, secret: secret, body: body))
    }

    @Test(arguments: [BodySignature.hub, .rilavek])
    func headerAgreesWithOpenSSLCommandLine(kind: BodySignature) throws {
        let secret = "k3y-\(kind.rawValue)"
        let body = Array(#"{"Path":"Überweisung €.csv"}"#.utf8)
        let digest = try Self.opensslHMAC(key: secret, body: body)
        let expected = kind == .hub ? Base64.encode(digest) : Hex.encode(digest)
        #expect(kind.value(secret: Array(secret.utf8), body: body) == expected)
    }

    @Test func verifierReportsVerifiedMismatchAndUnsigned() {
        let secret = Array("secret".utf8)
        let body = Array("payload".utf8)
        let verifier = SignatureVerifier(secret: secret)
        let hub = BodySignature.hub.header(secret: secret, body: body)
        // Header names are case-insensitive.
        #expect(verifier.verify(body: body, headers: [HTTPHeader("x-hub-signature", hub.value)]) == .verified(.hub))
        #expect(verifier.verify(body: body + [0x20], headers: [hub]) == .mismatch(.hub))
        #expect(verifier.verify(body: body, headers: [HTTPHeader("X-Rilavek-Signature", "zz")]) == .mismatch(.rilavek))
        #expect(verifier.verify(body: body, headers: [HTTPHeader("Content-Type", "application/json")]) == .unsigned)
        #expect(!SignatureVerifier(secret: Array("other".utf8)).verify(body: body, headers: [hub]).isVerified)
    }

    @Test func constantTimeCompare() {
        #expect(LibCrypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!LibCrypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!LibCrypto.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(LibCrypto.constantTimeEquals([], []))
    }

    @Test func hmacOfEmptyKeyAndMessageIsRFCValue() {
        // HMAC-SHA256("", ""), a widely published value.
        #expect(
            Hex.encode(LibCrypto.hmacSHA256(key: [], message: [])) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    /// HMAC-SHA256 computed by the `openssl` command, independent of the library binding.
    static func opensslHMAC(key: String, body: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "dgst", "-sha256", "-hmac", key, "-binary"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(body))
        try input.fileHandleForWriting.close()
        let digest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return Array(digest)
    }
}

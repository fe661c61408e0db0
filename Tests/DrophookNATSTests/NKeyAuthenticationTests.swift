import DrophookEvents
import DrophookNATS
import DrophookTestSupport
import Foundation
import Testing

/// NKey authentication against a server that knows only the user's public key: the publisher
/// signs the server's challenge with the seed in its seed file.
@Suite("JetStream publisher: NKey", .serialized,
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nats-server"), "needs nats-server"))
struct NKeyAuthenticationTests {
    @Test(.timeLimit(.minutes(1)))
    func authenticatesWithAnNKeySeedFile() async throws {
        let allowed = NKeyPair.generate()
        let stranger = NKeyPair.generate()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-nkey-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serverConfig = directory + "/server.conf"
        try "authorization { users = [ { nkey: \"\(allowed.publicKey)\" } ] }\n".write(toFile: serverConfig, atomically: true, encoding: .utf8)
        for (name, pair) in [("allowed", allowed), ("stranger", stranger)] {
            try (pair.seed + "\n").write(toFile: "\(directory)/\(name).nk", atomically: true, encoding: .utf8)
        }
        let server = try NATSServer.start(["-c", serverConfig])
        defer { server.stop() }

        #expect {
            _ = try JetStreamPublisher(.init(servers: [server.url], authentication: .nkey(publicKey: stranger.publicKey, seedFile: directory + "/stranger.nk"),
                                             connectTimeout: .seconds(2)))
        } throws: { error in
            (error as? JetStreamError)?.code == .connect && "\(error)".lowercased().contains("authorization")
        }
        let publisher = try JetStreamPublisher(.init(servers: [server.url], authentication: .nkey(publicKey: allowed.publicKey, seedFile: directory + "/allowed.nk")))
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))
        let ack = try await publisher.publish(subject: "sftp.h.w.file.created", messageID: "event-1", body: [1])
        #expect(ack.sequence == 1)
    }
}

/// A NATS user NKey made here (there is no `nk` tool in Debian): an Ed25519 key, written as
/// NATS writes keys: a prefix byte, the key, a CRC-16/XMODEM, in unpadded base32.
struct NKeyPair {
    let seed: String
    let publicKey: String

    static func generate() -> NKeyPair { NKeyPair(seed: LibCrypto.randomBytes(32)) }

    init(seed raw: [UInt8]) {
        let user: UInt8 = 20 << 3  // 'U'
        let seedPrefix: UInt8 = 18 << 3  // 'S'
        seed = Self.encode([seedPrefix | (user >> 5), (user & 31) << 3] + raw)
        publicKey = Self.encode([user] + LibCrypto.ed25519PublicKey(seed: raw)!)
    }

    private static func encode(_ bytes: [UInt8]) -> String {
        let crc = crc16(bytes)
        return base32(bytes + [UInt8(crc & 0xFF), UInt8(crc >> 8)])
    }

    private static func crc16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    private static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}

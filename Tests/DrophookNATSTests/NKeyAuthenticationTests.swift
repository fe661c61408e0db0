import DrophookEvents
import DrophookNATS
import DrophookTestSupport
import Foundation
import Testing

/// NKey authentication (a server that knows only the user's public key; the publisher signs its
/// challenge with the seed file) and a `.creds` file (a user JWT signed by an account the
/// server's operator signed).
@Suite(
    "JetStream publisher: NKey and credentials file", .serialized,
    .requires(.natsServer))
struct NKeyAuthenticationTests {
    @Test(.timeLimit(.minutes(1)))
    func authenticatesWithAnNKeySeedFile() async throws {
        let allowed = NKeyPair.generate()
        let stranger = NKeyPair.generate()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-nkey-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serverConfig = directory + "/server.conf"
        try "authorization { users = [ { nkey: \"\(allowed.publicKey)\" } ] }\n".write(
            toFile: serverConfig, atomically: true, encoding: .utf8)
        for (name, pair) in [("allowed", allowed), ("stranger", stranger)] {
            try (pair.seed + "\n").write(toFile: "\(directory)/\(name).nk", atomically: true, encoding: .utf8)
        }
        let server = try NATSServer.start(["-c", serverConfig])
        defer { server.stop() }

        #expect {
            _ = try JetStreamPublisher(
                .init(
                    servers: [server.url], authentication: .nkey(publicKey: stranger.publicKey, seedFile: directory + "/stranger.nk"),
                    connectTimeout: .seconds(2)))
        } throws: { error in
            (error as? JetStreamError)?.code == .connect && "\(error)".lowercased().contains("authorization")
        }
        let publisher = try JetStreamPublisher(
            .init(servers: [server.url], authentication: .nkey(publicKey: allowed.publicKey, seedFile: directory + "/allowed.nk")))
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))
        let ack = try await publisher.publish(subject: "sftp.h.w.file.created", messageID: "event-1", body: [1])
        #expect(ack.sequence == 1)
    }

    /// Decentralized auth, as `nsc` sets it up: an operator, an account with JetStream, and a
    /// user whose `.creds` file holds its JWT and seed. The server trusts the operator only.
    @Test(.timeLimit(.minutes(1)))
    func authenticatesWithACredentialsFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-creds-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let credentials = try NATSCredentials(directory: directory)
        let server = try NATSServer.start(["-c", credentials.serverConfig])
        defer { server.stop() }

        #expect(throws: JetStreamError.self) {
            _ = try JetStreamPublisher(.init(servers: [server.url], connectTimeout: .seconds(2)))
        }
        let publisher = try JetStreamPublisher(.init(servers: [server.url], authentication: .credentialsFile(credentials.userCredentials)))
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))
        let ack = try await publisher.publish(subject: "sftp.h.w.file.created", messageID: "event-1", body: [1])
        #expect(ack.sequence == 1, "\(server.log.suffix(1500))")
    }
}

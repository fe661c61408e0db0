import CNats
import DrophookEvents
import DrophookNATS
import DrophookTestSupport
import Foundation
import Testing

/// The publisher against a real `nats-server` with JetStream on loopback.
@Suite(
    "JetStream publisher", .serialized,
    .requires(.natsServer))
struct JetStreamPublisherTests {
    @Test(.timeLimit(.minutes(1)))
    func aMessagePublishedTwiceWithOneIDIsStoredOnce() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let admin = try StreamAdmin(url: server.url)
        let publisher = try JetStreamPublisher(servers: [server.url])
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))

        let subject = "sftp.host-a.uploads.file.created"
        let body = Array(#"{"Topic":"file.created"}"#.utf8)
        let first = try await publisher.publish(
            subject: subject, messageID: "event-1", headers: [HTTPHeader("Content-Type", "application/json")], body: body)
        // The same event again, as after a lost ack or a crash before the delivery was marked.
        let again = try await publisher.publish(subject: subject, messageID: "event-1", body: body)
        let second = try await publisher.publish(subject: subject, messageID: "event-2", body: body)
        #expect(first.stream == "SFTP" && first.sequence == 1 && !first.duplicate)
        #expect(again.duplicate && again.sequence == 1)
        #expect(second.sequence == 2 && !second.duplicate)
        #expect(try admin.messageCount("SFTP") == 2)
        let stored = try admin.message("SFTP", sequence: 1)
        #expect(stored.body == body)
        #expect(stored.headers["Nats-Msg-Id"] == "event-1" && stored.headers["Content-Type"] == "application/json")
    }

    @Test(.timeLimit(.minutes(1)))
    func aSubjectNoStreamCapturesIsAnErrorThatSaysSo() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let publisher = try JetStreamPublisher(servers: [server.url])
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))
        await #expect(throws: JetStreamError.self) {
            _ = try await publisher.publish(subject: "files.created", messageID: "event-1", body: [1], timeout: .seconds(2))
        }
        do {
            _ = try await publisher.publish(subject: "files.created", messageID: "event-1", body: [1], timeout: .seconds(2))
        } catch {
            #expect(error.code == .noStream)
            #expect(error.description.hasPrefix("no JetStream stream captures subject files.created; create one"), "\(error)")
        }
    }

    /// User and password, and a token, as the server demands them: the right ones publish, a
    /// wrong one is a connect error with the server's reason.
    @Test(
        .timeLimit(.minutes(1)),
        arguments: [
            (
                ["--user", "drophook", "--pass", "s3cret-pass"],
                JetStreamPublisher.Configuration.Authentication.userPassword(user: "drophook", password: "s3cret-pass"),
                JetStreamPublisher.Configuration.Authentication.userPassword(user: "drophook", password: "wrong")
            ),
            (["--auth", "s3cret-token"], .token("s3cret-token"), .token("wrong")),
        ])
    func authenticatesAsTheServerDemands(
        serverArguments: [String], right: JetStreamPublisher.Configuration.Authentication,
        wrong: JetStreamPublisher.Configuration.Authentication
    ) async throws {
        let server = try NATSServer.start(serverArguments)
        defer { server.stop() }
        #expect {
            _ = try JetStreamPublisher(.init(servers: [server.url], authentication: wrong, connectTimeout: .seconds(2)))
        } throws: { error in
            guard let error = error as? JetStreamError else { return false }
            return error.code == .connect && error.description.lowercased().contains("authorization")
        }
        let publisher = try JetStreamPublisher(.init(servers: [server.url], authentication: right))
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))
        let ack = try await publisher.publish(subject: "sftp.h.w.file.created", messageID: "event-1", body: [1])
        #expect(ack.sequence == 1)
    }

    /// A server that speaks TLS only and verifies its clients: the publisher trusts it through
    /// its CA file and presents its client certificate; without the CA it cannot connect.
    @Test(.timeLimit(.minutes(1)))
    func connectsOverTLSWithACAFileAndAClientCertificate() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try NATSServer.start([
            "--tlsverify", "--tlscert", certificates.serverCertificate, "--tlskey", certificates.serverKey,
            "--tlscacert", certificates.caCertificate,
        ])
        defer { server.stop() }
        #expect {
            _ = try JetStreamPublisher(.init(servers: [server.url], connectTimeout: .seconds(2)))
        } throws: { error in (error as? JetStreamError)?.code == .connect }
        let publisher = try JetStreamPublisher(
            .init(
                servers: [server.url], caFile: certificates.caCertificate,
                clientCertificate: certificates.clientCertificate, clientKey: certificates.clientKey))
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))
        let ack = try await publisher.publish(subject: "sftp.h.w.file.created", messageID: "event-1", body: [1])
        #expect(ack.stream == "SFTP" && ack.sequence == 1)
    }

    /// Told to, the publisher creates its stream; a stream of that name already there is left
    /// as its operator made it.
    @Test(.timeLimit(.minutes(1)))
    func createsItsStreamOnlyWhenThereIsNone() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let publisher = try JetStreamPublisher(servers: [server.url])
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"], duplicateWindow: .seconds(60)))
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["other.>"]))
        let ack = try await publisher.publish(subject: "sftp.h.w.file.created", messageID: "event-1", body: [1])
        #expect(ack.stream == "SFTP")
        #expect(try StreamAdmin(url: server.url).messageCount("SFTP") == 1)
    }

    @Test func noServerListeningIsAConnectErrorNamingTheAddress() throws {
        let port = try NATSServer.start()
        let url = port.url
        port.stop()
        #expect {
            _ = try JetStreamPublisher(servers: [url], connectTimeout: .seconds(1))
        } throws: { error in
            guard let error = error as? JetStreamError else { return false }
            return error.code == .connect && error.description.contains("cannot connect to NATS at \(url)")
        }
    }
}

/// A replicas-3 stream on a three-server cluster, its leader stopped in the middle of a burst and
/// started again: the publisher (retrying each message until it is acknowledged, as the delivery
/// engine does) leaves every message in the stream exactly once.
@Suite(
    "JetStream cluster failover", .serialized,
    .requires(.natsServer))
struct JetStreamFailoverTests {
    @Test(.timeLimit(.minutes(3)))
    func aStreamLeaderStoppedMidBurstLosesAndDuplicatesNothing() async throws {
        let cluster = try NATSCluster()
        defer { cluster.stopAll() }
        let admin = try StreamAdmin(url: cluster.urls.joined(separator: ","))
        let publisher = try JetStreamPublisher(servers: cluster.urls)
        defer { publisher.close() }
        // The cluster elects its JetStream meta leader first; until then a stream cannot be added.
        let added = await pollUntil(within: .seconds(30)) {
            (try? publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"], replicas: 3))) != nil
        }
        try #require(added, "the cluster never accepted the stream")

        let total = 3000
        var stopped: String?
        var retries = 0
        for index in 0..<total {
            if index == total / 3 {
                let leader = try admin.streamLeader("SFTP")
                cluster.stop(leader)
                stopped = leader
            }
            if index == 2 * total / 3, let leader = stopped { try cluster.start(leader) }
            var attempts = 0
            while true {
                do {
                    _ = try await publisher.publish(
                        subject: "sftp.host.uploads.file.created", messageID: "event-\(index)",
                        body: Array("\(index)".utf8), timeout: .seconds(2))
                    break
                } catch {
                    attempts += 1
                    retries += 1
                    // A new leader is being elected: the retry waits a little, as a retry schedule would.
                    guard attempts < 100 else { throw error }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        #expect(stopped != nil)
        #expect(try admin.messageCount("SFTP") == UInt64(total), "retried \(retries) times")
        var ids = Set<String>()
        for sequence in 1...UInt64(total) {
            if let id = try admin.message("SFTP", sequence: sequence).headers["Nats-Msg-Id"] { ids.insert(id) }
        }
        #expect(ids.count == total && ids == Set((0..<total).map { "event-\($0)" }))
    }
}

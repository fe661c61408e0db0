import DrophookDelivery
import DrophookEvents
import DrophookNATS
import DrophookTestSupport
import Foundation
import Testing

/// The transport the delivery engine sees, against a real `nats-server`: what each outcome
/// becomes for the retry policy and the delivery log.
@Suite(
    "JetStream transport", .serialized,
    .requires(.natsServer))
struct JetStreamTransportTests {
    static func request(_ id: String, subject: String = "sftp.h.uploads.file.created") -> StreamMessage {
        StreamMessage(
            subject: subject, headers: [HTTPHeader("Content-Type", "application/json")], body: Array("{}".utf8), messageID: id,
            timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func aStoredMessageIsAcknowledgedAndARepeatIsMarkedDuplicate() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let transport = JetStreamTransport(
            .init(
                connection: .init(servers: [server.url]),
                createStream: .init(name: "SFTP", subjects: ["sftp.>"])))
        defer { transport.close() }
        guard case .acknowledged(let first) = await transport.publish(Self.request("event-1")),
            case .acknowledged(let again) = await transport.publish(Self.request("event-1"))
        else {
            Issue.record("both publishes should be acknowledged")
            return
        }
        #expect(first == StreamAcknowledgement(stream: "SFTP", sequence: 1, duplicate: false))
        #expect(again == StreamAcknowledgement(stream: "SFTP", sequence: 1, duplicate: true))
        #expect(RetryPolicy().classify(DeliveryOutcome.acknowledged(again)) == .delivered)
    }

    @Test(.timeLimit(.minutes(1)))
    func aFullStreamAndADeadServerAreRetriedFailuresThatSaySo() async throws {
        let server = try NATSServer.start()
        let admin = try StreamAdmin(url: server.url)
        try admin.capStream("SFTP", subjects: ["sftp.>"], maxMessages: 2)
        let transport = JetStreamTransport(.init(connection: .init(servers: [server.url], connectTimeout: .seconds(1))))
        defer { transport.close() }
        for id in ["a", "b"] {
            guard case .acknowledged = await transport.publish(Self.request(id)) else {
                Issue.record("\(id) should be stored")
                return
            }
        }
        guard case .failure(let full) = await transport.publish(Self.request("c")) else {
            Issue.record("a full stream that discards new messages must refuse the third")
            return
        }
        #expect(full.kind == .other, "\(full)")
        #expect(full.description.contains("JetStream refused the message on subject sftp.h.uploads.file.created"), "\(full)")
        // Retried on the endpoint's schedule (room may be made), never failed or disabled at once.
        #expect(RetryPolicy().classify(full) == .retry(reason: full.description, after: nil))

        server.stop()
        let dead = JetStreamTransport(.init(connection: .init(servers: [server.url], connectTimeout: .seconds(1))))
        guard case .failure(let unreachable) = await dead.publish(Self.request("d")) else {
            Issue.record("no server: the publish must fail")
            return
        }
        #expect(unreachable.kind == .connectFailure)
        #expect(unreachable.description.contains("cannot connect to NATS at \(server.url)"), "\(unreachable)")
    }

    /// No responder means no stream, or a stream without a leader: each failure says which, so
    /// an operator is never told to create a stream that exists.
    @Test(.timeLimit(.minutes(1)))
    func aSubjectNoStreamCapturesIsToldToMakeOne() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let transport = JetStreamTransport(
            .init(connection: .init(servers: [server.url]), createStream: .init(name: "SFTP", subjects: ["sftp.>"])))
        defer { transport.close() }
        guard case .failure(let failure) = await transport.publish(Self.request("x", subject: "files.created")) else {
            Issue.record("no stream captures files.created: the publish must fail")
            return
        }
        #expect(failure.message.hasPrefix("no JetStream stream captures subject files.created; create one"), "\(failure)")
    }

    @Test(.timeLimit(.minutes(2)))
    func aStreamWithoutALeaderIsNotCalledMissing() async throws {
        let cluster = try NATSCluster()
        defer { cluster.stopAll() }
        let admin = try StreamAdmin(url: cluster.urls.joined(separator: ","))
        let transport = JetStreamTransport(
            .init(connection: .init(servers: cluster.urls, connectTimeout: .seconds(1))))
        defer { transport.close() }
        let publisher = try JetStreamPublisher(servers: cluster.urls)
        defer { publisher.close() }
        let added = await pollUntil(within: .seconds(30)) {
            (try? publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"], replicas: 3))) != nil
        }
        try #require(added, "the cluster never accepted the stream")
        let stored = await pollUntil(within: .seconds(30)) {
            if case .acknowledged = await transport.publish(Self.request("first")) { return true }
            return false
        }
        try #require(stored)
        // The stream's leader and one more server stop: two of three replicas are gone, so no
        // leader can be elected until one returns.
        let leader = try admin.streamLeader("SFTP")
        cluster.stop(leader)
        if let other = cluster.names.first(where: { $0 != leader }) { cluster.stop(other) }
        guard case .failure(let failure) = await transport.publish(Self.request("second")) else {
            Issue.record("a stream without a leader cannot acknowledge")
            return
        }
        #expect(!failure.description.contains("no JetStream stream captures"), "\(failure)")
        #expect(failure.description.contains("no leader") || failure.description.contains("no acknowledgement"), "\(failure)")
        #expect(RetryPolicy().classify(failure) == .retry(reason: failure.description, after: nil))
    }
}

import DrophookAgent
import DrophookEvents
import DrophookNATS
import DrophookOutbox
import DrophookTestSupport
import Foundation
import GRDB
import Testing

/// The `drophook` binary publishing into real `nats-server`s with JetStream on loopback: one
/// message per event, stored exactly once through crashes and a stream leader's loss.
@Suite(
    "NATS JetStream destination", .serialized,
    .requires(.natsServer))
struct NATSDestinationTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// A `nats:` list for ``AgentUnderTest``'s top level (the webhooks list stays empty).
    static func nats(servers: [String], host: String = "sftp-a", extra: String = "") -> String {
        """
        nats:
          - name: fleet
            servers: [\(servers.joined(separator: ", "))]
            host: \(host)
            format: standard
            secret: \(secret)
            retry: [200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 500ms, 500ms, 500ms, 500ms, 500ms, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s]
            timeout: 2s
            connect_timeout: 1s
        \(extra)
        """
    }

    /// The created file's path in a Standard Webhooks body (nil for the burst's directories).
    static func path(_ body: [UInt8]) -> String? {
        let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        return ((json?["data"] as? [String: Any])?["path"] as? String).flatMap { $0.hasSuffix(".csv") ? $0 : nil }
    }

    /// Writes `count` files into `directory`, one folder per hundred.
    static func burst(
        _ count: Int, into directory: URL, prefix: String = "file", during: (Int) throws -> Void = { _ in }
    ) throws -> [String] {
        var written: [String] = []
        for index in 0..<count {
            let folder = directory.appendingPathComponent("d\(index / 100)")
            if index % 100 == 0 { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            let name = "d\(index / 100)/\(prefix)-\(String(format: "%05d", index)).csv"
            try Data("row \(index)\n".utf8).write(to: directory.appendingPathComponent(name))
            written.append(name)
            try during(index)
        }
        return written
    }

    /// Waits until the stream holds a message for each file of `written` and each directory
    /// the burst made (or the bound passes).
    static func waitForMessages(_ admin: StreamAdmin, _ stream: String, for written: [String], within limit: Duration) async -> Bool {
        let count = written.count + Set(written.map { $0.split(separator: "/")[0] }).count
        return await pollUntil(within: limit) { ((try? admin.messageCount(stream)) ?? 0) >= UInt64(count) }
    }

    /// Every file of `written` in the stream once, under one id each, and no other file; every
    /// message (the burst's directories too) under its own id.
    static func expectExactlyOnce(
        _ messages: [(subject: String, body: [UInt8], headers: [String: String])], _ written: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let paths = messages.compactMap { path($0.body) }
        let ids = Set(messages.compactMap { $0.headers["Nats-Msg-Id"] })
        #expect(paths.count == written.count, "\(paths.count) file messages for \(written.count) files", sourceLocation: sourceLocation)
        let missing = Set(written).subtracting(paths)
        #expect(missing.isEmpty, "\(missing.count) files missing, e.g. \(missing.sorted().prefix(3))", sourceLocation: sourceLocation)
        #expect(ids.count == messages.count, "\(messages.count - ids.count) messages repeat an event id", sourceLocation: sourceLocation)
    }

    @Test(.timeLimit(.minutes(2)))
    func aMissingStreamIsAClearErrorAndEventsWaitForIt() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let agent = try AgentUnderTest(webhooks: "  []", topLevelExtra: Self.nats(servers: [server.url]))
        defer { agent.cleanUp() }
        try await agent.start()
        let early = try Self.burst(3, into: agent.dropDirectory, prefix: "early")

        // No stream captures the subject yet: each attempt fails with the fix in its message.
        let explained = await pollUntil(within: .seconds(20)) {
            agent.log.contains("no JetStream stream captures subject sftp.sftp-a.uploads.file.created")
        }
        #expect(explained, "\(agent.log.suffix(2000))")
        let publisher = try JetStreamPublisher(servers: [server.url])
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))

        let admin = try StreamAdmin(url: server.url)
        let written = try early + Self.burst(500, into: agent.dropDirectory)
        #expect(await Self.waitForMessages(admin, "SFTP", for: written, within: .seconds(60)))
        let messages = try admin.messages("SFTP")
        Self.expectExactlyOnce(messages, written)

        // Headers and body as the format says, and the receiver's own check accepts them.
        let first = try #require(messages.first { Self.path($0.body) != nil })
        #expect(first.subject == "sftp.sftp-a.uploads.file.created")
        #expect(first.headers["Nats-Msg-Id"] == first.headers["webhook-id"], "\(first.headers)")
        #expect(first.headers["Content-Type"] == "application/json")
        let verifier = SignatureVerifier(secret: Array(Self.secret.utf8))
        let headers = first.headers.map { HTTPHeader($0.key, $0.value) }
        #expect(verifier.verify(body: first.body, headers: headers).isVerified)

        // `drophook ping` goes through the stream too, and its attempt shows the stream's ack.
        let ping = try AgentUnderTest.command(["ping", "fleet", "--config", agent.configFile.path])
        #expect(ping.status == 0, "\(ping.stdout)\(ping.stderr)")
        #expect(ping.stdout.contains("acknowledged by the stream SFTP, sequence "), "\(ping.stdout)")
        #expect(ping.stdout.contains("request   PUBLISH sftp.sftp-a._.webhook.ping"), "\(ping.stdout)")
        #expect(ping.stdout.contains("delivered  acknowledged by the stream"), "\(ping.stdout)")
        // The delivery log's JSON says it in the stream's terms too: a subject, not a URL, and
        // the acknowledgement where a webhook's HTTP response would be.
        let pingID = try #require(ping.stdout.split(separator: " ").dropFirst(2).first.map(String.init))
        let shown = try AgentUnderTest.command(["deliveries", pingID, "--json", "--config", agent.configFile.path])
        #expect(shown.stdout.contains(#""subject":"sftp.sftp-a._.webhook.ping""#), "\(shown.stdout)")
        #expect(shown.stdout.contains(#""response":null"#) && shown.stdout.contains(#""acknowledgement":{"stream":"SFTP","sequence":"#))
        #expect(!shown.stdout.contains(#""request":{"url""#), "\(shown.stdout)")
        // The list says the stream's sequence where a webhook's line has its HTTP status.
        let listed = try AgentUnderTest.command(["deliveries", "--endpoint", "fleet", "--json", "--config", agent.configFile.path])
        #expect(listed.stdout.contains(#""last_status":null,"last_sequence":"#), "\(listed.stdout)")
        let status = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(status.stdout.contains("nats fleet: "), "\(status.stdout)")
        let pinged = try admin.message("SFTP", sequence: admin.messageCount("SFTP"))
        #expect(pinged.subject == "sftp.sftp-a._.webhook.ping")
        #expect(agent.terminate() == 0)
    }

    /// Through the agent, as the README's failure-mode row says: with no server listening each
    /// attempt fails with `connectFailure` and the address, and the events wait; once a server
    /// listens but its stream is full, the stream's refusal is the reason; once the operator
    /// raises the cap, every event is in the stream once.
    @Test(.timeLimit(.minutes(2)))
    func noServerThenAFullStreamKeepEventsOwedUntilTheyFit() async throws {
        let port = try await EndToEndTests.freePort()
        let url = "nats://127.0.0.1:\(port)"
        let agent = try AgentUnderTest(webhooks: "  []", topLevelExtra: Self.nats(servers: [url]))
        defer { agent.cleanUp() }
        try await agent.start()
        let early = try Self.burst(3, into: agent.dropDirectory, prefix: "early")
        let noServer = "connectFailure: cannot connect to NATS at \(url)"
        let unreachable = try await pollUntil(within: .seconds(20)) {
            try AgentUnderTest.command(["deliveries", "--json", "--config", agent.configFile.path]).stdout.contains(noServer)
        }
        #expect(unreachable, "the delivery log names the address")
        #expect(agent.log.contains(noServer), "\(agent.log.suffix(2000))")

        // A server on that port, whose stream holds two messages and refuses the rest.
        let server = try NATSServer.start(port: port)
        defer { server.stop() }
        let admin = try StreamAdmin(url: server.url)
        try admin.capStream("SFTP", subjects: ["sftp.>"], maxMessages: 2)
        let refused = await pollUntil(within: .seconds(30)) {
            agent.log.contains("JetStream refused the message on subject sftp.sftp-a.uploads.")
        }
        #expect(refused, "\(agent.log.suffix(2000))")
        #expect(try admin.messageCount("SFTP") == 2)

        try admin.capStream("SFTP", subjects: ["sftp.>"], maxMessages: 1_000, update: true)
        #expect(await Self.waitForMessages(admin, "SFTP", for: early, within: .seconds(60)))
        #expect(await pollUntil(within: .seconds(30)) { AgentStatus.queued(agent) == 0 })
        Self.expectExactlyOnce(try admin.messages("SFTP"), early)
        #expect(agent.terminate() == 0)
    }

    /// CloudEvents binary mode on NATS: the attributes as `ce-` headers, the data as the body,
    /// the event id as both `ce-id` and `Nats-Msg-Id`.
    @Test(.timeLimit(.minutes(1)))
    func cloudEventsTravelAsCEHeadersAndData() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let agent = try AgentUnderTest(
            webhooks: "  []",
            topLevelExtra: """
                nats:
                  - name: events
                    servers: [\(server.url)]
                    subject: ce.{host}.{topic}
                    host: sftp.eu-1
                    format: cloudevents
                    cloudevents_mode: binary
                    create_stream: {name: CE}
                """)
        defer { agent.cleanUp() }
        try await agent.start()
        try Data("a,b\n".utf8).write(to: agent.dropDirectory.appendingPathComponent("report.csv"))
        let admin = try StreamAdmin(url: server.url)
        #expect(await pollUntil(within: .seconds(20)) { ((try? admin.messageCount("CE")) ?? 0) >= 1 })
        let message = try admin.message("CE", sequence: 1)
        // The host's dot would split the subject token: it becomes `_`.
        #expect(message.subject == "ce.sftp_eu-1.file.created")
        #expect(message.headers["ce-id"] == message.headers["Nats-Msg-Id"] && message.headers["ce-id"] != nil, "\(message.headers)")
        #expect(message.headers["ce-type"] == "io.drophook.file.created", "\(message.headers)")
        #expect(message.headers["ce-specversion"] == "1.0")
        #expect(message.headers["Content-Type"] == "application/json")
        let data = try JSONSerialization.jsonObject(with: Data(message.body)) as? [String: Any]
        #expect(data?["path"] as? String == "report.csv", "\(String(decoding: message.body, as: UTF8.self))")
        #expect(agent.terminate() == 0)
    }

    /// A fleet host as `nsc` provisions it: a `.creds` file, which `run` refuses while every user
    /// may read it, and publishes with once it is the agent's own.
    @Test(.timeLimit(.minutes(1)))
    func aHostPublishesWithItsCredentialsFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-fleet-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let credentials = try NATSCredentials(directory: directory)
        let server = try NATSServer.start(["-c", credentials.serverConfig])
        defer { server.stop() }
        let agent = try AgentUnderTest(
            webhooks: "  []",
            topLevelExtra: Self.nats(
                servers: [server.url],
                extra: """
                        credentials_file: \(credentials.userCredentials)
                        create_stream: {name: SFTP}
                    """))
        defer { agent.cleanUp() }

        chmod(credentials.userCredentials, 0o644)
        let refused = try AgentUnderTest.command(["check", "--config", agent.configFile.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("chmod o-rwx \(credentials.userCredentials)"), "\(refused.stderr)")
        chmod(credentials.userCredentials, 0o600)

        try await agent.start()
        let written = try Self.burst(20, into: agent.dropDirectory)
        let admin = try StreamAdmin(url: server.url, credentialsFile: credentials.userCredentials)
        #expect(await Self.waitForMessages(admin, "SFTP", for: written, within: .seconds(20)))
        Self.expectExactlyOnce(try admin.messages("SFTP"), written)
        #expect(agent.terminate() == 0)
    }

    /// SIGHUP with the entry moved to another server: later events go there; what was
    /// published before stays where it was, once.
    @Test(.timeLimit(.minutes(1)))
    func aReloadMovesTheDestinationToItsNewServers() async throws {
        let first = try NATSServer.start()
        defer { first.stop() }
        let second = try NATSServer.start()
        defer { second.stop() }
        let agent = try AgentUnderTest(
            webhooks: "  []", topLevelExtra: Self.nats(servers: [first.url], extra: "    create_stream: {name: SFTP}"))
        defer { agent.cleanUp() }
        try await agent.start()
        let before = try Self.burst(10, into: agent.dropDirectory, prefix: "before")
        let firstAdmin = try StreamAdmin(url: first.url)
        #expect(await Self.waitForMessages(firstAdmin, "SFTP", for: before, within: .seconds(20)))

        let config = try String(contentsOf: agent.configFile, encoding: .utf8).replacingOccurrences(of: first.url, with: second.url)
        try config.write(to: agent.configFile, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(await pollUntil(within: .seconds(20)) { agent.log.contains("reloaded") })
        let after = try Self.burst(10, into: agent.dropDirectory.appendingPathComponent("later"), prefix: "after").map { "later/" + $0 }
        let secondAdmin = try StreamAdmin(url: second.url)
        // The files and the two directories the burst made (`later`, `later/d0`).
        #expect(await pollUntil(within: .seconds(20)) { ((try? secondAdmin.messageCount("SFTP")) ?? 0) >= UInt64(after.count + 2) })
        Self.expectExactlyOnce(try secondAdmin.messages("SFTP"), after)
        Self.expectExactlyOnce(try firstAdmin.messages("SFTP"), before)
        #expect(agent.terminate() == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func killNineMidBurstLeavesEachEventInTheStreamOnce() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let agent = try AgentUnderTest(
            webhooks: "  []",
            topLevelExtra: Self.nats(
                servers: [server.url],
                extra: """
                        create_stream: {name: SFTP}
                        concurrency: 16
                    """))
        defer { agent.cleanUp() }
        try await agent.start()
        let admin = try StreamAdmin(url: server.url)

        let total = 3000
        var killed = false
        let outboxFile = agent.stateDirectory.appendingPathComponent(Outbox.fileName).path
        let written = try Self.burst(total, into: agent.dropDirectory) { index in
            // Once publishing is under way (and again every hundred files until it works): the
            // test takes the outbox's write lock, so no ack can be recorded from then on. A
            // message the stream stores after that is published but not marked delivered, so
            // the kill leaves at least one event that the restart sends again.
            guard !killed, index >= total / 3, index % 100 == 0, (try? admin.messageCount("SFTP")) ?? 0 > 0 else { return }
            killed = try Self.killWithAnUnrecordedPublish(agent, outbox: outboxFile, admin: admin)
        }
        #expect(killed, "a kill with a publish in flight")
        try await agent.start(timeout: .seconds(60))
        #expect(await Self.waitForMessages(admin, "SFTP", for: written, within: .seconds(120)))
        // Anything republished after the restart is dropped by the duplicate window; wait for
        // the outbox to have nothing owed before counting.
        #expect(await pollUntil(within: .seconds(30)) { AgentStatus.queued(agent) == 0 })
        Self.expectExactlyOnce(try admin.messages("SFTP"), written)
        // The duplicate window was exercised, not merely available: the stream answered at
        // least one republished event as a duplicate, and the delivery log kept that ack.
        let duplicates = try await DatabaseQueue(path: outboxFile).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM attempt WHERE stream_duplicate = 1") ?? 0
        }
        #expect(duplicates >= 1, "no publish was answered as a duplicate")
        #expect(agent.terminate() == 0)
    }

    /// Holds the outbox's write lock until the stream stores one more message (so one ack can
    /// no longer be recorded), then kills the agent with `SIGKILL` and lets the lock go.
    /// Returns false, lock released and agent running, when nothing more arrives within a
    /// second: the worker had nothing in flight at that moment.
    static func killWithAnUnrecordedPublish(_ agent: AgentUnderTest, outbox: String, admin: StreamAdmin) throws -> Bool {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true // the lock spans two accesses on purpose
        configuration.busyMode = .timeout(10) // the agent commits often; wait for a gap
        let lock = try DatabaseQueue(path: outbox, configuration: configuration)
        try lock.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        let atLock = try admin.messageCount("SFTP")
        let deadline = ContinuousClock.now + .seconds(1)
        var grew = false
        // No event marks a message stored; the stream's count is read in 10 ms steps.
        while !grew, ContinuousClock.now < deadline {
            grew = try admin.messageCount("SFTP") > atLock
            if !grew { usleep(10_000) }
        }
        if grew { agent.kill9() }
        try lock.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        try lock.close()
        return grew
    }

    @Test(.timeLimit(.minutes(5)))
    func aStreamLeaderStoppedMidBurstLosesAndDuplicatesNothing() async throws {
        let cluster = try NATSCluster()
        defer { cluster.stopAll() }
        let agent = try AgentUnderTest(
            webhooks: "  []",
            topLevelExtra: Self.nats(
                servers: cluster.urls,
                extra: """
                        create_stream: {name: SFTP, replicas: 3}
                        concurrency: 16
                    """))
        defer { agent.cleanUp() }
        try await agent.start()
        let admin = try StreamAdmin(url: cluster.urls.joined(separator: ","))

        let total = 5000
        var stopped: String?
        var restarted = false
        let written = try Self.burst(total, into: agent.dropDirectory) { index in
            let stored = (try? admin.messageCount("SFTP")) ?? 0
            if stopped == nil, index >= total / 3, stored > 0 {
                let leader = try admin.streamLeader("SFTP")
                cluster.stop(leader)
                stopped = leader
            }
            if let leader = stopped, !restarted, index >= 2 * total / 3 {
                try cluster.start(leader)
                restarted = true
            }
        }
        if let leader = stopped, !restarted { try cluster.start(leader) }
        #expect(stopped != nil, "the stream never stored a message during the burst")
        #expect(await Self.waitForMessages(admin, "SFTP", for: written, within: .seconds(180)))
        #expect(await pollUntil(within: .seconds(60)) { AgentStatus.queued(agent) == 0 })
        Self.expectExactlyOnce(try admin.messages("SFTP"), written)
        #expect(AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.endpoints.first?.failed == 0, "no delivery gave up")
        #expect(agent.terminate() == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func twoHostsShareOneStreamEachInItsOwnOrder() async throws {
        let server = try NATSServer.start()
        defer { server.stop() }
        let publisher = try JetStreamPublisher(servers: [server.url])
        defer { publisher.close() }
        try publisher.ensureStream(.init(name: "SFTP", subjects: ["sftp.>"]))
        let hosts = ["sftp-eu-1", "sftp-us-1"]
        let agents = try hosts.map { host in
            try AgentUnderTest(webhooks: "  []", topLevelExtra: Self.nats(servers: [server.url], host: host, extra: "    ordered: true"))
        }
        defer { agents.forEach { $0.cleanUp() } }
        let perHost = 300
        for agent in agents {
            // Directories made before the start: files found by a new directory's first scan
            // come in directory order, not the order they were written in.
            for folder in 0..<(perHost / 100) {
                try FileManager.default.createDirectory(
                    at: agent.dropDirectory.appendingPathComponent("d\(folder)"), withIntermediateDirectories: true)
            }
            try await agent.start()
        }

        var written: [String: [String]] = [:]
        for (host, agent) in zip(hosts, agents) {
            written[host] = try Self.burst(perHost, into: agent.dropDirectory, prefix: host)
        }
        let admin = try StreamAdmin(url: server.url)
        let files = perHost * hosts.count
        #expect(await pollUntil(within: .seconds(90)) { ((try? admin.messageCount("SFTP")) ?? 0) >= UInt64(files) })
        let messages = try admin.messages("SFTP")
        for host in hosts {
            // A consumer filtering on the host's subjects sees its files in the order they landed.
            let seen = messages.filter { $0.subject.hasPrefix("sftp.\(host).uploads.") }.compactMap { Self.path($0.body) }
            #expect(seen == written[host], "host \(host): \(seen.count) files, starting \(seen.prefix(3))")
        }
        for agent in agents { #expect(agent.terminate() == 0) }
    }
}

extension AgentStatus {
    /// Deliveries the agent still owes, from its status file; nil when it cannot be read.
    static func queued(_ agent: AgentUnderTest) -> Int? {
        guard let status = read(stateDirectory: agent.stateDirectory.path) else { return nil }
        return status.endpoints.map(\.pending).reduce(0, +)
    }
}

import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import FoundationNetworking
import Testing

/// The whole agent as a user runs it: files dropped into a real tree, signed POSTs received
/// on a real loopback server.
@Suite("End to end", .serialized)
struct EndToEndTests {
    static let secret = "e2e-secret"

    static func webhooks(_ receiver: RunningReceiver, extra: String = "") -> String {
        """
          - name: ops
            url: \(receiver.baseURL)/sftptogo
            format: sftptogo
            topics: [file.created, file.deleted]
            secret: \(secret)
            authorization: "Bearer e2e-token"
            headers: {X-Team: storage}
            retry: [100ms, 200ms]
          - name: pipeline
            url: \(receiver.baseURL)/rilavek
            format: rilavek
            secret: \(secret)
            retry: [100ms, 200ms]
        \(extra)
        """
    }

    @Test func droppedFilesArriveAsSignedWebhooksInBothShapes() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        let agent = try AgentUnderTest(webhooks: Self.webhooks(receiver))
        defer { agent.cleanUp() }
        try await agent.start()

        let content = Data("invoice,total\n1,100\n".utf8)
        try content.write(to: agent.dropDirectory.appendingPathComponent("invoice.csv"))
        try FileManager.default.createDirectory(at: agent.dropDirectory.appendingPathComponent("batch"), withIntermediateDirectories: false)
        // WinSCP style: upload under a temp name, then rename to the final name.
        let temp = agent.dropDirectory.appendingPathComponent("batch/report.pdf.filepart")
        try Data(repeating: 7, count: 4096).write(to: temp)
        try FileManager.default.moveItem(at: temp, to: agent.dropDirectory.appendingPathComponent("batch/report.pdf"))

        // sftptogo: invoice.csv, batch/, batch/report.pdf; rilavek: invoice.csv, report.pdf.
        var received = try await receiver.waitForWebhooks(count: 5, timeout: .seconds(20))
        try FileManager.default.removeItem(at: agent.dropDirectory.appendingPathComponent("invoice.csv"))
        received = try await receiver.waitForWebhooks(count: 6, timeout: .seconds(20))

        for webhook in received {
            #expect(webhook.method == "POST")
            #expect(webhook.signatureVerified == true, "signature of \(webhook.summary)")
            #expect(webhook.header("Content-Type") == "application/json")
        }
        let sftp = received.filter { $0.path == "/sftptogo" }
        let rilavek = received.filter { $0.path == "/rilavek" }
        #expect(sftp.count == 4)
        #expect(rilavek.count == 2)

        let created = try #require(sftp.first { $0.json?["Data"]?["Path"]?.stringValue == "invoice.csv" && $0.topic == "file.created" })
        #expect(created.header("Authorization") == "Bearer e2e-token")
        #expect(created.header("X-Team") == "storage")
        // The signature header is base64 HMAC-SHA256 of the exact body bytes.
        let expected = Base64.encode(LibCrypto.hmacSHA256(key: Array(Self.secret.utf8), message: created.body))
        #expect(created.header("X-Hub-Signature") == expected)
        let json = try #require(created.json)
        #expect(json["Data"]?["Size"]?.intValue == Int64(content.count))
        #expect(json["Resource"]?.stringValue == "File")
        #expect(json["PreviousData"]?.isNull == true)
        #expect(json["Actor"]?["Type"]?.stringValue == "User")
        #expect(json["Actor"]?["Id"]?.stringValue == NSUserName())
        #expect(json["Metadata"]?["Organization"]?["Id"]?.stringValue == "d57060b1-23fe-2d59-afd0-7f56d9e1fc55")
        #expect(json["Metadata"]?["Event"]?["Id"]?.stringValue == json["Id"]?.stringValue)
        #expect(json["Metadata"]?["Event"]?["Topic"]?.stringValue == "file.created")
        #expect(json["CreatedAt"]?.intValue == json["UpdatedAt"]?.intValue)

        #expect(sftp.contains { $0.json?["Data"]?["Path"]?.stringValue == "batch/" && $0.topic == "file.created" })
        #expect(
            sftp.contains { $0.json?["Data"]?["Path"]?.stringValue == "batch/report.pdf" && $0.json?["Data"]?["Size"]?.intValue == 4096 })
        let deleted = try #require(sftp.first { $0.topic == "file.deleted" })
        #expect(deleted.json?["Data"]?["Path"]?.stringValue == "invoice.csv")
        #expect(deleted.json?["Data"]?["Size"]?.isNull == true)
        // No temp name ever reaches a receiver.
        #expect(!received.contains { String(decoding: $0.body, as: UTF8.self).contains(".filepart") })

        let transferred = try #require(rilavek.first { $0.json?["data"]?["filename"]?.stringValue == "report.pdf" })
        #expect(transferred.json?["event"]?.stringValue == "file.status_changed")
        #expect(transferred.json?["data"]?["status"]?.stringValue == "transferred")
        #expect(transferred.json?["data"]?["pipe_id"]?.stringValue == "pip_123456789")
        #expect(transferred.json?["data"]?["size"]?.intValue == 4096)
        let hexSignature = Hex.encode(LibCrypto.hmacSHA256(key: Array(Self.secret.utf8), message: transferred.body))
        #expect(transferred.header("X-Rilavek-Signature") == hexSignature)

        #expect(agent.terminate() == 0)
        await receiver.stop()
    }

    @Test func checkListsEveryMistakeOnItsOwnLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-check-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("bad.yaml")
        try """
        watches:
          - name: uploads
            path: \(folder.path)/missing
            actor: someone
        webhooks:
          - name: ops
            url: hooks.example.com
            format: sftptogo
            secret_file: \(folder.path)/nope.secret
            timeot: 5s
        """.write(to: file, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try AgentUnderTest.command(["check", "--config", file.path])
        #expect(status != 0)
        let lines = stderr.split(separator: "\n")
        #expect(lines.count == 4, "\(stderr)")
        for line in lines { #expect(line.hasPrefix("\(file.path):")) }
        #expect(stderr.contains("webhooks[0].timeot: unknown key; did you mean 'timeout'?"))
        #expect(stderr.contains("webhooks[0].url"))
        #expect(stderr.contains("webhooks[0].secret_file"))
        #expect(stderr.contains("watches[0].actor"))

        // Once the config is right, check goes on to the paths: the missing root is named, as a
        // warning (it is watched when it appears); a state directory that is a file is an error.
        try """
        watches:
          - name: uploads
            path: \(folder.path)/missing
        webhooks: []
        state_dir: \(folder.path)/bad.yaml
        """.write(to: file, atomically: true, encoding: .utf8)
        let second = try AgentUnderTest.command(["check", "--config", file.path])
        #expect(second.status == 1)
        #expect(
            second.stderr.contains(
                "warning: \(folder.path)/missing: watch uploads: root \(folder.path)/missing does not exist yet; it is watched when it appears"
            ), "\(second)")
        #expect(second.stderr.contains("error: \(folder.path)/bad.yaml: state_dir is not a directory"), "\(second)")
    }

    @Test func metricsAndHealthAreServedOnTheConfiguredAddress() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        let port = try await Self.freePort()
        let agent = try AgentUnderTest(webhooks: Self.webhooks(receiver), topLevelExtra: "metrics: {listen: 127.0.0.1:\(port)}")
        defer { agent.cleanUp() }
        try await agent.start()
        try Data("m".utf8).write(to: agent.dropDirectory.appendingPathComponent("m.txt"))
        _ = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(20))

        let (metrics, metricsResponse) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        #expect((metricsResponse as? HTTPURLResponse)?.statusCode == 200)
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("drophook_inotify_watched_directories 1"))
        #expect(text.contains("drophook_inotify_overflows_total 0"))
        let leaseGauge = getuid() == 0 ? 1 : 0
        #expect(text.contains("drophook_watch_completion_lease{watch=\"uploads\"} \(leaseGauge)"), "\(text)")
        // The one file was delivered once to ops: the counter says 1 once the attempt is
        // recorded, which may be just after the receiver had the request.
        let endpoints = AgentEndpoints(port: port)
        let counted = await pollUntil(within: .seconds(10)) {
            (try? await endpoints.metric("drophook_deliveries_delivered_total{endpoint=\"ops\"}")) == 1
        }
        #expect(counted, "\(text)")

        let (health, healthResponse) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!)
        #expect((healthResponse as? HTTPURLResponse)?.statusCode == 200)
        let status = try JSONDecoder().decode(AgentStatusView.self, from: health)
        #expect(status.ready)
        #expect(status.endpoints.map(\.name) == ["ops", "pipeline"])
        _ = agent.terminate()
        await receiver.stop()
    }

    /// The fields of `/health` a monitoring check reads.
    struct AgentStatusView: Decodable {
        struct Endpoint: Decodable { var name: String }
        var ready: Bool
        var endpoints: [Endpoint]
    }

    /// A port nothing listens on right now (bound, read, released).
    static func freePort() async throws -> Int {
        let probe = try await WebhookReceiver.start()
        let port = probe.port
        await probe.stop()
        return port
    }
}

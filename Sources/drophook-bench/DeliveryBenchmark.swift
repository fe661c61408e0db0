import DrophookDelivery
import DrophookEvents
import DrophookNATS
import DrophookOutbox
import DrophookReceiver
import Foundation
import Logging

/// Throughput of the outbox (append, claim + record) and of the delivery engine end to end
/// over real HTTP on 127.0.0.1. `drophook-bench delivery [events=10000]`.
struct DeliveryBenchmark {
    var events: Int

    func run() async throws {
        print("| measurement | events | batch | time (s) | per second | commits |")
        print("|---|---|---|---|---|---|")
        for batch in [1, 100, 1000] {
            let count = batch == 1 ? min(events, 2000) : events
            try appendRate(count: count, batch: batch)
        }
        try claimAndRecordRate(count: events)
        for concurrency in [1, 8] {
            try await engineRate(count: min(events, 5000), concurrency: concurrency)
        }
        print("peak RSS: \(peakRSSMegabytes()) MiB")
    }

    func fresh() throws -> (Outbox, String) {
        let dir = NSTemporaryDirectory() + "drophook-bench-\(UUID().uuidString.lowercased())"
        return (try Outbox(stateDirectory: dir), dir)
    }

    func makeEvents(_ count: Int) -> [FileEvent] {
        (0..<count).map {
            FileEvent(
                id: Outbox.newID(), kind: .created, watch: "uploads", path: "in/file-\($0).csv", size: 1234,
                actor: "alice", occurredAtMillis: Outbox.nowMillis())
        }
    }

    func appendRate(count: Int, batch: Int) throws {
        let (outbox, dir) = try fresh()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let all = makeEvents(count)
        let start = ContinuousClock.now
        var commits = 0
        for chunk in stride(from: 0, to: count, by: batch) {
            let events = Array(all[chunk..<min(chunk + batch, count)])
            let delta = SnapshotDelta(
                upserts: events.map {
                    SnapshotRecord(watch: $0.watch, path: $0.path, isDirectory: false, inode: 1, size: 1234, mtimeNanos: 0)
                })
            try outbox.append(WatchBatch(events: events, snapshot: delta)) { _ in ["a", "b"] }
            commits += 1
        }
        report("append (2 endpoints, snapshot)", count, batch, ContinuousClock.now - start, commits)
    }

    func claimAndRecordRate(count: Int) throws {
        let (outbox, dir) = try fresh()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try outbox.append(WatchBatch(events: makeEvents(count))) { _ in ["a"] }
        let start = ContinuousClock.now
        var commits = 0
        while true {
            let jobs = try outbox.claimDueDeliveries(endpoint: "a", limit: 8)
            commits += 1
            if jobs.isEmpty { break }
            for job in jobs {
                try outbox.recordAttempt(
                    AttemptRecord(
                        id: Outbox.newID(), deliveryID: job.deliveryID, number: 1, startedAtMillis: Outbox.nowMillis(),
                        durationMillis: 1, target: .url("http://127.0.0.1/x"),
                        requestHeaders: [HTTPHeader("Content-Type", "application/json")],
                        requestBody: Array(repeating: 65, count: 600), responseStatus: 204, result: .delivered
                    ), endpoint: "a", transition: .delivered)
                commits += 1
            }
        }
        report("claim 8 + record each", count, 8, ContinuousClock.now - start, commits)
    }

    /// The delivery engine draining `count` events from a fresh outbox: POSTed to an HTTP
    /// receiver on 127.0.0.1, or (`stream`) published through a JetStream transport.
    func engineRate(count: Int, concurrency: Int, stream: JetStreamTransport? = nil) async throws {
        let (outbox, dir) = try fresh()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(historyLimit: 10))
        let transport = CurlTransport()
        let endpoint = EndpointConfiguration(
            name: "a", webhookID: Outbox.newID(),
            destination: stream.map {
                .stream(.init(transport: $0, servers: $0.settings.connection.servers) { watch, topic in "sftp.bench.\(watch).\(topic)" })
            } ?? .webhook(url: receiver.baseURL + "/hook"),
            format: SFTPToGoFormat(), secret: Array("secret".utf8), concurrency: concurrency
        )
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let engine = DeliveryEngine(outbox: outbox, transport: transport, endpoints: [endpoint], logger: logger)
        let task = Task { try await engine.run() }
        let start = ContinuousClock.now
        let result = try await outbox.append(WatchBatch(events: makeEvents(count)), route: EndpointConfiguration.route([endpoint]))
        engine.wake(endpoints: result.endpoints)
        if stream == nil { _ = try await receiver.waitForWebhooks(count: count, timeout: .seconds(600)) }
        while try outbox.queueDepth(endpoint: "a") > 0 { try await Task.sleep(for: .milliseconds(5)) }
        let elapsed = ContinuousClock.now - start
        task.cancel()
        try await task.value
        await transport.shutdown()
        await receiver.stop()
        report(
            "engine → \(stream == nil ? "HTTP receiver" : "JetStream (acknowledged)"), concurrency \(concurrency)", count, count, elapsed,
            nil)
    }

    /// One table row; `commits` is nil where the engine groups them and does not say how many.
    func report(_ name: String, _ count: Int, _ batch: Int, _ elapsed: Duration, _ commits: Int?) {
        let seconds = elapsed.secondsDouble
        print(
            "| \(name) | \(count) | \(batch) | \(String(format: "%.2f", seconds)) | \(Int(Double(count) / seconds)) | \(commits.map(String.init) ?? "grouped") |"
        )
    }

    func peakRSSMegabytes() -> Int { procStatusKiB("VmHWM:") / 1024 }
}

import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// An outbox in a fresh temp dir and a running delivery engine; stops and cleans up on `finish()`.
final class EngineHarness: Sendable {
    let directory: String
    let outbox: Outbox
    let engine: DeliveryEngine
    private let task: Task<Void, any Error>

    init(
        endpoints: [EndpointConfiguration],
        transport: any WebhookTransport,
        pollInterval: Duration = .milliseconds(200),
        outboxConfiguration: Outbox.Configuration = .init(),
        recordRetryDelays: [Duration] = DeliveryEngine.Configuration().recordRetryDelays,
        logger: Logger? = nil,
        clock: DeliveryClock = .system
    ) throws {
        directory = NSTemporaryDirectory() + "drophook-engine-\(UUID().uuidString.lowercased())"
        outbox = try Outbox(stateDirectory: directory, configuration: outboxConfiguration)
        let logger =
            logger
            ?? {
                var quiet = Logger(label: "drophook.test.delivery")
                quiet.logLevel = .critical
                return quiet
            }()
        engine = DeliveryEngine(
            outbox: outbox,
            transport: transport,
            endpoints: endpoints,
            configuration: .init(
                organizationID: "org-1", watches: ["uploads": WatchOrigin(pipeID: "pipe-1")], pollInterval: pollInterval,
                recordRetryDelays: recordRetryDelays
            ),
            logger: logger,
            clock: clock
        )
        let engine = self.engine
        task = Task { try await engine.run() }
    }

    /// Appends events for the endpoints that accept them and wakes the engine, as the agent does.
    @discardableResult
    func append(_ events: [FileEvent], endpoints: [EndpointConfiguration]) throws -> Outbox.AppendResult {
        let result = try outbox.append(WatchBatch(events: events), route: EndpointConfiguration.route(endpoints))
        engine.wake(endpoints: result.endpoints)
        return result
    }

    /// Returns once the endpoint's worker has finished a look at its queue that began after this
    /// call: what it would send now has been claimed and started. Shows "nothing was sent" by an
    /// event (the worker's look) instead of a guessed sleep.
    func workerHasLooked(_ endpoint: String) async throws {
        let start = engine.queueLooks(endpoint: endpoint) ?? 0
        engine.wake(endpoints: [endpoint])
        try await eventually("worker \(endpoint) looked at its queue") {
            (engine.queueLooks(endpoint: endpoint) ?? 0) >= start + 2
        }
    }

    /// Cancels the engine as SIGTERM would and waits for it to return. The outbox stays readable.
    func finish() async throws {
        task.cancel()
        try await task.value
    }

    deinit {
        // A test that failed half-way still stops its engine and removes its files.
        task.cancel()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Waits (``pollUntil(within:_:)``) until `condition` holds, failing the test and throwing
/// after `timeout`; polling stands in for an event the outbox cannot push (its state lives in
/// SQLite).
func eventually(
    timeout: Duration = .seconds(10),
    _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () throws -> Bool
) async throws {
    if try await pollUntil(within: timeout, condition) { return }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

func testEvent(_ kind: FileEvent.Kind = .created, path: String, watch: String = "uploads") -> FileEvent {
    FileEvent(
        id: Outbox.newID(), kind: kind, watch: watch, path: path, size: 5, actor: "alice",
        occurredAtMillis: Outbox.nowMillis()
    )
}

func testEndpoint(
    _ name: String,
    url: String,
    schedule: [Duration] = [.milliseconds(50), .milliseconds(50), .milliseconds(50), .milliseconds(50)],
    ordered: Bool = false,
    paused: Bool = false,
    concurrency: Int = 8,
    disableAfter: Duration? = nil,
    totalTimeout: Duration = .seconds(5)
) -> EndpointConfiguration {
    EndpointConfiguration(
        name: name,
        webhookID: Outbox.newID(),
        destination: .webhook(url: url),
        format: SFTPToGoFormat(),
        topics: [.fileCreated, .fileDeleted],
        secret: Array("s3cret".utf8),
        authorization: "Bearer token-\(name)",
        extraHeaders: [HTTPHeader("X-Team", "ops")],
        retrySchedule: RetrySchedule(delays: schedule, jitter: 0),
        transport: TransportOptions(connectTimeout: .seconds(2), totalTimeout: totalTimeout),
        concurrency: concurrency,
        ordered: ordered,
        paused: paused,
        disableAfter: disableAfter
    )
}

/// The ids an SFTP To Go body carries: event id, delivery id and attempt id.
struct CarriedIDs: Hashable {
    var event: String
    var delivery: String
    var attempt: String
    var path: String

    init(body: [UInt8]) throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let metadata = try #require(json["Metadata"] as? [String: Any])
        let data = try #require(json["Data"] as? [String: Any])
        event = try #require(json["Id"] as? String)
        delivery = try #require((metadata["Delivery"] as? [String: Any])?["Id"] as? String)
        attempt = try #require((metadata["Attempt"] as? [String: Any])?["Id"] as? String)
        path = try #require(data["Path"] as? String)
    }
}

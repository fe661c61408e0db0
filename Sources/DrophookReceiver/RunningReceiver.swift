import DrophookEvents
import ServiceLifecycle

/// A started receiver: where it listens, what it has received, and how to stop it.
public final class RunningReceiver: Sendable {
    public let host: String
    /// The bound port (the kernel's choice when the configuration asked for 0).
    public let port: Int
    private let inbox: WebhookInbox
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    init(host: String, port: Int, inbox: WebhookInbox, group: ServiceGroup, task: Task<Void, Never>) {
        self.host = host
        self.port = port
        self.inbox = inbox
        self.group = group
        self.task = task
    }

    /// Base URL of the receiver, e.g. `http://127.0.0.1:40123`; append a path to it.
    public var baseURL: String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    /// Every webhook as it arrives, for one consumer (`drophook listen` prints from it).
    /// Finishes when the receiver stops.
    public var webhooks: AsyncStream<ReceivedWebhook> { inbox.stream }

    /// The webhooks received so far (the most recent ones, up to the configured history limit).
    public var received: [ReceivedWebhook] { inbox.history }

    /// How many webhooks have arrived since start, including any dropped from the history.
    public var receivedCount: Int { inbox.total }

    /// Waits until at least `count` webhooks have arrived in total and returns the history.
    ///
    /// - Throws: ``ReceiverError`` with code `timedOut` when the deadline passes first or the
    ///   receiver stops; `CancellationError` if the waiting task is cancelled.
    public func waitForWebhooks(count: Int, timeout: Duration = .seconds(10)) async throws -> [ReceivedWebhook] {
        try await inbox.wait(forTotal: count, timeout: timeout)
    }

    /// Replaces the response script for requests that arrive from now on.
    public func setScript(_ script: ResponseScript) {
        inbox.setScript(script)
    }

    /// Stops listening, ends held replies, and waits for the server to shut down.
    /// Stopping twice is harmless.
    public func stop() async {
        inbox.stop()
        await group.triggerGracefulShutdown()
        // A client that keeps a connection open without sending could hold graceful shutdown
        // forever; after a grace period the server is cancelled instead.
        let task = self.task
        let watchdog = Task {
            try await Task.sleep(for: .seconds(5))
            task.cancel()
        }
        await task.value
        watchdog.cancel()
    }
}

import DrophookEvents
import Hummingbird
import Logging
import ServiceLifecycle

/// A loopback HTTP server that records webhooks and answers them as scripted: what
/// `drophook listen` shows a user, and the far end of end-to-end delivery tests.
public enum WebhookReceiver {
    /// Starts a receiver in the background and returns once it is listening.
    ///
    /// - Throws: ``ReceiverError`` with code `startFailed` if the address cannot be bound.
    public static func start(_ configuration: ReceiverConfiguration = .init()) async throws -> RunningReceiver {
        let inbox = WebhookInbox(script: configuration.script, historyLimit: configuration.historyLimit)
        let responder = ReceiverResponder(
            inbox: inbox,
            verifier: configuration.secret.map { SignatureVerifier(secret: $0) },
            maxBodyBytes: configuration.maxBodyBytes
        )
        // The bound port is only known once the server runs; the first value on this stream
        // is either that port or the error that stopped the server from starting.
        let (started, startedContinuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        var logger = Logger(label: "drophook.receiver")
        logger.logLevel = .warning
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "drophook-receiver"),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port {
                    startedContinuation.yield(.success(port))
                } else {
                    startedContinuation.yield(
                        .failure(ReceiverError(code: .startFailed, description: "receiver on \(configuration.host) has no bound port")))
                }
            },
            logger: logger
        )
        // A service group of its own lets `stop()` shut down gracefully: open connections finish
        // their reply and close, instead of being torn down by cancellation mid-response.
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task {
            do {
                try await group.run()
            } catch {
                startedContinuation.yield(.failure(error))
            }
            startedContinuation.finish()
        }
        var iterator = started.makeAsyncIterator()
        switch await iterator.next() {
        case .success(let port)?:
            return RunningReceiver(host: configuration.host, port: port, inbox: inbox, group: group, task: task)
        case .failure(let error)?:
            task.cancel()
            throw ReceiverError(
                code: .startFailed,
                description:
                    "receiver could not listen on \(configuration.host):\(configuration.port): \(error); choose another host or port")
        case nil:
            throw ReceiverError(
                code: .startFailed, description: "receiver on \(configuration.host):\(configuration.port) stopped before listening")
        }
    }
}

import Dispatch
import DrophookDelivery
import DrophookEvents
import Synchronization

/// A NATS JetStream destination as the delivery engine sees it: a stream transport beside curl.
///
/// Each message is published on its subject with the format's headers and body and the
/// event's id as `Nats-Msg-Id`, and counts as delivered only once the stream has acknowledged
/// it; the delivery log records the acknowledgement (stream and sequence) as it came.
/// Every failure is a retried ``TransportFailure`` whose message says what to fix, so events
/// wait in the outbox (not in memory) while the stream is missing, full or unreachable.
///
/// The connection is made at the first publish and kept; libnats reconnects it on its own. A
/// server that cannot be reached at first is tried again at the next attempt.
public final class JetStreamTransport: StreamTransport {
    /// Everything that makes a connection: endpoints with equal settings share one.
    public struct Settings: Sendable, Hashable {
        public var connection: JetStreamPublisher.Configuration
        /// The stream to create at the first connection when there is none (`create_stream`).
        public var createStream: JetStreamPublisher.StreamSettings?

        public init(connection: JetStreamPublisher.Configuration, createStream: JetStreamPublisher.StreamSettings? = nil) {
            self.connection = connection
            self.createStream = createStream
        }
    }

    public let settings: Settings
    private let publisher = Mutex<JetStreamPublisher?>(nil)
    /// Connecting blocks: done here, one at a time, never on a cooperative thread.
    private let connecting = DispatchQueue(label: "drophook.jetstream.connect")

    public init(_ settings: Settings) {
        self.settings = settings
    }

    public func publish(_ message: StreamMessage) async -> StreamOutcome {
        let clock = ContinuousClock()
        let began = clock.now
        let publisher: JetStreamPublisher
        switch await connected() {
        case .success(let open): publisher = open
        case .failure(let error): return .failure(Self.failure(error, duration: clock.now - began))
        }
        do {
            let ack = try await publisher.publish(
                subject: message.subject, messageID: message.messageID, headers: message.headers, body: message.body,
                timeout: message.timeout)
            return .acknowledged(ack)
        } catch  where error.code == .noStream {
            // No responder: no stream captures the subject, or its stream has no leader now.
            let explained = await explainNoResponders(publisher, subject: message.subject)
            return .failure(Self.failure(explained, duration: clock.now - began))
        } catch {
            return .failure(Self.failure(error, duration: clock.now - began))
        }
    }

    /// ``JetStreamPublisher/explainNoResponders(subject:timeout:)`` blocks on a request: it
    /// runs on the connecting queue, never on a cooperative thread.
    private func explainNoResponders(_ publisher: JetStreamPublisher, subject: String) async -> JetStreamError {
        await withCheckedContinuation { continuation in
            connecting.async { continuation.resume(returning: publisher.explainNoResponders(subject: subject)) }
        }
    }

    /// Closes the connection (at shutdown, after the last attempt).
    public func close() {
        publisher.withLock { $0 }?.close()
    }

    /// The open publisher, connecting (and creating the stream when told to) if there is none yet.
    private func connected() async -> Result<JetStreamPublisher, JetStreamError> {
        if let open = publisher.withLock({ $0 }) { return .success(open) }
        return await withCheckedContinuation { continuation in
            connecting.async { [self] in
                // Another attempt may have connected while this one waited its turn.
                if let open = publisher.withLock({ $0 }) { return continuation.resume(returning: .success(open)) }
                do throws(JetStreamError) {
                    let open = try JetStreamPublisher(settings.connection)
                    if let stream = settings.createStream {
                        do throws(JetStreamError) {
                            try open.ensureStream(stream)
                        } catch {
                            open.close()
                            throw error
                        }
                    }
                    publisher.withLock { $0 = open }
                    continuation.resume(returning: .success(open))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    /// Every JetStream failure is worth retrying: a server comes back, a leader is elected, an
    /// operator adds the missing stream or makes room in a full one.
    static func failure(_ error: JetStreamError, duration: Duration) -> TransportFailure {
        let kind: TransportFailure.Kind =
            switch error.code {
            case .connect, .closed: .connectFailure
            case .timeout: .timeout
            default: .other
            }
        return TransportFailure(kind: kind, message: error.description, duration: duration)
    }
}

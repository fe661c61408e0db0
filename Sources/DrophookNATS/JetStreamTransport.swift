import Dispatch
import DrophookDelivery
import DrophookEvents
import Synchronization

/// A NATS JetStream destination as the delivery engine sees it: a transport beside curl.
///
/// Each request is published on the subject in its `url` (`nats:<subject>`), with the format's headers and body
/// and the event's id as `Nats-Msg-Id`, and counts as delivered only once the stream has
/// acknowledged it. A stored message is recorded in the delivery log as status 200 with the
/// stream's acknowledgement (`{"stream":…,"seq":…,"duplicate":…}`) as the response body.
/// Every failure is a retried ``TransportFailure`` whose message says what to fix, so events
/// wait in the outbox (not in memory) while the stream is missing, full or unreachable.
///
/// The connection is made at the first publish and kept; libnats reconnects it on its own. A
/// server that cannot be reached at first is tried again at the next attempt.
public final class JetStreamTransport: WebhookTransport {
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

    public func send(_ request: WebhookRequest) async -> WebhookOutcome {
        let clock = ContinuousClock()
        let began = clock.now
        let publisher: JetStreamPublisher
        switch await connected() {
        case .success(let open): publisher = open
        case .failure(let error): return .failure(Self.failure(error, duration: clock.now - began))
        }
        guard let subject = request.streamSubject else {
            return .failure(
                TransportFailure(kind: .invalidRequest, message: "\(request.url) is not a NATS subject (nats:<subject>)", duration: .zero))
        }
        do {
            let ack = try await publisher.publish(
                subject: subject, messageID: request.messageID ?? "", headers: request.headers, body: request.body,
                timeout: request.options.totalTimeout)
            return .response(
                WebhookResponse(
                    status: 200,
                    headers: [HTTPHeader("Nats-Stream", ack.stream), HTTPHeader("Nats-Sequence", "\(ack.sequence)")],
                    body: Array(#"{"stream":"\#(ack.stream)","seq":\#(ack.sequence),"duplicate":\#(ack.duplicate)}"#.utf8),
                    duration: clock.now - began,
                    httpVersion: ""))
        } catch  where error.code == .noStream {
            // No responder: no stream captures the subject, or its stream has no leader now.
            let explained = await explainNoResponders(publisher, subject: subject)
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

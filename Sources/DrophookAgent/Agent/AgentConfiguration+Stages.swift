import DrophookDelivery
import DrophookEvents
import DrophookWatch
import Glibc

/// Turns the checked config into each pipeline stage's own configuration.
extension AgentConfiguration {
    /// What the watcher needs.
    public var watcherConfiguration: WatcherConfiguration {
        WatcherConfiguration(
            watches: watches.map {
                WatchConfiguration(
                    name: $0.name, root: $0.path, actor: $0.actor, ignore: $0.ignore, settle: $0.settle,
                    symlinks: $0.symlinks, checksumLimit: $0.checksumLimit)
            },
            catchUp: catchUp
        )
    }

    /// The delivery engine's endpoints, one per webhook or NATS destination.
    public var endpointConfigurations: [EndpointConfiguration] {
        webhooks.map { webhook in
            EndpointConfiguration(
                name: webhook.name,
                webhookID: webhook.id,
                url: webhook.url,
                format: webhook.payloadFormat,
                topics: Set(webhook.topics),
                watches: webhook.watches.map(Set.init),
                filter: webhook.filter,
                // Checked when the config was loaded.
                signer: try! RequestSigner(
                    scheme: webhook.signature ?? webhook.payloadFormat.defaultSignature,
                    secrets: webhook.signingSecrets),
                authorization: webhook.authorization,
                extraHeaders: webhook.headers,
                retrySchedule: RetrySchedule(delays: webhook.retry),
                transport: TransportOptions(
                    connectTimeout: webhook.connectTimeout,
                    totalTimeout: webhook.timeout,
                    caFile: webhook.caFile,
                    clientCertificateFile: webhook.clientCertificate,
                    clientKeyFile: webhook.clientKey,
                    proxy: webhook.proxy
                ),
                concurrency: webhook.concurrency,
                ordered: webhook.ordered,
                paused: webhook.paused,
                disableAfter: webhook.disableAfter,
                retryOn4xx: webhook.retryOn4xx,
                handshake: webhook.handshake,
                sessionDetails: webhook.sessionDetails,
                destination: webhook.nats.map { nats in
                    .stream(
                        transport: JetStreamConnections.shared.transport(for: nats.settings),
                        subject: { watch, topic in nats.subject(watch: watch, topic: topic) })
                } ?? .webhook
            )
        }
    }

    /// Engine-wide delivery settings.
    public var deliveryEngineConfiguration: DeliveryEngine.Configuration {
        DeliveryEngine.Configuration(
            organizationID: organizationID,
            watches: watchOrigins,
            host: Self.hostName,
            retention: deliveryLogRetention
        )
    }

    /// Root path per watch, for matching the session log's real paths to events.
    public var watchRoots: [String: String] {
        Dictionary(
            uniqueKeysWithValues: watches.map { watch in
                var root = watch.path
                while root.count > 1, root.hasSuffix("/") { root.removeLast() }
                return (watch.name, root == "/" ? "" : root)
            })
    }

    /// Pipe id and protocol per watch, for Rilavek payloads.
    public var watchOrigins: [String: WatchOrigin] {
        Dictionary(uniqueKeysWithValues: watches.map { ($0.name, WatchOrigin(pipeID: $0.pipeID, transferProtocol: $0.transferProtocol)) })
    }
}

extension AgentConfiguration {
    /// This machine's name (`gethostname`), for CloudEvents' `source`; `localhost` if unset.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0, buffer[0] != 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension AgentConfiguration.Webhook {
    /// The payload format with its options (the loader only accepts names the registry knows).
    public var payloadFormat: any WebhookFormat {
        format == "cloudevents" ? CloudEventsFormat(mode: cloudEventsMode) : WebhookFormats.named(format)!
    }
}

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

    /// The delivery engine's endpoints, one per webhook or NATS destination: what loading
    /// read and checked, carried over as it is.
    public var endpointConfigurations: [EndpointConfiguration] {
        endpoints.map { endpoint in
            let webhook = endpoint.webhook
            let destination: EndpointConfiguration.Destination =
                switch endpoint.destination {
                case .webhook(let webhook): .webhook(url: webhook.url)
                case .stream(let nats):
                    .stream(
                        .init(
                            transport: JetStreamConnections.shared.transport(for: nats.settings),
                            servers: nats.settings.connection.servers
                        ) { watch, topic in nats.subject(watch: watch, topic: topic) })
                }
            return EndpointConfiguration(
                name: endpoint.name,
                webhookID: endpoint.id,
                destination: destination,
                format: endpoint.payloadFormat,
                topics: Set(endpoint.topics),
                watches: endpoint.watches.map(Set.init),
                filter: endpoint.filter,
                signer: endpoint.signer,
                authorization: webhook?.authorization,
                extraHeaders: endpoint.headers,
                retrySchedule: RetrySchedule(delays: endpoint.retry),
                transport: TransportOptions(
                    connectTimeout: endpoint.connectTimeout,
                    totalTimeout: endpoint.timeout,
                    caFile: endpoint.caFile,
                    clientCertificateFile: endpoint.clientCertificate,
                    clientKeyFile: endpoint.clientKey,
                    proxy: webhook?.proxy
                ),
                concurrency: endpoint.concurrency,
                ordered: endpoint.ordered,
                paused: endpoint.paused,
                disableAfter: endpoint.disableAfter,
                retryOn4xx: webhook?.retryOn4xx ?? false,
                handshake: webhook?.handshake ?? false,
                sessionDetails: endpoint.sessionDetails
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

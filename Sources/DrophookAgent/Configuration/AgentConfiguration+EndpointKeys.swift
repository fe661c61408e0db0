/// The keys of `webhooks:` and `nats:` entries, in one table: which kind of entry each belongs to.
extension AgentConfiguration {
    /// The two kinds of endpoint entry, each under its own top-level list.
    enum EndpointKind: CaseIterable, Sendable {
        case webhook
        case stream

        /// The top-level key listing entries of this kind.
        var section: String {
            switch self {
            case .webhook: "webhooks"
            case .stream: "nats"
            }
        }

        /// How messages name one entry.
        var noun: String {
            switch self {
            case .webhook: "webhook"
            case .stream: "NATS destination"
            }
        }

        /// Every key an entry of `kind` takes, in the table's order.
        static func keys(of kind: EndpointKind) -> [String] {
            endpointKeys.filter { $0.kinds.contains(kind) }.map(\.key)
        }
    }

    /// Each key of an endpoint entry and the kinds that take it. A webhook's own keys are those
    /// of HTTP (its URL, `Authorization`, proxy, handshake, 4xx); a stream's are its servers,
    /// subject and NATS credentials; the rest is delivery, shared by both.
    static let endpointKeys: [(key: String, kinds: Set<EndpointKind>)] = {
        let both: Set<EndpointKind> = [.webhook, .stream]
        let shared = [
            "name", "id", "format", "cloudevents_mode", "signature", "topics", "watches", "paths", "min_size", "max_size", "actors",
            "secret", "secret_file", "headers", "retry", "timeout", "connect_timeout", "ca_file", "client_cert", "client_key",
            "concurrency", "ordered", "paused", "disable_after", "session_details",
        ]
        let webhook = ["url", "authorization", "authorization_file", "proxy", "retry_on_4xx", "handshake"]
        let stream = [
            "servers", "subject", "host", "credentials_file", "nkey", "nkey_seed_file", "user", "password", "password_file",
            "token", "token_file", "create_stream",
        ]
        return shared.map { ($0, both) } + webhook.map { ($0, [.webhook]) } + stream.map { ($0, [.stream]) }
    }()
}

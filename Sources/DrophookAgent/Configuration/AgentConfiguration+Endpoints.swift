import DrophookDelivery
import DrophookEvents

/// Reading one `webhooks:` or `nats:` entry: the delivery keys both kinds share, then the
/// destination's own (the key table is in `AgentConfiguration+EndpointKeys`).
extension AgentConfiguration {
    /// A `webhooks:` or a `nats:` entry: the keys both share, then the destination's own.
    /// Every key is read even when a required one is wrong, so all mistakes are reported at
    /// once; an entry with any mistake is left out (nil).
    static func readEndpoint(
        _ item: ConfigReader.Value, kind: EndpointKind, reader: ConfigReader, watchNames: Set<String>
    ) -> Endpoint? {
        guard let map = reader.mapping(item, allowed: EndpointKind.keys(of: kind)) else { return nil }
        let problemsBefore = reader.problems.count
        let name = map.required("name", "give the \(kind.noun) a unique name").flatMap { reader.name($0) }
        let formatName = map.required("format", "choose one of: \(WebhookFormats.names.joined(separator: ", "))")
            .flatMap { reader.format($0) }
        var cloudEventsMode = CloudEventsFormat.Mode.structured
        if let value = map["cloudevents_mode"], let text = reader.string(value) {
            if formatName != "cloudevents" {
                reader.report(.invalidValue, value, "cloudevents_mode applies to format: cloudevents only; remove it or change the format")
            } else if let mode = CloudEventsFormat.Mode(rawValue: text) {
                cloudEventsMode = mode
            } else {
                reader.report(.invalidValue, value, "unknown mode '\(text)'; use structured or binary")
            }
        }
        let format: (any WebhookFormat)? =
            formatName == "cloudevents" ? CloudEventsFormat(mode: cloudEventsMode) : formatName.flatMap(WebhookFormats.named)
        var secret: [UInt8]?
        var previousSecrets: [SigningSecret] = []
        var secretFile: String?
        if let text = reader.secret(map, inline: "secret", file: "secret_file") {
            if let value = map["secret_file"] {
                do {
                    let secrets = try SecretFile.parse(text)
                    secret = secrets.first?.bytes
                    previousSecrets = Array(secrets.dropFirst())
                    secretFile = reader.string(value).map { reader.resolve($0) }
                } catch {
                    reader.report(.invalidValue, value, "\(error)")
                }
            } else {
                secret = Array(text.utf8)
            }
        }
        var signature: SignatureScheme?
        if let value = map["signature"], let text = reader.string(value) {
            if let scheme = SignatureScheme(rawValue: text) {
                signature = scheme
            } else {
                reader.report(
                    .invalidValue, value, "unknown signature '\(text)'; use one of: \(SignatureScheme.names.joined(separator: ", "))")
            }
        }
        let scheme = signature ?? format?.defaultSignature ?? .none
        let signer: RequestSigner
        do {
            signer = try RequestSigner(scheme: scheme, secrets: (secret.map { [SigningSecret($0)] } ?? []) + previousSecrets)
        } catch {
            let key = map["secret"] ?? map["secret_file"] ?? item
            reader.report(
                .invalidValue, key,
                "cannot sign with \(scheme.rawValue): \(error); generate one with `drophook keygen standard` (or `drophook keygen ed25519`)"
            )
            // Never leaves this function: the entry has a reported mistake and is left out.
            signer = .unsigned
        }
        // How to reach it, which a stream's connection is made from too.
        let connection = readConnection(map, item: item, reader: reader)
        let destination: Destination
        var usable = true
        switch kind {
        case .webhook:
            let url = map.required("url", "set the endpoint's https:// URL").flatMap { reader.url($0) }
            destination = .webhook(readWebhookDestination(map, url: url ?? "", reader: reader))
        case .stream:
            if let nats = readNATS(map, item: item, reader: reader, name: name ?? "", connection: connection) {
                destination = .stream(nats)
            } else {
                // Never leaves this function: the mistake is reported, and the entry is left
                // out once its other keys are read for their own mistakes.
                usable = false
                destination = .webhook(WebhookDestination(url: ""))
            }
        }
        var endpoint = Endpoint(
            name: name ?? "", key: item.key,
            id: map["id"].flatMap { reader.string($0) } ?? WebhookIdentity.derivedID(name: name ?? ""),
            destination: destination, format: format ?? SFTPToGoFormat(), formatName: formatName ?? "", signer: signer,
            topics: map["topics"].flatMap { reader.topics($0) } ?? Self.defaultTopics(format: formatName ?? ""),
            retry: Self.defaultRetry
        )
        endpoint.signature = signature
        endpoint.cloudEventsMode = cloudEventsMode
        endpoint.secret = secret
        endpoint.previousSecrets = previousSecrets
        endpoint.secretFile = secretFile
        endpoint.timeout = connection.timeout
        endpoint.connectTimeout = connection.connectTimeout
        endpoint.caFile = connection.caFile
        endpoint.clientCertificate = connection.clientCertificate
        endpoint.clientKey = connection.clientKey
        if let value = map["watches"], let names = reader.stringList(value) {
            for (index, watch) in names.enumerated() where !watchNames.contains(watch) {
                reader.report(
                    .unknownReference, at: value.line, key: "\(value.key)[\(index)]",
                    "no watch is named '\(watch)'; known watches: \(watchNames.sorted().joined(separator: ", "))")
            }
            endpoint.watches = names
        }
        endpoint.filter = Self.readFilter(map, reader: reader)
        if let value = map["headers"], let headers = reader.headers(value) {
            for header in headers {
                if let owner = OwnedHeaders.owner(of: header.name, scheme: scheme, hasAuthorization: endpoint.webhook?.authorization != nil)
                {
                    reader.report(
                        .invalidValue, at: value.line, key: "\(value.key).\(header.name)",
                        "\(header.name) is set by drophook (\(owner)) and cannot be replaced; remove it from headers")
                } else {
                    endpoint.headers.append(header)
                }
            }
        }
        if let value = map["retry"], let items = reader.sequence(value) {
            let delays = items.compactMap { reader.duration($0) }
            if delays.count == items.count { endpoint.retry = delays }
        }
        if let value = map["concurrency"], let count = reader.int(value, range: 1...256) {
            endpoint.concurrency = count
        } else if kind == .stream {
            // An ack in flight costs a stream no connection and drophook no thread.
            endpoint.concurrency = natsConcurrency
        }
        if let value = map["ordered"], let flag = reader.bool(value) { endpoint.ordered = flag }
        if let value = map["paused"], let flag = reader.bool(value) { endpoint.paused = flag }
        if let value = map["disable_after"], let duration = reader.duration(value) { endpoint.disableAfter = duration }
        if let value = map["session_details"], let flag = reader.bool(value) { endpoint.sessionDetails = flag }
        return usable && reader.problems.count == problemsBefore ? endpoint : nil
    }

    /// The keys only a webhook has: its URL, `Authorization`, proxy, 4xx retries and handshake.
    private static func readWebhookDestination(_ map: ConfigReader.Mapping, url: String, reader: ConfigReader) -> WebhookDestination {
        var webhook = WebhookDestination(url: url)
        webhook.authorization = reader.secret(map, inline: "authorization", file: "authorization_file")
        if let authorization = webhook.authorization, let value = map["authorization"] ?? map["authorization_file"],
            !reader.headerValue(authorization, value)
        {
            webhook.authorization = nil
        }
        if let value = map["proxy"], let proxy = reader.url(value, schemes: ["http", "https", "socks5", "socks5h"]) {
            webhook.proxy = proxy
        }
        if let value = map["retry_on_4xx"], let flag = reader.bool(value) { webhook.retryOn4xx = flag }
        if let value = map["handshake"], let flag = reader.bool(value) { webhook.handshake = flag }
        return webhook
    }

    /// The keys that say how to reach an endpoint, shared by both kinds: a webhook's requests
    /// and a stream's connection are made with them.
    struct ConnectionKeys {
        var timeout = Duration.seconds(10)
        var connectTimeout = Duration.seconds(5)
        var caFile: String?
        var clientCertificate: String?
        var clientKey: String?
    }

    /// `timeout` and `connect_timeout` (each checked against the other and against a stop's
    /// grace), and the TLS files.
    private static func readConnection(_ map: ConfigReader.Mapping, item: ConfigReader.Value, reader: ConfigReader) -> ConnectionKeys {
        var endpoint = ConnectionKeys()
        if let value = map["timeout"], let duration = reader.duration(value) {
            if duration <= .zero {
                reader.report(
                    .invalidValue, value, "timeout 0s would cut off every request after the receiver got it, and resend it; use e.g. 10s")
            } else if duration > Self.gracefulShutdown {
                reader.report(
                    .invalidValue, value,
                    "timeout \(duration.components.seconds)s is longer than the \(Self.gracefulShutdown.components.seconds) s a stop waits for requests in flight (inside the unit's TimeoutStopSec=30); one cut off at a stop is sent again. Use at most \(Self.gracefulShutdown.components.seconds)s"
                )
            }
            endpoint.timeout = duration
        }
        if let value = map["connect_timeout"], let duration = reader.duration(value) {
            if duration <= .zero {
                reader.report(.invalidValue, value, "connect_timeout 0s would fail every connection; use e.g. 5s")
            } else if duration > endpoint.timeout {
                reader.report(
                    .invalidValue, value,
                    "connect_timeout \(duration.components.seconds)s is longer than timeout \(endpoint.timeout.components.seconds)s, which includes connecting; lower it or raise timeout"
                )
            }
            endpoint.connectTimeout = duration
        }
        endpoint.caFile = map["ca_file"].flatMap { reader.readableFile($0) }
        endpoint.clientCertificate = map["client_cert"].flatMap { reader.readableFile($0) }
        endpoint.clientKey = map["client_key"].flatMap { reader.readableFile($0) }
        if let value = map["client_key"], let path = endpoint.clientKey { reader.noteSecret(value, file: path) }
        if (endpoint.clientCertificate == nil) != (endpoint.clientKey == nil), map["client_cert"] != nil || map["client_key"] != nil {
            reader.report(.missingKey, item, "client_cert and client_key go together; set both for mTLS")
        }
        return endpoint
    }

    /// `paths`, `min_size`, `max_size` and `actors` of a webhook.
    private static func readFilter(_ map: ConfigReader.Mapping, reader: ConfigReader) -> EventFilter {
        var filter = EventFilter()
        if let value = map["paths"], let globs = reader.stringList(value) {
            do {
                filter = try EventFilter(paths: globs)
            } catch {
                reader.report(.invalidValue, value, "\(error)")
            }
        }
        filter.minimumSize = map["min_size"].flatMap { reader.byteSize($0) }
        filter.maximumSize = map["max_size"].flatMap { reader.byteSize($0) }
        if let low = filter.minimumSize, let high = filter.maximumSize, low > high, let value = map["max_size"] {
            reader.report(.invalidValue, value, "max_size (\(high) bytes) is below min_size (\(low) bytes); no file could pass")
        }
        if let value = map["actors"], let names = reader.stringList(value) { filter.actors = Set(names) }
        return filter
    }

    /// What a webhook hears when it names no topics: everything its format can carry.
    static func defaultTopics(format: String) -> [Topic] {
        switch format {
        case "rilavek": [.fileCreated, .fileFailed]
        case "standard", "cloudevents": [.fileCreated, .fileDeleted, .fileFailed]
        default: [.fileCreated, .fileDeleted]
        }
    }
}

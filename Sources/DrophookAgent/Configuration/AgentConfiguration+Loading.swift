import DrophookDelivery
import DrophookEvents
import DrophookWatch
import Foundation
import Logging
import Yams

extension AgentConfiguration {
    /// Where `drophook` looks for its config when neither `--config` nor `DROPHOOK_CONFIG` says otherwise.
    public static let defaultPath = "/etc/drophook/drophook.yaml"

    /// The retry delays used when a webhook sets none: quick first retries, then a day's worth of backoff.
    public static let defaultRetry: [Duration] = RetrySchedule.standard.delays

    /// Reads and checks a config file; throws ``ConfigurationErrors`` listing every problem found.
    public static func load(
        file: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AgentConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigurationErrors([
                ConfigurationError(
                    code: .unreadableFile, file: file, line: 0, key: "",
                    message: "cannot read the config file (\(Self.reason(error))); pass --config PATH or set DROPHOOK_CONFIG"
                )
            ])
        }
        return try parse(text, file: file, environment: environment)
    }

    /// Checks config text already in memory (`file` is used in messages and to resolve relative paths).
    public static func parse(_ text: String, file: String, environment: [String: String]) throws -> AgentConfiguration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationErrors([Self.syntaxError(error, file: file)])
        }
        let reader = ConfigReader(file: file, environment: environment)
        guard let node else {
            reader.report(.missingKey, at: 0, key: "", "the config file is empty; see etc/drophook.yaml for a complete example")
            throw ConfigurationErrors(reader.problems)
        }
        let configuration = AgentConfiguration.read(ConfigReader.Value(node: node, key: ""), reader: reader, file: file)
        guard reader.problems.isEmpty, var configuration else {
            throw ConfigurationErrors(reader.problems)
        }
        configuration.secretLocations = reader.secretLocations
        return configuration
    }

    private static func read(_ root: ConfigReader.Value, reader: ConfigReader, file: String) -> AgentConfiguration? {
        let keys = [
            "state_dir", "organization_id", "catch_up", "delivery_log_retention", "metrics", "session_log", "log_level", "watches",
            "webhooks", "nats",
        ]
        guard let top = reader.mapping(root, allowed: keys) else { return nil }
        var configuration = AgentConfiguration(file: file)

        if let value = top["state_dir"], let path = reader.string(value) {
            configuration.stateDirectory = path
        }
        if let value = top["organization_id"], let id = reader.string(value) {
            configuration.organizationID = id
        }
        if let value = top["catch_up"], let flag = reader.bool(value) {
            configuration.catchUp = flag
        }
        if let value = top["delivery_log_retention"], let duration = reader.duration(value) {
            configuration.deliveryLogRetention = duration
        }
        if let value = top["metrics"], let metrics = reader.mapping(value, allowed: ["listen"]),
            let listen = metrics.required("listen", "write e.g. listen: 127.0.0.1:9464"),
            let address = reader.string(listen)
        {
            if let parsed = ListenAddress(parsing: address) {
                configuration.metricsListen = parsed
            } else {
                reader.report(.invalidValue, listen, "'\(address)' is not host:port; write e.g. 127.0.0.1:9464")
            }
        }

        if let value = top["log_level"], let text = reader.string(value) {
            if let level = Logger.Level(rawValue: text) {
                configuration.logLevel = level
            } else {
                reader.report(.invalidValue, value, "'\(text)' is not a level; use trace, debug, info, notice, warning, error or critical")
            }
        }
        if let value = top["session_log"] {
            configuration.sessionLog = readSessionLog(value, reader: reader)
        }
        if let value = top.required("watches", "list at least one drop tree under watches:"),
            let items = reader.sequence(value)
        {
            if items.isEmpty { reader.report(.invalidValue, value, "no watches; list at least one drop tree") }
            configuration.watches = items.compactMap { readWatch($0, reader: reader) }
            reader.checkUnique(items, what: "watch")
        }
        let watchNames = Set(configuration.watches.map(\.name))
        // Webhooks and NATS destinations share one list of endpoints, and so one set of names.
        var endpoints: [ConfigReader.Value] = []
        if top["webhooks"] == nil, top["nats"] == nil {
            reader.report(
                .missingKey, at: root.line, key: "webhooks",
                "required key is missing; list the endpoints to notify under webhooks: (or the NATS streams under nats:)")
        }
        if let value = top["webhooks"], let items = reader.sequence(value) {
            configuration.webhooks = items.compactMap { readWebhook($0, reader: reader, watchNames: watchNames) }
            endpoints += items
        }
        if let value = top["nats"], let items = reader.sequence(value) {
            configuration.webhooks += items.compactMap { readWebhook($0, reader: reader, watchNames: watchNames, nats: true) }
            endpoints += items
        }
        reader.checkUnique(endpoints, what: "webhook")
        return configuration
    }

    private static func readWatch(_ item: ConfigReader.Value, reader: ConfigReader) -> Watch? {
        let keys = ["name", "path", "protocol", "pipe_id", "actor", "ignore", "settle", "symlinks", "sha256", "sha256_max_size"]
        guard let map = reader.mapping(item, allowed: keys) else { return nil }
        let name = map.required("name", "give the watch a unique name").flatMap { reader.name($0) }
        let path = map.required("path", "set the drop tree's root directory").flatMap { reader.absolutePath($0) }
        // Read every key even when a required one is wrong, so all mistakes are reported at once.
        var watch = Watch(name: name ?? "", path: path ?? "")
        if let value = map["protocol"], let text = reader.string(value) { watch.transferProtocol = text }
        if let value = map["pipe_id"], let text = reader.string(value) { watch.pipeID = text }
        if let value = map["actor"], let text = reader.string(value) {
            do {
                watch.actor = try ActorRule(parsing: text)
            } catch {
                reader.report(.invalidValue, value, error.description)
            }
        }
        if let value = map["ignore"], let globs = reader.stringList(value) { watch.ignore = globs }
        if let value = map["settle"], let duration = reader.duration(value) { watch.settle = duration }
        if let value = map["symlinks"], let text = reader.string(value) {
            if let policy = SymlinkPolicy(rawValue: text) {
                watch.symlinks = policy
            } else {
                reader.report(.invalidValue, value, "'\(text)' is not a symlink policy; use ignore or report")
            }
        }
        let limit = map["sha256_max_size"].flatMap { reader.byteSize($0) }
        if let value = map["sha256"], let enabled = reader.bool(value), enabled {
            watch.checksumLimit = limit ?? Self.defaultChecksumLimit
        } else if limit != nil, let value = map["sha256_max_size"] {
            reader.report(.invalidValue, value, "sha256_max_size has no effect without sha256: true; set both or remove it")
        }
        return name != nil && path != nil ? watch : nil
    }

    /// A `webhooks:` entry, or (`nats`) a `nats:` entry, which shares every delivery key.
    private static func readWebhook(
        _ item: ConfigReader.Value, reader: ConfigReader, watchNames: Set<String>, nats: Bool = false
    ) -> Webhook? {
        let webhookKeys = [
            "name", "id", "url", "format", "cloudevents_mode", "signature", "topics", "watches", "paths", "min_size", "max_size", "actors",
            "secret", "secret_file", "authorization",
            "authorization_file", "headers", "retry", "timeout", "connect_timeout", "ca_file", "client_cert",
            "client_key", "proxy", "concurrency", "ordered", "paused", "disable_after", "retry_on_4xx", "handshake",
            "session_details",
        ]
        let keys = nats ? webhookKeys.filter { !webhookOnlyKeys.contains($0) } + natsKeys : webhookKeys
        guard let map = reader.mapping(item, allowed: keys) else { return nil }
        let name = map.required("name", "give the \(nats ? "NATS destination" : "webhook") a unique name").flatMap { reader.name($0) }
        let url = nats ? "" : map.required("url", "set the endpoint's https:// URL").flatMap { reader.url($0) }
        let format = map.required("format", "choose one of: \(WebhookFormats.names.joined(separator: ", "))")
            .flatMap { reader.format($0) }
        // Read every key even when a required one is wrong, so all mistakes are reported at once.
        let topics = map["topics"].flatMap { reader.topics($0) } ?? Self.defaultTopics(format: format ?? "")
        var webhook = Webhook(
            name: name ?? "",
            id: map["id"].flatMap { reader.string($0) } ?? WebhookIdentity.derivedID(name: name ?? ""),
            url: url ?? "",
            format: format ?? "",
            topics: topics,
            retry: Self.defaultRetry
        )
        if let value = map["watches"], let names = reader.stringList(value) {
            for (index, watch) in names.enumerated() where !watchNames.contains(watch) {
                reader.report(
                    .unknownReference, at: value.line, key: "\(value.key)[\(index)]",
                    "no watch is named '\(watch)'; known watches: \(watchNames.sorted().joined(separator: ", "))")
            }
            webhook.watches = names
        }
        webhook.filter = Self.readFilter(map, reader: reader)
        if let value = map["cloudevents_mode"], let text = reader.string(value) {
            if format != "cloudevents" {
                reader.report(.invalidValue, value, "cloudevents_mode applies to format: cloudevents only; remove it or change the format")
            } else if let mode = CloudEventsFormat.Mode(rawValue: text) {
                webhook.cloudEventsMode = mode
            } else {
                reader.report(.invalidValue, value, "unknown mode '\(text)'; use structured or binary")
            }
        }
        if let text = reader.secret(map, inline: "secret", file: "secret_file") {
            if map["secret_file"] != nil, let value = map["secret_file"] {
                do {
                    let secrets = try SecretFile.parse(text)
                    webhook.secret = secrets.first?.bytes
                    webhook.previousSecrets = Array(secrets.dropFirst())
                    webhook.secretFile = reader.string(value).map { reader.resolve($0) }
                } catch {
                    reader.report(.invalidValue, value, "\(error)")
                }
            } else {
                webhook.secret = Array(text.utf8)
            }
        }
        if let value = map["signature"], let text = reader.string(value) {
            if let scheme = SignatureScheme(rawValue: text) {
                webhook.signature = scheme
            } else {
                reader.report(
                    .invalidValue, value, "unknown signature '\(text)'; use one of: \(SignatureScheme.names.joined(separator: ", "))")
            }
        }
        if let format = format.flatMap(WebhookFormats.named), webhook.secret != nil {
            let scheme = webhook.signature ?? format.defaultSignature
            do {
                _ = try RequestSigner(scheme: scheme, secrets: webhook.signingSecrets)
            } catch {
                let key = map["secret"] ?? map["secret_file"] ?? item
                reader.report(
                    .invalidValue, key,
                    "cannot sign with \(scheme.rawValue): \(error); generate one with `drophook keygen standard` (or `drophook keygen ed25519`)"
                )
            }
        }
        webhook.authorization = reader.secret(map, inline: "authorization", file: "authorization_file")
        if let authorization = webhook.authorization, let value = map["authorization"] ?? map["authorization_file"],
            !reader.headerValue(authorization, value)
        {
            webhook.authorization = nil
        }
        if let value = map["headers"], let headers = reader.headers(value) {
            let scheme = webhook.signature ?? format.flatMap(WebhookFormats.named)?.defaultSignature ?? .none
            for header in headers {
                if let owner = OwnedHeaders.owner(of: header.name, scheme: scheme, hasAuthorization: webhook.authorization != nil) {
                    reader.report(
                        .invalidValue, at: value.line, key: "\(value.key).\(header.name)",
                        "\(header.name) is set by drophook (\(owner)) and cannot be replaced; remove it from headers")
                } else {
                    webhook.headers.append(header)
                }
            }
        }
        if let value = map["retry"], let items = reader.sequence(value) {
            let delays = items.compactMap { reader.duration($0) }
            if delays.count == items.count { webhook.retry = delays }
        }
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
            webhook.timeout = duration
        }
        if let value = map["connect_timeout"], let duration = reader.duration(value) {
            if duration <= .zero {
                reader.report(.invalidValue, value, "connect_timeout 0s would fail every connection; use e.g. 5s")
            } else if duration > webhook.timeout {
                reader.report(
                    .invalidValue, value,
                    "connect_timeout \(duration.components.seconds)s is longer than timeout \(webhook.timeout.components.seconds)s, which includes connecting; lower it or raise timeout"
                )
            }
            webhook.connectTimeout = duration
        }
        webhook.caFile = map["ca_file"].flatMap { reader.readableFile($0) }
        webhook.clientCertificate = map["client_cert"].flatMap { reader.readableFile($0) }
        webhook.clientKey = map["client_key"].flatMap { reader.readableFile($0) }
        if let value = map["client_key"], let path = webhook.clientKey { reader.noteSecret(value, file: path) }
        if (webhook.clientCertificate == nil) != (webhook.clientKey == nil), map["client_cert"] != nil || map["client_key"] != nil {
            reader.report(.missingKey, item, "client_cert and client_key go together; set both for mTLS")
        }
        if let value = map["proxy"], let proxy = reader.url(value, schemes: ["http", "https", "socks5", "socks5h"]) {
            webhook.proxy = proxy
        }
        if let value = map["concurrency"], let count = reader.int(value, range: 1...256) { webhook.concurrency = count }
        if let value = map["ordered"], let flag = reader.bool(value) { webhook.ordered = flag }
        if let value = map["paused"], let flag = reader.bool(value) { webhook.paused = flag }
        if let value = map["disable_after"], let duration = reader.duration(value) { webhook.disableAfter = duration }
        if let value = map["retry_on_4xx"], let flag = reader.bool(value) { webhook.retryOn4xx = flag }
        if let value = map["handshake"], let flag = reader.bool(value) { webhook.handshake = flag }
        if let value = map["session_details"], let flag = reader.bool(value) { webhook.sessionDetails = flag }
        if nats {
            // An ack in flight costs a stream no connection and drophook no thread.
            if map["concurrency"] == nil { webhook.concurrency = natsConcurrency }
            webhook.nats = readNATS(map, item: item, reader: reader, webhook: webhook)
            webhook.url = webhook.nats.map { $0.settings.connection.servers.joined(separator: ",") } ?? ""
            if webhook.nats == nil { return nil }
        }
        return name != nil && url != nil && format != nil ? webhook : nil
    }

    /// How long a stop waits for in-flight requests, and so the longest a webhook request may take:
    /// inside the unit's `TimeoutStopSec=30`; a request a stop cuts off may have reached the
    /// receiver, and is sent again.
    static let gracefulShutdown = Duration.seconds(25)

    /// Largest file whose SHA-256 is sent when a watch sets `sha256: true`: reading it takes
    /// the checksum thread about half a second per 256 MiB on a small machine, and delays that
    /// file's own `created` (not other files') as long.
    static let defaultChecksumLimit: Int64 = 256 << 20

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

    private static func syntaxError(_ error: any Error, file: String) -> ConfigurationError {
        var line = 0
        var problem = "\(error)"
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(_, let text, let mark, _), .parser(_, let text, let mark, _), .composer(_, let text, let mark, _):
                line = mark.line
                problem = text
            default:
                break
            }
        }
        let firstLine = problem.split(separator: "\n").first.map(String.init) ?? problem
        return ConfigurationError(
            code: .syntax, file: file, line: line, key: "",
            message: "not valid YAML: \(firstLine); fix the indentation or quoting there")
    }

    static func reason(_ error: any Error) -> String {
        if let posix = error as? CocoaError, let underlying = posix.underlying as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue))
        }
        return (error as NSError).localizedDescription
    }
}

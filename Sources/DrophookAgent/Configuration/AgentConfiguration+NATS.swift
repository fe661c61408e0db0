import DrophookNATS

/// `nats:` entries: NATS JetStream destinations. Each takes a webhook's delivery keys (format,
/// signature, topics, filters, retry, concurrency, ordered, paused…) and, instead of a URL, the
/// servers, the subject and the credentials of a NATS deployment.
extension AgentConfiguration {
    /// Where a `nats:` entry publishes.
    public struct NATSDestination: Sendable, Hashable {
        /// How to reach and authenticate to the servers, and the stream to create if told to.
        public var settings: JetStreamTransport.Settings
        /// `subject:`, e.g. `sftp.{host}.{watch}.{topic}`.
        public var subject: SubjectTemplate
        /// `host:`: this SFTP host's name in subjects; the machine's name unless set.
        public var host: String

        /// The subject an event of `watch` with `topic` is published on.
        public func subject(watch: String, topic: String) -> String {
            subject.subject(host: host, watch: watch, topic: topic)
        }
    }

    /// The default subject: one token per host and per watch, then the topic's two tokens, so
    /// that `sftp.*.uploads.file.created` or `sftp.eu-1.>` select what a consumer wants.
    static let defaultSubject = "sftp.{host}.{watch}.{topic}"

    /// Publishes in flight at once to a NATS destination unless `concurrency` says otherwise.
    static let natsConcurrency = 32

    /// The NATS keys of one `nats:` entry named `name` (the shared keys are read by
    /// `readEndpoint`), connecting with the TLS files and connect timeout read there.
    static func readNATS(
        _ map: ConfigReader.Mapping, item: ConfigReader.Value, reader: ConfigReader, name: String, connection: ConnectionKeys
    ) -> NATSDestination? {
        var servers: [String] = []
        if let value = map.required("servers", "list the NATS servers, e.g. servers: [nats://10.0.0.5:4222]") {
            let items: [ConfigReader.Value] = if case .scalar = value.node { [value] } else { reader.sequence(value) ?? [] }
            servers = items.compactMap { reader.url($0, schemes: ["nats", "tls"], example: "nats://host:4222 (tls://host:4222 for TLS)") }
            if items.isEmpty { reader.report(.invalidValue, value, "no servers; list at least one nats://host:port") }
            if servers.count != items.count { servers = [] }
        }
        var subject: SubjectTemplate?
        let subjectValue = map["subject"]
        do {
            subject = try SubjectTemplate(subjectValue.flatMap { reader.string($0) } ?? defaultSubject)
        } catch {
            if let subjectValue { reader.report(.invalidValue, subjectValue, error.description) }
        }
        let host = map["host"].flatMap { reader.string($0) } ?? hostName
        let connection = JetStreamPublisher.Configuration(
            servers: servers,
            name: "drophook \(host) \(name)",
            authentication: readNATSAuthentication(map, item: item, reader: reader),
            caFile: connection.caFile,
            clientCertificate: connection.clientCertificate,
            clientKey: connection.clientKey,
            connectTimeout: connection.connectTimeout
        )
        var createStream: JetStreamPublisher.StreamSettings?
        if let value = map["create_stream"], let subject {
            createStream = readStream(value, reader: reader, subject: subject)
        }
        guard !servers.isEmpty, let subject else { return nil }
        return NATSDestination(settings: .init(connection: connection, createStream: createStream), subject: subject, host: host)
    }

    /// One way of authenticating at most, as the NATS server is configured for.
    private static func readNATSAuthentication(
        _ map: ConfigReader.Mapping, item: ConfigReader.Value, reader: ConfigReader
    ) -> JetStreamPublisher.Configuration.Authentication {
        let ways = [["credentials_file"], ["nkey", "nkey_seed_file"], ["user", "password", "password_file"], ["token", "token_file"]]
        let given = ways.filter { $0.contains { map[$0] != nil } }
        if given.count > 1 {
            reader.report(
                .invalidValue, item,
                "set one way to authenticate to NATS, not \(given.map { $0.first! }.joined(separator: " and ")); the server accepts one")
            return .none
        }
        if let value = map["credentials_file"], let path = reader.readableFile(value) {
            reader.noteSecret(value, file: path)
            return .credentialsFile(path)
        }
        if map["nkey"] != nil || map["nkey_seed_file"] != nil {
            let key = map.required("nkey", "set the NKey's public key (U…) beside nkey_seed_file").flatMap { reader.string($0) }
            let seed = map.required("nkey_seed_file", "set the file holding the NKey's seed (SU…)").flatMap { value in
                reader.readableFile(value).map { path in
                    reader.noteSecret(value, file: path)
                    return path
                }
            }
            if let key, !key.hasPrefix("U"), let value = map["nkey"] {
                reader.report(
                    .invalidValue, value, "'\(key)' is not a user NKey; a user's public key starts with U (nk -inkey seed.nk -pubout)")
            }
            return key.flatMap { key in seed.map { .nkey(publicKey: key, seedFile: $0) } } ?? .none
        }
        if map["user"] != nil || map["password"] != nil || map["password_file"] != nil {
            let user = map.required("user", "set the NATS user beside its password").flatMap { reader.string($0) }
            let password = reader.secret(map, inline: "password", file: "password_file")
            if password == nil, map["password"] == nil, map["password_file"] == nil {
                reader.report(.missingKey, item, "user \(user ?? "") has no password; set password_file (or password)")
            }
            return user.flatMap { user in password.map { .userPassword(user: user, password: $0) } } ?? .none
        }
        if let token = reader.secret(map, inline: "token", file: "token_file") {
            return .token(token)
        }
        return .none
    }

    /// `create_stream:`: the stream drophook makes at its first connection when none of that
    /// name exists (an existing stream is never changed).
    private static func readStream(
        _ value: ConfigReader.Value, reader: ConfigReader, subject: SubjectTemplate
    ) -> JetStreamPublisher.StreamSettings? {
        guard let map = reader.mapping(value, allowed: ["name", "subjects", "replicas", "duplicate_window", "max_age"]) else { return nil }
        let name = map.required("name", "name the stream, e.g. name: SFTP").flatMap { reader.string($0) }
        if let name, name.isEmpty || name.contains(where: { " .*>/\\\t".contains($0) }), let nameValue = map["name"] {
            reader.report(.invalidValue, nameValue, "'\(name)' is not a stream name; use letters, digits, - and _")
        }
        var settings = JetStreamPublisher.StreamSettings(name: name ?? "", subjects: [subject.wildcard])
        if let subjects = map["subjects"].flatMap({ reader.stringList($0) }) { settings.subjects = subjects }
        if let replicas = map["replicas"].flatMap({ reader.int($0, range: 1...5) }) { settings.replicas = replicas }
        if let window = map["duplicate_window"].flatMap({ reader.duration($0) }) {
            if window < .seconds(1), let windowValue = map["duplicate_window"] {
                reader.report(
                    .invalidValue, windowValue,
                    "a duplicate window under 1s stores a retried event twice; use at least the longest retry gap you accept, e.g. 2m")
            }
            settings.duplicateWindow = window
        }
        settings.maxAge = map["max_age"].flatMap { reader.duration($0) }
        return name == nil ? nil : settings
    }
}

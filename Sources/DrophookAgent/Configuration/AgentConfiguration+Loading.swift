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
        for kind in EndpointKind.allCases {
            guard let value = top[kind.section], let items = reader.sequence(value) else { continue }
            configuration.endpoints += items.compactMap { readEndpoint($0, kind: kind, reader: reader, watchNames: watchNames) }
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

    /// How long a stop waits for in-flight requests, and so the longest a webhook request may take:
    /// inside the unit's `TimeoutStopSec=30`; a request a stop cuts off may have reached the
    /// receiver, and is sent again.
    static let gracefulShutdown = Duration.seconds(25)

    /// Largest file whose SHA-256 is sent when a watch sets `sha256: true`: reading it takes
    /// the checksum thread about half a second per 256 MiB on a small machine, and delays that
    /// file's own `created` (not other files') as long.
    static let defaultChecksumLimit: Int64 = 256 << 20

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

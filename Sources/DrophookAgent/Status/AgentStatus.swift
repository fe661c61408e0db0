import DrophookEvents
import Foundation

/// What the running agent says about itself: written to `<state_dir>/status.json` and served on `/health`.
///
/// `drophook status` reads the file, so it works without the metrics listener and from
/// scripts that need to wait until the agent is watching.
public struct AgentStatus: Codable, Sendable, Hashable {
    public var pid: Int32
    public var version: String
    /// Milliseconds since the epoch.
    public var startedAt: Int64
    public var updatedAt: Int64
    /// True once every watch is set up and the start-up scan is done.
    public var ready: Bool
    public var watchedDirectories: Int
    public var inotifyOverflows: Int
    /// Set when `fs.inotify.max_user_watches` was reached: the number of watches needed.
    public var watchLimitNeeded: Int?
    public var endpoints: [Endpoint]
    /// How each watch (by name) decides that a file found by a scan is finished: `lease` or
    /// `stability` (absent in status files of older agents).
    public var completion: [String: String]?
    /// Configured watch roots that are not being watched (missing, removed, not a directory).
    public var unavailableRoots: [String]?
    /// Why the outbox could not be read for this status, if it could not: the counts are then
    /// unknown, not zero.
    public var outboxError: String?
    /// Directories in the trees the agent may not read (absent when none).
    public var unreadableDirectories: Int?

    /// One endpoint's delivery state.
    public struct Endpoint: Codable, Sendable, Hashable {
        public var name: String
        public var pending: Int
        public var failed: Int
        public var paused: Bool
        public var disabled: Bool
        /// `nats` for a NATS JetStream destination; absent for a webhook.
        public var kind: String?

        public init(name: String, pending: Int, failed: Int, paused: Bool, disabled: Bool, kind: String? = nil) {
            self.name = name
            self.pending = pending
            self.failed = failed
            self.paused = paused
            self.disabled = disabled
            self.kind = kind
        }
    }

    public init(
        pid: Int32, version: String, startedAt: Int64, updatedAt: Int64, ready: Bool = false,
        watchedDirectories: Int = 0, inotifyOverflows: Int = 0, watchLimitNeeded: Int? = nil, endpoints: [Endpoint] = [],
        completion: [String: String]? = nil, unavailableRoots: [String]? = nil, outboxError: String? = nil
    ) {
        self.pid = pid
        self.version = version
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.ready = ready
        self.watchedDirectories = watchedDirectories
        self.inotifyOverflows = inotifyOverflows
        self.watchLimitNeeded = watchLimitNeeded
        self.endpoints = endpoints
        self.completion = completion
        self.unavailableRoots = unavailableRoots
        self.outboxError = outboxError
    }

    /// Healthy: watching every configured root, the outbox readable, no endpoint disabled.
    public var healthy: Bool {
        ready && watchLimitNeeded == nil && !endpoints.contains(where: \.disabled)
            && (unavailableRoots ?? []).isEmpty && outboxError == nil
    }

    /// Compact JSON with sorted keys. Should the encoder ever fail, the bytes are a status that
    /// says so and is unhealthy (`ready: false`, `outboxError` naming the failure) rather than
    /// `{}`, which a monitor would read as nothing at all.
    public func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return Array(try encoder.encode(self))
        } catch {
            return Array(
                JSONValue.object([
                    ("outboxError", .string("cannot encode the agent's status: \(error)")), ("pid", .int(Int64(pid))),
                    ("ready", .bool(false)),
                ]).serializedString.utf8)
        }
    }
}

extension AgentStatus {
    /// The status file inside a state directory.
    public static func path(stateDirectory: String) -> String { "\(stateDirectory)/status.json" }

    /// Replaces the status file atomically (write to a temp name, then rename), so readers never
    /// see half a file. When that fails (a full disk has no room for the temp file) the old file
    /// is overwritten in place: its blocks are already allocated, and a status that says "the
    /// outbox cannot be written" is worth the rare half-written read.
    func write(stateDirectory: String) throws {
        let path = Self.path(stateDirectory: stateDirectory)
        let bytes = jsonBytes()
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            let descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw error }
            defer { close(descriptor) }
            let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            guard written == bytes.count, ftruncate(descriptor, off_t(bytes.count)) == 0 else { throw error }
        }
    }

    /// The status last written by an agent using this state directory, or nil if there is none
    /// or it cannot be read: for watching a value change. Where the answer is shown to someone,
    /// ``load(stateDirectory:)`` says why a file that is there cannot be read.
    public static func read(stateDirectory: String) -> AgentStatus? {
        do {
            return try load(stateDirectory: stateDirectory)
        } catch {
            return nil
        }
    }

    /// The status last written by an agent using this state directory; nil when there is no
    /// status file; throws, naming the file, when there is one that cannot be read or decoded
    /// (a damaged file, or one written by a newer drophook).
    public static func load(stateDirectory: String) throws -> AgentStatus? {
        let file = path(stateDirectory: stateDirectory)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw StatusFileError(description: "\(file): cannot read the agent's status file; check its permissions")
        }
        do {
            return try JSONDecoder().decode(AgentStatus.self, from: data)
        } catch {
            throw StatusFileError(
                description: "\(file): the agent's status file cannot be decoded (\(error)); a running agent rewrites it within a second")
        }
    }

    /// Whether the process that wrote this status is still running.
    public var processIsAlive: Bool { kill(pid, 0) == 0 || errno == EPERM }
}

/// A status file that is there but cannot be read; the description names the file.
public struct StatusFileError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

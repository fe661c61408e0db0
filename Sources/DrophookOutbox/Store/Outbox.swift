import DrophookEvents
import Foundation
import GRDB

/// The durable queue between the watcher and the delivery workers: events, one delivery per
/// (event, endpoint), every attempt, endpoint run-time state and the watcher's tree snapshot,
/// all in one SQLite file.
///
/// The agent and the CLI may open the same file at once; each keeps its own `Outbox`.
/// Each method is one short transaction and safe from any thread or task. Most come in two
/// forms: a synchronous one, for the CLI, the tests and the watcher's own thread, which blocks
/// its caller on SQLite; and an `async` one, through GRDB's async access, which the agent's
/// tasks use so that no cooperative-pool thread waits on the disk.
public final class Outbox: Sendable {
    /// How the database file is opened.
    public struct Configuration: Sendable {
        /// How long a writer waits for another process's write lock before giving up.
        /// The CLI writes (pause, redeliver) while the agent runs; a burst commit takes
        /// milliseconds, so a few seconds is plenty.
        public var busyTimeout: TimeInterval
        /// Readers kept open for concurrent reads.
        public var maximumReaderCount: Int

        public init(busyTimeout: TimeInterval = 5, maximumReaderCount: Int = 4) {
            self.busyTimeout = busyTimeout
            self.maximumReaderCount = maximumReaderCount
        }
    }

    /// File name of the outbox inside the agent's state directory.
    public static let fileName = "outbox.sqlite"

    /// The database file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) `<stateDirectory>/outbox.sqlite`.
    /// The state directory is made (or kept) `0700`: the outbox holds every path and payload.
    public convenience init(stateDirectory: String, configuration: Configuration = .init()) throws {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        OutboxFiles.restrict(stateDirectory, to: 0o700)
        try self.init(path: (stateDirectory as NSString).appendingPathComponent(Self.fileName), configuration: configuration)
    }

    /// Opens (creating if needed) the outbox at `path` and migrates it. Deliveries a crash left
    /// in flight are not touched here (the CLI opens the file while the agent may be mid-attempt);
    /// ``recoverInterruptedDeliveries(nowMillis:)`` does that when the delivery engine starts.
    public init(path: String, configuration: Configuration = .init()) throws {
        self.path = path
        var config = GRDB.Configuration()
        config.busyMode = .timeout(configuration.busyTimeout)
        config.maximumReaderCount = configuration.maximumReaderCount
        config.label = "drophook.outbox"
        // Made 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database
        // file's mode, and would otherwise create all three readable by every user.
        OutboxFiles.createPrivately(path)
        for file in [path, path + "-wal", path + "-shm"] { OutboxFiles.restrict(file, to: 0o600) }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // GRDB turns a WAL pool's writer to `synchronous = NORMAL` after `prepareDatabase`
            // runs, so durability is set here, on the one connection that writes.
            //
            // FULL: in WAL mode NORMAL may lose the last commits on power loss (they are in
            // the WAL but not yet fsynced). An event the watcher reported, whose snapshot change
            // is committed with it, must never be lost, or a restart's catch-up would not find
            // it either. FULL costs one fsync per commit, and the watcher commits one batch
            // per burst, not one per file, so the price is per burst.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try OutboxSchema.migrator.migrate(pool)
        } catch {
            if let error = error as? DatabaseError, [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
                throw OutboxError(
                    .damaged, Self.damagedMessage(path: path, problem: error.message ?? "\(error.resultCode)", configFile: nil))
            }
            throw OutboxError(.cannotOpen, "cannot open outbox database \(path): \(error) — check that the state_dir is writable")
        }
    }

    /// The journal mode in effect (`wal`).
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The writer connection's `synchronous` setting (2 = FULL).
    public func synchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Current time in milliseconds since the epoch, the outbox's unit of time.
    public static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// A new id for a delivery, attempt or ping: a time-ordered UUID (``EventID/timeOrdered(unixMillis:)``),
    /// so every index keyed by ids grows at its end.
    public static func newID() -> String {
        EventID.timeOrdered()
    }
}

import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import DrophookWatch

/// Runs a real watcher over temp directories and collects its batches.
final class WatchHarness: Sendable {
    let watcher: DropTreeWatcher
    /// Every batch the watcher committed, awaited by the waits below.
    private let batches = Observed<WatchBatch>()
    private let task = Mutex<Task<Void, any Error>?>(nil)

    init(watcher: DropTreeWatcher) {
        self.watcher = watcher
    }

    /// Starts a watcher over `configuration` and returns once its start-up scan is done.
    static func start(
        _ configuration: WatcherConfiguration, snapshot: [SnapshotRecord] = [], faults: WatcherFaults = .none
    ) async throws -> WatchHarness {
        var logger = Logger(label: "drophook.watch.test")
        logger.logLevel = .error
        return try await start(
            DropTreeWatcher(configuration: configuration, snapshot: snapshot, logger: logger, clock: ContinuousClock(), faults: faults))
    }

    /// Starts `watcher` and returns once its start-up scan is done.
    static func start(_ watcher: DropTreeWatcher) async throws -> WatchHarness {
        let harness = WatchHarness(watcher: watcher)
        let running = Task {
            try await watcher.run { batch in harness.batches.append(batch) }
        }
        harness.task.withLock { $0 = running }
        let ready = await pollUntil(within: .seconds(30)) { watcher.health.isWatching }
        #expect(ready, "watcher did not finish its start-up scan")
        return harness
    }

    var allBatches: [WatchBatch] { batches.items }
    var events: [FileEvent] { allBatches.flatMap(\.events) }

    /// The snapshot as the outbox would store it after applying every delta.
    var snapshot: [SnapshotRecord] { Self.apply(allBatches, to: []) }

    static func apply(_ batches: [WatchBatch], to initial: [SnapshotRecord]) -> [SnapshotRecord] {
        var table: [SnapshotKey: SnapshotRecord] = [:]
        for record in initial { table[SnapshotKey(watch: record.watch, path: record.path)] = record }
        for batch in batches {
            for key in batch.snapshot.removals { table[key] = nil }
            for record in batch.snapshot.upserts { table[SnapshotKey(watch: record.watch, path: record.path)] = record }
        }
        return Array(table.values)
    }

    /// Waits until the collected events satisfy `condition` (checked at each batch), or the
    /// deadline passes.
    @discardableResult
    func waitForEvents(within limit: Duration = .seconds(20), _ condition: @escaping @Sendable ([FileEvent]) -> Bool) async -> Bool {
        await batches.wait(within: limit) { condition($0.flatMap(\.events)) }
    }

    /// Waits until the committed batches satisfy `condition` (checked at each batch).
    @discardableResult
    func waitForBatches(within limit: Duration = .seconds(20), _ condition: @escaping @Sendable ([WatchBatch]) -> Bool) async -> Bool {
        await batches.wait(within: limit, until: condition)
    }

    /// Waits for an event for `path` of `kind`.
    @discardableResult
    func waitFor(_ kind: FileEvent.Kind, _ path: String, within limit: Duration = .seconds(20)) async -> Bool {
        await waitForEvents(within: limit) { $0.contains { $0.kind == kind && $0.path == path } }
    }

    /// Waits for the watcher to end by itself; returns what it threw (nil when it returned).
    func endError() async -> (any Error)? {
        let running = task.withLock { $0 }
        guard let result = await running?.result else { return nil }
        if case .failure(let error) = result { return error }
        return nil
    }

    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        _ = await running?.result
    }
}

/// A temp directory removed at the end of a test.
final class TempTree: Sendable {
    let path: String

    init(_ label: String = "tree") {
        var template = Array("/tmp/drophook-watch-\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: made!)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func at(_ relative: String) -> String { path + "/" + relative }

    func mkdir(_ relative: String) {
        try! FileManager.default.createDirectory(atPath: at(relative), withIntermediateDirectories: true)
    }

    /// Writes a file with open/write/close (no temp name, unlike Foundation's atomic writes).
    func write(_ relative: String, _ text: String, append: Bool = false) {
        let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        let fd = open(at(relative), flags, 0o644)
        precondition(fd >= 0, "cannot write \(relative): \(errno)")
        let bytes = Array(text.utf8)
        if !bytes.isEmpty { precondition(Glibc.write(fd, bytes, bytes.count) == bytes.count) }
        close(fd)
    }

    func remove(_ relative: String) { try? FileManager.default.removeItem(atPath: at(relative)) }

    /// Every file and directory on disk, relative paths.
    func scan() -> (files: Set<String>, directories: Set<String>) {
        var files = Set<String>()
        var directories = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: path)!
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: at(relative), isDirectory: &isDirectory)
            if isDirectory.boolValue { directories.insert(relative) } else { files.insert(relative) }
        }
        return (files, directories)
    }
}

extension WatcherConfiguration {
    /// One watch over `tree`, with short timers for tests.
    static func test(
        _ tree: TempTree, name: String = "drop", actor: ActorRule = .owner,
        ignore: [String] = [], settle: Duration? = nil, symlinks: SymlinkPolicy = .ignore,
        catchUp: Bool = true
    ) -> WatcherConfiguration {
        var configuration = WatcherConfiguration(
            watches: [WatchConfiguration(name: name, root: tree.path, actor: actor, ignore: ignore, settle: settle, symlinks: symlinks)],
            catchUp: catchUp,
            scanSettle: .milliseconds(300))
        configuration.maxRescanBackoff = .seconds(2)
        // Every reported file leaves the tree of nodes at the next tick: each test also proves
        // that files kept compact (``IdleFiles``) behave as nodes do.
        configuration.idleFileCompaction = .zero
        return configuration
    }
}

extension Array where Element == FileEvent {
    func paths(_ kind: FileEvent.Kind, directories: Bool? = nil) -> [String] {
        filter { $0.kind == kind && (directories == nil || $0.isDirectory == directories!) }.map(\.path)
    }
}

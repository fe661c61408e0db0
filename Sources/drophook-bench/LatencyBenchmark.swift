import DrophookEvents
import DrophookOutbox
import DrophookWatch
import Foundation
import Glibc
import Logging
import Synchronization

/// How long a finished upload waits to be committed: a writer makes `files` files in `trees`
/// new 4-level trees (`tN/a/b/c/`) as fast as it can, recording each `close()`; the watcher's
/// batches go into a real outbox, and each file's latency is the end of the commit that stored
/// its event minus its close. Files in new directories are found by listings: the case where
/// the completion rule matters. Run once asking the kernel (read leases) and once with the
/// stability rule. `drophook-bench latency [files=10000] [trees=2000]`.
struct LatencyBenchmark {
    var files: Int
    var trees: Int
    /// Which completion modes to measure.
    var modes: [Bool] = [true, false]

    func run() async throws {
        print(
            "| completion | files | trees | written in (s) | found by listing | p50 (ms) | p99 (ms) | max (ms) | all committed after (s) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for leases in modes {
            try await measure(leases: leases)
        }
    }

    func measure(leases: Bool) async throws {
        let base = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = base + "/drop"
        mkdir(root, 0o755)
        let outbox = try Outbox(stateDirectory: base + "/state")
        let committed = Mutex<[String: ContinuousClock.Instant]>([:])
        let scanned = Tally()
        var logger = Logger(label: "drophook.bench")
        logger.logLevel = .error
        let watcher = DropTreeWatcher(
            configuration: WatcherConfiguration(watches: [WatchConfiguration(name: "drop", root: root)], leases: leases),
            snapshot: [], logger: logger)
        let running = Task {
            try await watcher.run { batch in
                _ = try await outbox.append(batch) { _ in ["bench"] }
                let now = ContinuousClock.now
                let files = batch.events.filter { $0.kind == .created && !$0.isDirectory }
                scanned.add(files.filter(\.foundByScan).count)
                committed.withLock { for event in files { $0[event.path] = now } }
            }
        }
        while !watcher.health.isWatching { try await Task.sleep(for: .milliseconds(5)) }

        var closed: [String: ContinuousClock.Instant] = [:]
        closed.reserveCapacity(files)
        let perTree = max(files / trees, 1)
        let start = ContinuousClock.now
        for tree in 0..<trees {
            let leaf = "t\(tree)/a/b/c"
            for part in ["t\(tree)", "t\(tree)/a", "t\(tree)/a/b", leaf] { mkdir(root + "/" + part, 0o755) }
            for file in 0..<perTree {
                let path = leaf + "/f\(file).csv"
                let fd = open(root + "/" + path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                _ = write(fd, "0123456789", 10)
                close(fd)
                closed[path] = ContinuousClock.now
            }
        }
        let expected = closed.count
        let writing = ContinuousClock.now - start
        let deadline = ContinuousClock.now + .seconds(120)
        while committed.withLock({ $0.count }) < expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let allCommitted = ContinuousClock.now - start
        running.cancel()
        _ = await running.result

        let done = committed.withLock { $0 }
        var latencies = closed.compactMap { path, close in done[path].map { ($0 - close).secondsDouble * 1000 } }.sorted()
        let missing = expected - latencies.count
        if latencies.isEmpty { latencies = [.infinity] }
        func percentile(_ p: Double) -> String {
            String(format: "%.1f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))])
        }
        let mode = leases ? "lease" : "stability (2 s)"
        print(
            "| \(mode) | \(expected)\(missing > 0 ? " (\(missing) missing)" : "") | \(trees) | \(String(format: "%.2f", writing.secondsDouble)) | \(scanned.value) | \(percentile(0.5)) | \(percentile(0.99)) | \(String(format: "%.1f", latencies.last!)) | \(String(format: "%.2f", allCommitted.secondsDouble)) |"
        )
    }
}

import DrophookEvents
import DrophookOutbox
import DrophookWatch
import Foundation
import Glibc
import Logging

/// Memory and restart time with files that partners leave behind: `files` files kept in
/// `directories` directories. A first start records the tree (into a real outbox), then a
/// restart loads the stored snapshot and catches up against the disk.
/// `drophook-bench kept [files=200000] [directories=2000]`.
struct KeptFilesBenchmark {
    var files: Int
    var directories: Int

    func run() async throws {
        let base = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = base + "/drop"
        mkdir(root, 0o755)
        print("creating \(files) files in \(directories) directories…")
        let perDirectory = max(files / directories, 1)
        for directory in 0..<directories {
            let path = root + "/d\(directory)"
            mkdir(path, 0o755)
            for file in 0..<perDirectory {
                let fd = open(path + "/f\(file).csv", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                close(fd)
            }
        }
        var logger = Logger(label: "drophook.bench")
        logger.logLevel = .error
        let outbox = try Outbox(stateDirectory: base + "/state")
        let configuration = WatcherConfiguration(watches: [WatchConfiguration(name: "drop", root: root)])
        let rssBefore = residentKiB()

        /// Starts a watcher into the outbox on the snapshot `load` returns (loaded straight into
        /// the watcher, as the agent does, so nothing else holds it); returns how long it took to
        /// be watching (from `since`) and the resident size then, and stops it.
        func watch(snapshot load: () async throws -> [SnapshotRecord], since start: ContinuousClock.Instant) async throws -> (Duration, Int)
        {
            let watcher = DropTreeWatcher(configuration: configuration, snapshot: try await load(), logger: logger)
            let running = Task { try await watcher.run { batch in _ = try await outbox.append(batch) { _ in [] } } }
            while !watcher.health.isWatching { try await Task.sleep(for: .milliseconds(5)) }
            let ready = ContinuousClock.now - start
            let resident = residentKiB()
            running.cancel()
            _ = await running.result
            return (ready, resident)
        }

        let (firstTime, rssWatching) = try await watch(snapshot: { [] }, since: .now)
        let firstPeak = procStatusKiB("VmHWM:")
        // Writing 5 to clear_refs resets VmHWM (Linux 4.0+), so the restart's own peak is measured.
        let peakReset = (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
        let (restartTime, rssRestarted) = try await watch(snapshot: { try await outbox.loadSnapshot() }, since: .now)
        let records = perDirectory * directories + directories + 1

        let kept = perDirectory * directories
        let rows: [(String, String)] = [
            ("files kept", "\(kept) in \(directories) directories"),
            ("first start (records the tree)", String(format: "%.2f s", firstTime.secondsDouble)),
            (
                "VmRSS watching, above the start",
                "\((rssWatching - rssBefore) / 1024) MiB (\((rssWatching - rssBefore) * 1024 / max(kept, 1)) bytes per file)"
            ),
            ("restart: load snapshot + catch-up", String(format: "%.2f s (%d records)", restartTime.secondsDouble, records)),
            ("VmRSS after the restart", "\(rssRestarted / 1024) MiB"),
            (
                "peak VmHWM: first start / restart",
                "\(firstPeak / 1024) / \(procStatusKiB("VmHWM:") / 1024) MiB\(peakReset ? "" : " (the restart's peak includes the first start's: clear_refs refused)")"
            ),
        ]
        print("| measure | value |")
        print("|---|---|")
        for (name, value) in rows { print("| \(name) | \(value) |") }
    }
}

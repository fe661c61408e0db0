import DrophookEvents
import DrophookWatch
import Foundation
import Glibc
import Logging
import Synchronization

/// Benchmarks of drophook's pipeline stages, each printing a table:
/// `drophook-bench watch [directories] [seconds]`: the watcher's start-up time and memory over a
/// large tree and its sustained rate; `drophook-bench latency [files] [trees]`: close-to-commit
/// latency of files in new directories; `drophook-bench delivery [events]`: outbox and delivery throughput;
/// `drophook-bench sessions [uploads]`: the session log's parsing and attribution cost;
/// `drophook-bench jetstream [messages]`: acknowledged publishes per second into JetStream.

let arguments = CommandLine.arguments.dropFirst()
guard let command = arguments.first else {
    print(
        "usage: drophook-bench watch [directories=100000] [seconds=5] | latency [files=10000] [trees=2000] [lease|stability] | kept [files=200000] [directories=2000] | delivery [events=10000] | sessions [uploads=100000] | jetstream [messages=20000] | backlog STATE_DIR COUNT ENDPOINT"
    )
    exit(2)
}
switch command {
case "watch":
    let directories = arguments.dropFirst().first.flatMap(Int.init) ?? 100_000
    let seconds = arguments.dropFirst(2).first.flatMap(Int.init) ?? 5
    try await WatchBenchmark(directories: directories, seconds: seconds).run()
case "latency":
    let files = arguments.dropFirst().first.flatMap(Int.init) ?? 10_000
    let trees = arguments.dropFirst(2).first.flatMap(Int.init) ?? 2_000
    let only = arguments.dropFirst(3).first
    let modes = only == "lease" ? [true] : only == "stability" ? [false] : [true, false]
    try await LatencyBenchmark(files: files, trees: trees, modes: modes).run()
case "kept":
    let files = arguments.dropFirst().first.flatMap(Int.init) ?? 200_000
    let directories = arguments.dropFirst(2).first.flatMap(Int.init) ?? 2_000
    try await KeptFilesBenchmark(files: files, directories: directories).run()
case "delivery":
    let events = arguments.dropFirst().first.flatMap(Int.init) ?? 10_000
    try await DeliveryBenchmark(events: events).run()
case "sessions":
    SessionLogBenchmark(uploads: arguments.dropFirst().first.flatMap(Int.init) ?? 100_000).run()
case "jetstream":
    try await JetStreamBenchmark(messages: arguments.dropFirst().first.flatMap(Int.init) ?? 20_000).run()
case "backlog":
    let rest = Array(arguments.dropFirst())
    guard rest.count == 3, let count = Int(rest[1]) else {
        print("usage: drophook-bench backlog STATE_DIR COUNT ENDPOINT")
        exit(2)
    }
    try BacklogFill(stateDirectory: rest[0], count: count, endpoint: rest[2]).run()
default:
    print("unknown benchmark \(command); known: watch, latency, kept, delivery, sessions, jetstream, backlog")
    exit(2)
}

/// Start-up and sustained-rate benchmark of ``DropTreeWatcher`` on a real temp tree.
struct WatchBenchmark {
    var directories: Int
    var seconds: Int

    func run() async throws {
        let base = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let treeRoot = base + "/tree"
        let burstRoot = base + "/burst"
        mkdir(treeRoot, 0o755)
        mkdir(burstRoot, 0o755)

        let limitPath = "/proc/sys/fs/inotify/max_user_watches"
        let originalLimit = readInteger(limitPath)
        var raised = false
        if let originalLimit, originalLimit < directories + 10_000 {
            raised = writeInteger(limitPath, directories + 10_000)
            if !raised {
                print("warning: fs.inotify.max_user_watches is \(originalLimit); run as root to raise it for \(directories) directories")
            }
        }
        defer { if raised, let originalLimit { _ = writeInteger(limitPath, originalLimit) } }

        print("creating \(directories) directories…")
        let fanOut = 100
        for top in 0..<((directories + fanOut - 1) / fanOut) {
            let topPath = treeRoot + "/d\(top)"
            mkdir(topPath, 0o755)
            for sub in 0..<min(fanOut - 1, directories - top * fanOut - 1) where sub >= 0 {
                mkdir(topPath + "/s\(sub)", 0o755)
            }
        }

        var logger = Logger(label: "drophook.bench")
        logger.logLevel = .warning
        let rssBefore = residentKiB()

        // Start-up over the large tree.
        let startup = ContinuousClock.now
        let big = DropTreeWatcher(
            configuration: WatcherConfiguration(watches: [WatchConfiguration(name: "big", root: treeRoot)]),
            snapshot: [], logger: logger)
        let bigTask = Task { try await big.run { _ in } }
        while !big.health.isWatching { try await Task.sleep(for: .milliseconds(5)) }
        let startupTime = ContinuousClock.now - startup
        let rssWatching = residentKiB()
        let watched = big.health.watchedDirectories

        // Sustained rate: writers create files as fast as they can in a watched directory.
        let received = Tally()
        let burst = DropTreeWatcher(
            configuration: WatcherConfiguration(watches: [WatchConfiguration(name: "burst", root: burstRoot)]),
            snapshot: [], logger: logger)
        let burstTask = Task {
            try await burst.run { batch in received.add(batch.events.count) }
        }
        while !burst.health.isWatching { try await Task.sleep(for: .milliseconds(5)) }
        let writers = 2
        let deadline = ContinuousClock.now + .seconds(seconds)
        let written = Tally()
        let writeStart = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let directory = burstRoot + "/w\(writer)"
                    mkdir(directory, 0o755)
                    var count = 0
                    while ContinuousClock.now < deadline {
                        for _ in 0..<100 {
                            let fd = open(directory + "/f\(count)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                            _ = write(fd, "x", 1)
                            close(fd)
                            count += 1
                        }
                    }
                    written.add(count)
                }
            }
        }
        let writeTime = ContinuousClock.now - writeStart
        let files = written.value
        let expected = files + writers
        let drainDeadline = ContinuousClock.now + .seconds(60)
        while received.value < expected, ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let totalTime = ContinuousClock.now - writeStart
        let reported = received.value
        let overflows = burst.health.overflows
        let rssEnd = residentKiB()
        bigTask.cancel()
        burstTask.cancel()
        _ = await bigTask.result
        _ = await burstTask.result

        let rate = Double(files) / totalTime.secondsDouble
        let rows: [(String, String)] = [
            ("watched directories", "\(watched)"),
            ("start-up scan + watches", String(format: "%.2f s", startupTime.secondsDouble)),
            ("VmRSS before start", "\(rssBefore / 1024) MiB"),
            ("VmRSS watching \(watched) dirs", "\(rssWatching / 1024) MiB"),
            ("RSS per watched directory", String(format: "%.0f bytes", Double((rssWatching - rssBefore) * 1024) / Double(max(watched, 1)))),
            (
                "files written (\(writers) writers, \(seconds) s)",
                "\(files) (\(String(format: "%.0f", Double(files) / writeTime.secondsDouble))/s)"
            ),
            ("events reported", "\(reported) of \(expected)"),
            ("inotify records read", "≈\(files * 3) (create, open, close-write per file)"),
            ("sustained file events/s", String(format: "%.0f", rate)),
            ("queue overflows", "\(overflows)"),
            ("VmRSS at end", "\(rssEnd / 1024) MiB"),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        print("| measure" + String(repeating: " ", count: width - 7) + " | value |")
        print("|" + String(repeating: "-", count: width + 2) + "|-------|")
        for (name, value) in rows {
            print("| " + name + String(repeating: " ", count: width - name.count) + " | \(value) |")
        }
    }
}

/// A count shared between tasks.
final class Tally: Sendable {
    private let count = Mutex(0)
    func add(_ amount: Int) { count.withLock { $0 += amount } }
    var value: Int { count.withLock { $0 } }
}

func makeTempDirectory() -> String {
    var template = Array("/tmp/drophook-bench-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: made!)
}

/// A `/proc/self/status` field in KiB (`VmRSS:`, `VmHWM:`), 0 when unreadable.
func procStatusKiB(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field) {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}

func residentKiB() -> Int { procStatusKiB("VmRSS:") }

func readInteger(_ path: String) -> Int? {
    (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

func writeInteger(_ path: String, _ value: Int) -> Bool {
    (try? "\(value)\n".write(toFile: path, atomically: false, encoding: .utf8)) != nil
}

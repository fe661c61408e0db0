import DrophookEvents
import DrophookOutbox
import Foundation

/// Fills an outbox with owed deliveries through the outbox's own append, for the backlog run of
/// `benchmarks/run`: `drophook-bench backlog STATE_DIR COUNT ENDPOINT`.
struct BacklogFill {
    var stateDirectory: String
    var count: Int
    var endpoint: String

    func run() throws {
        let outbox = try Outbox(stateDirectory: stateDirectory)
        let batch = 5_000
        let start = ContinuousClock.now
        var appended = 0
        while appended < count {
            let size = min(batch, count - appended)
            let now = Outbox.nowMillis()
            let events = (appended..<appended + size).map {
                FileEvent(
                    id: Outbox.newID(), kind: .created, watch: "uploads", path: "backlog/d\($0 / 1000)/f\($0).csv",
                    size: 1024, actor: "partner", occurredAtMillis: now)
            }
            let endpoint = self.endpoint
            try outbox.append(WatchBatch(events: events)) { _ in [endpoint] }
            appended += size
        }
        let seconds = (ContinuousClock.now - start).secondsDouble
        print("appended \(appended) deliveries for \(endpoint) in \(String(format: "%.1f", seconds)) s")
    }
}

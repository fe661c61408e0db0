import DrophookEvents
import DrophookOutbox
import Foundation

/// A fresh state directory per test, removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "drophook-outbox-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

func fileEvent(
    _ kind: FileEvent.Kind = .created,
    watch: String = "uploads",
    path: String,
    size: Int64? = 10,
    at millis: Int64 = 1_700_000_000_000
) -> FileEvent {
    FileEvent(
        id: Outbox.newID(), kind: kind, watch: watch, path: path, isDirectory: false,
        size: size, actor: "alice", occurredAtMillis: millis, foundByScan: false
    )
}

func record(_ path: String, watch: String = "uploads", inode: UInt64 = 42, size: Int64 = 10) -> SnapshotRecord {
    SnapshotRecord(watch: watch, path: path, isDirectory: false, inode: inode, size: size, mtimeNanos: 1_700_000_000_000_000_000)
}

func attemptRecord(for job: DeliveryJob, status: Int?, result: AttemptResult, at millis: Int64 = Outbox.nowMillis()) -> AttemptRecord {
    AttemptRecord(
        id: Outbox.newID(), deliveryID: job.deliveryID, number: job.attemptCount + 1,
        startedAtMillis: millis, durationMillis: 3, target: .url("http://127.0.0.1:1/hook"),
        requestHeaders: [HTTPHeader("Content-Type", "application/json")], requestBody: Array("{}".utf8),
        responseStatus: status, responseBody: Array("ok".utf8), error: status == nil ? "connectFailure" : nil,
        result: result
    )
}

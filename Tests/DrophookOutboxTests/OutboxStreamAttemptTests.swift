import DrophookEvents
import Foundation
import GRDB
import Testing

@testable import DrophookOutbox

/// Attempts into a stream keep the subject and the stream's acknowledgement in their own
/// terms; those an older outbox wrote as an HTTP exchange in disguise are rewritten at open.
@Suite("Outbox: attempts into a stream")
struct OutboxStreamAttemptTests {
    @Test("an attempt into a stream reads back with its subject and the stream's acknowledgement")
    func aStreamAttemptReadsBackInItsOwnTerms() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(path: dir.path + "/" + Outbox.fileName)
        try outbox.append(WatchBatch(events: [fileEvent(path: "a.csv")])) { _ in ["fleet"] }
        let job = try #require(try outbox.claimDueDeliveries(endpoint: "fleet", limit: 1).first)
        var record = attemptRecord(for: job, status: nil, result: .delivered)
        record.target = .subject("sftp.h.uploads.file.created")
        record.responseBody = []
        record.error = nil
        record.acknowledgement = StreamAcknowledgement(stream: "SFTP", sequence: 42, duplicate: true)
        try outbox.recordAttempt(record, endpoint: "fleet", transition: .delivered)

        let read = try #require(try outbox.attempts(deliveryID: job.deliveryID).first)
        #expect(read.target == .subject("sftp.h.uploads.file.created"))
        #expect(read.acknowledgement == StreamAcknowledgement(stream: "SFTP", sequence: 42, duplicate: true))
        #expect(read.responseStatus == nil)
        let summary = try #require(try outbox.delivery(id: job.deliveryID))
        #expect(summary.lastStatus == nil && summary.lastSequence == 42)
        // A webhook's attempt is untouched by the stream's columns.
        let webhook = attemptRecord(for: job, status: 204, result: .delivered)
        try outbox.recordAttempt(webhook, endpoint: "fleet", transition: .delivered)
        let both = try outbox.attempts(deliveryID: job.deliveryID)
        #expect(both.last?.target == .url("http://127.0.0.1:1/hook") && both.last?.acknowledgement == nil)
    }

    @Test("an outbox whose stream attempts were written as `nats:` URLs with status 200 is rewritten at open")
    func olderStreamAttemptsAreMigrated() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/" + Outbox.fileName
        do {
            let pool = try DatabasePool(path: path)
            try OutboxSchema.migrator.migrate(pool, upTo: "v8-schedule-clock")
            // What the previous build recorded: the subject behind `nats:`, status 200, the
            // ack as a JSON body with made-up headers; a failed publish without a status; and a
            // webhook's attempt, which must come through as it was.
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO event (id, watch, kind, path, is_directory, actor, occurred_at_ms, found_by_scan, created_at_ms)
                        VALUES ('e1', 'uploads', 'created', 'a.csv', 0, 'alice', 1, 0, 1);
                        INSERT INTO delivery (id, event_seq, endpoint, state, next_attempt_at_ms, created_at_ms, updated_at_ms, last_status)
                        VALUES ('d1', 1, 'fleet', 'delivered', 1, 1, 1, 200), ('d2', 1, 'ops', 'delivered', 1, 1, 1, 204);
                        INSERT INTO attempt (id, delivery_id, number, started_at_ms, duration_ms, request_url, request_headers,
                            request_body, response_status, response_headers, response_body, response_truncated, error, result)
                        VALUES
                        ('a1', 'd1', 1, 1, 1, 'nats:sftp.h.uploads.file.created', '[]', x'7B7D', NULL, '[]', x'', 0,
                            'connectFailure: cannot connect to NATS', 'retry'),
                        ('a2', 'd1', 2, 2, 1, 'nats:sftp.h.uploads.file.created', '[]', x'7B7D', 200,
                            '[["Nats-Stream","SFTP"],["Nats-Sequence","7"]]',
                            CAST('{"stream":"SFTP","seq":7,"duplicate":true}' AS BLOB), 0, NULL, 'delivered'),
                        ('a3', 'd2', 1, 3, 1, 'https://hooks.example.com/x', '[]', x'7B7D', 204, '[["Server","x"]]', x'6F6B', 0,
                            NULL, 'delivered');
                        """)
            }
        }
        let outbox = try Outbox(path: path)
        let stream = try outbox.attempts(deliveryID: "d1")
        #expect(stream.map(\.target) == [.subject("sftp.h.uploads.file.created"), .subject("sftp.h.uploads.file.created")])
        #expect(stream.map(\.acknowledgement) == [nil, StreamAcknowledgement(stream: "SFTP", sequence: 7, duplicate: true)])
        #expect(stream.allSatisfy { $0.responseStatus == nil && $0.responseHeaders.isEmpty && $0.responseBody.isEmpty })
        #expect(stream.first?.error == "connectFailure: cannot connect to NATS")
        let webhook = try #require(try outbox.attempts(deliveryID: "d2").first)
        #expect(webhook.target == .url("https://hooks.example.com/x") && webhook.responseStatus == 204)
        #expect(webhook.responseHeaders == [HTTPHeader("Server", "x")] && webhook.responseBody == Array("ok".utf8))
        let statuses = try outbox.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, last_status FROM delivery ORDER BY id").map {
                [$0["id"] as String: $0["last_status"] as Int?]
            }
        }
        #expect(statuses == [["d1": nil], ["d2": 204]])
        #expect(try outbox.delivery(id: "d1")?.lastSequence == 7)
        #expect(try outbox.delivery(id: "d2")?.lastSequence == nil)
    }
}

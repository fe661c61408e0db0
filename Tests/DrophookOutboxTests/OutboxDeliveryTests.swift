import DrophookEvents
import Foundation
import Testing

@testable import DrophookOutbox

@Suite("Outbox delivery queue")
struct OutboxDeliveryTests {
    @Test("claiming marks deliveries in flight; a restart puts them back with the same ids")
    func crashRecoveryOfDeliveringRows() throws {
        let dir = try TemporaryDirectory()
        let events = [fileEvent(path: "a"), fileEvent(path: "b"), fileEvent(path: "c")]
        var claimed: [DeliveryJob] = []
        do {
            let outbox = try Outbox(stateDirectory: dir.path)
            try outbox.append(WatchBatch(events: events)) { _ in ["hook"] }
            claimed = try outbox.claimDueDeliveries(endpoint: "hook", limit: 2)
            #expect(claimed.map(\.event.id) == events.prefix(2).map(\.id))
            #expect(try outbox.claimDueDeliveries(endpoint: "hook", limit: 5).map(\.event.id) == [events[2].id])
            #expect(try outbox.claimDueDeliveries(endpoint: "hook", limit: 5).isEmpty)
        }
        // The process "died" with three deliveries in flight.
        let reopened = try Outbox(stateDirectory: dir.path)
        #expect(try reopened.counts().first?.delivering == 3)
        #expect(try reopened.recoverInterruptedDeliveries() == 3)
        let again = try reopened.claimDueDeliveries(endpoint: "hook", limit: 5)
        #expect(again.map(\.event.id) == events.map(\.id))
        #expect(Array(again.prefix(2)).map(\.deliveryID) == claimed.map(\.deliveryID))
    }

    @Test("an attempt is logged and moves its delivery: retry, then delivered")
    func recordAttemptTransitions() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        try outbox.append(WatchBatch(events: [fileEvent(path: "a")])) { _ in ["hook"] }
        let job = try #require(try outbox.claimDueDeliveries(endpoint: "hook", limit: 1).first)
        let retryAt = Outbox.nowMillis() + 60_000
        let failedAt = Outbox.nowMillis()
        var state = try outbox.recordAttempt(
            attemptRecord(for: job, status: 500, result: .retry, at: failedAt),
            endpoint: "hook", transition: .retry(atMillis: retryAt))
        #expect(state.failingSinceMillis == failedAt)
        #expect(try outbox.dueDeliveries(endpoint: "hook", limit: 5).isEmpty)
        #expect(try outbox.nextDueMillis(endpoint: "hook") == retryAt)
        #expect(try outbox.queueHead(endpoint: "hook")?.deliveryID == job.deliveryID)

        let later = try #require(try outbox.claimDueDeliveries(endpoint: "hook", nowMillis: retryAt, limit: 1).first)
        #expect(later.attemptCount == 1)
        var big = attemptRecord(for: later, status: 204, result: .delivered)
        big.responseBody = Array(repeating: 65, count: 20_000)
        state = try outbox.recordAttempt(big, endpoint: "hook", transition: .delivered)
        #expect(state.failingSinceMillis == nil)

        let attempts = try outbox.attempts(deliveryID: job.deliveryID)
        #expect(attempts.map(\.responseStatus) == [500, 204])
        #expect(attempts.map(\.number) == [1, 2])
        #expect(attempts[1].responseBody.count == AttemptRecord.maxResponseBodyBytes)
        #expect(attempts[1].responseTruncated)
        #expect(try outbox.attempts(eventID: job.event.id).map(\.id) == attempts.map(\.id))
        #expect(try outbox.delivery(id: job.deliveryID)?.state == .delivered)
        #expect(try outbox.queueHead(endpoint: "hook") == nil)
    }

    @Test("headers stored in a damaged or hand-edited attempt row are shown as unreadable, not as none")
    func unreadableStoredHeadersAreSaid() async throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        try await outbox.append(WatchBatch(events: [fileEvent(path: "a")])) { _ in ["hook"] }
        let job = try #require(try outbox.claimDueDeliveries(endpoint: "hook", limit: 1).first)
        var record = attemptRecord(for: job, status: 500, result: .retry)
        record.requestHeaders = [HTTPHeader("Content-Type", "application/json")]
        try outbox.recordAttempt(record, endpoint: "hook", transition: .retry(atMillis: Outbox.nowMillis() + 60_000))
        try await outbox.pool.write { db in
            try db.execute(sql: "UPDATE attempt SET request_headers = 'not json', response_headers = '[[\"X-A\", \"1\"], 7]'")
        }
        let read = try #require(try outbox.attempts(deliveryID: job.deliveryID).first)
        #expect(read.requestHeaders.map(\.name) == [Outbox.unreadableHeaders])
        #expect(
            read.requestHeaders.first?.value.contains("not JSON") == true && read.requestHeaders.first?.value.contains("not json") == true)
        // One bad pair is said; the good one beside it is kept.
        #expect(read.responseHeaders.map(\.name) == ["X-A", Outbox.unreadableHeaders])
        #expect(read.responseStatus == 500, "the rest of the attempt is readable")
    }

    @Test("failed deliveries are requeued by delivery id, by event id and all of an endpoint, keeping their ids")
    func requeueFailedDeliveries() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let events = [fileEvent(path: "a"), fileEvent(path: "b"), fileEvent(path: "c"), fileEvent(path: "d")]
        try outbox.append(WatchBatch(events: events)) { _ in ["hook"] }
        let jobs = try outbox.claimDueDeliveries(endpoint: "hook", limit: 4)
        for job in jobs.prefix(3) {
            try outbox.recordAttempt(attemptRecord(for: job, status: 400, result: .failed), endpoint: "hook", transition: .failed)
        }
        try outbox.recordAttempt(attemptRecord(for: jobs[3], status: 200, result: .delivered), endpoint: "hook", transition: .delivered)
        #expect(
            try outbox.counts(includingDelivered: true) == [
                {
                    var c = EndpointCounts(endpoint: "hook")
                    c.failed = 3
                    c.delivered = 1
                    return c
                }()
            ])
        #expect(
            try outbox.counts() == [
                {
                    var c = EndpointCounts(endpoint: "hook")
                    c.failed = 3
                    return c
                }()
            ])

        #expect(try outbox.requeue(.delivery(id: jobs[0].deliveryID)) == 1)
        #expect(try outbox.requeue(.event(id: events[1].id)) == 1)
        #expect(try outbox.requeue(.event(id: events[3].id)) == 0) // delivered: left alone
        var due = try outbox.dueDeliveries(endpoint: "hook", limit: 10)
        #expect(due.map(\.deliveryID) == [jobs[0].deliveryID, jobs[1].deliveryID])
        #expect(due.map(\.event.id) == [events[0].id, events[1].id])
        #expect(due.allSatisfy { $0.attemptCount == 1 && $0.attemptsThisRound == 0 })

        #expect(try outbox.requeue(.allFailed(endpoint: "hook")) == 1)
        due = try outbox.dueDeliveries(endpoint: "hook", limit: 10)
        #expect(due.map(\.deliveryID) == jobs.prefix(3).map(\.deliveryID))
    }

    @Test("pruning removes old delivered work and keeps pending and failed")
    func pruneKeepsOwedWork() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let old: Int64 = 1_000_000
        let events = [fileEvent(path: "delivered"), fileEvent(path: "failed"), fileEvent(path: "pending"), fileEvent(path: "recent")]
        try outbox.append(WatchBatch(events: Array(events.prefix(3))), nowMillis: old) { _ in ["hook"] }
        let jobs = try outbox.claimDueDeliveries(endpoint: "hook", nowMillis: old, limit: 2)
        try outbox.recordAttempt(
            attemptRecord(for: jobs[0], status: 200, result: .delivered, at: old),
            endpoint: "hook", transition: .delivered, nowMillis: old)
        try outbox.recordAttempt(
            attemptRecord(for: jobs[1], status: 404, result: .failed, at: old),
            endpoint: "hook", transition: .failed, nowMillis: old)
        try outbox.append(WatchBatch(events: [events[3]])) { _ in ["hook"] }
        let recent = try #require(try outbox.claimDueDeliveries(endpoint: "hook", limit: 5).last)
        #expect(recent.event.id == events[3].id)
        try outbox.recordAttempt(attemptRecord(for: recent, status: 200, result: .delivered), endpoint: "hook", transition: .delivered)

        let pruned = try outbox.prune(olderThan: old + 1000)
        #expect(pruned.deliveries == 1)
        #expect(pruned.events == 1)
        #expect(try outbox.attempts(deliveryID: jobs[0].deliveryID).isEmpty)
        #expect(try outbox.attempts(deliveryID: jobs[1].deliveryID).count == 1)
        #expect(try outbox.events().map(\.path) == ["failed", "pending", "recent"])
        let states = try outbox.recentDeliveries(endpoint: "hook").map { "\($0.path):\($0.state.rawValue)" }.sorted()
        #expect(states == ["failed:failed", "pending:delivering", "recent:delivered"])
    }

    @Test("disabling keeps the queue; enabling makes the backlog due at once")
    func disableAndEnable() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        try outbox.append(WatchBatch(events: [fileEvent(path: "a")])) { _ in ["hook"] }
        let job = try #require(try outbox.claimDueDeliveries(endpoint: "hook", limit: 1).first)
        try outbox.recordAttempt(
            attemptRecord(for: job, status: 500, result: .retry), endpoint: "hook",
            transition: .retry(atMillis: Outbox.nowMillis() + 3_600_000))
        try outbox.disable("hook", reason: "gone")
        #expect(try outbox.endpointState("hook").disabled)
        #expect(try outbox.endpointState("hook").disabledReason == "gone")
        #expect(try outbox.queueDepth(endpoint: "hook") == 1)
        #expect(try outbox.dueDeliveries(endpoint: "hook", limit: 1).isEmpty)
        #expect(try outbox.enable("hook") == 1)
        #expect(try !outbox.endpointState("hook").disabled)
        #expect(try outbox.endpointState("hook").failingSinceMillis == nil)
        #expect(try outbox.dueDeliveries(endpoint: "hook", limit: 1).map(\.deliveryID) == [job.deliveryID])
    }

    @Test("the delivery log answers one question: since when, which path, which state, which webhook")
    func searchAndRedeliverByTime() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let day: Int64 = 86_400_000
        let now = Outbox.nowMillis()
        try outbox.append(WatchBatch(events: [fileEvent(path: "alice/invoices/old.pdf")]), nowMillis: now - 2 * day) { _ in ["ops", "erp"] }
        try outbox.append(
            WatchBatch(events: [fileEvent(path: "alice/invoices/new.pdf"), fileEvent(path: "bob/new.pdf")]), nowMillis: now - 3_600_000
        ) { _ in ["ops", "erp"] }
        // The ops deliveries fail for good.
        for job in try outbox.claimDueDeliveries(endpoint: "ops", limit: 10) {
            try outbox.recordAttempt(
                attemptRecord(for: job, status: 404, result: .failed), endpoint: "ops", transition: .failed, nowMillis: now)
        }
        func paths(_ search: DeliverySearch) throws -> [String] {
            try outbox.searchDeliveries(search).map { "\($0.endpoint) \($0.path) \($0.state.rawValue)" }
        }
        let glob = try PathGlob("alice/invoices/*")
        #expect(try paths(DeliverySearch(state: .failed, sinceMillis: now - day, path: glob)) == ["ops alice/invoices/new.pdf failed"])
        #expect(
            try paths(DeliverySearch(endpoint: "erp", sinceMillis: now - day)).sorted() == [
                "erp alice/invoices/new.pdf pending", "erp bob/new.pdf pending",
            ])
        #expect(
            try paths(DeliverySearch(untilMillis: now - day, path: glob)).sorted() == [
                "erp alice/invoices/old.pdf pending", "ops alice/invoices/old.pdf failed",
            ])
        #expect(try outbox.searchDeliveries(DeliverySearch(limit: 2)).count == 2)

        // "Send yesterday's again": the failures of the last day, of one webhook, nothing older.
        #expect(try outbox.requeue(.failedSince(millis: now - day, endpoint: "erp")) == 0)
        #expect(try outbox.requeue(.failedSince(millis: now - day, endpoint: "ops")) == 2)
        #expect(try paths(DeliverySearch(endpoint: "ops", state: .failed)) == ["ops alice/invoices/old.pdf failed"])
    }
}

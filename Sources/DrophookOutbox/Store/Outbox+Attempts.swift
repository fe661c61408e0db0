import Foundation
import GRDB

/// Recording what attempts came to.
extension Outbox {
    /// One finished attempt and what it means for its delivery.
    public struct AttemptOutcome: Sendable {
        public var attempt: AttemptRecord
        public var endpoint: String
        public var transition: DeliveryTransition

        public init(_ attempt: AttemptRecord, endpoint: String, transition: DeliveryTransition) {
            self.attempt = attempt
            self.endpoint = endpoint
            self.transition = transition
        }
    }

    /// Writes one attempt to the log and moves its delivery on. See ``recordAttempts(_:nowMillis:)``.
    @discardableResult
    public func recordAttempt(
        _ attempt: AttemptRecord,
        endpoint: String,
        transition: DeliveryTransition,
        nowMillis: Int64 = Outbox.nowMillis()
    ) throws -> EndpointState {
        try recordAttempts([AttemptOutcome(attempt, endpoint: endpoint, transition: transition)], nowMillis: nowMillis)[endpoint]
            ?? EndpointState(name: endpoint)
    }

    /// Writes attempts to the log and moves their deliveries on, all in one transaction (a group
    /// commit: the workers hand in what finished while the previous commit ran). Also keeps each
    /// endpoint's `failing_since` (cleared by a success, set by the first failure of a run).
    /// Returns each endpoint's state afterwards, for the auto-disable rule.
    ///
    /// Not fsynced (see ``writeResendable(_:)``): an attempt lost to a power cut is made again.
    public func recordAttempts(_ outcomes: [AttemptOutcome], nowMillis: Int64 = Outbox.nowMillis()) throws -> [String: EndpointState] {
        guard !outcomes.isEmpty else { return [:] }
        return try writeResendable { db in
            var endpoints: Set<String> = []
            for outcome in outcomes {
                try Self.insertAttempt(db, outcome.attempt)
                let attempt = outcome.attempt
                let (state, next): (DeliveryState, Int64?) =
                    switch outcome.transition {
                    case .delivered: (.delivered, nil)
                    case .retry(let at): (.pending, at)
                    case .failed: (.failed, nil)
                    }
                try db.executeCached(
                    sql: """
                        UPDATE delivery SET state = ?, attempt_count = attempt_count + 1,
                            next_attempt_at_ms = COALESCE(?, next_attempt_at_ms),
                            last_status = ?, last_stream_sequence = ?, last_error = ?, updated_at_ms = ?
                        WHERE id = ?
                        """,
                    arguments: [
                        state.rawValue, next, attempt.responseStatus, attempt.acknowledgement.map { Int64(bitPattern: $0.sequence) },
                        attempt.error, nowMillis, attempt.deliveryID,
                    ]
                )
                if endpoints.insert(outcome.endpoint).inserted {
                    try Self.ensureEndpointRow(db, outcome.endpoint, nowMillis: nowMillis)
                }
                if outcome.transition == .delivered {
                    try db.executeCached(
                        sql: "UPDATE endpoint_state SET failing_since_ms = NULL WHERE name = ?", arguments: [outcome.endpoint])
                } else {
                    try db.executeCached(
                        sql: "UPDATE endpoint_state SET failing_since_ms = COALESCE(failing_since_ms, ?) WHERE name = ?",
                        arguments: [attempt.startedAtMillis, outcome.endpoint]
                    )
                }
            }
            var states: [String: EndpointState] = [:]
            for name in endpoints {
                states[name] = try Self.fetchEndpointState(db, name)
            }
            return states
        }
    }

    static func insertAttempt(_ db: Database, _ attempt: AttemptRecord) throws {
        let body = Array(attempt.responseBody.prefix(AttemptRecord.maxResponseBodyBytes))
        // A webhook's URL in request_url; a stream's subject in stream_subject (request_url empty).
        let (url, subject): (String, String?) =
            switch attempt.target {
            case .url(let url): (url, nil)
            case .subject(let subject): ("", subject)
            }
        let ack = attempt.acknowledgement
        try db.executeCached(
            sql: """
                INSERT INTO attempt (id, delivery_id, number, started_at_ms, duration_ms, request_url, request_headers,
                    request_body, response_status, response_headers, response_body, response_truncated, error, result,
                    stream_subject, stream_name, stream_sequence, stream_duplicate)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                attempt.id, attempt.deliveryID, attempt.number, attempt.startedAtMillis, attempt.durationMillis,
                url, Self.encodeHeaders(attempt.requestHeaders), Data(attempt.requestBody),
                attempt.responseStatus, Self.encodeHeaders(attempt.responseHeaders), Data(body),
                attempt.responseTruncated || body.count < attempt.responseBody.count,
                attempt.error, attempt.result.rawValue,
                subject, ack?.stream, ack.map { Int64(bitPattern: $0.sequence) }, ack?.duplicate,
            ]
        )
    }
}

import DrophookEvents
import Foundation
import GRDB

/// Row ↔ model mapping shared by the queries.
extension Outbox {
    static let pingKind = "ping"

    static let jobColumns = """
        d.id AS d_id, d.event_seq, d.endpoint, d.state, d.attempt_count, d.round_start, d.next_attempt_at_ms,
        e.id AS e_id, e.watch, e.kind, e.path, e.is_directory, e.size, e.actor,
        e.occurred_at_ms, e.found_by_scan, e.pipe_id, e.transfer_protocol, e.previous_path, e.part_of_rename, e.sha256,
        e.client_address, e.bytes_written, e.created_at_ms AS e_created_at_ms
        """

    /// The event columns ``queuedEvent(_:)`` reads, for queries on `event` alone.
    static let eventColumns =
        "id AS e_id, watch, kind, path, is_directory, size, actor, occurred_at_ms, found_by_scan, pipe_id, transfer_protocol, previous_path, part_of_rename, sha256, client_address, bytes_written"

    static func queuedEvent(_ row: Row) throws -> QueuedEvent {
        let kind: String = row["kind"]
        let id: String = row["e_id"]
        if kind == pingKind {
            return .ping(id: id, createdAtMillis: row["occurred_at_ms"])
        }
        guard let fileKind = FileEvent.Kind(rawValue: kind) else {
            throw OutboxError(.corruptRow, "event \(id) has unknown kind \(kind) — the outbox was written by a newer drophook")
        }
        return .file(
            FileEvent(
                id: id,
                kind: fileKind,
                watch: row["watch"],
                path: row["path"],
                isDirectory: row["is_directory"],
                size: row["size"],
                actor: row["actor"],
                occurredAtMillis: row["occurred_at_ms"],
                foundByScan: row["found_by_scan"],
                origin: (row["pipe_id"] as String?).map { WatchOrigin(pipeID: $0, transferProtocol: row["transfer_protocol"] ?? "sftp") },
                previousPath: row["previous_path"],
                partOfRename: row["part_of_rename"],
                sha256: row["sha256"],
                clientAddress: row["client_address"],
                bytesWritten: row["bytes_written"]
            ))
    }

    static func job(_ row: Row) throws -> DeliveryJob {
        let stateName: String = row["state"]
        return DeliveryJob(
            deliveryID: row["d_id"],
            eventSeq: row["event_seq"],
            endpoint: row["endpoint"],
            event: try queuedEvent(row),
            attemptCount: row["attempt_count"],
            roundStart: row["round_start"],
            nextAttemptAtMillis: row["next_attempt_at_ms"],
            state: DeliveryState(rawValue: stateName) ?? .pending
        )
    }

    /// Headers as the log stores them: a JSON array of `[name, value]` pairs. Written with the
    /// payloads' own JSON writer; Foundation's `JSONEncoder` cost more than the rest of the
    /// attempt record.
    static func encodeHeaders(_ headers: [HTTPHeader]) -> String {
        JSONValue.array(headers.map { .array([.string($0.name), .string($0.value)]) }).serializedString
    }

    /// The name under which ``decodeHeaders(_:)`` shows headers it cannot read: not a valid
    /// header name, so it can be neither sent nor mistaken for one a receiver gave.
    static let unreadableHeaders = "(unreadable headers)"

    /// The stored pairs. Headers that cannot be read back (a damaged or hand-edited row) are
    /// not turned into "no headers": the delivery log shows one entry that says what is wrong,
    /// and the rest of the attempt stays readable.
    static func decodeHeaders(_ text: String?) -> [HTTPHeader] {
        guard let text else { return [] }
        let parsed: JSONValue
        do {
            parsed = try JSONValue(parsing: Array(text.utf8))
        } catch {
            return [HTTPHeader(unreadableHeaders, "the stored headers are not JSON (\(error)): \(text.prefix(200))")]
        }
        guard case .array(let pairs) = parsed else {
            return [HTTPHeader(unreadableHeaders, "the stored headers are not a list of [name, value] pairs: \(text.prefix(200))")]
        }
        return pairs.map { pair in
            guard case .array(let parts) = pair, parts.count == 2,
                let name = parts[0].stringValue, let value = parts[1].stringValue
            else {
                return HTTPHeader(unreadableHeaders, "a stored header is not a [name, value] pair: \(pair.serializedString.prefix(200))")
            }
            return HTTPHeader(name, value)
        }
    }

    static func insertEvent(_ db: Database, _ event: FileEvent, nowMillis: Int64) throws -> Int64 {
        try db.executeCached(
            sql: """
                INSERT INTO event (id, watch, kind, path, is_directory, size, actor, occurred_at_ms, found_by_scan,
                                   pipe_id, transfer_protocol, previous_path, part_of_rename, sha256, client_address, bytes_written,
                                   created_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.id, event.watch, event.kind.rawValue, event.path, event.isDirectory, event.size,
                event.actor, event.occurredAtMillis, event.foundByScan,
                event.origin?.pipeID, event.origin?.transferProtocol, event.previousPath, event.partOfRename, event.sha256,
                event.clientAddress, event.bytesWritten, nowMillis,
            ]
        )
        return db.lastInsertedRowID
    }

    /// A pending delivery, due at `dueMillis` on the schedule clock (``Outbox/scheduleMillis()``).
    static func insertDelivery(_ db: Database, eventSeq: Int64, endpoint: String, nowMillis: Int64, dueMillis: Int64) throws -> String {
        let id = Outbox.newID()
        try db.executeCached(
            sql: """
                INSERT INTO delivery (id, event_seq, endpoint, state, attempt_count, next_attempt_at_ms, created_at_ms, updated_at_ms)
                VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)
                """,
            arguments: [id, eventSeq, endpoint, dueMillis, nowMillis, nowMillis]
        )
        return id
    }
}

extension Database {
    /// Runs a statement prepared once per connection: the queue's hot statements run thousands
    /// of times per burst, and parsing SQL each time costs more than executing it.
    func executeCached(sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

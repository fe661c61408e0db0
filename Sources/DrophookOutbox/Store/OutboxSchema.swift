import GRDB

/// The outbox's tables, versioned by GRDB's migrator so later releases can add to them.
enum OutboxSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE event (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        watch TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        path TEXT NOT NULL,
                        is_directory INTEGER NOT NULL,
                        size INTEGER,
                        actor TEXT NOT NULL,
                        occurred_at_ms INTEGER NOT NULL,
                        found_by_scan INTEGER NOT NULL,
                        created_at_ms INTEGER NOT NULL
                    );
                    CREATE TABLE delivery (
                        id TEXT PRIMARY KEY NOT NULL,
                        event_seq INTEGER NOT NULL REFERENCES event(seq) ON DELETE CASCADE,
                        endpoint TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempt_count INTEGER NOT NULL DEFAULT 0,
                        round_start INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at_ms INTEGER NOT NULL,
                        last_status INTEGER,
                        last_error TEXT,
                        created_at_ms INTEGER NOT NULL,
                        updated_at_ms INTEGER NOT NULL,
                        UNIQUE(event_seq, endpoint)
                    );
                    CREATE INDEX delivery_queue ON delivery(endpoint, state, event_seq);
                    CREATE INDEX delivery_by_state_age ON delivery(state, updated_at_ms);
                    CREATE TABLE attempt (
                        id TEXT PRIMARY KEY NOT NULL,
                        delivery_id TEXT NOT NULL REFERENCES delivery(id) ON DELETE CASCADE,
                        number INTEGER NOT NULL,
                        started_at_ms INTEGER NOT NULL,
                        duration_ms INTEGER NOT NULL,
                        request_url TEXT NOT NULL,
                        request_headers TEXT NOT NULL,
                        request_body BLOB NOT NULL,
                        response_status INTEGER,
                        response_headers TEXT NOT NULL,
                        response_body BLOB NOT NULL,
                        response_truncated INTEGER NOT NULL,
                        error TEXT,
                        result TEXT NOT NULL
                    );
                    CREATE INDEX attempt_by_delivery ON attempt(delivery_id, number);
                    CREATE TABLE endpoint_state (
                        name TEXT PRIMARY KEY NOT NULL,
                        paused INTEGER,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        disabled_reason TEXT,
                        disabled_at_ms INTEGER,
                        failing_since_ms INTEGER,
                        updated_at_ms INTEGER NOT NULL
                    );
                    CREATE TABLE snapshot (
                        watch TEXT NOT NULL,
                        path TEXT NOT NULL,
                        is_directory INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        mtime_ns INTEGER NOT NULL,
                        PRIMARY KEY (watch, path)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-queue-indexes") { db in
            // The next retry time of an endpoint's queue and the prune of old events are read
            // every poll and every hour; without these they scan the whole table, which matters
            // once a dead endpoint has a backlog of many thousands.
            try db.execute(
                sql: """
                    CREATE INDEX delivery_due ON delivery(endpoint, state, next_attempt_at_ms);
                    CREATE INDEX event_by_age ON event(created_at_ms);
                    """)
        }
        migrator.registerMigration("v3-constant-cost-queue") { db in
            // Every query a busy agent runs per webhook or per status poll must cost the same
            // with ten or a million deliveries owed.
            //
            // - `delivery_due` gains `event_seq`, so a claim walks the due rows in the order it
            //   takes them (earliest due, then oldest event) and stops after the few it takes,
            //   instead of sorting every due row of the backlog in a temp b-tree.
            // - `delivery_tally` keeps the number of deliveries per endpoint and state, kept by
            //   triggers in the same transaction as the rows, so status, metrics and
            //   `drophook status` read a handful of rows instead of counting the queue.
            // - `event_pings` finds the few `drophook ping` events without walking a paused
            //   endpoint's whole queue.
            // - `delivery_by_state_age` gains `event_seq`, so the delivery log's newest page is
            //   a merge of one short index walk per state (see `Outbox.recentQuery`), without
            //   another index for every claim and attempt to keep up to date.
            try db.execute(
                sql: """
                    DROP INDEX delivery_due;
                    CREATE INDEX delivery_due ON delivery(endpoint, state, next_attempt_at_ms, event_seq);
                    CREATE INDEX event_pings ON event(seq) WHERE kind = 'ping';
                    DROP INDEX delivery_by_state_age;
                    CREATE INDEX delivery_by_state_age ON delivery(state, updated_at_ms, event_seq);
                    CREATE TABLE delivery_tally (
                        endpoint TEXT NOT NULL,
                        state TEXT NOT NULL,
                        n INTEGER NOT NULL,
                        PRIMARY KEY (endpoint, state)
                    ) WITHOUT ROWID;
                    INSERT INTO delivery_tally (endpoint, state, n)
                        SELECT endpoint, state, COUNT(*) FROM delivery GROUP BY endpoint, state;
                    CREATE TRIGGER delivery_tally_insert AFTER INSERT ON delivery BEGIN
                        INSERT INTO delivery_tally (endpoint, state, n) VALUES (new.endpoint, new.state, 1)
                            ON CONFLICT (endpoint, state) DO UPDATE SET n = n + 1;
                    END;
                    CREATE TRIGGER delivery_tally_delete AFTER DELETE ON delivery BEGIN
                        UPDATE delivery_tally SET n = n - 1 WHERE endpoint = old.endpoint AND state = old.state;
                    END;
                    CREATE TRIGGER delivery_tally_update AFTER UPDATE OF state, endpoint ON delivery
                        WHEN old.state IS NOT new.state OR old.endpoint IS NOT new.endpoint BEGIN
                        UPDATE delivery_tally SET n = n - 1 WHERE endpoint = old.endpoint AND state = old.state;
                        INSERT INTO delivery_tally (endpoint, state, n) VALUES (new.endpoint, new.state, 1)
                            ON CONFLICT (endpoint, state) DO UPDATE SET n = n + 1;
                    END;
                    """)
        }
        migrator.registerMigration("v4-event-origin") { db in
            // What a Rilavek payload says about the watch, fixed when the event is stored.
            try db.execute(
                sql: """
                    ALTER TABLE event ADD COLUMN pipe_id TEXT;
                    ALTER TABLE event ADD COLUMN transfer_protocol TEXT;
                    """)
        }
        migrator.registerMigration("v5-renames") { db in
            try db.execute(
                sql: """
                    ALTER TABLE event ADD COLUMN previous_path TEXT;
                    ALTER TABLE event ADD COLUMN part_of_rename INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v6-checksums") { db in
            try db.execute(sql: "ALTER TABLE event ADD COLUMN sha256 TEXT")
        }
        migrator.registerMigration("v7-sessions") { db in
            // What the SFTP server's session log said: the client's address, the bytes written.
            try db.execute(
                sql: """
                    ALTER TABLE event ADD COLUMN client_address TEXT;
                    ALTER TABLE event ADD COLUMN bytes_written INTEGER;
                    """)
        }
        migrator.registerMigration("v8-schedule-clock") { db in
            // How far the running agent's schedule clock is from the wall clock (Outbox+ScheduleClock).
            try db.execute(sql: "CREATE TABLE schedule_clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset_ms INTEGER NOT NULL)")
        }
        migrator.registerMigration("v9-stream-attempts") { db in
            // An attempt into a stream records its subject and the stream's acknowledgement in
            // columns of their own. Before, it was an HTTP exchange in disguise: request_url
            // `nats:<subject>`, status 200 and the ack as a JSON response body, which this
            // rewrites (json_extract reads the body as text; a row whose body is not the ack
            // keeps no acknowledgement, and its attempt's result still says delivered).
            try db.execute(
                sql: """
                    ALTER TABLE attempt ADD COLUMN stream_subject TEXT;
                    ALTER TABLE attempt ADD COLUMN stream_name TEXT;
                    ALTER TABLE attempt ADD COLUMN stream_sequence INTEGER;
                    ALTER TABLE attempt ADD COLUMN stream_duplicate INTEGER;
                    ALTER TABLE delivery ADD COLUMN last_stream_sequence INTEGER;
                    UPDATE attempt SET stream_subject = substr(request_url, 6), request_url = ''
                        WHERE substr(request_url, 1, 5) = 'nats:';
                    UPDATE attempt SET
                        stream_name = CASE WHEN json_valid(CAST(response_body AS TEXT))
                            THEN json_extract(CAST(response_body AS TEXT), '$.stream') END,
                        stream_sequence = CASE WHEN json_valid(CAST(response_body AS TEXT))
                            THEN json_extract(CAST(response_body AS TEXT), '$.seq') END,
                        stream_duplicate = CASE WHEN json_valid(CAST(response_body AS TEXT))
                            THEN json_extract(CAST(response_body AS TEXT), '$.duplicate') END,
                        response_status = NULL, response_headers = '[]', response_body = x''
                        WHERE stream_subject IS NOT NULL AND response_status IS NOT NULL;
                    UPDATE delivery SET last_status = NULL,
                        last_stream_sequence = (SELECT a.stream_sequence FROM attempt a WHERE a.delivery_id = delivery.id
                            ORDER BY a.number DESC, a.started_at_ms DESC LIMIT 1)
                        WHERE id IN (SELECT delivery_id FROM attempt WHERE stream_subject IS NOT NULL);
                    """)
        }
        return migrator
    }
}

import GRDB

/// The time retry and due times are kept on.
///
/// A delivery's `next_attempt_at_ms` is written and compared on the **schedule clock**: the wall
/// clock as it read when this process first asked, advanced by the monotonic clock since. An NTP
/// step or an admin's `date -s` while the agent runs then moves no retry: a 5-minute gap stays
/// 5 minutes, neither firing every retry at once (clock stepped forward) nor stalling them (clock
/// stepped back). `created_at`, attempt times and payload times stay on the wall clock.
///
/// The running agent stores how far its schedule clock has drifted from the wall clock
/// (``recordScheduleOffset()``); the next start moves the owed deliveries back onto the wall
/// clock by that much (``rebaseSchedule()``) before anything else runs.
extension Outbox {
    private static let scheduleAnchor = (wallMillis: Outbox.nowMillis(), instant: ContinuousClock.now)

    /// Milliseconds on the schedule clock (see above).
    public static func scheduleMillis() -> Int64 {
        let anchor = scheduleAnchor
        return anchor.wallMillis + (ContinuousClock.now - anchor.instant).milliseconds
    }

    /// The smallest difference between the two clocks taken for a step of the wall clock.
    public static let stepTolerance: Duration = .milliseconds(500)

    /// `next_attempt_at_ms` for "due now, whatever either clock says", written by command-line
    /// processes (`ping`, `redeliver`, `resume`) whose clocks are not the agent's schedule clock.
    public static let dueNow: Int64 = 0

    /// Moves owed deliveries from the schedule clock of the process that wrote them onto this
    /// one's (the wall clock at start). Call once at start, before the watcher or the delivery
    /// engine write. Returns the step applied, in milliseconds (0 when the clock was not stepped).
    @discardableResult
    public func rebaseSchedule() async throws -> Int64 {
        try await pool.write { db in
            var offset = try Int64.fetchOne(db, sql: "SELECT offset_ms FROM schedule_clock WHERE id = 1") ?? 0
            // Milliseconds of rounding between the two clocks are no step.
            if abs(offset) < Self.stepTolerance.milliseconds { offset = 0 }
            if offset != 0 {
                try db.execute(
                    sql:
                        "UPDATE delivery SET next_attempt_at_ms = next_attempt_at_ms - ? WHERE state IN ('pending', 'delivering') AND next_attempt_at_ms > 0",
                    arguments: [offset])
            }
            try Self.storeOffset(db, Self.scheduleMillis() - Self.nowMillis())
            return offset
        }
    }

    /// Stores how far the schedule clock is from the wall clock now, when that moved by more
    /// than `tolerance` since it was stored; returns the step seen (nil when none).
    @discardableResult
    public func recordScheduleOffset(tolerance: Duration = Outbox.stepTolerance) async throws -> Int64? {
        let offset = Self.scheduleMillis() - Self.nowMillis()
        // A read every second; a write only when the wall clock was stepped.
        let stored = try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT offset_ms FROM schedule_clock WHERE id = 1") ?? 0 }
        guard abs(offset - stored) > tolerance.milliseconds else { return nil }
        try await pool.write { db in try Self.storeOffset(db, offset) }
        return stored - offset
    }

    private static func storeOffset(_ db: Database, _ offset: Int64) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO schedule_clock (id, offset_ms) VALUES (1, ?)", arguments: [offset])
    }
}

/// The watcher's sense of time: how long since it started, read from any `Clock`. Deadlines
/// (move pairing, link checks, settling, rescans) are kept as such elapsed durations, so the
/// engine runs on `ContinuousClock` in production and on a clock a test moves by hand.
struct WatchTimeline: Sendable {
    /// Time elapsed since the timeline was made.
    let now: @Sendable () -> Duration

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        now = { start.duration(to: clock.now) }
    }
}

/// A point on a ``WatchTimeline``: time since the watcher started.
typealias WatchInstant = Duration

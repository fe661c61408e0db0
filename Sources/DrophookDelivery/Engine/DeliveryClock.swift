import DrophookOutbox

/// Every time the delivery engine reads, from one injected value, so that a test can set them.
///
/// Delivery needs three kinds of time and keeps them apart on purpose:
/// - the **wall clock**, for what is written down and sent: when an attempt started, a
///   signature's timestamp, the delivery log's retention;
/// - the **schedule clock** (``Outbox/scheduleMillis()``), for when a retry falls due: the wall
///   clock at start, then advanced by the monotonic clock, so a step of the wall clock moves no
///   retry;
/// - the **monotonic clock**, for how long something took and for short waits (the handshake's
///   pacing, the gauges' refresh).
public struct DeliveryClock: Sendable {
    /// Milliseconds since 1970 by the wall clock.
    public var wallMillis: @Sendable () -> Int64
    /// Milliseconds on the schedule clock, the one `next_attempt_at_ms` is written in.
    public var scheduleMillis: @Sendable () -> Int64
    /// Now on the monotonic clock.
    public var instant: @Sendable () -> ContinuousClock.Instant

    public init(
        wallMillis: @escaping @Sendable () -> Int64,
        scheduleMillis: @escaping @Sendable () -> Int64,
        instant: @escaping @Sendable () -> ContinuousClock.Instant
    ) {
        self.wallMillis = wallMillis
        self.scheduleMillis = scheduleMillis
        self.instant = instant
    }

    /// The machine's clocks.
    public static let system = DeliveryClock(
        wallMillis: { Outbox.nowMillis() }, scheduleMillis: { Outbox.scheduleMillis() }, instant: { .now })
}

import CLinux
import Foundation
import Glibc

/// systemd's readiness protocol (`Type=notify`), spoken directly: one datagram per message to
/// `$NOTIFY_SOCKET`, as `sd_notify(3)` does, with no library needed.
///
/// - `READY=1` once every watch is in place and the outbox is open; `STATUS=` lines after;
/// - `RELOADING=1` (with `MONOTONIC_USEC`) then `READY=1` around a SIGHUP reload;
/// - `STOPPING=1` when a stop begins;
/// - `WATCHDOG=1` every half `WATCHDOG_USEC`, only while the watcher and the delivery engine
///   are both making progress (``Watchdog``).
public struct SystemdNotifier: Sendable {
    /// The socket, as `$NOTIFY_SOCKET` gives it (a path, or `@name` for an abstract socket).
    public let socket: String
    /// `WatchdogSec=` of the unit, when the watchdog is on for this process.
    public let watchdogInterval: Duration?

    /// The notifier systemd asked for, or nil when the agent does not run under `Type=notify`.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty else { return nil }
        self.socket = socket
        // WATCHDOG_PID, when set, names the process the watchdog is meant for.
        let forThisProcess = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forThisProcess, let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 {
            watchdogInterval = .microseconds(micros)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one message (`KEY=value` lines); false if it could not be sent.
    @discardableResult
    public func send(_ message: String) -> Bool {
        socket.withCString { path in message.withCString { drophook_notify(path, $0) } } == 0
    }

    /// `RELOADING=1` with the monotonic time systemd wants beside it.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        send("RELOADING=1\nMONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)")
    }
}

/// Decides when `WATCHDOG=1` may be sent: only if both the watcher's processing loop (which
/// goes round at least every tick while it works) and the delivery engine's workers (which look
/// at their queues at least every poll interval) have moved within the last watchdog interval.
/// A pure state machine: progress counters and instants come in, the decision goes out.
struct Watchdog<Instant: InstantProtocol> where Instant.Duration == Duration {
    let interval: Duration
    private var watcher: (count: Int, movedAt: Instant)?
    private var engine: (count: Int, movedAt: Instant)?
    private var lastPing: Instant?

    init(interval: Duration) {
        self.interval = interval
    }

    /// Takes the current progress counters (nil: that stage has nothing to do, e.g. no
    /// webhooks) and says whether a ping is due now.
    mutating func ping(watcher watcherCount: Int?, engine engineCount: Int?, at now: Instant) -> Bool {
        let watcherMoving = Self.track(&watcher, watcherCount, now, interval)
        let engineMoving = engineCount == nil || Self.track(&engine, engineCount, now, interval)
        guard watcherMoving, engineMoving else { return false }
        if let lastPing, lastPing.advanced(by: interval / 2) > now { return false }
        lastPing = now
        return true
    }

    private static func track(_ state: inout (count: Int, movedAt: Instant)?, _ count: Int?, _ now: Instant, _ interval: Duration) -> Bool {
        guard let count else { return false }
        if state == nil || state!.count != count { state = (count, now) }
        return state!.movedAt.advanced(by: interval) > now
    }
}

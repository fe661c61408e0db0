/// When the trees are rescanned after records were lost (the kernel's queue overflowed, or the
/// watcher's own bound): at once the first time, then backing off while overflows keep coming
/// within a minute of each other, so a tree that overflows constantly is not rescanned
/// constantly. Pure: instants in, the due time out.
struct RescanSchedule {
    /// Overflows closer together than this count as one storm and back off.
    static let stormWindow: Duration = .seconds(60)
    /// The first backoff step.
    static let firstBackoff: Duration = .milliseconds(500)

    /// Longest wait between two rescans in a storm.
    let maxBackoff: Duration
    /// When the next rescan is due; nil when none is.
    private(set) var due: WatchInstant?
    private var lastRescan: WatchInstant?
    private var lastOverflow: WatchInstant?
    private var backoff: Duration = .zero

    init(maxBackoff: Duration) { self.maxBackoff = maxBackoff }

    /// Records were lost at `now`: returns when the rescan is due (never later than one
    /// already due).
    mutating func overflowed(at now: WatchInstant) -> WatchInstant {
        if let last = lastOverflow, now - last < Self.stormWindow {
            backoff = min(max(backoff * 2, Self.firstBackoff), maxBackoff)
        } else {
            backoff = .zero
        }
        lastOverflow = now
        let earliest = lastRescan.map { $0 + backoff } ?? now
        let next = max(now, earliest)
        due = min(due ?? next, next)
        return next
    }

    /// True once when the rescan is due at `now`; it then counts as done at `now`.
    mutating func takeDue(at now: WatchInstant) -> Bool {
        guard let due, due <= now else { return false }
        self.due = nil
        lastRescan = now
        return true
    }
}

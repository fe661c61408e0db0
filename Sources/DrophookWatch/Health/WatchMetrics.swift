import Metrics

/// The watcher's swift-metrics instruments.
struct WatchMetrics: Sendable {
    let overflows = Counter(label: "drophook_inotify_overflows_total")
    let rescans = Counter(label: "drophook_inotify_rescans_total")
    let watchedDirectories = Gauge(label: "drophook_inotify_watched_directories")
    let unwatchedDirectories = Gauge(label: "drophook_inotify_unwatched_directories")
    let watchLimitReached = Gauge(label: "drophook_inotify_watch_limit_reached")
    let events = Counter(label: "drophook_watch_events_total")
}

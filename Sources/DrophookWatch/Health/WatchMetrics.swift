import Metrics

/// The watcher's swift-metrics instruments.
struct WatchMetrics: Sendable {
    let overflows = Counter(label: "drophook_inotify_overflows_total")
    let rescans = Counter(label: "drophook_inotify_rescans_total")
    /// Records dropped at the memory bound (``WatcherConfiguration/maxQueuedRecords``); each
    /// drop is followed by a rescan.
    let droppedRecords = Counter(label: "drophook_inotify_records_dropped_total")
    let watchedDirectories = Gauge(label: "drophook_inotify_watched_directories")
    let unwatchedDirectories = Gauge(label: "drophook_inotify_unwatched_directories")
    let unreadableDirectories = Gauge(label: "drophook_watch_unreadable_directories")
    let watchLimitReached = Gauge(label: "drophook_inotify_watch_limit_reached")
    let events = Counter(label: "drophook_watch_events_total")
    let leaseNoWriter = Counter(label: "drophook_watch_lease_answers_total", dimensions: [("answer", "no_writer")])
    let leaseWriterPresent = Counter(label: "drophook_watch_lease_answers_total", dimensions: [("answer", "writer_present")])

    /// What a read-lease probe answered (see ``WriterProbe``).
    enum LeaseAnswer { case noWriter, writerPresent }

    func leaseAnswers(_ answer: LeaseAnswer) {
        switch answer {
        case .noWriter: leaseNoWriter.increment()
        case .writerPresent: leaseWriterPresent.increment()
        }
    }

    /// 1 while a watch decides completion with leases, 0 while it waits for stability.
    func completionMode(watch: String, lease: Bool) {
        Gauge(label: "drophook_watch_completion_lease", dimensions: [("watch", watch)]).record(lease ? 1 : 0)
    }
}

import DrophookEvents
import Glibc

extension WatchEngine {
    /// Fires what is due: unpaired moves, links, settled files, rescans, watch retries.
    func tick() {
        let now = self.now
        timeOutMoves(dueBy: now)
        if !deadlines.isEmpty {
            let wallNow = WallClock.nanoseconds()
            let rules = self.rules
            for node in Array(deadlines.nodes.values) {
                switch rules.due(node.phase, now: now) {
                case .notYet:
                    break
                case .linked:
                    setPhase(node, .writing)
                    complete(node, foundByScan: false, confirmed: true)
                case .lookAgain:
                    let fresh = absolutePath(node).flatMap { disk.status(of: $0) }
                    switch rules.settling(node.phase, known: node.status, fresh: fresh, now: now, wallNanos: wallNow) {
                    case .report:
                        report(node, foundByScan: node.phase.finishedUnreported ?? false)
                    case .keepWaiting:
                        break
                    case .changed(let phase):
                        if let fresh { node.status = fresh }
                        setPhase(node, phase)
                    case .gone(let foundByScan, let confirmed):
                        // Gone or detached: its delete decides, or the rename read later looks again.
                        setPhase(node, .writing)
                        awaitRename(node, foundByScan: foundByScan, confirmed: confirmed)
                    }
                case .noDeadline:
                    // ``Deadlines`` holds exactly the nodes whose phase has one.
                    assertionFailure("a node without a deadline was among the deadlines")
                }
            }
        }
        keepQuietFilesIdle()
        if rescans.takeDue(at: now) {
            rescanAll()
        }
        if let waiting = unwatched.takeDue(at: now) {
            retryUnwatched(waiting)
        }
        if let look = nextRootLook, look <= now {
            lookAtRoots()
        } else if nextRootLook == nil {
            // Watched roots are looked at too (``lookAtRoots()``): a mount over one is seen by no
            // inotify record.
            scheduleRootLook()
        }
    }

    /// The kernel dropped records (or the watcher did, at its memory bound): rescan, backing
    /// off when it keeps happening.
    func noteOverflow(atMemoryBound: Bool = false) {
        let now = self.now
        metrics.overflows.increment()
        health.update { $0.overflows += 1 }
        let due = rescans.overflowed(at: now)
        if atMemoryBound {
            logger.warning("rescanning the watched trees in \(due - now) for the records dropped at the memory bound")
            return
        }
        logger.warning(
            """
            inotify queue overflowed (fs.inotify.max_queued_events = \(Self.maxQueuedEvents() ?? 0)); \
            rescanning the watched trees in \(due - now)
            """)
    }

    func rescanAll() {
        metrics.rescans.increment()
        health.update { $0.rescans += 1 }
        // Either half of a move may have been lost; the rescan finds where things are now.
        timeOutMoves(dueBy: nil)
        for root in roots.watchedNodes {
            reconcile(root, mode: .rescan)
        }
        updateWatchHealth()
    }

    func retryUnwatched(_ waiting: [TreeNode]) {
        for node in waiting {
            unwatched.remove(node)
            guard let path = absolutePath(node) else { continue }
            if addWatch(node, path: path), node.wd >= 0 {
                reconcile(node, mode: .rescan)
            }
        }
        if !unwatched.isEmpty {
            // Still short of watches: at least rescan those directories for changes.
            for node in Array(unwatched.nodes.values) where node.root != nil {
                reconcile(node, mode: .rescan)
            }
            unwatched.scheduleRetry(at: now)
        } else {
            health.update { $0.watchLimitReached = false }
            logger.notice("every directory of the watched trees has an inotify watch again")
        }
        updateWatchHealth()
    }

    static func maxQueuedEvents() -> Int? {
        WatchPreflight.readProcInteger("/proc/sys/fs/inotify/max_queued_events")
    }
}

import DrophookEvents
import Glibc

/// When a file has finished arriving: at once, after a lease says nobody writes it, after it
/// has looked stable, or when the rename its records announce is read.
extension WatchEngine {
    /// A file is finished (closed after writing, renamed or linked to a final name, or found by a
    /// scan): report it now, or once settled when the watch asks for it or a scan cannot tell
    /// whether a writer still has it open (``CompletionRules/finished(look:watchSettle:confirmed:mode:wallNanos:)``).
    func complete(_ node: TreeNode, foundByScan: Bool, confirmed: Bool) {
        guard node.kind == .file, node.transferName.isFinal else { return }
        let watch = watchIndex(of: node)
        let path = absolutePath(node)
        let look = watch != nil ? path.flatMap { disk.status(of: $0) } : nil
        let decision = rules.finished(
            look: look, watchSettle: watch.flatMap { watches[$0].settle }, confirmed: confirmed,
            mode: watch.map { roots[$0].completionMode } ?? .stability, wallNanos: WallClock.nanoseconds()
        )
        guard let watch, let path, let fresh = look, decision != .awaitRename else {
            // Gone from its path: the held descriptor still tells the size it was closed with;
            // without one, that size is unknown (the file came and went before it was looked at).
            if let closed = held.takeStatus(node, status: disk.status(ofHeld:)) {
                node.status = closed
            } else {
                node.closedSizeUnknown = true
            }
            awaitRename(node, foundByScan: foundByScan, confirmed: confirmed)
            return
        }
        held.release(node)
        node.status = fresh
        node.statusKnown = true
        node.closedSizeUnknown = false
        inodes.register(node)
        carryOut(decision, node, watch: watch, path: path, foundByScan: foundByScan)
    }

    private func carryOut(_ decision: CompletionRules.Finish, _ node: TreeNode, watch: Int, path: String, foundByScan: Bool) {
        switch decision {
        case .report:
            report(node, foundByScan: foundByScan)
        case .settle(let window, let acceptOldMtime):
            settleLater(node, window: window, foundByScan: foundByScan, acceptOldMtime: acceptOldMtime)
        case .askForWriter:
            askForWriter(node, watch: watch, path: path, foundByScan: foundByScan)
        case .awaitRename:
            awaitRename(node, foundByScan: foundByScan, confirmed: false)
        }
    }

    /// A file a scan found, with no close seen: is a writer still there? The kernel answers at
    /// once (a read lease); without an answer, the file waits until it looks stable.
    private func askForWriter(_ node: TreeNode, watch: Int, path: String, foundByScan: Bool) {
        let answer = disk.probeWriter(path: path)
        switch rules.writer(answer, looked: node.status, wallNanos: WallClock.nanoseconds()) {
        case .report(let status):
            metrics.leaseAnswers(.noWriter)
            node.status = status
            report(node, foundByScan: foundByScan)
        case .justCreated(let status):
            metrics.leaseAnswers(.noWriter)
            node.status = status
            settleLater(node, window: configuration.linkTimeout, foundByScan: foundByScan, acceptOldMtime: false)
        case .awaitRename:
            awaitRename(node, foundByScan: foundByScan, confirmed: false)
        case .writing:
            // The watch exists (it was added before the listing), so the close will be heard.
            metrics.leaseAnswers(.writerPresent)
            if case .writerPresent(let descriptor) = answer { held.hold(node, descriptor: descriptor) }
            setPhase(node, .writing)
        case .waitForStability, .leasesUnavailable:
            if case .unreadable(let code) = answer {
                logger.debug("cannot open \(path) to ask for a writer (\(WatchErrno(code: code))); waiting for it to be stable")
            }
            if case .unavailable(let code) = answer {
                leasesUnavailable(watch: watch, code: code)
            }
            carryOut(
                rules.withoutWriterAnswer(mtimeNanos: node.status.mtimeNanos, wallNanos: WallClock.nanoseconds()),
                node, watch: watch, path: path, foundByScan: foundByScan)
        }
    }

    /// The kernel refused a lease for a reason other than a writer: this watch falls back to the
    /// stability rule, said once in the log, the health and the metrics.
    func leasesUnavailable(watch: Int, code: Int32) {
        roots.setCompletionMode(watch, .stability)
        let reason = "the kernel refused a read lease (\(WatchErrno(code: code)))"
        logger.warning("watch \(watches[watch].name): \(reason); files found by scans now wait \(configuration.scanSettle) for stability")
        publishCompletionModes(reasons: [watch: reason])
    }

    /// Puts each watch's completion mode into the health and the metrics.
    func publishCompletionModes(reasons: [Int: String]) {
        let modes = Dictionary(uniqueKeysWithValues: watches.indices.map { (watches[$0].name, roots[$0].completionMode) })
        health.update { health in
            health.completionModes = modes
            for (index, reason) in reasons { health.completionReasons[watches[index].name] = reason }
        }
        for (index, watch) in watches.enumerated() {
            metrics.completionMode(watch: watch.name, lease: roots[index].completionMode == .lease)
        }
    }

    /// A finished file that is not where the tree puts it. Records are read late, so its own
    /// rename or its directory's may still be queued: that record decides, and looks again at
    /// the new path (``movedTo(_:in:cookie:)``, or the `.fill` scan of a renamed directory). A
    /// file already in the snapshot keeps its state: the rename re-records it.
    func awaitRename(_ node: TreeNode, foundByScan: Bool, confirmed: Bool) {
        guard !node.recorded else { return }
        setPhase(node, .awaitingRename(foundByScan: foundByScan, confirmed: confirmed))
    }

    func settleLater(_ node: TreeNode, window: Duration, foundByScan: Bool, acceptOldMtime: Bool) {
        setPhase(node, .settling(window: window, foundByScan: foundByScan, since: now, acceptOldMtime: acceptOldMtime))
    }
}

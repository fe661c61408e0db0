/// The rules that decide when a file has finished arriving, apart from the tree and the I/O.
///
/// Each function takes what the engine learned (a `lstat`, a lease answer, the time) and the
/// file's current ``TreeNode/Phase`` and returns what to do next; the engine does the looking,
/// keeps the tree and carries the decision out. Time comes in as ``WatchInstant`` values from the
/// engine's timeline (on any `Clock`), so tests drive the rules by handing them instants instead
/// of waiting.
struct CompletionRules: Sendable {
    /// How long a file found by a scan must look unchanged when no lease can answer.
    var scanSettle: Duration
    /// How long a name created without a writer waits for one before it counts as a link.
    var linkTimeout: Duration

    // MARK: A file found finished

    /// What a finished file's look (its `lstat` at its path) means.
    enum Finish: Equatable {
        /// Report it now.
        case report
        /// Wait until it has looked unchanged for `window`; `acceptOldMtime` lets an mtime that
        /// old count as already settled (only for files a scan found without a watch `settle:`,
        /// because clients that preserve timestamps set old mtimes on fresh uploads).
        case settle(window: Duration, acceptOldMtime: Bool)
        /// Nobody saw it closed: ask the kernel whether a writer still has it.
        case askForWriter
        /// Gone from its path: a rename read later (or its delete) decides.
        case awaitRename
    }

    /// A file is finished (closed after writing, renamed or linked to a final name, or found by a
    /// scan; `confirmed` when its writer was seen to close it) and was just looked at: `look` is
    /// its `lstat` at its path, nil when nothing is there.
    func finished(look: FileStatus?, watchSettle: Duration?, confirmed: Bool, mode: CompletionMode, wallNanos: Int64) -> Finish {
        guard let look, look.kind == .file else { return .awaitRename }
        if let watchSettle { return .settle(window: watchSettle, acceptOldMtime: false) }
        if confirmed { return .report }
        return mode == .lease ? .askForWriter : withoutWriterAnswer(mtimeNanos: look.mtimeNanos, wallNanos: wallNanos)
    }

    /// What the kernel's answer about a writer means for a file a scan found.
    enum WriterVerdict: Equatable {
        /// Nobody writes it: report it with the status read under the lease.
        case report(FileStatus)
        /// Empty and made moments ago: it may be an `open(O_CREAT)` caught between making the
        /// name and opening it for writing, when no lease can see the writer yet. It settles for
        /// the link window with this status; the writer's close, if one comes, reports it.
        case justCreated(FileStatus)
        /// Replaced or removed since the look: its own records decide.
        case awaitRename
        /// A writer has it open; its `IN_CLOSE_WRITE` will be heard (the watch came first).
        case writing
        /// No answer for this file: wait for it to look stable.
        case waitForStability
        /// No answer for this watch at all: it falls back to the stability rule.
        case leasesUnavailable(errno: Int32)
    }

    /// Maps a lease probe's answer, given the inode the look found and the wall clock.
    func writer(_ answer: WriterProbe.Answer, looked: FileStatus, wallNanos: Int64) -> WriterVerdict {
        switch answer {
        case .noWriter(let status) where status.inodeKey == looked.inodeKey:
            status.size == 0 && wallNanos - status.mtimeNanos < linkTimeout.nanoseconds ? .justCreated(status) : .report(status)
        case .noWriter, .gone: .awaitRename
        case .writerPresent: .writing
        case .unreadable: .waitForStability
        case .unavailable(let code): .leasesUnavailable(errno: code)
        }
    }

    /// Without a writer answer, a file a scan found settles first unless its mtime is already
    /// older than the stability window.
    func withoutWriterAnswer(mtimeNanos: Int64, wallNanos: Int64) -> Finish {
        wallNanos - mtimeNanos < scanSettle.nanoseconds ? .settle(window: scanSettle, acceptOldMtime: true) : .report
    }

    // MARK: Records

    /// What a new file name (created, linked or moved in; not found by a scan) starts as.
    enum Appeared: Equatable {
        /// Tracked without being reported until renamed (a client temp name) or ever (ignored).
        case track(TreeNode.Phase)
        /// Already finished: a rename or a second link of existing content.
        case finished
        /// Waits for its first writer (`IN_OPEN`); none before the deadline means a link.
        case waitForWriter(TreeNode.Phase)
    }

    /// `open(O_CREAT)` is followed by `IN_OPEN`; a `link()` whose source is already gone is not,
    /// so a name with no writer yet waits a short window before it counts as finished.
    func appeared(transferName: TransferName, byRename: Bool, linked: Bool, now: WatchInstant) -> Appeared {
        if !transferName.isFinal { return .track(.writing) }
        if byRename || linked { return .finished }
        return .waitForWriter(created(now: now))
    }

    /// A name created with no writer seen yet: it waits for its first `IN_OPEN`.
    func created(now: WatchInstant) -> TreeNode.Phase {
        .awaitingOpen(deadline: now + linkTimeout)
    }

    /// `IN_OPEN` on a known file: the first writer of a name that waited for one. Any other open
    /// (a reader, the agent's own lease probe, a writer already counted) changes nothing: nil.
    func opened(_ phase: TreeNode.Phase) -> TreeNode.Phase? {
        if case .awaitingOpen = phase { return .writing }
        return nil
    }

    /// What `IN_CLOSE_WRITE` on a known final-named file means.
    enum Closed: Equatable {
        /// Finished: look at it and report it (`foundByScan` carried from a scan that found it).
        case finished(foundByScan: Bool)
        /// A reopened file that was already reported, closed without a change: nothing new.
        case unchanged
    }

    /// Whether a close needs a look before ``closedWrite(_:recorded:known:fresh:)`` can judge it:
    /// only a reopened, already reported file does (finishing a file looks at it anyway).
    func looksAtClose(_ phase: TreeNode.Phase, recorded: Bool) -> Bool {
        recorded && phase == .idle
    }

    /// `known` is the status last recorded, `fresh` the look at the close (nil when gone).
    func closedWrite(_ phase: TreeNode.Phase, recorded: Bool, known: FileStatus, fresh: FileStatus?) -> Closed {
        if looksAtClose(phase, recorded: recorded) {
            // A reopen (resumed upload): report again only when the content changed.
            guard let fresh, fresh.kind == .file,
                fresh.size != known.size || fresh.mtimeNanos != known.mtimeNanos
            else { return .unchanged }
            return .finished(foundByScan: false)
        }
        switch phase {
        case .settling(_, let foundByScan, _, _), .awaitingRename(let foundByScan, _):
            return .finished(foundByScan: foundByScan)
        case .idle, .writing, .awaitingOpen:
            return .finished(foundByScan: false)
        }
    }

    // MARK: The clock

    /// What a phase with a deadline asks for at `now`.
    enum Due: Equatable {
        /// Nothing yet.
        case notYet
        /// No writer came before the deadline: the name was linked and is finished, as if closed.
        case linked
        /// Look at the file again to see whether it is still unchanged.
        case lookAgain
        /// The phase has no deadline (the engine stops ticking it).
        case noDeadline
    }

    func due(_ phase: TreeNode.Phase, now: WatchInstant) -> Due {
        switch phase {
        case .awaitingOpen(let deadline): deadline <= now ? .linked : .notYet
        case .settling: .lookAgain
        case .idle, .writing, .awaitingRename: .noDeadline
        }
    }

    /// What a settling file's new look means.
    enum Stability: Equatable {
        /// Unchanged for the window (or, where allowed, its mtime is that old): report it.
        case report
        /// Still unchanged, not yet for long enough.
        case keepWaiting
        /// Changed: it starts settling again from now, with the new status.
        case changed(TreeNode.Phase)
        /// Gone or not a file any more: a rename read later (or its delete) decides.
        case gone(foundByScan: Bool, confirmed: Bool)
    }

    /// Judges a settling file against its new look. `wallNanos` is the wall clock (mtimes are
    /// wall-clock times); an mtime in the future never holds a file back longer than the window.
    func settling(_ phase: TreeNode.Phase, known: FileStatus, fresh: FileStatus?, now: WatchInstant, wallNanos: Int64) -> Stability {
        guard case .settling(let window, let foundByScan, let since, let acceptOldMtime) = phase else { return .keepWaiting }
        guard let fresh, fresh.kind == .file else {
            return .gone(foundByScan: foundByScan, confirmed: !acceptOldMtime)
        }
        if fresh.size != known.size || fresh.mtimeNanos != known.mtimeNanos || fresh.inodeKey != known.inodeKey {
            return .changed(.settling(window: window, foundByScan: foundByScan, since: now, acceptOldMtime: acceptOldMtime))
        }
        if now - since >= window || (acceptOldMtime && wallNanos - fresh.mtimeNanos >= window.nanoseconds) {
            return .report
        }
        return .keepWaiting
    }
}

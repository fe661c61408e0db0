import Testing

@testable import DrophookWatch

/// The completion rules on their own: looks, lease answers and instants are handed in, so time
/// is driven instead of waited for.
@Suite("Completion rules")
struct CompletionRulesTests {
    let rules = CompletionRules(scanSettle: .seconds(2), linkTimeout: .milliseconds(200))
    let second: Int64 = 1_000_000_000

    func file(inode: UInt64 = 7, size: Int64 = 10, mtime: Int64 = 1_000 * 1_000_000_000) -> FileStatus {
        FileStatus(kind: .file, device: 1, inode: inode, size: size, mtimeNanos: mtime, uid: 0, linkCount: 1)
    }

    @Test("a file seen closed is reported at once; one a scan found asks the kernel when leases answer")
    func finishedFiles() {
        let look = file()
        let wall = look.mtimeNanos + second
        #expect(rules.finished(look: look, watchSettle: nil, confirmed: true, mode: .lease, wallNanos: wall) == .report)
        #expect(rules.finished(look: look, watchSettle: nil, confirmed: false, mode: .lease, wallNanos: wall) == .askForWriter)
        // Without leases, a recent mtime settles first and an old one is reported at once.
        #expect(
            rules.finished(look: look, watchSettle: nil, confirmed: false, mode: .stability, wallNanos: wall)
                == .settle(window: .seconds(2), acceptOldMtime: true))
        #expect(rules.finished(look: look, watchSettle: nil, confirmed: false, mode: .stability, wallNanos: wall + 5 * second) == .report)
        // A watch's own `settle:` always waits, and never trusts an old mtime.
        #expect(
            rules.finished(look: look, watchSettle: .seconds(5), confirmed: true, mode: .lease, wallNanos: wall)
                == .settle(window: .seconds(5), acceptOldMtime: false))
        // Nothing (or a directory) at the path: the rename read later decides.
        #expect(rules.finished(look: nil, watchSettle: nil, confirmed: true, mode: .lease, wallNanos: wall) == .awaitRename)
        var directory = look
        directory.kind = .directory
        #expect(rules.finished(look: directory, watchSettle: nil, confirmed: true, mode: .lease, wallNanos: wall) == .awaitRename)
    }

    @Test("the kernel's answers: no writer reports with the leased status, a writer waits for its close")
    func writerAnswers() {
        let looked = file()
        let leased = file(size: 12)
        let wall = looked.mtimeNanos + second / 100
        #expect(rules.writer(.noWriter(leased), looked: looked, wallNanos: wall) == .report(leased))
        #expect(rules.writer(.noWriter(file(inode: 8)), looked: looked, wallNanos: wall) == .awaitRename, "replaced since the look")
        #expect(rules.writer(.gone, looked: looked, wallNanos: wall) == .awaitRename)
        #expect(rules.writer(.writerPresent(descriptor: 3), looked: looked, wallNanos: wall) == .writing)
        #expect(rules.writer(.unreadable(errno: 13), looked: looked, wallNanos: wall) == .waitForStability)
        #expect(rules.writer(.unavailable(errno: 11), looked: looked, wallNanos: wall) == .leasesUnavailable(errno: 11))
    }

    @Test("an empty file made within the link window may be an open(O_CREAT) not yet writing: it settles briefly")
    func emptyFreshFileIsNotTrustedAtOnce() {
        let empty = file(size: 0)
        // 10 ms after it was made: the lease cannot see a writer that has not opened it yet.
        #expect(rules.writer(.noWriter(empty), looked: empty, wallNanos: empty.mtimeNanos + second / 100) == .justCreated(empty))
        // Older than the window, or not empty: nobody is writing.
        #expect(rules.writer(.noWriter(empty), looked: empty, wallNanos: empty.mtimeNanos + second / 4) == .report(empty))
        let written = file(size: 4)
        #expect(rules.writer(.noWriter(written), looked: written, wallNanos: written.mtimeNanos) == .report(written))
    }

    @Test("a new name without a writer is a link once the window passes, not before")
    func linkWindow() {
        let start: WatchInstant = .seconds(10)
        let phase = rules.created(now: start)
        #expect(rules.due(phase, now: start + .milliseconds(199)) == .notYet)
        #expect(rules.due(phase, now: start + .milliseconds(200)) == .linked)
        #expect(rules.due(.writing, now: start + .seconds(60)) == .noDeadline)
        #expect(rules.due(.idle, now: start) == .noDeadline)
    }

    @Test("settling: a change restarts the window, unchanged for the window reports, a vanished file waits for its rename")
    func settlingByDrivenTime() {
        let known = file()
        let start: WatchInstant = .seconds(100)
        let phase = TreeNode.Phase.settling(window: .seconds(2), foundByScan: true, since: start, acceptOldMtime: false)
        let wall = known.mtimeNanos // a fresh mtime: only the observed window counts
        #expect(rules.due(phase, now: start) == .lookAgain)
        #expect(rules.settling(phase, known: known, fresh: known, now: start + .seconds(1), wallNanos: wall) == .keepWaiting)

        let grown = file(size: 20)
        let restarted = rules.settling(phase, known: known, fresh: grown, now: start + .seconds(1), wallNanos: wall)
        #expect(restarted == .changed(.settling(window: .seconds(2), foundByScan: true, since: start + .seconds(1), acceptOldMtime: false)))
        #expect(
            rules.settling(phase, known: known, fresh: file(inode: 9), now: start + .seconds(1), wallNanos: wall) != .keepWaiting,
            "a different inode under the name is a change")

        #expect(rules.settling(phase, known: known, fresh: known, now: start + .milliseconds(1_999), wallNanos: wall) == .keepWaiting)
        #expect(rules.settling(phase, known: known, fresh: known, now: start + .seconds(2), wallNanos: wall) == .report)
        #expect(
            rules.settling(phase, known: known, fresh: nil, now: start + .seconds(1), wallNanos: wall)
                == .gone(foundByScan: true, confirmed: true))
    }

    @Test("an mtime older than the window settles at once only where old mtimes are trusted; a future one never holds a file back")
    func oldAndFutureMtimes() {
        let known = file()
        let start: WatchInstant = .seconds(5)
        let trusting = TreeNode.Phase.settling(window: .seconds(2), foundByScan: true, since: start, acceptOldMtime: true)
        let strict = TreeNode.Phase.settling(window: .seconds(2), foundByScan: false, since: start, acceptOldMtime: false)
        let oldWall = known.mtimeNanos + 3 * second
        #expect(rules.settling(trusting, known: known, fresh: known, now: start, wallNanos: oldWall) == .report)
        #expect(rules.settling(strict, known: known, fresh: known, now: start, wallNanos: oldWall) == .keepWaiting)
        #expect(
            rules.settling(trusting, known: known, fresh: nil, now: start, wallNanos: oldWall)
                == .gone(foundByScan: true, confirmed: false))

        let futureWall = known.mtimeNanos - 3_600 * second // the file's mtime is an hour ahead
        #expect(rules.settling(trusting, known: known, fresh: known, now: start + .seconds(1), wallNanos: futureWall) == .keepWaiting)
        #expect(rules.settling(trusting, known: known, fresh: known, now: start + .seconds(2), wallNanos: futureWall) == .report)
    }

    @Test("a new final name waits for its writer; a rename or a second link is finished; a temp name is only tracked")
    func newNames() {
        let now: WatchInstant = .seconds(3)
        #expect(
            rules.appeared(transferName: .final, byRename: false, linked: false, now: now)
                == .waitForWriter(.awaitingOpen(deadline: now + .milliseconds(200))))
        #expect(rules.appeared(transferName: .final, byRename: true, linked: false, now: now) == .finished)
        #expect(rules.appeared(transferName: .final, byRename: false, linked: true, now: now) == .finished)
        #expect(rules.appeared(transferName: .clientTemp, byRename: true, linked: false, now: now) == .track(.writing))
        #expect(rules.appeared(transferName: .ignored, byRename: false, linked: false, now: now) == .track(.writing))
    }

    @Test("only the first open of a name waiting for a writer counts; the agent's own probe or a reader changes nothing")
    func opens() {
        #expect(rules.opened(rules.created(now: .zero)) == .writing)
        #expect(rules.opened(.writing) == nil)
        #expect(rules.opened(.idle) == nil)
        #expect(rules.opened(.settling(window: .seconds(2), foundByScan: true, since: .zero, acceptOldMtime: true)) == nil)
    }

    @Test("a close finishes the file, keeping whether a scan found it; a reopened reported file counts only when it changed")
    func closes() {
        let known = file()
        #expect(rules.closedWrite(.writing, recorded: false, known: known, fresh: nil) == .finished(foundByScan: false))
        #expect(
            rules.closedWrite(
                .settling(window: .seconds(2), foundByScan: true, since: .zero, acceptOldMtime: true),
                recorded: false, known: known, fresh: nil) == .finished(foundByScan: true))
        #expect(
            rules.closedWrite(.awaitingRename(foundByScan: true, confirmed: false), recorded: false, known: known, fresh: nil)
                == .finished(foundByScan: true))
        #expect(rules.closedWrite(.idle, recorded: true, known: known, fresh: known) == .unchanged)
        #expect(rules.closedWrite(.idle, recorded: true, known: known, fresh: nil) == .unchanged)
        #expect(rules.closedWrite(.idle, recorded: true, known: known, fresh: file(size: 11)) == .finished(foundByScan: false))
        #expect(
            rules.closedWrite(.idle, recorded: true, known: known, fresh: file(mtime: known.mtimeNanos + 1))
                == .finished(foundByScan: false))
    }
}

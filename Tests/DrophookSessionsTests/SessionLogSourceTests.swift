import DrophookEvents
import DrophookTestSupport
import Foundation
import Logging
import Testing

@testable import DrophookSessions

/// The file and journal sources through ``SessionLog``: lines written the way rsyslog and
/// journald write them are heard, through rotation, and attribute the events they are about.
@Suite(.serialized)
struct SessionLogSourceTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-sessions-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// An upload event of `path` under the watch root `/srv/sftp`.
    func upload(_ path: String) -> FileEvent {
        FileEvent(
            id: UUID().uuidString.lowercased(), kind: .created, watch: "w", path: path, size: 3, actor: "owner-rule", occurredAtMillis: 0)
    }

    func running(_ configuration: SessionLog.Configuration) -> (SessionLog, Task<Void, any Error>) {
        let log = SessionLog(configuration: configuration, logger: Logger(label: "test"))
        return (log, Task { try await log.run() })
    }

    /// Appends rsyslog-style lines (RFC 3339 time, host, program[pid]).
    func append(_ lines: [String], to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(
            contentsOf: Data(
                lines.map {
                    "2026-12-02T06:04:13.123456+00:00 sftp1 internal-sftp[\($0.prefix { $0 != " " })]: \($0.drop { $0 != " " }.dropFirst())\n"
                }.joined().utf8))
        try handle.close()
    }

    /// Writes a session's lines until the source has heard one: it reads from the end, so lines
    /// written before it opened the file are (rightly) history.
    func untilHeard(_ log: SessionLog, write: () throws -> Void) async throws {
        let heard = try await pollUntil(within: .seconds(10)) {
            try write()
            return log.counts.sessions > 0
        }
        #expect(heard, "the source never heard a session")
    }

    @Test func aFollowedFileIsHeardThroughRotationAndTruncation() async throws {
        let path = directory + "/auth.log"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let (log, task) = running(.init(source: .file(path), layout: ChrootLayout(chroot: "/srv/sftp/%u"), wait: .seconds(2)))
        defer { task.cancel() }
        try await untilHeard(log) { try append(["41 session opened for local user alice from [10.0.0.1]"], to: path) }
        try append(["41 close \"/in/a.csv\" bytes read 0 written 3"], to: path)
        let first = await log.attribute([upload("alice/in/a.csv")], roots: ["w": "/srv/sftp"])
        #expect(first[0].actor == "alice" && first[0].clientAddress == "10.0.0.1" && first[0].bytesWritten == 3)

        // Rotation by rename: the old file's last line is still read, then the new file from its start.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(["41 close \"/in/b.csv\" bytes read 0 written 4"], to: path + ".1")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        try append(
            ["42 session opened for local user bob from [10.0.0.2]", "42 forced close \"/in/c.csv\" bytes read 0 written 2"], to: path)
        let rotated = await log.attribute([upload("alice/in/b.csv"), upload("bob/in/c.csv")], roots: ["w": "/srv/sftp"])
        #expect(rotated.map(\.actor) == ["alice", "bob"])
        #expect(rotated[1].kind == .failed && rotated[1].bytesWritten == 2)

        // copytruncate: the same file cut to nothing and written again.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try append(["42 close \"/in/d.csv\" bytes read 0 written 5"], to: path)
        let truncated = await log.attribute([upload("bob/in/d.csv")], roots: ["w": "/srv/sftp"])
        #expect(truncated[0].actor == "bob" && truncated[0].bytesWritten == 5)

        // Nothing about it: it goes as it came, after the bounded wait (2 s; the bound is
        // that wait and room for a loaded machine, far below the hang it guards against).
        let started = ContinuousClock.now
        let unknown = await log.attribute([upload("carol/in/e.csv")], roots: ["w": "/srv/sftp"])
        #expect(unknown[0].actor == "owner-rule" && unknown[0].clientAddress == nil)
        #expect(ContinuousClock.now - started < .seconds(2) + .seconds(20))
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("a scan's events and other watches' events never wait for the session log", .timeLimit(.minutes(3)))
    func eventsNoSessionCanExplainDoNotWait() async throws {
        let path = directory + "/auth.log"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        // A wait of two minutes: an event that waited would take all of it, so "did not wait"
        // is told apart from "the machine was slow" by a margin of minutes, not milliseconds.
        let wait = Duration.seconds(120)
        let (log, task) = running(.init(source: .file(path), layout: ChrootLayout(chroot: "/srv/sftp/%u"), wait: wait))
        defer { task.cancel() }
        // alice's session is open and has not said how her uploads ended, so a live upload of
        // hers would wait for that line.
        try await untilHeard(log) { try append(["51 session opened for local user alice from [10.0.0.1]"], to: path) }
        var scanned = upload("alice/in/f.csv")
        scanned.foundByScan = true
        var elsewhere = upload("alice/in/g.csv")
        elsewhere.watch = "other"
        let started = ContinuousClock.now
        let answered = await log.attribute([scanned, elsewhere], roots: ["w": "/srv/sftp"])
        #expect(ContinuousClock.now - started < wait / 2)
        #expect(answered.map(\.actor) == ["owner-rule", "owner-rule"], "neither is attributed")
        try? FileManager.default.removeItem(atPath: directory)
    }

    static let journalRemote = "/lib/systemd/systemd-journal-remote"

    /// journald's own files, written by `systemd-journal-remote` from journal export entries
    /// with the trusted fields journald would record.
    func journal(
        _ entries: [(pid: Int, uid: Int, comm: String, message: String)], file name: String = "remote.journal",
        identifier: String = "internal-sftp"
    ) throws {
        var export = ""
        for entry in entries {
            export +=
                "_PID=\(entry.pid)\n_UID=\(entry.uid)\n_COMM=\(entry.comm)\nSYSLOG_IDENTIFIER=\(identifier)\nMESSAGE=\(entry.message)\n"
            export += "__REALTIME_TIMESTAMP=\(UInt64(Date().timeIntervalSince1970 * 1_000_000))\n\n"
        }
        let file = directory + "/entry-\(UUID().uuidString.prefix(8)).export"
        try export.write(toFile: file, atomically: false, encoding: .utf8)
        try ChildProcess.run(Self.journalRemote, ["--output=\(directory)/journal/\(name)", file], within: .seconds(30))
    }

    /// journald writes a new file for each uid's first line (`user-2001.journal`): a session
    /// whose lines are the first of a new file is heard the first time it is written (written
    /// once, not until heard), whether or not the journal held an SFTP line when the source
    /// started. Without one, positioned at the tail, libsystemd missed it in 11 of 12 runs.
    @Test(
        .requires(.journalRemote),
        arguments: [false, true])
    func theFirstSessionInANewJournalFileIsHeard(afterAnEarlierSFTPLine: Bool) async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/journal", withIntermediateDirectories: true)
        try journal([(1, 0, "systemd", "Started ssh.service")], file: "system.journal", identifier: "systemd")
        if afterAnEarlierSFTPLine {
            try journal([(2, 0, "sshd", "session closed for local user nobody from [192.0.2.1]")], file: "system.journal")
        }
        let (log, task) = running(
            .init(source: .journal(directory: directory + "/journal"), layout: ChrootLayout(chroot: "/srv/sftp/%u"), wait: .seconds(5)))
        defer { task.cancel() }
        try log.start()
        try journal(
            [
                (80, 65534, "sshd", "session opened for local user nobody from [192.0.2.8]"),
                (80, 65534, "sshd", "close \"/in/first.csv\" bytes read 0 written 5"),
            ], file: "user-65534.journal")
        let events = await log.attribute([upload("nobody/in/first.csv")], roots: ["w": "/srv/sftp"])
        #expect(events[0].actor == "nobody" && events[0].clientAddress == "192.0.2.8" && events[0].bytesWritten == 5, "\(events[0])")
    }

    @Test(.requires(.journalRemote))
    func theJournalIsHeardWithItsTrustedSenderFields() async throws {
        try FileManager.default.createDirectory(atPath: directory + "/journal", withIntermediateDirectories: true)
        try journal([(1, 0, "sshd", "opendir \"/\"")])
        let (log, task) = running(
            .init(source: .journal(directory: directory + "/journal"), layout: ChrootLayout(chroot: "/srv/sftp/%u"), wait: .seconds(5)))
        defer { task.cancel() }
        // nobody's uid is 65534 on Debian; the journal's _UID and _COMM are the kernel's word.
        try await untilHeard(log) { try journal([(70, 65534, "sshd", "session opened for local user nobody from [192.0.2.7]")]) }
        try journal([
            // Another process claiming a session is refused, and its close counts for nothing.
            (71, 1000, "python3", "session opened for local user nobody from [6.6.6.6]"),
            (71, 1000, "python3", "close \"/in/a.csv\" bytes read 0 written 9"),
            (70, 65534, "sshd", "close \"/in/a.csv\" bytes read 0 written 3"),
        ])
        let events = await log.attribute([upload("nobody/in/a.csv")], roots: ["w": "/srv/sftp"])
        #expect(events[0].actor == "nobody" && events[0].clientAddress == "192.0.2.7" && events[0].bytesWritten == 3)
        #expect(log.counts.sessions == 1)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

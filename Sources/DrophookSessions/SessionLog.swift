import DrophookEvents
import Logging
import Metrics
import Synchronization

/// OpenSSH's SFTP session log, heard from one source and kept in a ``SessionLedger``, so that
/// each file event can name the SFTP user who caused it and an upload cut off mid-way is
/// reported as failed.
///
/// ``attribute(_:roots:)`` is called by the pipeline with each batch before it is stored; it
/// waits at most ``Configuration/wait`` for a line still on its way.
public final class SessionLog: Sendable {
    /// Where the log comes from and how its paths map to the disk.
    public struct Configuration: Sendable, Hashable {
        /// A session log source.
        public enum Source: Sendable, Hashable {
            /// Syslog datagram sockets drophook binds: paths, or `%u` patterns (one per chroot).
            case sockets([String])
            /// A log file the system's syslog daemon writes, followed through rotation.
            case file(String)
            /// The systemd journal (`SYSLOG_IDENTIFIER=internal-sftp` / `sftp-server`); the
            /// system's, or the journal files in a directory.
            case journal(directory: String?)
        }

        public var source: Source
        /// Where every received datagram is sent on unchanged (socket source), e.g. `/dev/log`,
        /// so the system log keeps what it had before drophook took the chroots' sockets.
        public var relay: String?
        public var layout: ChrootLayout
        /// The longest an event waits for its log line.
        public var wait: Duration
        public var limits: SessionLedger<ContinuousClock.Instant>.Limits

        public init(
            source: Source,
            relay: String? = nil,
            layout: ChrootLayout = ChrootLayout(),
            wait: Duration = .milliseconds(250),
            limits: SessionLedger<ContinuousClock.Instant>.Limits = .init()
        ) {
            self.source = source
            self.relay = relay
            self.layout = layout
            self.wait = wait
            self.limits = limits
        }
    }

    public let configuration: Configuration
    let ledger: Mutex<SessionLedger<ContinuousClock.Instant>>
    /// Poked when a line changed the ledger; the pipeline waits on it.
    let changed = WakeSignal()
    let logger: Logger
    let metrics: SessionLogMetrics
    /// The open source's stop controls, once started.
    private let running = Mutex<RunningSource?>(nil)

    private struct RunningSource: Sendable {
        var stop: @Sendable () -> Void
        var waitUntilStopped: @Sendable () async -> Void
        /// Whether a line logged before now may still be on its way to the ledger.
        var hasBacklog: @Sendable () -> Bool
    }

    /// Whether a line logged before now may still be on its way: a socket source knows (a
    /// datagram is queued or being handed over); a file or the journal is written by a daemon
    /// in between, so it may always be.
    var hasBacklog: Bool {
        guard let check = running.withLock({ $0?.hasBacklog }) else { return false }
        return check()
    }

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.ledger = Mutex(SessionLedger(layout: configuration.layout, limits: configuration.limits, homes: SessionSender.home(of:)))
        self.logger = logger
        self.metrics = SessionLogMetrics()
    }

    /// Opens the source: binds the sockets that exist now, opens the file or the journal.
    /// Called before the watcher starts, so the agent's own `dev/log` sockets are in place
    /// before its first scan, and a journal it may not read stops it at once with one line.
    public func start() throws(SessionLogError) {
        guard running.withLock({ $0 == nil }) else { return }
        let stop: @Sendable () -> Void
        let waitUntilStopped: @Sendable () async -> Void
        var hasBacklog: @Sendable () -> Bool = { true }
        switch configuration.source {
        case .sockets(let patterns):
            let source = try SyslogSocketSource(patterns: patterns, relay: configuration.relay, logger: logger)
            // A batch waiting for lines looks again once a round of datagrams is in.
            source.start(receive: { [self] datagram in self.receive(datagram) }, drained: { [changed] in changed.signal() })
            (stop, waitUntilStopped) = (source.stop, source.waitUntilStopped)
            hasBacklog = { source.hasBacklog }
        case .file(let path):
            let source = try LogFileSource(path: path, logger: logger)
            source.start { [self] line in self.receive(line: line, sender: nil) }
            (stop, waitUntilStopped) = (source.stop, source.waitUntilStopped)
        case .journal(let directory):
            let source = try JournalSource(directory: directory, logger: logger)
            try source.start { [self] entry in
                self.receive(line: entry.line, sender: Sender(pid: entry.pid, uid: entry.uid) { entry.comm })
            }
            (stop, waitUntilStopped) = (source.stop, source.waitUntilStopped)
        }
        running.withLock { $0 = RunningSource(stop: stop, waitUntilStopped: waitUntilStopped, hasBacklog: hasBacklog) }
    }

    /// Listens (starting the source if ``start()`` was not called) until the task is
    /// cancelled; the sockets it bound are removed then.
    public func run() async throws {
        try start()
        // Expiry: records no event took in time go, and the operations among them are counted.
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let unconfirmed = ledger.withLock { $0.expire(now: .now) }
            for operation in unconfirmed { metrics.disagreement(operation) }
        }
        guard
            let source = running.withLock({ state -> RunningSource? in
                defer { state = nil }
                return state
            })
        else { return }
        source.stop()
        await source.waitUntilStopped()
    }

    /// A datagram from a socket: the kernel names its sender; its process name is looked up
    /// in /proc only if the line opens a session.
    private func receive(_ datagram: SyslogSocketSource.Datagram) {
        receive(line: datagram.bytes, sender: Sender(pid: datagram.pid, uid: datagram.uid) { SessionSender.processName(datagram.pid) })
    }

    /// Who sent a line, as the kernel says (socket credentials, journald's trusted fields).
    private struct Sender {
        var pid: Int32
        var uid: UInt32?
        /// The process's name, asked only for a line that opens a session.
        var comm: () -> String?
    }

    /// A line and, where the kernel vouches for it (socket, journal), its sender: then a session
    /// is accepted only from an OpenSSH process running as the user it names, and every later
    /// line counts for the session of the process that sent it. A file's lines carry only the
    /// pid they claim, trusted because only the syslog daemon writes there.
    private func receive(line bytes: [UInt8], sender: Sender?) {
        guard let line = SyslogLine(bytes), let message = SFTPLogMessage(line.message) else { return }
        guard let sender else {
            apply(message, key: SessionKey(source: 0, pid: line.claimedPID))
            return
        }
        if case .sessionOpened(let user, _) = message,
            let refusal = SessionSender.refusal(pid: sender.pid, comm: sender.comm(), uid: sender.uid ?? UInt32.max, user: user)
        {
            metrics.rejected()
            logger.warning("session log: ignored a session line claiming user \(user.debugDescription): \(refusal)")
            return
        }
        apply(message, key: SessionKey(source: 0, pid: sender.pid))
    }

    private func apply(_ message: SFTPLogMessage, key: SessionKey) {
        metrics.line()
        logger.trace("session log: \(key.pid) \(message)")
        let changed = ledger.withLock { $0.apply(message, from: key, at: .now) }
        if changed { self.changed.signal() }
    }

    /// Live sessions and kept records (for status and tests).
    public var counts: (sessions: Int, records: Int) {
        ledger.withLock { ($0.liveSessions, $0.recordCount) }
    }
}

/// The session log's counters, created once.
struct SessionLogMetrics: Sendable {
    private let lines = Counter(label: "drophook_session_log_lines_total")
    private let rejectedLines = Counter(label: "drophook_session_log_rejected_total")
    private let disagreements: [UnconfirmedOperation: Counter] = Dictionary(
        uniqueKeysWithValues: UnconfirmedOperation.allCases.map {
            ($0, Counter(label: "drophook_session_log_disagreements_total", dimensions: [("operation", $0.rawValue)]))
        })
    let attributed = Counter(label: "drophook_session_log_events_total", dimensions: [("result", "attributed")])
    let unattributed = Counter(label: "drophook_session_log_events_total", dimensions: [("result", "unattributed")])
    let interrupted = Counter(label: "drophook_session_log_interrupted_total")

    func line() { lines.increment() }
    func rejected() { rejectedLines.increment() }
    func disagreement(_ operation: UnconfirmedOperation) { disagreements[operation]?.increment() }
}

/// The SFTP server's account of recent sessions, built from its log lines and asked about each
/// file event inotify reports: a pure state machine (no I/O, time passed in), so its rules are
/// tested by feeding lines and moving time.
///
/// - A session is known from its `session opened` line; lines of sessions opened before the
///   agent listened carry no user and are ignored.
/// - A `close` of a file opened for writing leaves a *transfer* record at the file's real path;
///   a `rename` carries it to the new path (temp-name uploads), and a newer close replaces it
///   (a resumed upload). An event for that path takes it.
/// - `remove`, `rename`, `mkdir` and `rmdir` leave records that the matching inotify event
///   confirms; one left unconfirmed when it expires is a disagreement (the disk's view wins).
/// - Every table is bounded; records expire after ``Limits/retention``.
public struct SessionLedger<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Bounds on what the ledger keeps, whatever the log says.
    public struct Limits: Sendable, Hashable {
        /// Live sessions tracked at once; more are ignored until some close.
        public var sessions: Int
        /// Files one session may hold open for writing.
        public var openFilesPerSession: Int
        /// Records (transfers and operations) kept at once; the oldest go first.
        public var records: Int
        /// How long a record waits for its inotify event.
        public var retention: Duration

        public init(sessions: Int = 4096, openFilesPerSession: Int = 256, records: Int = 65536, retention: Duration = .seconds(60)) {
            self.sessions = sessions
            self.openFilesPerSession = openFilesPerSession
            self.records = records
            self.retention = retention
        }
    }

    /// What the ledger knows about a queried event.
    public enum Answer: Sendable, Hashable {
        /// A log record matched; it is used up.
        case attributed(SessionAttribution)
        /// A live session holds the file open for writing: its close line is still to come.
        case pending
        /// Nothing in the log is about it.
        case unknown
    }

    private struct Session: Sendable {
        var user: String
        var address: String
        var home: String?
        /// Real paths this session opened for writing and has not closed.
        var openForWriting: Set<String> = []
        /// The path of an `open` that was the session's last line: a `sent status` line right
        /// after it means the open failed.
        var lastOpen: String?
    }

    private enum RecordKind: Hashable, Sendable {
        case transfer, removed, renamedFrom, renamedTo, madeDirectory, removedDirectory

        var operation: UnconfirmedOperation? {
            switch self {
            case .transfer: nil
            case .removed: .remove
            case .renamedFrom, .renamedTo: .rename
            case .madeDirectory: .mkdir
            case .removedDirectory: .rmdir
            }
        }
    }

    private struct RecordKey: Hashable, Sendable {
        var path: String
        var kind: RecordKind
    }

    private struct Record: Sendable {
        var attribution: SessionAttribution
        var at: Instant
        /// The other path of a rename.
        var otherPath: String?
    }

    public let limits: Limits
    public let layout: ChrootLayout
    private let homes: @Sendable (String) -> String?
    private var sessions: [SessionKey: Session] = [:]
    private var records: [RecordKey: Record] = [:]
    /// Records in the order they were made, for expiry; an entry whose record was replaced or
    /// used is skipped when it comes up.
    private var recordOrder: [(key: RecordKey, at: Instant)] = []
    private var recordOrderStart = 0

    /// - Parameter homes: a user's home directory (for `%h`); the passwd database in the agent.
    public init(layout: ChrootLayout, limits: Limits = Limits(), homes: @escaping @Sendable (String) -> String?) {
        self.layout = layout
        self.limits = limits
        self.homes = homes
    }

    /// Sessions whose `session closed` line has not come yet.
    public var liveSessions: Int { sessions.count }

    /// The login user of a live session, if its opening line was heard.
    public func user(of key: SessionKey) -> String? { sessions[key]?.user }

    /// Takes one log line of a session. Returns false when the line changed nothing (an unknown
    /// session, a line of no interest, a table at its bound).
    @discardableResult
    public mutating func apply(_ message: SFTPLogMessage, from key: SessionKey, at now: Instant) -> Bool {
        if case .sessionOpened(let user, let address) = message {
            guard sessions[key] != nil || sessions.count < limits.sessions else { return false }
            sessions[key] = Session(user: user, address: address, home: homes(user))
            return true
        }
        guard var session = sessions[key] else { return false }
        let lastOpen = session.lastOpen
        session.lastOpen = nil
        let attribution = SessionAttribution(user: session.user, clientAddress: session.address)
        func real(_ path: [UInt8]) -> String { layout.realPath(path, user: session.user, home: session.home) }
        switch message {
        case .sessionOpened:
            break
        case .sessionClosed:
            sessions[key] = nil
            return true
        case .open(let path, let writes):
            guard writes else { break }
            let path = real(path)
            if session.openForWriting.count < limits.openFilesPerSession { session.openForWriting.insert(path) }
            session.lastOpen = path
        case .close(let path, _, let written, let forced):
            let path = real(path)
            let wasOpenForWriting = session.openForWriting.remove(path) != nil
            if wasOpenForWriting || written > 0 || forced {
                var transfer = attribution
                transfer.bytesWritten = written
                transfer.interrupted = forced
                record(RecordKey(path: path, kind: .transfer), transfer, at: now)
            }
        case .rename(let old, let new):
            let (old, new) = (real(old), real(new))
            if let transfer = records.removeValue(forKey: RecordKey(path: old, kind: .transfer)) {
                record(RecordKey(path: new, kind: .transfer), transfer.attribution, at: now)
            }
            record(RecordKey(path: old, kind: .renamedFrom), attribution, at: now, otherPath: new)
            record(RecordKey(path: new, kind: .renamedTo), attribution, at: now, otherPath: old)
        case .remove(let path):
            record(RecordKey(path: real(path), kind: .removed), attribution, at: now)
        case .makeDirectory(let path):
            record(RecordKey(path: real(path), kind: .madeDirectory), attribution, at: now)
        case .removeDirectory(let path):
            record(RecordKey(path: real(path), kind: .removedDirectory), attribution, at: now)
        case .failed:
            // Only an open is known to be answered by the very next line; any other request's
            // status may belong to an unlogged one in between (a failed stat).
            if let lastOpen { session.openForWriting.remove(lastOpen) }
        }
        sessions[key] = session
        return true
    }

    /// What the log says about an event inotify reported; a matching record is used up.
    public mutating func attribute(_ query: SessionQuery) -> Answer {
        switch query.change {
        case .created:
            if !query.isDirectory, let transfer = take(query.path, .transfer) {
                // The rename that brought a temp-name upload here is confirmed by the same event.
                takeRename(to: query.path)
                return .attributed(transfer.attribution)
            }
            if let renamed = takeRename(to: query.path) { return .attributed(renamed) }
            if query.isDirectory, let made = take(query.path, .madeDirectory) { return .attributed(made.attribution) }
            if !query.isDirectory, sessions.values.contains(where: { $0.openForWriting.contains(query.path) }) { return .pending }
            return .unknown
        case .deleted:
            if let renamed = take(query.path, .renamedFrom) {
                if let other = renamed.otherPath { _ = take(other, .renamedTo) }
                return .attributed(renamed.attribution)
            }
            if let removed = take(query.path, query.isDirectory ? .removedDirectory : .removed) { return .attributed(removed.attribution) }
            return .unknown
        case .failed:
            if let transfer = take(query.path, .transfer) {
                _ = take(query.path, .removed)
                return .attributed(transfer.attribution)
            }
            if let removed = take(query.path, .removed) { return .attributed(removed.attribution) }
            return .unknown
        }
    }

    /// Drops records older than the retention; returns the operations among them that no
    /// event confirmed.
    public mutating func expire(now: Instant) -> [UnconfirmedOperation] {
        var unconfirmed: [UnconfirmedOperation] = []
        while recordOrderStart < recordOrder.count {
            let (key, at) = recordOrder[recordOrderStart]
            let overBound = records.count > limits.records
            guard overBound || at.advanced(by: limits.retention) <= now else { break }
            recordOrderStart += 1
            guard let record = records[key], record.at == at else { continue }
            records[key] = nil
            // A rename is one operation with two records: counted at its old path only.
            if let operation = key.kind.operation, key.kind != .renamedTo { unconfirmed.append(operation) }
        }
        if recordOrderStart > 1024, recordOrderStart * 2 > recordOrder.count {
            recordOrder.removeFirst(recordOrderStart)
            recordOrderStart = 0
        }
        return unconfirmed
    }

    /// Records kept now (for tests and status).
    public var recordCount: Int { records.count }

    private mutating func record(_ key: RecordKey, _ attribution: SessionAttribution, at now: Instant, otherPath: String? = nil) {
        records[key] = Record(attribution: attribution, at: now, otherPath: otherPath)
        recordOrder.append((key, now))
        if records.count > limits.records { _ = expire(now: now) }
    }

    private mutating func take(_ path: String, _ kind: RecordKind) -> Record? {
        records.removeValue(forKey: RecordKey(path: path, kind: kind))
    }

    @discardableResult
    private mutating func takeRename(to path: String) -> SessionAttribution? {
        guard let renamed = take(path, .renamedTo) else { return nil }
        if let other = renamed.otherPath { _ = take(other, .renamedFrom) }
        return renamed.attribution
    }
}

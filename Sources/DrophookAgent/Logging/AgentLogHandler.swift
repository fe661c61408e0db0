import DrophookEvents
import Foundation
import Glibc
import Logging
import Synchronization

/// The agent's log lines on standard error, one `write` each.
///
/// - When standard error is the journal (`JOURNAL_STREAM` names its device and inode, as
///   systemd sets it), a line is `<P>label: message metadata`: `<P>` is the syslog priority
///   journald reads (`<3>` error … `<7>` debug), so `journalctl -p warning` works, and there is
///   no timestamp, since journald stamps each line itself.
/// - Otherwise `2026-12-02T06:04:13.123Z warning drophook: message metadata`.
///
/// Message and metadata are passed through ``TerminalText``: a directory name with a newline
/// cannot forge a log line, nor an ESC sequence reach the operator's terminal.
public struct AgentLogHandler: LogHandler {
    /// How lines are written.
    public enum Style: Sendable {
        /// Priority prefix, no timestamp (journald).
        case journal
        /// Timestamp and level name.
        case plain
    }

    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let style: Style
    private let level: LogLevelSetting

    public init(label: String, style: Style, level: LogLevelSetting) {
        self.label = label
        self.style = style
        self.level = level
    }

    /// A level set on one logger (`logger.logLevel = …`) stays that logger's.
    private var ownLevel: Logger.Level?

    /// The process's shared setting, so a reload changes it for every logger, unless one
    /// logger was given its own.
    public var logLevel: Logger.Level {
        get { ownLevel ?? level.value }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        let bytes = Array(Self.line(level: event.level, message: "\(event.message)", metadata: merged, label: label, style: style).utf8)
        bytes.withUnsafeBytes { buffer in
            // One write in the usual case; a long line on a pipe may take several.
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// One log line, newline included.
    static func line(
        level: Logger.Level, message: String, metadata: Logger.Metadata, label: String, style: Style, now: Date = Date()
    ) -> String {
        let details =
            metadata.isEmpty ? "" : " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = TerminalText.escaped(message + details)
        switch style {
        case .journal:
            return "<\(priority(level))>\(label): \(text)\n"
        case .plain:
            let millis = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
            return "\(ISO8601Timestamp.string(fromMillis: millis)) \(level) \(label): \(text)\n"
        }
    }

    /// The syslog priority of a level (sd-daemon.h's `SD_ERR` …).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// `.journal` when `JOURNAL_STREAM` (`DEVICE:INODE`) names this process's standard error.
    public static func style(environment: [String: String] = ProcessInfo.processInfo.environment) -> Style {
        guard let stream = environment["JOURNAL_STREAM"] else { return .plain }
        let parts = stream.split(separator: ":")
        var status = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
            fstat(STDERR_FILENO, &status) == 0
        else { return .plain }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode ? .journal : .plain
    }
}

/// The process's log level, shared by every logger and changed by a reload (`log_level:`).
public final class LogLevelSetting: Sendable {
    private let level: Mutex<Logger.Level>

    public init(_ level: Logger.Level) { self.level = Mutex(level) }

    public var value: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

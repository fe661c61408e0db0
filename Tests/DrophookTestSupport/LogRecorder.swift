import Logging

/// A log handler that keeps every message at or above its level, for a test to await: a log
/// line is often the only outside sign that a component reached a step (an attempt that could
/// not be recorded, a claim that could not be handed back), so a test waits for the line
/// instead of a guessed time.
public final class LogRecorder: Sendable {
    /// Every message kept, oldest first.
    public let messages = Observed<String>()
    public let level: Logger.Level

    public init(level: Logger.Level = .error) { self.level = level }

    /// A logger whose messages this recorder keeps.
    public func logger(label: String) -> Logger {
        Logger(label: label) { _ in Handler(recorder: self) }
    }

    /// The first message containing `text`, kept already or later; nil when `limit` passes first.
    public func message(containing text: String, within limit: Duration) async -> String? {
        guard await messages.wait(within: limit, until: { $0.contains { $0.contains(text) } }) else { return nil }
        return messages.items.first { $0.contains(text) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level

        init(recorder: LogRecorder) {
            self.recorder = recorder
            logLevel = recorder.level
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.append(event.message.description)
        }
    }
}

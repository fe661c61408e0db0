import DrophookEvents

/// Reads durations written in the config (`settle: 2s`, `retry: [1m, 5m, 2h]`, `timeout: 500ms`).
///
/// A duration is one or more `<number><unit>` parts, e.g. `500ms`, `5s`, `1.5m`, `2h`, `1d`, `1h30m`;
/// units are `ms`, `s`, `m`, `h`, `d`. A bare number is refused, because `5` could mean
/// seconds or minutes and a wrong guess silently changes behaviour.
public enum DurationParser {
    /// Parses `text`; `key` names the config key in the error message.
    public static func parse(_ text: String, key: String? = nil) throws(DurationFormatError) -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        func failure(_ reason: String) -> DurationFormatError {
            DurationFormatError(text: text, key: key, reason: reason)
        }
        guard !trimmed.isEmpty else { throw failure("it is empty") }

        var total: Duration = .zero
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number), value.isFinite else {
                throw failure("expected a number at \"\(rest)\"")
            }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86400
            case "": throw failure("\"\(number)\" has no unit")
            default: throw failure("unknown unit \"\(unit)\"")
            }
            let seconds = value * scale
            guard seconds < 100 * 365 * 86400 else { throw failure("it is longer than a century") }
            total += .milliseconds(Int64((seconds * 1000).rounded()))
        }
        return total
    }

    /// Writes a duration back in the config's notation, largest whole unit first (`1h30m`, `500ms`).
    public static func format(_ duration: Duration) -> String {
        var millis = duration.milliseconds
        guard millis > 0 else { return millis == 0 ? "0s" : "-" + format(.milliseconds(-millis)) }
        var parts: [String] = []
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] where millis >= size {
            parts.append("\(millis / size)\(unit)")
            millis %= size
        }
        return parts.joined()
    }
}

/// A duration in the config could not be read (ServiceLifecycle's error shape: a stable
/// ``Code`` and a one-line description).
public struct DurationFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidDuration = "invalid_duration"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The stable name, as logs show it.
        public var description: String { value.rawValue }

        /// The text is not a number followed by a known unit.
        public static let invalidDuration = Code(.invalidDuration)
    }

    public var code: Code { .invalidDuration }
    public var text: String
    public var key: String?
    public var reason: String

    public var description: String {
        let place = key.map { " for `\($0)`" } ?? ""
        return "invalid duration \"\(text)\"\(place): \(reason) — write a number and a unit (ms, s, m, h, d), e.g. 500ms, 5s, 2h, 1d"
    }
}

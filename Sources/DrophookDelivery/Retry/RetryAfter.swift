import Foundation

/// The `Retry-After` response header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
public enum RetryAfter {
    /// Shortest wait honoured: a `Retry-After: 0` would otherwise make a tight loop.
    public static let minimum: Duration = .seconds(1)
    /// Longest wait honoured: a receiver can't park a delivery for longer than a day.
    public static let maximum: Duration = .seconds(86_400)

    /// The wait the header asks for, clamped to [``minimum``, ``maximum``]; nil when it can't be read.
    public static func parse(_ value: String, now: Date = Date()) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        let wait: Duration
        if !text.isEmpty, text.allSatisfy(\.isNumber) {
            // Anything past a day is clamped anyway; avoid overflow on absurd values.
            wait = .seconds(Int64(text.prefix(12)) ?? Int64.max / 2)
        } else if let date = httpDate(text) {
            wait = .milliseconds(Int64((date.timeIntervalSince(now) * 1000).rounded()))
        } else {
            return nil
        }
        return min(max(wait, minimum), maximum)
    }

    /// Reads the three date forms HTTP allows: IMF-fixdate, obsolete RFC 850, and asctime.
    static func httpDate(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

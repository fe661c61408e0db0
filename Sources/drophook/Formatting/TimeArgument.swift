import ArgumentParser
import DrophookDelivery
import Foundation

/// A point in time on the command line: a duration ago (`24h`, `30m`, `7d`) or an ISO 8601 time
/// (`2026-12-01T00:00:00Z`, `2026-12-01`).
enum TimeArgument {
    static func millis(_ text: String, option: String, now: Date = Date()) throws -> Int64 {
        if let duration = try? DurationParser.parse(text) {
            let ago = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return Int64(((now.timeIntervalSince1970 - ago) * 1000).rounded(.down))
        }
        let full = ISO8601DateFormatter()
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = full.date(from: text) ?? fractional.date(from: text) ?? day.date(from: text) else {
            throw ValidationError(
                "\(option): '\(text)' is neither a duration (24h, 30m, 7d) nor a time (2026-12-01T00:00:00Z or 2026-12-01)")
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}

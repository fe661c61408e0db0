/// Formats epoch milliseconds as an ISO 8601 UTC timestamp with exactly three fractional
/// digits (`2024-03-15T10:30:00.000Z`), the form Rilavek's `timestamp` uses.
///
/// Written from integer arithmetic (days-to-civil) rather than a date formatter: it is pure,
/// locale-independent and fast, and formats are forbidden to depend on system state.
public enum ISO8601Timestamp {
    /// `yyyy-MM-ddTHH:mm:ss.SSSZ` for the given instant; years outside 0...9999 are written
    /// with as many digits as they need (and a leading `-` before year 0).
    public static func string(fromMillis millis: Int64) -> String {
        let (seconds, milliseconds) = floorDivide(millis, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        var out = ""
        out.reserveCapacity(24)
        if year < 0 { out += "-" }
        out += padded(year.magnitude, 4)
        out += "-" + padded(UInt64(month), 2) + "-" + padded(UInt64(day), 2)
        out += "T" + padded(UInt64(secondOfDay / 3600), 2)
        out += ":" + padded(UInt64(secondOfDay % 3600 / 60), 2)
        out += ":" + padded(UInt64(secondOfDay % 60), 2)
        out += "." + padded(UInt64(milliseconds), 3) + "Z"
        return out
    }

    /// Division rounding toward negative infinity, so instants before 1970 fall on the right day.
    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
    static func civil(fromDays daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func padded(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

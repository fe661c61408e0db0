/// Durations as people write them in the config: `500ms`, `5s`, `1m`, `2h`, `1d`, or combined (`1h30m`).
public enum DurationText {
    /// Why a duration did not parse, for the config error message.
    public struct ParseError: Error, CustomStringConvertible {
        public var text: String
        public var description: String { "'\(text)' is not a duration; write e.g. 500ms, 5s, 1m, 2h or 1d" }
    }

    public static func parse(_ text: String) throws -> Duration {
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        var rest = Substring(text).drop { $0 == " " }
        guard !rest.isEmpty else { throw ParseError(text: text) }
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let number = Int64(digits) else { throw ParseError(text: text) }
            rest = rest.dropFirst(digits.count)
            // "ms" is listed before "m", so the first match is the longest.
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) })
            else { throw ParseError(text: text) }
            rest = rest.dropFirst(unit.suffix.count)
            let (product, overflow) = number.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow else { throw ParseError(text: text) }
            total += product
        }
        return .milliseconds(total)
    }
}


/// How long to wait before each retry: the first attempt plus one retry per delay.
///
/// Each delay is spread by ±`jitter` so that many deliveries that failed together (a receiver
/// outage) don't all come back in the same second.
public struct RetrySchedule: Sendable, Hashable {
    /// Delay before retry 1, 2, …
    public var delays: [Duration]
    /// Fraction of each delay added or taken at random (0.15 = ±15 %).
    public var jitter: Double

    public init(delays: [Duration], jitter: Double = 0.15) {
        self.delays = delays
        self.jitter = min(max(jitter, 0), 0.5)
    }

    /// Reads delays from config strings (`["1m", "5m", "30m"]`).
    public init(parsing texts: [String], key: String = "retry", jitter: Double = 0.15) throws(DurationFormatError) {
        var delays: [Duration] = []
        for (index, text) in texts.enumerated() {
            delays.append(try DurationParser.parse(text, key: "\(key)[\(index)]"))
        }
        self.init(delays: delays, jitter: jitter)
    }

    /// drophook's default: 5s, 1m, 5m, 30m, 2h, 5h, 10h, 24h — nine attempts over about 42 hours.
    public static let standard = RetrySchedule(delays: [
        .seconds(5), .seconds(60), .seconds(300), .seconds(1800),
        .seconds(7200), .seconds(18_000), .seconds(36_000), .seconds(86_400),
    ])

    /// Raily's documented schedule: 1m, 5m, 30m, 2h, 24h.
    public static let raily = RetrySchedule(delays: [
        .seconds(60), .seconds(300), .seconds(1800), .seconds(7200), .seconds(86_400),
    ])

    /// Attempts in all, the first included.
    public var maxAttempts: Int { delays.count + 1 }

    /// The delay after the `attempt`-th attempt (1-based) failed, jittered; nil when that was the last.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        let base = delays[attempt - 1]
        guard jitter > 0 else { return base }
        let factor = Double.random(in: (1 - jitter)...(1 + jitter), using: &generator)
        return .milliseconds(Int64((Double(base.milliseconds) * factor).rounded()))
    }

    /// The delay after the `attempt`-th attempt with the system's random source.
    public func delay(afterAttempt attempt: Int) -> Duration? {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }
}

/// A small deterministic generator (SplitMix64) for reproducible jitter in tests and benchmarks.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

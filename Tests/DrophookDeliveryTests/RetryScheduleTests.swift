import DrophookDelivery
import Testing

@Suite("Retry schedule and durations")
struct RetryScheduleTests {
    @Test(
        "durations in config notation",
        arguments: [
            ("500ms", Duration.milliseconds(500)),
            ("5s", .seconds(5)),
            ("1m", .seconds(60)),
            ("2h", .seconds(7200)),
            ("1d", .seconds(86_400)),
            ("1h30m", .seconds(5400)),
            ("1.5s", .milliseconds(1500)),
            (" 10S ", .seconds(10)),
        ])
    func parsesDurations(text: String, expected: Duration) throws {
        #expect(try DurationParser.parse(text) == expected)
    }

    @Test("malformed durations are refused with the key and a hint", arguments: ["", "5", "5x", "m", "1h-3m", "abc", "1..5s"])
    func refusesMalformedDurations(text: String) {
        do {
            _ = try DurationParser.parse(text, key: "settle")
            Issue.record("\"\(text)\" was accepted")
        } catch {
            #expect(error.description.contains("`settle`"))
            #expect(error.description.contains("e.g. 500ms"))
        }
    }

    @Test("durations format back to the notation they parse from")
    func formatsDurations() throws {
        #expect(DurationParser.format(.seconds(5400)) == "1h30m")
        #expect(DurationParser.format(.milliseconds(500)) == "500ms")
        #expect(DurationParser.format(.seconds(5 * 86_400)) == "5d")
        for text in ["1d2h3m4s5ms", "24h", "90s"] {
            let duration = try DurationParser.parse(text)
            #expect(try DurationParser.parse(DurationParser.format(duration)) == duration)
        }
    }

    @Test("the default schedule makes nine attempts; Raily's can be expressed from config strings")
    func schedules() throws {
        #expect(RetrySchedule.standard.maxAttempts == 9)
        #expect(RetrySchedule.standard.delays.map { DurationParser.format($0) } == ["5s", "1m", "5m", "30m", "2h", "5h", "10h", "1d"])
        let raily = try RetrySchedule(parsing: ["1m", "5m", "30m", "2h", "24h"])
        #expect(raily.delays == RetrySchedule.raily.delays)
        #expect(raily.maxAttempts == 6)
        #expect(throws: DurationFormatError.self) { try RetrySchedule(parsing: ["1m", "soon"]) }
    }

    @Test("jitter stays within its bounds, varies, and repeats under the same seed")
    func jitterBounds() {
        let schedule = RetrySchedule(delays: [.seconds(100), .seconds(1000)], jitter: 0.2)
        var generator = SeededRandom(seed: 7)
        var seen = Set<Duration>()
        for _ in 0..<1000 {
            let delay = schedule.delay(afterAttempt: 1, using: &generator)!
            #expect(delay >= .seconds(80) && delay <= .seconds(120))
            seen.insert(delay)
        }
        #expect(seen.count > 100)
        #expect(schedule.delay(afterAttempt: 3, using: &generator) == nil)
        #expect(schedule.delay(afterAttempt: 0, using: &generator) == nil)

        var first = SeededRandom(seed: 42)
        var second = SeededRandom(seed: 42)
        let a = (1...2).map { schedule.delay(afterAttempt: $0, using: &first) }
        let b = (1...2).map { schedule.delay(afterAttempt: $0, using: &second) }
        #expect(a == b)

        let exact = RetrySchedule(delays: [.seconds(5)], jitter: 0)
        #expect(exact.delay(afterAttempt: 1, using: &generator) == .seconds(5))
    }
}

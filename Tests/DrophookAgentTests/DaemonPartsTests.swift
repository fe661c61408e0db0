import DrophookEvents
import Foundation
import Logging
import Testing

@testable import DrophookAgent

/// The daemon's pure parts: the watchdog's rule, log lines, terminal-safe text, refused settings.
@Suite("Daemon parts")
struct DaemonPartsTests {
    @Test("the watchdog is fed only while both the watcher and the delivery engine move")
    func watchdogNeedsProgressFromBoth() {
        let start = ContinuousClock.now
        var watchdog = Watchdog<ContinuousClock.Instant>(interval: .seconds(2))
        func ping(_ watcher: Int?, _ engine: Int?, _ at: Duration) -> Bool {
            watchdog.ping(watcher: watcher, engine: engine, at: start + at)
        }
        #expect(ping(1, 1, .zero))
        // Not again before half the interval.
        #expect(!ping(2, 2, .milliseconds(500)))
        #expect(ping(3, 3, .seconds(1)))
        // The engine stops moving: still fed until a whole interval has passed without a move.
        #expect(ping(4, 3, .seconds(2)))
        #expect(!ping(5, 3, .seconds(3)))
        // It moves again: fed again.
        #expect(ping(6, 4, .milliseconds(3100)))
        // No webhooks: the engine has nothing to show and does not hold the watchdog back.
        #expect(ping(7, nil, .milliseconds(4200)))
        // A watcher that has not started never feeds it.
        var fresh = Watchdog<ContinuousClock.Instant>(interval: .seconds(2))
        let fed = fresh.ping(watcher: nil, engine: 1, at: start)
        #expect(!fed)
    }

    @Test("journald lines carry the syslog priority and no timestamp; controls are escaped in every line")
    func logLines() {
        let journal = AgentLogHandler.line(
            level: .warning, message: "cannot read a\nb\u{1B}[31m", metadata: ["path": "x\ty"], label: "drophook", style: .journal)
        #expect(journal == "<4>drophook: cannot read a\\x0Ab\\x1B[31m path=x\\x09y\n")
        #expect(AgentLogHandler.line(level: .error, message: "m", metadata: [:], label: "l", style: .journal).hasPrefix("<3>l: "))
        #expect(AgentLogHandler.line(level: .debug, message: "m", metadata: [:], label: "l", style: .journal).hasPrefix("<7>l: "))
        let plain = AgentLogHandler.line(
            level: .info, message: "m", metadata: [:], label: "l", style: .plain, now: Date(timeIntervalSince1970: 1_764_655_453.5))
        #expect(plain == "2025-12-02T06:04:13.500Z info l: m\n")
        // JOURNAL_STREAM must name this very stderr.
        #expect(AgentLogHandler.style(environment: [:]) == .plain)
        #expect(AgentLogHandler.style(environment: ["JOURNAL_STREAM": "1:2"]) == .plain)
        var own = stat()
        fstat(STDERR_FILENO, &own)
        #expect(AgentLogHandler.style(environment: ["JOURNAL_STREAM": "\(own.st_dev):\(own.st_ino)"]) == .journal)
    }

    @Test("terminal text: controls, DEL, C1 and bidi controls escaped, backslashes doubled, the rest as is")
    func terminalText() {
        #expect(TerminalText.escaped("plain/é 中.csv") == "plain/é 中.csv")
        #expect(TerminalText.escaped("a\u{1B}]52;c;x\u{07}b") == "a\\x1B]52;c;x\\x07b")
        #expect(TerminalText.escaped("\r\n\u{7F}\u{85}") == "\\x0D\\x0A\\x7F\\x85")
        #expect(TerminalText.escaped("\u{202E}gpj.exe\u{2066}") == "\\u{202E}gpj.exe\\u{2066}")
        // A literal backslash-x reads differently from the control it spells.
        #expect(TerminalText.escaped("a\\x1Bb") == "a\\\\x1Bb")
        #expect(TerminalText.escaped("{\"a\":\"\\n\"}", backslashes: false) == "{\"a\":\"\\n\"}")
    }

    @Test("settings that cannot work are refused with the key and the fix")
    func refusedSettings() {
        let base = ConfigurationTests()
        func webhook(_ extra: String) -> String {
            """
            state_dir: /tmp/state
            log_level: debug
            watches:
              - name: uploads
                path: /srv/sftp
            webhooks:
              - name: ops
                url: https://hooks.example.com/sftp
                format: sftptogo
                \(extra)
            """
        }
        let zero = base.problems(webhook("timeout: 0s"))
        #expect(zero.map(\.key) == ["webhooks[0].timeout"])
        #expect(zero.first?.description.contains("sent again") == true || zero.first?.description.contains("resend") == true)
        let long = base.problems(webhook("timeout: 30s"))
        #expect(long.map(\.key) == ["webhooks[0].timeout"])
        #expect(long.first?.description.contains("at most 25s") == true)
        #expect(base.problems(webhook("connect_timeout: 20s")).map(\.key) == ["webhooks[0].connect_timeout"])
        #expect(base.problems(webhook("connect_timeout: 0s")).map(\.key) == ["webhooks[0].connect_timeout"])
        #expect(
            base.problems(webhook("timeout: 25s").replacingOccurrences(of: "log_level: debug", with: "log_level: loud")).map(\.key) == [
                "log_level"
            ])
        let fine = try? AgentConfiguration.parse(webhook("timeout: 25s"), file: "t.yaml", environment: [:])
        #expect(fine?.logLevel == .debug)
    }
}

import DrophookEvents
import DrophookSessions
import Foundation

/// The session log's own cost: parsing OpenSSH's lines, keeping the ledger, and answering for
/// each event, on `uploads` synthetic uploads spread over 100 live sessions (the lines a busy
/// server sends: open and close per file).
struct SessionLogBenchmark {
    var uploads: Int

    func run() {
        let sessions = 100
        var lines: [(key: SessionKey, bytes: [UInt8])] = []
        lines.reserveCapacity(uploads * 2 + sessions)
        for session in 0..<sessions {
            lines.append(
                (
                    SessionKey(source: 0, pid: Int32(1000 + session)),
                    Array(
                        "<38>Dec  2 06:04:13 internal-sftp[\(1000 + session)]: session opened for local user user\(session) from [192.0.2.\(session % 250)]"
                            .utf8)
                ))
        }
        for upload in 0..<uploads {
            let pid = 1000 + upload % sessions
            let path = "/upload/batch-\(upload / 1000)/invoice-\(upload).csv"
            lines.append(
                (
                    SessionKey(source: 0, pid: Int32(pid)),
                    Array("<38>Dec  2 06:04:13 internal-sftp[\(pid)]: open \"\(path)\" flags WRITE,CREATE,TRUNCATE mode 0644".utf8)
                ))
            lines.append(
                (
                    SessionKey(source: 0, pid: Int32(pid)),
                    Array("<38>Dec  2 06:04:13 internal-sftp[\(pid)]: close \"\(path)\" bytes read 0 written \(upload)".utf8)
                ))
        }
        var ledger = SessionLedger<ContinuousClock.Instant>(
            layout: ChrootLayout(chroot: "/srv/sftp/%u"), limits: .init(records: max(65536, uploads)), homes: { _ in nil })
        let clock = ContinuousClock()
        let now = clock.now
        let applied = clock.measure {
            for line in lines {
                guard let syslog = SyslogLine(line.bytes), let message = SFTPLogMessage(syslog.message) else { continue }
                ledger.apply(message, from: line.key, at: now)
            }
        }
        var attributed = 0
        let answered = clock.measure {
            for upload in 0..<uploads {
                let user = "user\(upload % sessions)"
                let query = SessionQuery(
                    change: .created(byRename: false), path: "/srv/sftp/\(user)/upload/batch-\(upload / 1000)/invoice-\(upload).csv",
                    isDirectory: false)
                if case .attributed = ledger.attribute(query) { attributed += 1 }
            }
        }
        func micros(_ duration: Duration, per count: Int) -> String {
            String(
                format: "%.2f",
                Double(duration.components.attoseconds / 1_000_000_000_000 + duration.components.seconds * 1_000_000) / Double(count))
        }
        print("| session log (\(uploads) uploads, \(sessions) sessions) | value |")
        print("| --- | --- |")
        print("| lines parsed and applied | \(lines.count) in \(applied) (\(micros(applied, per: lines.count)) µs/line) |")
        print("| events answered | \(uploads) in \(answered) (\(micros(answered, per: uploads)) µs/event), \(attributed) attributed |")
        print("| records left | \(ledger.recordCount) |")
    }
}

import DrophookAgent
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import DrophookTestSupport
import Foundation
import GRDB
import Glibc
import Testing

/// An outbox damaged on disk (a page overwritten, the file cut short): the agent refuses to
/// start with the command that fixes it, and `recover-outbox` keeps what can be read.
@Suite("Damaged outbox", .serialized)
struct DamagedOutboxTests {
    enum Damage: String, CaseIterable, Sendable {
        /// The root page of the snapshot table: every snapshot row is lost, the watch's root
        /// record with them, so only the salvage's "has run" mark keeps the next start from
        /// being a silent first start.
        case snapshotRootOverwritten
        /// A leaf page in the middle of the delivery table: some owed deliveries are lost.
        case deliveryPageOverwritten
        /// The file cut at half its length.
        case truncated
    }

    /// The page of `table` the damage overwrites, found through SQLite's `dbstat` after a
    /// checkpoint, so the write hits the rows the case names and not whatever lies mid-file.
    private static func page(of table: String, in file: String, root: Bool) throws -> Int {
        let queue = try DatabaseQueue(path: file)
        defer { try? queue.close() }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let pages = try queue.read { db in
            try Int.fetchAll(
                db,
                sql: root
                    ? "SELECT pageno FROM dbstat WHERE name = ? AND path = '/'"
                    : "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", arguments: [table])
        }
        return try #require(pages.isEmpty ? nil : pages[pages.count / 2], "no page of \(table) in \(file)")
    }

    /// What the rebuilt outbox holds: the paths still owed to `ops` and the paths its snapshot
    /// still knows. Read before the agent starts on it.
    private static func rebuilt(_ file: String) throws -> (owed: Set<String>, known: Set<String>, roots: [String]) {
        let queue = try DatabaseQueue(path: file)
        defer { try? queue.close() }
        return try queue.read { db in
            let owed = try String.fetchAll(
                db,
                sql: """
                    SELECT event.path FROM delivery JOIN event ON event.seq = delivery.event_seq
                    WHERE delivery.endpoint = 'ops' AND delivery.state = 'pending'
                    """)
            let known = try String.fetchAll(db, sql: "SELECT path FROM snapshot WHERE watch = 'uploads' AND path != ''")
            let roots = try String.fetchAll(db, sql: "SELECT watch FROM snapshot WHERE path = ''")
            return (Set(owed), Set(known), roots)
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: Damage.allCases)
    func aDamagedOutboxIsNamedAtStartAndRecovered(damage: Damage) async throws {
        let receiver = try await WebhookReceiver.start(.init(script: .always(.status(503))))
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: sftptogo
                    retry: [1h]
                """)
        defer { agent.cleanUp() }
        try await agent.start()
        let names = (0..<300).map { "owed-\($0).csv" }
        for name in names { try Data(name.utf8).write(to: agent.dropDirectory.appendingPathComponent(name)) }
        _ = try await receiver.waitForWebhooks(count: 300, timeout: .seconds(30))
        #expect(agent.terminate() == 0)

        let file = agent.stateDirectory.appendingPathComponent(Outbox.fileName).path
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        #expect(size > 16 * 4096, "a file of many pages: \(size) bytes")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        switch damage {
        case .snapshotRootOverwritten, .deliveryPageOverwritten:
            let root = damage == .snapshotRootOverwritten
            let page = try Self.page(of: root ? "snapshot" : "delivery", in: file, root: root)
            try handle.seek(toOffset: UInt64((page - 1) * 4096))
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        case .truncated:
            try handle.truncate(atOffset: UInt64(size / 2))
        }
        try handle.close()

        let refused = try AgentUnderTest.command(["run", "--config", agent.configFile.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the outbox \(file) is damaged"), "\(refused.stderr)")
        #expect(
            refused.stderr.contains("stop the agent and run `drophook recover-outbox --config \(agent.configFile.path)`"),
            "\(refused.stderr)")

        let recovered = try AgentUnderTest.command(["recover-outbox", "--config", agent.configFile.path, "--json"])
        #expect(recovered.status == 0, "\(recovered)")
        let report = try JSONValue(parsing: Array(recovered.stdout.utf8))
        guard case .array(let tables) = report["tables"] else {
            Issue.record("no tables in \(recovered.stdout)")
            return
        }
        var keptRows: [String: Int] = [:]
        for table in tables {
            if let name = table["name"]?.stringValue, let kept = table["kept"]?.intValue { keptRows[name] = Int(kept) }
        }
        let aside = try FileManager.default.contentsOfDirectory(atPath: agent.stateDirectory.path).filter {
            $0.hasPrefix("outbox.sqlite.damaged-")
        }
        #expect(!aside.isEmpty)

        let (owed, known, roots) = try Self.rebuilt(file)
        #expect(roots == ["uploads"], "every watch is marked as having run")
        #expect(owed.count == keptRows["delivery"], "every delivery kept is owed again: \(keptRows)")
        #expect(owed.isSubset(of: Set(names)))
        switch damage {
        case .snapshotRootOverwritten:
            #expect(known.isEmpty, "the damage took the whole snapshot")
            #expect(owed.count == 300, "no delivery was damaged")
        case .deliveryPageOverwritten:
            #expect(owed.count < 300 && !owed.isEmpty, "one page of deliveries lost, the rest kept: \(owed.count)")
        case .truncated:
            #expect(owed.count + known.count < 600, "cut at half, something is lost")
        }

        // The rebuilt outbox is sound and the agent runs on it.
        receiver.setScript(.always(.noContent))
        try await agent.start()
        // The kept deliveries' retries were an hour away; the operator sends them now.
        let resumed = try AgentUnderTest.command(["resume", "ops", "--config", agent.configFile.path])
        #expect(resumed.status == 0, "\(resumed)")
        let counts = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(!counts.stdout.contains("UNHEALTHY"), "\(counts.stdout)")
        // Every delivery kept goes out, and every file whose snapshot row was lost is reported
        // again by the start-up scan: twice rather than never.
        let due = owed.union(Set(names).subtracting(known))
        let delivered = await pollUntil(within: .seconds(60)) {
            Set(receiver.received.dropFirst(300).compactMap { $0.json?["Data"]?["Path"]?.stringValue }).isSuperset(of: due)
        }
        let got = Set(receiver.received.dropFirst(300).compactMap { $0.json?["Data"]?["Path"]?.stringValue })
        #expect(
            delivered,
            "owed \(owed.count), unknown to the snapshot \(300 - known.count); received \(got.count), missing \(due.subtracting(got).sorted().prefix(5))"
        )
        #expect(agent.terminate() == 0)
        await receiver.stop()
    }
}

import Foundation
import GRDB

/// A damaged outbox: found at start, and rebuilt from every row that can still be read.
extension Outbox {
    /// What ``salvage(stateDirectory:watches:)`` kept of one table.
    public struct SalvagedTable: Sendable, Hashable {
        public var name: String
        /// Rows copied into the new outbox.
        public var kept: Int
        /// Stretches of the table that could not be read (rows there are lost).
        public var damagedStretches: Int
        /// Rows read whose parent row was lost (a delivery of an unreadable event): dropped.
        public var orphans = 0
    }

    /// What a salvage did.
    public struct SalvageReport: Sendable, Hashable {
        public var tables: [SalvagedTable]
        /// Where the damaged file was moved.
        public var damagedFile: String
    }

    /// Throws, naming the recovery command, when `<stateDirectory>/outbox.sqlite` exists and
    /// fails SQLite's quick check (or cannot even be read as a database). It reads every page,
    /// so a large outbox takes a moment: it runs once, when the agent starts.
    public static func requireSound(stateDirectory: String, configFile: String) throws {
        let path = (stateDirectory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return }
        let problem: String?
        do {
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            let answer = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check(1)") ?? "" }
            problem = answer == "ok" ? nil : answer.split(separator: "\n").last.map(String.init) ?? answer
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            problem = error.message ?? "\(error.resultCode)"
        }
        if let problem {
            throw OutboxError(.damaged, damagedMessage(path: path, problem: problem, configFile: configFile))
        }
    }

    static func damagedMessage(path: String, problem: String, configFile: String?) -> String {
        let command = configFile.map { "drophook recover-outbox --config \($0)" } ?? "drophook recover-outbox"
        return
            "the outbox \(path) is damaged (\(problem)); stop the agent and run `\(command)`, which keeps every row that can be read and sets the damaged file aside"
    }

    /// Tables copied, parents first; `delivery_tally` is rebuilt by the new outbox's triggers.
    private static let salvagedTables: [(name: String, key: [String])] = [
        ("endpoint_state", ["rowid"]), ("event", ["seq"]), ("delivery", ["rowid"]), ("attempt", ["rowid"]),
        ("snapshot", ["watch", "path"]), ("schedule_clock", ["id"]),
    ]

    /// Builds a new outbox from every row of `<stateDirectory>/outbox.sqlite` that can be read,
    /// moves the damaged file (and its `-wal`, `-shm`) aside, and puts the new one in its place.
    /// The agent must be stopped.
    ///
    /// `watches` get the root record that marks them as having run: snapshot rows lost to the
    /// damage then come back as new files at the next start (reported twice at worst), never
    /// as a silent first start that would hide files uploaded since.
    public static func salvage(stateDirectory: String, watches: [String]) throws -> SalvageReport {
        let path = (stateDirectory as NSString).appendingPathComponent(fileName)
        let rebuilt = path + ".salvaged"
        for file in [rebuilt, rebuilt + "-wal", rebuilt + "-shm"] { try? FileManager.default.removeItem(atPath: file) }
        let target = try Outbox(path: rebuilt)
        // Read from a copy (with its write-ahead log, which holds the last commits), whose
        // header is made to agree with the file's real length: a file cut short otherwise
        // fails every read, the schema's included.
        let reading = path + ".reading"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: reading + suffix) }
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: reading + suffix) } }
        try FileManager.default.copyItem(atPath: path, toPath: reading)
        if FileManager.default.fileExists(atPath: path + "-wal") {
            try FileManager.default.copyItem(atPath: path + "-wal", toPath: reading + "-wal")
        }
        try OutboxHeader.agreeWithLength(reading)
        var tables: [SalvagedTable] = []
        if let damaged = try? DatabaseQueue(path: reading) {
            for (name, key) in salvagedTables {
                tables.append(try copy(name, key: key, from: damaged, to: target))
            }
            try? damaged.close()
        } else {
            tables = salvagedTables.map { SalvagedTable(name: $0.name, kept: 0, damagedStretches: 1) }
        }
        try target.pool.write { db in
            // A claim in flight when the file broke is owed again.
            try db.execute(sql: "UPDATE delivery SET state = 'pending' WHERE state = 'delivering'")
            for watch in watches {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO snapshot (watch, path, is_directory, inode, size, mtime_ns) VALUES (?, '', 1, 0, 0, 0)
                        """, arguments: [watch])
            }
        }
        try target.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try target.pool.close()
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let aside = path + ".damaged-" + stamp
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
        }
        try FileManager.default.moveItem(atPath: rebuilt, toPath: path)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: rebuilt + suffix) }
        return SalvageReport(tables: tables, damagedFile: aside)
    }

    /// Copies a table page by page in key order. A page that cannot be read is stepped over:
    /// the next readable key is looked for further and further on (rowid tables), so one bad
    /// page costs its own rows, not the rest of the table.
    private static func copy(_ table: String, key: [String], from damaged: DatabaseQueue, to target: Outbox) throws -> SalvagedTable {
        var result = SalvagedTable(name: table, kept: 0, damagedStretches: 0)
        let wanted = try target.pool.read { db in try db.columns(in: table).map(\.name) }
        guard let present = try? damaged.read({ db in try db.columns(in: table).map(\.name) }) else {
            result.damagedStretches = 1
            return result
        }
        let columns = wanted.filter(present.contains)
        let keyList = key.joined(separator: ", ")
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let insert =
            "INSERT OR IGNORE INTO \(table) (\(list)) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        let isRowID = key.count == 1
        var after: [DatabaseValue] = []
        // Unreadable reads in a row: each jumps twice as far past the last row read.
        var failures = 0
        // Rows per read: one at a time near damage, so a read that would cross it keeps the
        // rows before it.
        var limit = 500
        var singles = 0
        while true {
            let condition = after.isEmpty ? "" : "WHERE (\(keyList)) > (\(Array(repeating: "?", count: key.count).joined(separator: ", ")))"
            let page: [Row]
            do {
                page = try damaged.read { db in
                    try Row.fetchAll(
                        db, sql: "SELECT \(keyList), \(list) FROM \(table) \(condition) ORDER BY \(keyList) LIMIT \(limit)",
                        arguments: StatementArguments(after))
                }
            } catch {
                if limit > 1 {
                    limit = 1
                    singles = 0
                    continue
                }
                if failures == 0 { result.damagedStretches += 1 }
                failures += 1
                let lastRead = after.first.flatMap { Int64.fromDatabaseValue($0) } ?? 0
                guard isRowID, failures < 48 else { return result }
                let from = lastRead.addingReportingOverflow(Int64(1) << (failures - 1)).partialValue
                switch Result(catching: { try nextKey(table, key: key[0], from: from, in: damaged) }) {
                case .success(nil):
                    return result
                case .success(let next?):
                    after = [(max(next, lastRead + 1) - 1).databaseValue]
                case .failure:
                    // The probe crossed damage too: the next round looks further on.
                    break
                }
                continue
            }
            failures = 0
            if limit == 1 {
                singles += 1
                if singles == 64 { limit = 500 }
            }
            guard let last = page.last else { return result }
            let (kept, orphans) = try target.pool.write { db in
                var kept = 0
                var orphans = 0
                for row in page {
                    do {
                        try db.execute(sql: insert, arguments: StatementArguments(columns.map { row[$0] as DatabaseValue }))
                        kept += 1
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                        orphans += 1
                    }
                }
                return (kept, orphans)
            }
            result.kept += kept
            result.orphans += orphans
            after = key.indices.map { last[$0] as DatabaseValue }
        }
    }

    /// The first key at or past `from`; nil when there is none.
    private static func nextKey(_ table: String, key: String, from: Int64, in damaged: DatabaseQueue) throws -> Int64? {
        try damaged.read { db in
            try Int64.fetchOne(db, sql: "SELECT \(key) FROM \(table) WHERE \(key) >= ? ORDER BY \(key) LIMIT 1", arguments: [from])
        }
    }
}

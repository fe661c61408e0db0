import DrophookEvents

/// The stored snapshot of one watch while the start-up scan compares the disk with it.
///
/// The records stay in one array sorted by path bytes (the outbox's own order, so sorting them
/// again costs a single pass), are found by binary search and taken at most once; what was
/// never taken is gone from the disk. A dictionary keyed by path held a second copy of every
/// record next to the loaded array, doubling the restart's peak memory for large trees.
struct StoredSnapshot {
    private let records: [SnapshotRecord]
    private let range: Range<Int>
    private var taken: [Bool]

    /// The records of `watch` in `sorted` (sorted with ``sort(_:)``).
    init(_ sorted: [SnapshotRecord], watch: String) {
        records = sorted
        let start = Self.firstIndex(in: sorted, 0..<sorted.count) { !Self.precedes($0.watch, watch) }
        let end = Self.firstIndex(in: sorted, start..<sorted.count) { $0.watch != watch }
        range = start..<end
        taken = Array(repeating: false, count: end - start)
    }

    /// No stored records at all.
    init() {
        records = []
        range = 0..<0
        taken = []
    }

    /// Sorts records by watch, then path, comparing UTF-8 bytes as SQLite's `BINARY` collation
    /// does (the order `loadSnapshot` returns them in, which the sort then only confirms).
    static func sort(_ records: inout [SnapshotRecord]) {
        records.sort { $0.watch == $1.watch ? precedes($0.path, $1.path) : precedes($0.watch, $1.watch) }
    }

    var isEmpty: Bool { range.isEmpty }

    /// The record stored for `path` if it was not taken yet, left in place.
    func record(_ path: String) -> SnapshotRecord? {
        guard let index = index(of: path), !taken[index - range.lowerBound] else { return nil }
        return records[index]
    }

    /// The record stored for `path`, at most once.
    mutating func take(_ path: String) -> SnapshotRecord? {
        guard let index = index(of: path), !taken[index - range.lowerBound] else { return nil }
        taken[index - range.lowerBound] = true
        return records[index]
    }

    /// Every record of the watch, taken or not, in path order.
    var all: [SnapshotRecord] { Array(records[range]) }

    /// The records never taken, children before their parents (reverse path order).
    func untaken() -> [SnapshotRecord] {
        range.reversed().filter { !taken[$0 - range.lowerBound] }.map { records[$0] }
    }

    private func index(of path: String) -> Int? {
        let index = Self.firstIndex(in: records, range) { !Self.precedes($0.path, path) }
        // Bytes, not `==`: two names that Unicode calls equivalent (NFC and NFD) are two files.
        return index < range.upperBound && records[index].path.utf8.elementsEqual(path.utf8) ? index : nil
    }

    private static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    /// The first index in `range` where `isPast` holds, for a predicate that is false, then true.
    private static func firstIndex(in records: [SnapshotRecord], _ range: Range<Int>, where isPast: (SnapshotRecord) -> Bool) -> Int {
        var low = range.lowerBound
        var high = range.upperBound
        while low < high {
            let middle = low + (high - low) / 2
            if isPast(records[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

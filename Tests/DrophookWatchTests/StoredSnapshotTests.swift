import DrophookEvents
import Testing

@testable import DrophookWatch

@Suite("Stored snapshot at start-up")
struct StoredSnapshotTests {
    func record(_ watch: String, _ path: String) -> SnapshotRecord {
        SnapshotRecord(watch: watch, path: path, isDirectory: path.isEmpty, inode: 1, size: 0, mtimeNanos: 0)
    }

    @Test("each watch sees only its records; each is taken once; what is left comes children first")
    func takesOncePerWatch() {
        var records = [
            record("b", "x"), record("a", "dir/f"), record("a", ""), record("a", "dir"), record("a", "dir-2"),
            record("b", ""), record("a", "dir/sub/g"),
        ]
        StoredSnapshot.sort(&records)
        var a = StoredSnapshot(records, watch: "a")
        #expect(!a.isEmpty)
        #expect(a.take("")?.watch == "a")
        #expect(a.take("") == nil, "taken once")
        #expect(a.take("x") == nil, "watch b's record is not watch a's")
        #expect(a.take("dir-2")?.path == "dir-2")
        #expect(a.untaken().map(\.path) == ["dir/sub/g", "dir/f", "dir"])

        var b = StoredSnapshot(records, watch: "b")
        #expect(b.take("x") != nil)
        #expect(b.untaken().map(\.path) == [""])
        #expect(StoredSnapshot(records, watch: "c").isEmpty)
        #expect(StoredSnapshot().isEmpty)
    }

    @Test("names are told apart by their bytes: NFC and NFD spellings are two files")
    func bytesNotCanonicalEquivalence() {
        let composed = "caf\u{E9}.csv"
        let decomposed = "cafe\u{301}.csv"
        var records = [record("a", composed)]
        StoredSnapshot.sort(&records)
        var stored = StoredSnapshot(records, watch: "a")
        #expect(stored.take(decomposed) == nil)
        #expect(stored.take(composed) != nil)
    }
}

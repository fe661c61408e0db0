import DrophookEvents
import Testing

@Suite("Webhook filters")
struct EventFilterTests {
    func event(
        _ path: String, _ kind: FileEvent.Kind = .created, size: Int64? = 10, actor: String = "alice", directory: Bool = false
    ) -> FileEvent {
        FileEvent(
            id: "e", kind: kind, watch: "w", path: path, isDirectory: directory, size: directory ? nil : size, actor: actor,
            occurredAtMillis: 0)
    }

    @Test("globs: * and ? stay in a segment, ** spans segments (none included), classes and exclusions")
    func globMatrix() throws {
        let cases: [(String, String, Bool)] = [
            ("alice/invoices/**", "alice/invoices/2024/x.pdf", true),
            ("alice/invoices/**", "alice/invoices/x.pdf", true),
            ("alice/invoices/**", "alice/invoices", true),
            ("alice/invoices/**", "alice/invoices.pdf", false),
            ("alice/invoices/**", "bob/invoices/x.pdf", false),
            ("*.csv", "a.csv", true),
            ("*.csv", "dir/a.csv", false),
            ("**/*.csv", "dir/sub/a.csv", true),
            ("**/*.csv", "a.csv", true),
            ("in/report-??.csv", "in/report-07.csv", true),
            ("in/report-??.csv", "in/report-7.csv", false),
            ("in/[a-c]*.pdf", "in/b1.pdf", true),
            ("in/[!a-c]*.pdf", "in/b1.pdf", false),
            ("in/[!a-c]*.pdf", "in/z1.pdf", true),
            ("**/Überweisung*", "x/Überweisung €.csv", true),
            ("*", "a/b", false),
            ("**", "a/b/c", true),
        ]
        for (pattern, path, expected) in cases {
            #expect(try PathGlob(pattern).matches(path) == expected, "\(pattern) ~ \(path)")
        }
        for bad in ["", "/abs/**", "in/[abc", "in/[z-a]"] {
            #expect(throws: PathGlob.SyntaxError.self, "\(bad)") { try PathGlob(bad) }
        }
    }

    @Test("paths with exclusions, sizes on finished files only, actors")
    func filterMatrix() throws {
        let filter = try EventFilter(
            paths: ["alice/**", "shared/*.csv", "!**/*.tmp", "!alice/private/**"],
            minimumSize: 1, maximumSize: 1_000, actors: ["alice", "bob"])
        #expect(filter.admits(event("alice/in/a.csv")))
        #expect(filter.admits(event("shared/b.csv", actor: "bob")))
        #expect(!filter.admits(event("shared/deep/b.csv")), "not an included path")
        #expect(!filter.admits(event("alice/in/a.tmp")), "excluded")
        #expect(!filter.admits(event("alice/private/p.csv")), "excluded subtree")
        #expect(!filter.admits(event("alice/in/empty.csv", size: 0)), "below min_size")
        #expect(!filter.admits(event("alice/in/big.csv", size: 1_001)), "above max_size")
        #expect(filter.admits(event("alice/in/gone.csv", .deleted, size: nil)), "deletions carry no size and pass")
        #expect(filter.admits(event("alice/in", directory: true)), "directories carry no size and pass")
        #expect(!filter.admits(event("alice/in/a.csv", actor: "mallory")), "not an admitted actor")
        #expect(EventFilter().admits(event("anything/at/all.bin", size: 0, actor: "x")))
    }
}

import DrophookDelivery
import DrophookEvents
import Testing

@Suite("Endpoint routing")
struct EngineRoutingTests {
    @Test("an endpoint gets an event only if it subscribes to the topic, allows the watch, and its format carries it")
    func accepts() {
        let all = testEndpoint("all", url: "http://127.0.0.1:1/")
        var onlyInbox = testEndpoint("inbox", url: "http://127.0.0.1:1/")
        onlyInbox.watches = ["inbox"]
        var createdOnly = testEndpoint("created", url: "http://127.0.0.1:1/")
        createdOnly.topics = [.fileCreated, .fileFailed]
        let endpoints = [all, onlyInbox, createdOnly]
        let route = EndpointConfiguration.route(endpoints)

        #expect(route(testEvent(.created, path: "a", watch: "inbox")) == ["all", "inbox", "created"])
        #expect(route(testEvent(.created, path: "a", watch: "uploads")) == ["all", "created"])
        #expect(route(testEvent(.deleted, path: "a", watch: "inbox")) == ["all", "inbox"])
        // A failed upload goes only where it is subscribed (SFTP To Go's envelope carries it there);
        // a failed directory is nothing SFTP To Go's shape can say.
        #expect(route(testEvent(.failed, path: "a.part", watch: "inbox")) == ["created"])
        var directory = testEvent(.failed, path: "d", watch: "inbox")
        directory.isDirectory = true
        #expect(route(directory) == [])
    }

    @Test("a filtered-out event creates no delivery row")
    func filteredEventsAreNeverQueued() throws {
        var invoices = testEndpoint("invoices", url: "http://127.0.0.1:1/")
        invoices.filter = try EventFilter(paths: ["alice/invoices/**", "!**/*.tmp"], minimumSize: 1)
        let harness = try EngineHarness(endpoints: [], transport: CurlTransport())
        let result = try harness.append(
            [
                testEvent(.created, path: "alice/invoices/a.pdf"),
                testEvent(.created, path: "alice/invoices/a.tmp"),
                testEvent(.created, path: "bob/x.pdf"),
            ], endpoints: [invoices])
        #expect(result.events == 3 && result.deliveries == 1 && result.endpoints == ["invoices"])
        #expect(try harness.outbox.recentDeliveries(endpoint: "invoices").map(\.path) == ["alice/invoices/a.pdf"])
    }

    @Test("a rename goes out once: as file.renamed where subscribed and carried, else as its delete + create")
    func renamesRouteOnce() {
        var renames = testEndpoint("renames", url: "http://127.0.0.1:1/")
        renames.topics = [.fileCreated, .fileDeleted, .fileRenamed]
        let pairs = testEndpoint("pairs", url: "http://127.0.0.1:1/")
        var rilavek = testEndpoint("rilavek", url: "http://127.0.0.1:1/")
        rilavek.format = RilavekFormat()
        rilavek.topics = [.fileCreated, .fileRenamed]
        let route = EndpointConfiguration.route([renames, pairs, rilavek])
        var deleted = testEvent(.deleted, path: "old.csv")
        deleted.partOfRename = true
        var created = testEvent(.created, path: "new.csv")
        created.partOfRename = true
        var renamed = testEvent(.renamed, path: "new.csv")
        renamed.previousPath = "old.csv"
        #expect(route(deleted) == ["pairs"])
        #expect(route(created) == ["pairs", "rilavek"], "Rilavek has no rename payload: it keeps the transfer")
        #expect(route(renamed) == ["renames"])
        // A plain create (not a rename) reaches everyone subscribed.
        #expect(route(testEvent(.created, path: "fresh.csv")) == ["renames", "pairs", "rilavek"])
    }
}
